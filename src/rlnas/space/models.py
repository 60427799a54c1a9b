"""Model-building spaces: each gives a SearchSpace for an input shape and builds a torch module
for any of its architectures. Built-in ones by name, the user's own by import path or as objects.

A *model family* (``ModelSpace``) is anything with ``space(input_shape) -> SearchSpace`` and
``build(architecture, input_shape, n_outputs) -> torch.nn.Module``: a module, a class (made with
no arguments) or an instance. ``architecture`` is an ``Architecture`` (or a mapping of its
choices), ``input_shape`` one example's shape without the batch (``(features,)``,
``(channels, length)``, ``(channels, height, width)``), ``n_outputs`` the classes (1 for
regression); the module maps a float32 batch to ``(batch, n_outputs)`` scores. Optional:
``INPUT_RANK`` (the rank of the shapes it takes, checked before building; ``NAME`` shown in that
error), a ``growth=Growth(...)`` in the SearchSpace it returns (for progressive search), and
``inherit`` (``InheritingModelSpace``: a child grown by one step from a trained parent, with the
parent's weights and function; ``rlnas.space.inheritance``). Built from standard torch layers
(and ``rlnas.space.blocks``) it exports like the built-in ones, and the shared-weight estimators
can share its convolutions, linear and batch-norm layers.

Wherever a space is named (``--space``, ``space = ...`` in TOML, ``SearchConfig(space=...)``,
``TrainingEvaluator(task, space)``) a family is given as ``package.module:Name`` (or a module's
dotted name); a family passed as an object is recorded by that import path, so ``resume`` and
``train-final`` rebuild it wherever it imports (``PYTHONPATH``). Built-in entries are import paths
so that torch loads only when a model space is used.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rlnas.errors import UnknownName, UserError, one_line
from rlnas.space.core import Architecture, SearchSpace

if TYPE_CHECKING:
    import torch
    from torch import nn

    from rlnas.space.inheritance import Inheritance


@runtime_checkable
class ModelSpace(Protocol):
    """A model family: the SearchSpace for an input shape, and the network of an architecture."""

    def space(self, input_shape: Sequence[int]) -> SearchSpace: ...

    def build(
        self, architecture: Architecture | Mapping, input_shape: Sequence[int], n_outputs: int
    ) -> nn.Module: ...


@runtime_checkable
class RankedModelSpace(ModelSpace, Protocol):
    """A model family that says which rank of input shape it takes (every built-in one does)."""

    NAME: str
    INPUT_RANK: int | None


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


SpaceLike = str | ModelSpace
"""A model space as it may be given: a built-in name, an import path, or a family itself."""


def model_space_module(space: SpaceLike) -> ModelSpace:
    """The family that ``space`` names (or ``space`` itself, checked)."""
    if isinstance(space, str):
        found = _import_family(space)
    else:
        found = space() if isinstance(space, type) else space
    if not isinstance(found, ModelSpace):
        raise UserError(
            f"model space {space_label(space)} lacks what a model family defines: "
            "space(input_shape) -> SearchSpace and build(architecture, input_shape, n_outputs)"
        )
    return found


def _import_family(name: str) -> Any:
    if name in MODEL_SPACES:
        return import_module(MODEL_SPACES[name])
    if ":" not in name and "." not in name:
        raise UnknownName(
            f"unknown search space {name!r}; choose one of {', '.join(MODEL_SPACES)}, or give "
            "your own model family as package.module:Name"
        )
    module_name, _, attribute = name.partition(":")
    if not module_name:
        raise UnknownName(f"model space {name!r} is not an import path; write package.module:Name")
    try:
        found: Any = import_module(module_name)
        for part in filter(None, attribute.split(".")):
            found = getattr(found, part)
    except ImportError as error:
        raise UnknownName(
            f"model space {name}: cannot import {module_name} ({error}); make it importable "
            "(install it or add its folder to PYTHONPATH)"
        ) from None
    except AttributeError:
        raise UnknownName(f"model space {name}: {module_name} has no {attribute}") from None
    except Exception as error:  # the user's module ran and failed: a SyntaxError, any raise
        raise UserError(
            f"model space {name}: importing {module_name} failed ({one_line(error)}); fix it"
        ) from None
    if not isinstance(found, type):
        return found
    try:
        return found()
    except TypeError as error:
        raise UserError(
            f"model space {name}: the class is made with no arguments ({error}); give defaults "
            "to its constructor, or name a module or an instance"
        ) from None
    except Exception as error:  # its constructor raised
        raise UserError(
            f"model space {name}: making the class failed ({one_line(error)}); fix it"
        ) from None


def space_label(space: SpaceLike) -> str:
    """How ``space`` is named where it is stored: its name or the import path of its family."""
    if isinstance(space, str):
        return space
    if isinstance(space, types.ModuleType):
        return space.__name__
    family = space if isinstance(space, type) else type(space)
    return f"{family.__module__}:{family.__qualname__}"


def portable_space(space: SpaceLike) -> SpaceLike:
    """``space`` as its name when that name imports it again (so it pickles and resumes),
    else the family itself (defined in a function: usable here, in this process). An instance
    is named by its class, which is made again with no arguments."""
    if isinstance(space, str):
        return space
    label = space_label(space)
    try:
        again = _import_family(label)
    except (UserError, TypeError):  # not importable, or its class needs arguments
        return space
    family = space if isinstance(space, type) else type(space)
    return label if again is space or type(again) is family else space


def default_space_name(input_shape: Sequence[int]) -> str:
    """The space that suits inputs of this shape: images, sequences, or else tabular features."""
    return _DEFAULT_BY_RANK.get(len(input_shape), "mlp")


def model_space(
    name: SpaceLike, input_shape: Sequence[int], n_outputs: int | None = None
) -> SearchSpace:
    """The SearchSpace ``name`` for inputs of ``input_shape``; refuses a shape it cannot take.

    With ``n_outputs``, one network of the space is built and run on a batch of two examples
    first: a family whose networks do not return ``(batch, n_outputs)`` is refused here, before
    a search trains (and stores) scores of the wrong thing.
    """
    module = model_space_module(name)
    _check_shape(module, input_shape)
    try:
        found = module.space(tuple(input_shape))
    except UserError:
        raise
    except Exception as error:  # the user's family raised
        raise UserError(
            f"model space {space_label(name)}: space(input_shape) failed ({one_line(error)})"
        ) from None
    if not isinstance(found, SearchSpace):
        raise UserError(
            f"model space {space_label(name)}: space(input_shape) returned a "
            f"{type(found).__name__}, not an rlnas.SearchSpace"
        )
    if n_outputs is not None:
        _check_outputs(module, name, found, tuple(input_shape), n_outputs)
    return found


def _check_outputs(
    module: ModelSpace,
    name: SpaceLike,
    space: SearchSpace,
    input_shape: tuple[int, ...],
    n_outputs: int,
) -> None:
    """One network of ``space`` maps a batch of 2 to scores shaped ``(2, n_outputs)``."""
    import numpy as np
    import torch

    architecture = space.sample(np.random.default_rng(0))
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():  # the caller's random state stays
            network = module.build(architecture, input_shape, n_outputs)
            network.eval()
            scores = network(torch.zeros((2, *input_shape)))
    except UserError:
        raise
    except Exception as error:  # the user's build or forward raised
        raise UserError(
            f"model space {space_label(name)}: the network of {dict(architecture.choices)} "
            f"cannot run on a batch of inputs shaped {input_shape} ({one_line(error)})"
        ) from None
    shape = tuple(getattr(scores, "shape", ()))
    if shape != (2, n_outputs):
        raise UserError(
            f"model space {space_label(name)}: a network returns {type(scores).__name__} "
            f"shaped {shape} for a batch of 2, not (2, {n_outputs}) (batch, n_outputs); "
            "build(architecture, input_shape, n_outputs) must end in n_outputs scores"
        )


def build_model(
    name: SpaceLike,
    architecture: Architecture | Mapping,
    input_shape: Sequence[int],
    n_outputs: int,
) -> nn.Module:
    """The torch module of ``architecture`` from the space ``name``."""
    module = model_space_module(name)
    _check_shape(module, input_shape)
    return module.build(architecture, tuple(input_shape), n_outputs)


def inherit_model(
    name: SpaceLike,
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
        return refused(f"space {space_label(name)} does not inherit weights across growth steps")
    return module.inherit(
        parent_model,
        parent_architecture,
        child_architecture,
        tuple(input_shape),
        n_outputs,
        calibration,
    )


def _check_shape(module: ModelSpace, input_shape: Sequence[int]) -> None:
    if not isinstance(module, RankedModelSpace):
        return  # a family that does not say which shapes it takes finds out when it builds
    rank = module.INPUT_RANK
    if rank is not None and len(input_shape) != rank:
        suggestion = default_space_name(input_shape)
        raise UserError(
            f"search space {module.NAME} needs inputs shaped {_SHAPES[rank]}, but the data is "
            f"shaped {tuple(input_shape)}; try the space {suggestion}"
        )
