"""The model-building spaces by name: each gives a SearchSpace for an input shape and builds a
torch module for any of its architectures.

A space module defines ``NAME``, ``INPUT_RANK`` (the rank of the input shape it accepts, or None
for any), ``space(input_shape) -> SearchSpace`` and
``build(architecture, input_shape, n_outputs) -> torch.nn.Module``; the module is made of standard
torch layers and the blocks of ``rlnas.space.blocks``. Entries are import paths so that torch
loads only when a model space is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from rlnas.errors import UnknownName, UserError
from rlnas.space.core import Architecture, SearchSpace

if TYPE_CHECKING:
    from torch import nn

MODEL_SPACES: dict[str, str] = {
    "chain-cnn": "rlnas.space.chain_cnn",
    "cell-cnn": "rlnas.space.cell_cnn",
    "nb201-cell": "rlnas.space.nb201_cell",
    "conv1d": "rlnas.space.conv1d",
    "mlp": "rlnas.space.mlp",
}
_SHAPES = {1: "(features,)", 2: "(channels, length)", 3: "(channels, height, width)"}
_DEFAULT_BY_RANK = {3: "chain-cnn", 2: "conv1d"}


def model_space_module(name: str) -> ModuleType:
    """The module that defines the space ``name``."""
    if name not in MODEL_SPACES:
        raise UnknownName(f"unknown search space {name!r}; choose one of {', '.join(MODEL_SPACES)}")
    return import_module(MODEL_SPACES[name])


def default_space_name(input_shape: Sequence[int]) -> str:
    """The space that suits inputs of this shape: images, sequences, or else tabular features."""
    return _DEFAULT_BY_RANK.get(len(input_shape), "mlp")


def model_space(name: str, input_shape: Sequence[int]) -> SearchSpace:
    """The SearchSpace ``name`` for inputs of ``input_shape``; refuses a shape it cannot take."""
    module = model_space_module(name)
    _check_shape(module, input_shape)
    return module.space(tuple(input_shape))


def build_model(
    name: str,
    architecture: Architecture | Mapping,
    input_shape: Sequence[int],
    n_outputs: int,
) -> nn.Module:
    """The torch module of ``architecture`` from the space ``name``."""
    module = model_space_module(name)
    _check_shape(module, input_shape)
    return module.build(architecture, tuple(input_shape), n_outputs)


def _check_shape(module: ModuleType, input_shape: Sequence[int]) -> None:
    rank = module.INPUT_RANK
    if rank is not None and len(input_shape) != rank:
        suggestion = default_space_name(input_shape)
        raise UserError(
            f"search space {module.NAME} needs inputs shaped {_SHAPES[rank]}, but the data is "
            f"shaped {tuple(input_shape)}; try the space {suggestion}"
        )
