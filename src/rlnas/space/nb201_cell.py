"""NAS-Bench-201's network (Dong & Yang, ICLR 2020): its cell in three stages, for any image.

A 3x3 convolution stem; three stages of ``cells_per_stage`` copies of the searched cell (see
``rlnas.space.nb201``: 15,625 cells, isomorphic ones sharing a canonical key) at ``channels``,
twice and four times that width; between stages a residual reduction block, NAS-Bench-201's
ResNet basic block with stride 2 (two 3x3 ReLU-conv-BN layers, average pooling and a 1x1
convolution on the shortcut); then batch norm, ReLU, global average pooling and a linear layer.
NAS-Bench-201 stacks 5 cells per stage at 16 channels for CIFAR; the default here is 1 cell per
stage, small enough to train on a CPU, with the same width. Any height and width work: the
reductions round up (a 1x1 image stays 1x1), and any number of input channels. ``build``'s
``stages`` make it a family: one stage of two cells is ``cell-cnn`` (``rlnas.space.cell_cnn``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import nn

from rlnas.space.blocks import Residual
from rlnas.space.core import Architecture, SearchSpace
from rlnas.space.inheritance import inherit_by_step
from rlnas.space.nb201 import GROWTH, cell, cell_space, inherit_edge

NAME = "nb201-cell"
INPUT_RANK = 3
"""Inputs are (channels, height, width)."""
CHANNELS = 16
CELLS_PER_STAGE = 1
STAGES = 3


def space(input_shape: Sequence[int]) -> SearchSpace:
    """Six edges of the cell, one operation each; its output must be connected to its input."""
    return cell_space(NAME)


def build(
    architecture: Architecture | Mapping,
    input_shape: Sequence[int],
    n_outputs: int,
    *,
    channels: int = CHANNELS,
    cells_per_stage: int = CELLS_PER_STAGE,
    stages: int = STAGES,
) -> nn.Module:
    """The network of ``architecture`` for inputs of ``input_shape`` with ``n_outputs`` outputs:
    ``stages`` of ``cells_per_stage`` cells, the first at ``channels``, each next one twice as
    wide after a reduction."""
    choices = getattr(architecture, "choices", architecture)
    layers: list[nn.Module] = [
        nn.Conv2d(int(input_shape[0]), channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels),
    ]
    width = channels
    for stage in range(stages):
        if stage > 0:
            layers.append(reduction(width, 2 * width))
            width *= 2
        layers += [cell(choices, width) for _ in range(cells_per_stage)]
    layers += [
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(width, n_outputs),
    ]
    return nn.Sequential(*layers)


def reduction(channels: int, width: int) -> Residual:
    """NAS-Bench-201's ResNet basic block with stride 2: half the height and width (rounded
    up), ``width`` channels."""
    body = nn.Sequential(
        nn.ReLU(),
        nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
    )
    shortcut = nn.Sequential(
        nn.AvgPool2d(2, stride=2, ceil_mode=True, count_include_pad=False),
        nn.Conv2d(channels, width, 1, bias=False),
    )
    return Residual(body, shortcut)


inherit = inherit_by_step(build, GROWTH, inherit_edge)
