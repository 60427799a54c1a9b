"""A small NAS-Bench-201-style cell CNN (Dong & Yang, ICLR 2020) for images.

One operation per edge of a 4-node cell (see ``rlnas.space.nb201``); a 3x3 convolution stem,
the same cell stacked ``CELLS`` times at one width, then global average pooling and a linear
layer. NAS-Bench-201's full network, with three stages and reductions, is ``nb201-cell``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from rlnas.space.core import Architecture, SearchSpace
from rlnas.space.inheritance import Inheritance
from rlnas.space.nb201 import cell, cell_space, inherit_edge

NAME = "cell-cnn"
INPUT_RANK = 3
"""Inputs are (channels, height, width)."""
CELLS = 2
CHANNELS = 16


def space(input_shape: Sequence[int]) -> SearchSpace:
    """Six edges, one operation each; the cell's output must be connected to its input."""
    return cell_space(NAME)


def build(
    architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs."""
    choices = getattr(architecture, "choices", architecture)
    layers: list[nn.Module] = [
        nn.Conv2d(int(input_shape[0]), CHANNELS, 3, padding=1, bias=False),
        nn.BatchNorm2d(CHANNELS),
    ]
    layers += [cell(choices, CHANNELS) for _ in range(CELLS)]
    layers += [
        nn.BatchNorm2d(CHANNELS),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(CHANNELS, n_outputs),
    ]
    return nn.Sequential(*layers)


def inherit(
    parent_model: nn.Module,
    parent_architecture: Architecture | Mapping,
    child_architecture: Architecture | Mapping,
    input_shape: Sequence[int],
    n_outputs: int,
    calibration: torch.Tensor | None = None,
) -> Inheritance:
    """The child's network with the parent's weights and function (``nb201.inherit_edge``)."""
    child = build(child_architecture, input_shape, n_outputs)
    return inherit_edge(parent_model, parent_architecture, child_architecture, child)
