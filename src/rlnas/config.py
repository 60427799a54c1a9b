"""One definition of a search: every setting, for the command line, TOML files and Python.

``SearchConfig`` inherits each group of settings from the module that reads it (what is searched
from ``problems``, the training recipe, the strategy, its episodes, the estimator, the device,
the executor, the scheduler, inheritance) and adds the search's own (budgets, seed, store).
``rlnas search`` builds its options from these fields, a ``--config`` TOML file holds the same
keys (``-`` or ``_`` alike), and ``rlnas.run(SearchConfig(...))`` runs the same search from Python.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from rlnas.devices import DeviceSettings
from rlnas.errors import UserError
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.registry import ESTIMATORS, EstimatorSettings
from rlnas.execution.settings import ExecutionSettings
from rlnas.inheriting import InheritanceSettings
from rlnas.problems import ProblemSettings
from rlnas.schedulers import SchedulerSettings
from rlnas.settings import Settings
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.strategies.registry import StrategySettings

SEED_LIMIT = 2**63
"""Seeds are stored as SQLite integers, which are 64-bit and signed."""


class SearchSettings(Settings):
    """How long a search runs and which run it is: what ``rlnas.search`` and ``rlnas.run`` both
    take whole (the search loop reads the budgets)."""

    budget: int = Field(200, ge=1, description="Distinct architectures to evaluate.")
    time_budget: float | None = Field(
        None,
        gt=0,
        description="Minutes of wall time for this run; then it stops, resumable (a resume "
        "does not inherit it; default: none).",
    )
    epoch_budget: int | None = Field(
        None, ge=1, description="Training epochs over the whole search (default: no limit)."
    )
    seed: int = Field(
        0, ge=0, lt=SEED_LIMIT, description="Random seed (0 to 2^63-1): same seed, same result."
    )
    max_repeats: int = Field(
        1000,
        ge=1,
        description="Stop after this many proposals in a row of architectures already evaluated.",
    )
    name: str | None = Field(
        None, min_length=1, description="Experiment name (default: generated)."
    )


class SearchConfig(
    SearchSettings,
    InheritanceSettings,
    SchedulerSettings,
    ExecutionSettings,
    DeviceSettings,
    EstimatorSettings,
    EpisodeSettings,
    StrategySettings,
    TrainingRecipe,
    ProblemSettings,
):
    """The settings of one search; ``rlnas.run(config)`` runs it."""

    store: Path | None = Field(Path("runs.db"), description="SQLite store of the experiment.")
    log: Literal["tensorboard", "mlflow"] | None = Field(
        None, description="Also log every trial to tensorboard or mlflow."
    )

    @model_validator(mode="after")
    def _settings_fit_together(self) -> Self:
        """Every fact between settings of different groups, checked here and nowhere else."""
        trains = self.task is not None
        estimator = EstimatorSettings.of(self)
        if not trains and estimator.entry.builds is not None:
            raise UserError(f"the {self.estimator} estimator trains networks: it needs a task")
        by_epochs = [name for name, entry in ESTIMATORS.items() if entry.trains_by_epochs]
        for what, given in (
            (f"scheduler {self.scheduler}", self.scheduler != "none"),
            ("an epoch budget", self.epoch_budget is not None),
        ):
            if given and (not trains or not estimator.entry.trains_by_epochs):
                raise UserError(
                    f"{what} stops training early: it needs a task trained by an estimator that "
                    f"trains by epochs ({', '.join(by_epochs)}), not "
                    f"{self.estimator if trains else 'a table or your evaluator'}"
                )
        if self.inherit and (not trains or not estimator.entry.trains_by_epochs):
            raise UserError(
                "inherit grows a network from its parent's trained weights: it needs a task "
                f"trained by an estimator that trains by epochs ({', '.join(by_epochs)})"
            )
        if estimator.screens and self.progressive:
            raise UserError("the predictor screens whole architectures: one-shot mode only")
        SchedulerSettings.of(self).check(self.epochs)
        InheritanceSettings.of(self).check(self.epochs, self.progressive, self.scheduler)
        return self

    @classmethod
    def from_toml(cls, path: Path, **overrides: Any) -> SearchConfig:
        """The settings of a TOML file, with ``overrides`` (those not None) on top."""
        try:
            values = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise UserError(f"config file {path} does not exist") from None
        except IsADirectoryError:
            raise UserError(f"config file {path} is a directory, not a TOML file") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise UserError(f"config file {path} is not valid TOML: {error}") from None
        keys = {key.replace("-", "_"): value for key, value in values.items()}
        if len(keys) < len(values):
            spellings = Counter(key.replace("-", "_") for key in values)
            twice = sorted(key for key, count in spellings.items() if count > 1)
            raise UserError(
                f"config file {path} sets {', '.join(twice)} twice (as - and _ spellings); keep one"
            )
        keys.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**keys)

    def stored(self) -> dict[str, Any]:
        """The settings kept with the experiment: all but where it is stored and its name."""
        return self.model_dump(mode="json", exclude={"store", "name"})
