"""NAS-Bench-201's cell (Dong & Yang, ICLR 2020): its decisions, its canonical key, and its layers.

A cell is a DAG of 4 nodes; each of its 6 edges (i -> j, i < j) is one of none, skip, 1x1
convolution, 3x3 convolution or 3x3 average pooling: 5^6 = 15,625 cells. An edge that lies on
no path from the cell's input to its output does nothing, so the canonical key sets it to 'none'
and such variants are evaluated once. Both cell spaces (``cell-cnn``, two cells of one width,
and ``nb201-cell``, NAS-Bench-201's three-stage network) build their cells from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
from torch import nn

from rlnas.space.blocks import Cell, Zero
from rlnas.space.core import Choice, Choices, Growth, Rule, SearchSpace
from rlnas.space.inheritance import (
    GrowthStep,
    Inheritance,
    copy_modules,
    refused,
    zero_batch_norm,
)

NODES = 4
OPERATIONS = ("none", "skip", "conv1x1", "conv3x3", "avgpool3x3")
EDGES = tuple(f"edge{i}{j}" for j in range(1, NODES) for i in range(j))

GROWTH = Growth(steps=[(edge,) for edge in EDGES], fill=dict.fromkeys(EDGES, "none"))
"""Progressive growth adds one edge per step; edges not added yet are 'none'. A step is
evaluated once the cell's output is connected (the first edge into node 3 that is not 'none')."""


def cell_space(name: str) -> SearchSpace:
    """The space of one cell, under the name of the network that stacks it."""
    return SearchSpace(
        cell_choices(),
        rules=[connected_rule()],
        canonical_key=canonical_key,
        name=name,
        growth=GROWTH,
        features=[live_operation_counts],
    )


def live_operation_counts(choices: Choices) -> np.ndarray:
    """A reward-model feature: how many edges on input-to-output paths apply each operation.

    The one-hot encoding cannot tell that a 3x3 convolution on a dead edge does nothing; these
    counts (NASLib's "op counts", on the canonical cell) can, at the cost of one canonical key.
    """
    live = json.loads(canonical_key(choices))
    return np.array([live.count(operation) for operation in OPERATIONS], dtype=float)


def cell_choices() -> list[Choice]:
    """One decision per edge."""
    return [Choice(edge, OPERATIONS) for edge in EDGES]


def connected_rule() -> Rule:
    """The cell's output must be reachable from its input."""
    return Rule(
        check=lambda choices: NODES - 1 in _reachable(_live_edges(choices), forward=True),
        message="the cell's output must be connected to its input by operations other than 'none'",
        needs=EDGES,
    )


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


def cell(choices: Mapping, channels: int) -> Cell:
    """The cell of ``choices`` on feature maps of ``channels`` channels (shape kept)."""
    return Cell(NODES, {edge[-2:]: _operation(str(choices[edge]), channels) for edge in EDGES})


def _operation(op: str, channels: int) -> nn.Module:
    if op == "none":
        return Zero()
    if op == "skip":
        return nn.Identity()
    if op == "avgpool3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    size = 1 if op == "conv1x1" else 3
    return nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(channels, channels, size, padding=size // 2, bias=False),
        nn.BatchNorm2d(channels),
    )


def zero_nodes(choices: Choices) -> set[int]:
    """Nodes that are zero whatever the input: each edge into them is 'none', or a skip or pool
    of a zero node (a convolution edge of a zero node gives its BatchNorm's shift, not zero)."""
    zero: set[int] = set()
    for j in range(1, NODES):
        edges = [(i, str(choices[f"edge{i}{j}"])) for i in range(j)]
        if all(op == "none" or (i in zero and op in ("skip", "avgpool3x3")) for i, op in edges):
            zero.add(j)
    return zero


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


def inherit_edge(grown: GrowthStep) -> Inheritance:
    """The child's network with the parent's weights and function, for the cell networks'
    ``inherit`` (``rlnas.space.inheritance.inherit_by_step``).

    A new convolution edge (ReLU, convolution, BatchNorm) starts with its BatchNorm's scale and
    shift at zero in every cell: it adds exactly zero in both modes, and the scale and shift
    receive gradient. A skip or pooling edge adds its source node as it is, so it keeps the
    function only where that node is always zero; otherwise refused. (Every step that follows a
    valid parent adds an edge into the output node, so no new edge is off the paths to the
    output.)
    """
    parent, child, model, parent_model = grown.parent, grown.child, grown.model, grown.parent_model
    edge = EDGES[grown.number]
    copy_modules(parent_model, model, 0)
    loaded = model.load_state_dict(parent_model.state_dict(), strict=False)
    if loaded.unexpected_keys or any(f".edges.{edge[-2:]}." not in k for k in loaded.missing_keys):
        raise ValueError(f"the parent's network does not match {dict(parent)}")
    op = str(child[edge])
    if op in ("conv1x1", "conv3x3"):
        for module in model.modules():
            if isinstance(module, Cell):
                zero_batch_norm(module.edges[edge[-2:]][-1])
        return Inheritance(model, f"{op} edge: zero-initialised BatchNorm", True)
    if int(edge[-2]) in zero_nodes(parent):
        return Inheritance(model, f"{op} edge from a node that is always zero", True)
    return refused(f"the {op} edge adds its source node's features, which are not zero")
