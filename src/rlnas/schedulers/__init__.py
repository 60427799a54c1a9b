"""Schedulers: how far each candidate trains before the search compares it (multi-fidelity).

``asha`` (asynchronous successive halving), ``hyperband`` (its brackets) and ``median`` (the
median stopping rule) stop hopeless candidates at rungs of ``min_epochs * eta**k`` epochs and
continue the others from where they stopped. Every candidate, stopped or not, is told to the
strategy once with a reward on the last rung's scale. The search loop (``rlnas.search``) runs
them with any strategy, executor and ``FidelityEvaluator`` (``rlnas.evaluator``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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
"""Name -> scheduler class; adding a scheduler is one file and one line here."""


class SchedulerSettings(Settings):
    """Whether and how candidates are stopped early (see ``rlnas.schedulers``).

    ``eta = 3`` and ``min_epochs = 1`` are the defaults of Li et al. (2018, 2020) and of Ray
    Tune's ASHA; with 9 epochs they give rungs at 1, 3 and 9 epochs.
    """

    scheduler: Literal["none", "asha", "hyperband", "median"] = Field(
        "none", description="Stop weak candidates early: none, asha, hyperband or median."
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

    def check(self, epochs: int) -> None:
        """Raise a one-line error unless the rungs fit ``epochs`` of training."""
        if self.scheduler != "none" and self.min_epochs > epochs:
            raise UserError(
                f"min_epochs ({self.min_epochs}) exceeds the epochs per candidate ({epochs}); "
                "the first rung must come before the last"
            )

    def make(self, epochs: int) -> Scheduler | None:
        """The scheduler for candidates of ``epochs`` epochs, or None."""
        if self.scheduler == "none":
            return None
        self.check(epochs)
        return make_scheduler(self.scheduler, epochs, self.min_epochs, self.eta, self.pruned_reward)


def make_scheduler(
    name: str,
    epochs: int,
    min_epochs: int = 1,
    eta: float = 3.0,
    pruned_reward: PrunedReward = "shift",
) -> Scheduler:
    """The scheduler ``name`` for candidates trained up to ``epochs``."""
    if name not in SCHEDULERS:
        raise UnknownName(f"unknown scheduler {name!r}; choose one of {', '.join(SCHEDULERS)}")
    if eta <= 1:
        raise UserError(f"eta must be above 1 (each rung keeps 1/eta of the candidates), got {eta}")
    if not 1 <= min_epochs <= epochs:
        raise UserError(f"min_epochs must be between 1 and the epochs ({epochs}), got {min_epochs}")
    return SCHEDULERS[name](epochs, min_epochs, eta, pruned_reward)


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
