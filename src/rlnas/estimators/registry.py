"""The estimators by name, for the CLI and the Python API: how a task search scores a child.

``full`` trains every child (``TrainingEvaluator``); ``weight-sharing`` and ``supernet`` score it
with shared weights in a fraction of that time; ``predictor`` trains fully but only the children
a surrogate picks (the screening itself is a strategy wrapper, ``rlnas.strategies.screening``,
since it decides what is evaluated, not how).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from rlnas.errors import UnknownName, UserError
from rlnas.space import Architecture

if TYPE_CHECKING:  # torch loads only when an estimator is built
    from rlnas.estimators.training import TrainingEvaluator

ESTIMATORS = ("full", "weight-sharing", "supernet", "predictor")
Evaluator = Callable[[Architecture], Mapping[str, float]]


def make_estimator(
    name: str,
    training: TrainingEvaluator,
    supernet_path: str | Path | None = None,
    supernet_steps: int = 1000,
) -> Evaluator:
    """The evaluator ``name`` for ``training``'s task and space.

    The shared-weight estimators take the task, space, seed, batch size, threads and devices of
    ``training``; ``full`` and ``predictor`` return ``training`` itself.
    """
    if name not in ESTIMATORS:
        raise UnknownName(f"unknown estimator {name!r}; choose one of {', '.join(ESTIMATORS)}")
    if supernet_path is not None and name != "supernet":
        raise UserError("a supernet path applies to the supernet estimator only")
    if name in ("full", "predictor"):
        return training
    # shared weights see many children: they keep their own, higher learning rate
    shared = {
        "batch_size": training.recipe.batch_size,
        "seed": training.seed,
        "threads": training.threads,
        "devices": training.devices,
    }
    if name == "weight-sharing":
        from rlnas.estimators.weight_sharing import WeightSharingEvaluator

        return WeightSharingEvaluator(training.task, training.space, **shared)
    from rlnas.estimators.supernet import SupernetEvaluator

    return SupernetEvaluator(
        training.task, training.space, supernet_steps, path=supernet_path, **shared
    )
