"""A small NAS-Bench-201-style cell CNN (Dong & Yang, ICLR 2020) for images.

One operation per edge of a 4-node cell (see ``rlnas.space.nb201``); a 3x3 convolution stem,
the same cell stacked ``CELLS`` times at 16 channels, then global average pooling and a linear
layer: NAS-Bench-201's network (``nb201-cell``, ``rlnas.space.nb201_cell``) with one stage, so no
reductions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import nn

from rlnas.space import nb201_cell
from rlnas.space.core import Architecture, SearchSpace
from rlnas.space.inheritance import inherit_by_step
from rlnas.space.nb201 import GROWTH, cell_space, inherit_edge

NAME = "cell-cnn"
INPUT_RANK = nb201_cell.INPUT_RANK
CELLS = 2


def space(input_shape: Sequence[int]) -> SearchSpace:
    """NAS-Bench-201's cell (``nb201_cell.space``) under this network's name."""
    return cell_space(NAME)


def build(
    architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs."""
    return nb201_cell.build(architecture, input_shape, n_outputs, cells_per_stage=CELLS, stages=1)


inherit = inherit_by_step(build, GROWTH, inherit_edge)
