"""A NAS-Bench-201-style cell CNN (Dong & Yang, ICLR 2020) for images.

One operation per edge of a 4-node cell (none, skip, 1x1 conv, 3x3 conv, 3x3 average pool); a
3x3 convolution stem, the same cell stacked ``CELLS`` times, then global average pooling and a
linear layer. Operations on edges that lie on no path from the cell's input to its output do
nothing, so the canonical key sets them to 'none': such variants are evaluated once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from torch import nn

from rlnas.space.blocks import Cell, Zero
from rlnas.space.core import Architecture, Choice, Choices, Growth, Rule, SearchSpace

NAME = "cell-cnn"
INPUT_RANK = 3
"""Inputs are (channels, height, width)."""
NODES = 4
OPERATIONS = ("none", "skip", "conv1x1", "conv3x3", "avgpool3x3")
EDGES = tuple(f"edge{i}{j}" for j in range(1, NODES) for i in range(j))
CELLS = 2
CHANNELS = 16


def space(input_shape: Sequence[int]) -> SearchSpace:
    """Six edges, one operation each; the cell's output must be connected to its input."""
    connected = Rule(
        check=lambda choices: NODES - 1 in _reachable(_live_edges(choices), forward=True),
        message="the cell's output must be connected to its input by operations other than 'none'",
        needs=EDGES,
    )
    return SearchSpace(
        [Choice(edge, OPERATIONS) for edge in EDGES],
        rules=[connected],
        canonical_key=canonical_key,
        name=NAME,
        growth=GROWTH,
    )


GROWTH = Growth(steps=[(edge,) for edge in EDGES], fill=dict.fromkeys(EDGES, "none"))
"""Progressive growth adds one edge per step; edges not added yet are 'none'. A step is
evaluated once the cell's output is connected (the first edge into node 3 that is not 'none')."""


def canonical_key(choices: Choices) -> str:
    """The operations with every edge that is off all input-to-output paths set to 'none'."""
    edges = _live_edges(choices)
    from_input = _reachable(edges, forward=True)
    to_output = _reachable(edges, forward=False)
    key = [
        choices[edge] if int(edge[-2]) in from_input and int(edge[-1]) in to_output else "none"
        for edge in EDGES
    ]
    return json.dumps(key, separators=(",", ":"))


def build(
    architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs."""
    choices = getattr(architecture, "choices", architecture)
    layers: list[nn.Module] = [
        nn.Conv2d(int(input_shape[0]), CHANNELS, 3, padding=1, bias=False),
        nn.BatchNorm2d(CHANNELS),
    ]
    for _ in range(CELLS):
        edges = {edge[-2:]: _operation(str(choices[edge])) for edge in EDGES}
        layers.append(Cell(NODES, edges))
    layers += [
        nn.BatchNorm2d(CHANNELS),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(CHANNELS, n_outputs),
    ]
    return nn.Sequential(*layers)


def _operation(op: str) -> nn.Module:
    if op == "none":
        return Zero()
    if op == "skip":
        return nn.Identity()
    if op == "avgpool3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    size = 1 if op == "conv1x1" else 3
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(CHANNELS, CHANNELS, size, padding=size // 2, bias=False),
        nn.BatchNorm2d(CHANNELS),
    )


def _live_edges(choices: Choices) -> list[tuple[int, int]]:
    return [(int(edge[-2]), int(edge[-1])) for edge in EDGES if choices[edge] != "none"]


def _reachable(edges: list[tuple[int, int]], forward: bool) -> set[int]:
    """Nodes reachable from the input (forward) or that reach the output (backward)."""
    reached = {0} if forward else {NODES - 1}
    for _ in range(NODES):
        for i, j in edges:
            if forward and i in reached:
                reached.add(j)
            elif not forward and j in reached:
                reached.add(i)
    return reached
