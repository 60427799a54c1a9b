"""The few custom layers that model-building spaces use besides standard ``torch.nn`` layers.

This module imports only torch, so an exported model's source file can copy it verbatim.
"""

from __future__ import annotations

import torch
from torch import nn


class Zero(nn.Module):
    """The 'none' operation: an edge that passes nothing on (all zeros of the input's shape)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


class Residual(nn.Module):
    """``body(x) + shortcut(x)``: a skip connection around ``body``."""

    def __init__(self, body: nn.Module, shortcut: nn.Module | None = None) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut if shortcut is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class Cell(nn.Module):
    """A NAS-Bench-201 cell (Dong & Yang, ICLR 2020): a DAG of ``nodes`` feature maps.

    Node 0 is the cell's input; node j is the sum over i < j of ``edges[f"{i}{j}"](node i)``;
    the last node is the output. Every edge keeps the shape of its input.
    """

    def __init__(self, nodes: int, edges: dict[str, nn.Module]) -> None:
        super().__init__()
        self.nodes = nodes
        self.edges = nn.ModuleDict(edges)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states = [x]
        for j in range(1, self.nodes):
            states.append(sum(self.edges[f"{i}{j}"](states[i]) for i in range(j)))
        return states[-1]
