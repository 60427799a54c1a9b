"""Schedulers: how far each candidate trains before the search compares it (multi-fidelity).

``asha`` (asynchronous successive halving), ``hyperband`` (its brackets) and ``median`` (the
median stopping rule) stop hopeless candidates at rungs of ``min_epochs * eta**k`` epochs and
continue the others from where they stopped. Every candidate, stopped or not, is told to the
strategy once with a reward on the last rung's scale. The search loop (``rlnas.search``) runs
them with any strategy, executor and ``FidelityEvaluator`` (``rlnas.evaluator``).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from rlnas.errors import UnknownName, UserError
from rlnas.schedulers.base import (
    PrunedReward,
    Scheduler,
    bracket_sizes,
    comparable_reward,
    rungs,
)
from rlnas.schedulers.halving import Hyperband, SuccessiveHalving
from rlnas.schedulers.median import MedianStopping
from rlnas.settings import Settings

SCHEDULERS: dict[str, type[Scheduler]] = {
    "asha": SuccessiveHalving,
    "hyperband": Hyperband,
    "median": MedianStopping,
}
"""Name -> scheduler class: the one table the settings, the command line and the docs read.
Adding a scheduler is one file and one line here."""


class SchedulerSettings(Settings):
    """Whether and how candidates are stopped early (see ``rlnas.schedulers``).

    ``eta = 3`` and ``min_epochs = 1`` are the defaults of Li et al. (2018, 2020) and of Ray
    Tune's ASHA; with 9 epochs they give rungs at 1, 3 and 9 epochs.
    """

    scheduler: str = Field(
        "none",
        description=f"Stop weak candidates early: none, {', '.join(SCHEDULERS)}.",
        json_schema_extra={"choices": ["none", *SCHEDULERS]},
    )
    min_epochs: int = Field(1, ge=1, description="Scheduler: epochs of the first rung.")
    eta: float = Field(
        3.0, gt=1, description="Scheduler: rungs at min_epochs * eta^k; 1/eta train on."
    )
    pruned_reward: PrunedReward = Field(
        "shift",
        description="Scheduler: a stopped candidate's reward: raw, shift (plus the mean gain to "
        "the last rung) or quantile (its rank mapped onto the last rung).",
    )

    @field_validator("scheduler")
    @classmethod
    def _a_registered_scheduler(cls, name: str) -> str:
        if name != "none" and name not in SCHEDULERS:
            raise ValueError(f"no scheduler {name!r}; choose one of none, {', '.join(SCHEDULERS)}")
        return name

    def check(self, epochs: int) -> None:
        """The one check between these settings and the epochs of a candidate: the first rung
        must come before the last."""
        if self.scheduler != "none" and self.min_epochs > epochs:
            raise UserError(
                f"min_epochs ({self.min_epochs}) exceeds the epochs per candidate ({epochs}); "
                "the first rung must come before the last"
            )

    def make(self, epochs: int) -> Scheduler | None:
        """The scheduler for candidates of ``epochs`` epochs (checked already), or None."""
        if self.scheduler == "none":
            return None
        return SCHEDULERS[self.scheduler](epochs, self.min_epochs, self.eta, self.pruned_reward)


def make_scheduler(
    name: str,
    epochs: int,
    min_epochs: int = 1,
    eta: float = 3.0,
    pruned_reward: PrunedReward = "shift",
) -> Scheduler:
    """The scheduler ``name`` for candidates trained up to ``epochs`` (from Python: its
    arguments are checked as the settings of a search are)."""
    if name == "none":
        raise UnknownName(f"no scheduler 'none'; choose one of {', '.join(SCHEDULERS)}")
    settings = SchedulerSettings(
        scheduler=name, min_epochs=min_epochs, eta=eta, pruned_reward=pruned_reward
    )
    settings.check(epochs)
    scheduler = settings.make(epochs)
    assert scheduler is not None
    return scheduler


__all__ = [
    "SCHEDULERS",
    "Hyperband",
    "MedianStopping",
    "Scheduler",
    "SchedulerSettings",
    "SuccessiveHalving",
    "bracket_sizes",
    "comparable_reward",
    "make_scheduler",
    "rungs",
]
