"""The model-building spaces by name: each gives a SearchSpace for an input shape and builds a
torch module for any of its architectures.

A space module (``ModelSpace``) defines ``NAME``, ``INPUT_RANK`` (the rank of the input shape it
accepts, or None for any), ``space(input_shape) -> SearchSpace`` and
``build(architecture, input_shape, n_outputs) -> torch.nn.Module``; the module is made of standard
torch layers and the blocks of ``rlnas.space.blocks``. A space that grows may also define
``inherit`` (``InheritingModelSpace``): the network of a child grown by one step from a trained
parent, with the parent's weights and function (``rlnas.space.inheritance``). Entries are import
paths so that torch loads only when a model space is used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rlnas.errors import UnknownName, UserError
from rlnas.space.core import Architecture, SearchSpace

if TYPE_CHECKING:
    import torch
    from torch import nn

    from rlnas.space.inheritance import Inheritance


@runtime_checkable
class ModelSpace(Protocol):
    """What a model-space module defines (the module itself satisfies the protocol)."""

    NAME: str
    INPUT_RANK: int | None

    def space(self, input_shape: Sequence[int]) -> SearchSpace: ...

    def build(
        self, architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
    ) -> nn.Module: ...


@runtime_checkable
class InheritingModelSpace(ModelSpace, Protocol):
    """A model space whose growth steps can start from the parent's trained weights."""

    def inherit(
        self,
        parent_model: nn.Module,
        parent_architecture: Architecture | Mapping,
        child_architecture: Architecture | Mapping,
        input_shape: Sequence[int],
        n_outputs: int,
        calibration: torch.Tensor | None = None,
    ) -> Inheritance: ...


MODEL_SPACES: dict[str, str] = {
    "chain-cnn": "rlnas.space.chain_cnn",
    "cell-cnn": "rlnas.space.cell_cnn",
    "nb201-cell": "rlnas.space.nb201_cell",
    "conv1d": "rlnas.space.conv1d",
    "mlp": "rlnas.space.mlp",
}
_SHAPES = {1: "(features,)", 2: "(channels, length)", 3: "(channels, height, width)"}
_DEFAULT_BY_RANK = {3: "chain-cnn", 2: "conv1d"}


def model_space_module(name: str) -> ModelSpace:
    """The module that defines the space ``name``."""
    if name not in MODEL_SPACES:
        raise UnknownName(f"unknown search space {name!r}; choose one of {', '.join(MODEL_SPACES)}")
    module = import_module(MODEL_SPACES[name])
    if not isinstance(module, ModelSpace):
        raise TypeError(f"{module.__name__} does not define what a model space must")
    return module


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


def inherit_model(
    name: str,
    parent_model: nn.Module,
    parent_architecture: Architecture | Mapping,
    child_architecture: Architecture | Mapping,
    input_shape: Sequence[int],
    n_outputs: int,
    calibration: torch.Tensor | None = None,
) -> Inheritance:
    """The network of ``child_architecture``, grown by one step from the trained ``parent_model``
    (of ``parent_architecture``) so that it computes the parent's function; its ``model`` is None
    where the step cannot keep the function (then train the child from scratch).

    ``calibration``: a batch of training inputs; with it, new BatchNorm layers take their running
    statistics from it, so that train mode also starts close to the parent's function.
    """
    from rlnas.space.inheritance import refused

    module = model_space_module(name)
    _check_shape(module, input_shape)
    if not isinstance(module, InheritingModelSpace):
        return refused(f"space {name} does not inherit weights across growth steps")
    return module.inherit(
        parent_model,
        parent_architecture,
        child_architecture,
        tuple(input_shape),
        n_outputs,
        calibration,
    )


def _check_shape(module: ModelSpace, input_shape: Sequence[int]) -> None:
    rank = module.INPUT_RANK
    if rank is not None and len(input_shape) != rank:
        suggestion = default_space_name(input_shape)
        raise UserError(
            f"search space {module.NAME} needs inputs shaped {_SHAPES[rank]}, but the data is "
            f"shaped {tuple(input_shape)}; try the space {suggestion}"
        )
