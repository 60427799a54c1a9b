"""What a learning controller is rewarded with, shared by every learning strategy.

Raw metrics live on very different scales (0.8 accuracy, 3e3 MSE), so controllers learn from a
transformed reward: ``normalize`` (z-score under running mean and std) or ``rank`` (the fraction of
rewards seen so far that this one beats, in [0, 1]; robust to outliers). ``raw`` passes the reward
through. A failed trial is worth a little less than the worst reward seen: bad, but not so bad that
one crash dominates the gradient.
"""

from __future__ import annotations

import bisect
import math
from typing import Annotated, Literal

from pydantic import Field

from rlnas.strategies.saved_state import SavedState
from rlnas.trial import Trial

ShapingMode = Literal["normalize", "rank", "raw"]
RewardShaping = Annotated[
    ShapingMode,
    Field(description="What the controller learns from: rank, normalize (z-score) or raw rewards."),
]
"""The ``reward_shaping`` option of every learning strategy."""


class RewardShaper(SavedState):
    """Running reward transform; every reward it sees (failures excepted) updates its statistics."""

    saved = ("seen", "total", "total_squares")

    def __init__(self, mode: ShapingMode = "normalize") -> None:
        self.mode = mode
        self.seen: list[float] = []  # sorted rewards of complete trials
        self.total = 0.0
        self.total_squares = 0.0

    def failure_reward(self) -> float:
        """The raw reward a failed trial stands for: below the worst seen by one spread."""
        if not self.seen:
            return 0.0
        spread = self.std()
        return self.seen[0] - (spread if spread > 0 else 1e-3)

    def __call__(self, trial: Trial) -> float:
        """The shaped reward of ``trial``; a new complete trial also updates the statistics.

        A repeat told from the cache does not count again, or an architecture a policy keeps
        drawing would lower its own rank.
        """
        raw = trial.reward
        if raw is None:
            raw = self.failure_reward()
        elif not trial.cached:
            bisect.insort(self.seen, raw)
            self.total += raw
            self.total_squares += raw * raw
        return self.transform(raw)

    def transform(self, raw: float) -> float:
        if self.mode == "raw" or not self.seen:
            return raw if self.mode == "raw" else 0.0
        if self.mode == "rank":
            return bisect.bisect_left(self.seen, raw) / max(len(self.seen) - 1, 1)
        spread = self.std()
        if spread <= 0:  # all rewards seen are equal: only the sign of the difference is known
            return math.copysign(1.0, raw - self.mean()) if raw != self.mean() else 0.0
        return (raw - self.mean()) / spread

    def mean(self) -> float:
        return self.total / len(self.seen) if self.seen else 0.0

    def std(self) -> float:
        if len(self.seen) < 2 or self.seen[0] == self.seen[-1]:
            return 0.0
        variance = self.total_squares / len(self.seen) - self.mean() ** 2
        return math.sqrt(max(variance, 0.0))
