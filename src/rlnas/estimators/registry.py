"""The estimators by name: how a task search scores a child, and the settings that choose one.

``full`` trains every child (``TrainingEvaluator``); ``weight-sharing`` and ``supernet`` score it
with shared weights in a fraction of that time; ``predictor`` trains fully but only the children
a surrogate picks (the screening itself is a strategy wrapper, ``rlnas.strategies.screening``,
since it decides what is evaluated, not how).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from pydantic import Field, field_validator, model_validator

from rlnas.evaluator import Evaluator
from rlnas.settings import Settings

if TYPE_CHECKING:  # torch loads only when an estimator is built
    from rlnas.estimators.training import TrainingEvaluator


@dataclass(frozen=True)
class Estimator:
    """An entry of the table: where the estimator's class is and what it can do."""

    help: str
    """One line for the command line's help and ``rlnas list``."""
    builds: str | None = None
    """The import path of its class, which builds itself with ``for_search(training,
    settings)`` (torch loads only when one is built); None: the search's own full training."""
    trains_by_epochs: bool = False
    """It trains every child it scores by epochs: a scheduler or an epoch budget can cut that."""
    fits_supernet: bool = False
    """It trains shared weights (``fit()``) before the first child is scored."""
    screens: bool = False
    """A predictor picks what is evaluated (``rlnas.strategies.screening``)."""
    settings: tuple[str, ...] = ()
    """Its own fields of ``EstimatorSettings``, kept with the experiment; they apply to it only."""


ESTIMATORS: dict[str, Estimator] = {
    "full": Estimator("trains every child", trains_by_epochs=True),
    "weight-sharing": Estimator(
        "scores children with weights shared by all (ENAS)",
        builds="rlnas.estimators.weight_sharing:WeightSharingEvaluator",
    ),
    "supernet": Estimator(
        "scores children with a supernet trained first (one-shot)",
        builds="rlnas.estimators.supernet:SupernetEvaluator",
        fits_supernet=True,
        settings=("supernet_path", "supernet_steps"),
    ),
    "predictor": Estimator(
        "trains the children a surrogate picks",
        trains_by_epochs=True,
        screens=True,
        settings=("top_k",),
    ),
}
"""Name -> estimator: the one table that the settings, the command line, the docs and the
checks read. Adding an estimator is its file and one line here."""


class EstimatorSettings(Settings):
    """Which estimator scores a task's children, and its own settings."""

    estimator: str = Field(
        "full",
        description="How to score a child: "
        + "; ".join(f"{name} ({entry.help})" for name, entry in ESTIMATORS.items())
        + ".",
        json_schema_extra={"choices": list(ESTIMATORS)},
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

    @field_validator("estimator")
    @classmethod
    def _a_registered_estimator(cls, name: str) -> str:
        if name not in ESTIMATORS:
            raise ValueError(f"no estimator {name!r}; choose one of {', '.join(ESTIMATORS)}")
        return name

    @model_validator(mode="after")
    def _own_settings_only(self) -> Self:
        """A setting of one estimator, changed for another, is a mistake to say."""
        chosen = ESTIMATORS[self.estimator].settings
        for name, entry in ESTIMATORS.items():
            for setting in set(entry.settings) - set(chosen):
                if getattr(self, setting) != EstimatorSettings.model_fields[setting].default:
                    raise ValueError(f"{setting} applies to the {name} estimator only")
        return self

    @property
    def entry(self) -> Estimator:
        """What the chosen estimator can do."""
        return ESTIMATORS[self.estimator]

    @property
    def screens(self) -> bool:
        """Whether a predictor picks what is evaluated (``rlnas.strategies.screening``)."""
        return self.entry.screens

    @property
    def pool(self) -> int:
        """Proposals the predictor ranks for every ``top_k`` it lets through."""
        return 10 * self.top_k

    def recorded(self) -> dict[str, Any]:
        """What the experiment keeps about its estimator: the name and its own settings."""
        values = {setting: getattr(self, setting) for setting in self.entry.settings}
        return {
            "estimator": self.estimator,
            **{k: str(v) if isinstance(v, Path) else v for k, v in values.items()},
        }


def make_estimator(settings: EstimatorSettings, training: TrainingEvaluator) -> Evaluator:
    """The evaluator that ``settings`` name, for ``training``'s task and space.

    The shared-weight estimators take the task, space, seed, batch size, threads and devices of
    ``training``; ``full`` and ``predictor`` return ``training`` itself.
    """
    builds = settings.entry.builds
    if builds is None:
        return training
    module, _, attribute = builds.partition(":")
    return getattr(import_module(module), attribute).for_search(training, settings)
