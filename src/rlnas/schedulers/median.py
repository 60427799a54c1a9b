"""The median stopping rule (Golovin et al., "Google Vizier", KDD 2017).

A candidate stops at a rung when its reward there is below the median of the rewards that
earlier candidates had at the same rung. Vizier compares at every step against running averages;
here the comparison happens at the rungs, so a candidate's training runs uninterrupted between
them (set ``eta`` below 2 for more frequent checks). No candidate stops while fewer than
``STARTUP`` earlier ones reached its rung, as in Optuna's ``MedianPruner`` (``n_startup_trials``).
"""

from __future__ import annotations

import statistics

from rlnas.schedulers.base import Scheduler

STARTUP = 5
"""Earlier candidates a rung needs before its median stops anyone (Optuna's default)."""


class MedianStopping(Scheduler):
    """Stop below the median of earlier candidates at the same rung."""

    name = "median"

    def continues(self, key: str, rung: int, reward: float) -> bool:
        earlier = self.at_rung(rung)
        return len(earlier) < STARTUP or reward >= statistics.median(earlier)
