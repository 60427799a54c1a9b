"""A small NAS-Bench-201-style cell CNN (Dong & Yang, ICLR 2020) for images.

One operation per edge of a 4-node cell (see ``rlnas.space.nb201``); a 3x3 convolution stem,
the same cell stacked ``CELLS`` times at one width, then global average pooling and a linear
layer. NAS-Bench-201's full network, with three stages and reductions, is ``nb201-cell``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from rlnas.space.blocks import Cell
from rlnas.space.core import Architecture, SearchSpace
from rlnas.space.inheritance import (
    Inheritance,
    copy_modules,
    grown_step,
    refused,
    same_network,
    zero_batch_norm,
)
from rlnas.space.nb201 import (
    EDGES,
    GROWTH,
    canonical_key,
    cell,
    cell_choices,
    connected_rule,
    zero_nodes,
)

NAME = "cell-cnn"
INPUT_RANK = 3
"""Inputs are (channels, height, width)."""
CELLS = 2
CHANNELS = 16


def space(input_shape: Sequence[int]) -> SearchSpace:
    """Six edges, one operation each; the cell's output must be connected to its input."""
    return SearchSpace(
        cell_choices(),
        rules=[connected_rule()],
        canonical_key=canonical_key,
        name=NAME,
        growth=GROWTH,
    )


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
    """The child's network with the parent's weights and function (``rlnas.space.inheritance``).

    A new convolution edge (ReLU, convolution, BatchNorm) starts with its BatchNorm's scale and
    shift at zero: it adds exactly zero in both modes, and the scale and shift receive gradient.
    A skip or pooling edge adds its source node as it is, so it keeps the function only where
    that node is always zero; otherwise refused. (Every step that follows a valid parent adds an
    edge into the output node, so no new edge is off the paths to the output.) ``calibration``
    is unused (nothing is normalised anew).
    """
    parent = getattr(parent_architecture, "choices", parent_architecture)
    child = getattr(child_architecture, "choices", child_architecture)
    model = build(child, input_shape, n_outputs)
    step = grown_step(GROWTH, parent, child)
    if step is None:
        return same_network(parent_model, model)
    edge = EDGES[step]
    copy_modules(parent_model, model, 0)
    loaded = model.load_state_dict(parent_model.state_dict(), strict=False)
    if loaded.unexpected_keys or any(f".edges.{edge[-2:]}." not in k for k in loaded.missing_keys):
        raise ValueError(f"the parent's network does not match {dict(parent)}")
    op = str(child[edge])
    if op in ("conv1x1", "conv3x3"):
        for cell in model:
            if isinstance(cell, Cell):
                zero_batch_norm(cell.edges[edge[-2:]][-1])
        return Inheritance(model, f"{op} edge: zero-initialised BatchNorm", True)
    if int(edge[-2]) in zero_nodes(parent):
        return Inheritance(model, f"{op} edge from a node that is always zero", True)
    return refused(f"the {op} edge adds its source node's features, which are not zero")
