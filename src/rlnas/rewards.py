"""From an evaluator's metrics to the one number a strategy maximizes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rlnas.errors import UserError

Direction = Literal["maximize", "minimize"]


class RewardError(ValueError):
    """The metrics give no reward: the trial is recorded as failed with this reason."""


@dataclass(frozen=True)
class Objective:
    """Maximize or minimize one named metric; the reward is the metric, negated when minimized."""

    metric: str
    direction: Direction = "maximize"

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise UserError(f"direction must be 'maximize' or 'minimize', not {self.direction!r}")

    def reward(self, metrics: Mapping[str, float]) -> float:
        if self.metric not in metrics:
            raise RewardError(
                f"the evaluator returned no {self.metric!r} metric (it gave {sorted(metrics)})"
            )
        value = metrics[self.metric]
        if not math.isfinite(value):
            raise RewardError(f"diverged: {self.metric} is {value}")
        return value if self.direction == "maximize" else -value

    def better(self, a: float, b: float) -> bool:
        """Whether metric value ``a`` beats ``b`` in this objective's direction."""
        return a > b if self.direction == "maximize" else a < b
