"""The estimators by name: how a task search scores a child, and the settings that choose one.

``full`` trains every child (``TrainingEvaluator``); ``weight-sharing`` and ``supernet`` score it
with shared weights in a fraction of that time; ``predictor`` trains fully but only the children
a surrogate picks (the screening itself is a strategy wrapper, ``rlnas.strategies.screening``,
since it decides what is evaluated, not how).
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from rlnas.errors import UnknownName, UserError
from rlnas.evaluator import Evaluator
from rlnas.settings import Settings

if TYPE_CHECKING:  # torch loads only when an estimator is built
    from rlnas.estimators.training import TrainingEvaluator

ESTIMATORS: dict[str, str | None] = {
    "full": None,
    "weight-sharing": "rlnas.estimators.weight_sharing:WeightSharingEvaluator",
    "supernet": "rlnas.estimators.supernet:SupernetEvaluator",
    "predictor": None,
}
"""Name -> the class (an import path: torch loads only when one is built) of each estimator;
None: the search's own full training. A class builds itself with ``for_search(training,
settings)``. Adding an estimator is one line here."""
EstimatorName = Literal["full", "weight-sharing", "supernet", "predictor"]


class EstimatorSettings(Settings):
    """Which estimator scores a task's children, and its own settings."""

    estimator: EstimatorName = Field(
        "full", description="How to score a child: full, weight-sharing, supernet or predictor."
    )
    top_k: int = Field(
        5, ge=1, description="Predictor: evaluate the best K of every 10 K proposals."
    )
    supernet_path: Path | None = Field(
        None, description="Supernet file: loaded if it exists, else trained and saved."
    )
    supernet_steps: int = Field(
        1000, ge=1, description="Supernet training steps (one minibatch each)."
    )

    @property
    def screens(self) -> bool:
        """Whether a predictor picks what is evaluated (``rlnas.strategies.screening``)."""
        return self.estimator == "predictor"

    @property
    def pool(self) -> int:
        """Proposals the predictor ranks for every ``top_k`` it lets through."""
        return 10 * self.top_k


def make_estimator(settings: EstimatorSettings, training: TrainingEvaluator) -> Evaluator:
    """The evaluator that ``settings`` name, for ``training``'s task and space.

    The shared-weight estimators take the task, space, seed, batch size, threads and devices of
    ``training``; ``full`` and ``predictor`` return ``training`` itself.
    """
    name = settings.estimator
    if name not in ESTIMATORS:
        raise UnknownName(f"unknown estimator {name!r}; choose one of {', '.join(ESTIMATORS)}")
    if settings.supernet_path is not None and name != "supernet":
        raise UserError("a supernet path applies to the supernet estimator only")
    if ESTIMATORS[name] is None:
        return training
    module, _, attribute = ESTIMATORS[name].partition(":")
    return getattr(import_module(module), attribute).for_search(training, settings)
