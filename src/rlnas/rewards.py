"""From an evaluator's metrics to the one number a strategy maximizes.

Beyond one metric, an Objective may carry cost constraints (params, flops, latency_ms) in the
MnasNet form (Tan et al., CVPR 2019): ``reward = metric * (cost / target) ** w``. A *soft*
constraint uses one weight w (default -0.07) on both sides of the target, trading a little metric
for a lot of cost; a *hard* one uses w = 0 up to the target and rejects the architecture above it.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rlnas.errors import UserError

Direction = Literal["maximize", "minimize"]
COSTS = ("params", "flops", "latency_ms")
"""The cost metrics a constraint may bound; a training evaluator reports all three."""
BEFORE_TRAINING = ("params", "flops")
"""Costs known from the built model alone: hard limits on them reject before any training."""


class RewardError(ValueError):
    """The metrics give no reward: the trial is recorded as failed with this reason."""


class ConstraintViolation(Exception):
    """An architecture breaks a hard constraint; the message names the constraint."""


@dataclass(frozen=True)
class Constraint:
    """``cost <= target``, either hard (reject above) or soft (MnasNet factor with ``weight``)."""

    cost: str
    target: float
    soft: bool = False
    weight: float = -0.07

    def __post_init__(self) -> None:
        if self.cost not in COSTS:
            raise UserError(f"a constraint bounds one of {', '.join(COSTS)}, not {self.cost!r}")
        if not (math.isfinite(self.target) and self.target > 0):
            raise UserError(f"constraint {self}: the target must be a positive number")
        if not math.isfinite(self.weight):
            raise UserError(f"constraint {self}: the weight must be a finite number")

    def __str__(self) -> str:
        text = f"{self.cost}<={self.target:g}"
        if self.soft:
            text += ":soft" if self.weight == -0.07 else f":soft:{self.weight:g}"
        return text

    @classmethod
    def parse(cls, text: str) -> Constraint:
        """Read ``params<=20000``, ``flops<=1e6:soft`` or ``latency_ms<=2:soft:-0.1``."""
        match = re.fullmatch(
            r"\s*(\w+)\s*<=\s*([^:\s]+)\s*(?::\s*(hard|soft)\s*(?::\s*([^:\s]+))?)?\s*", text
        )
        if match is None:
            raise UserError(
                f"cannot read constraint {text!r}; write COST<=TARGET[:hard|:soft[:WEIGHT]], "
                "e.g. params<=20000 or flops<=1e6:soft"
            )
        cost, target, kind, weight = match.groups()
        if weight is not None and kind != "soft":
            raise UserError(f"constraint {text!r}: only a soft constraint takes a weight")
        try:
            number = float(target)
            factor = -0.07 if weight is None else float(weight)
        except ValueError:
            raise UserError(
                f"constraint {text!r}: {target!r} or its weight is not a number"
            ) from None
        return cls(cost, number, soft=kind == "soft", weight=factor)

    def factor(self, metrics: Mapping[str, float]) -> float:
        """The multiplier ``(cost / target) ** w``; RewardError when a hard limit is broken."""
        if self.cost not in metrics:
            raise RewardError(f"constraint {self} needs a {self.cost!r} metric; none was reported")
        cost = metrics[self.cost]
        if not self.soft:
            if cost > self.target:
                raise RewardError(f"constraint {self} violated: {self.cost} = {cost:g}")
            return 1.0
        if not (math.isfinite(cost) and cost > 0):
            raise RewardError(f"constraint {self}: {self.cost} = {cost} is not a positive cost")
        return (cost / self.target) ** self.weight

    def check(self, metrics: Mapping[str, float]) -> None:
        """Raise ConstraintViolation if this is a hard limit that ``metrics`` break."""
        if not self.soft and self.cost in metrics and metrics[self.cost] > self.target:
            raise ConstraintViolation(
                f"hard constraint {self} violated: {self.cost} = {metrics[self.cost]:g}"
            )


@dataclass(frozen=True)
class Objective:
    """Maximize or minimize one named metric; the reward is the metric, negated when minimized.

    With ``constraints`` each constraint's factor scales the reward toward worse: a positive
    reward is multiplied by it, a negative one divided. For a minimized metric such as mse (whose
    reward is ``-mse``) this inflates the error of a model over budget by the same proportion as
    an accuracy would be shrunk. Soft factors assume a positive metric (accuracy, auc, mse).
    """

    metric: str
    direction: Direction = "maximize"
    constraints: Sequence[Constraint] = ()

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise UserError(f"direction must be 'maximize' or 'minimize', not {self.direction!r}")
        object.__setattr__(self, "constraints", tuple(self.constraints))

    def reward(self, metrics: Mapping[str, float]) -> float:
        if self.metric not in metrics:
            raise RewardError(
                f"the evaluator returned no {self.metric!r} metric (it gave {sorted(metrics)})"
            )
        value = metrics[self.metric]
        if not math.isfinite(value):
            raise RewardError(f"diverged: {self.metric} is {value}")
        reward = value if self.direction == "maximize" else -value
        for constraint in self.constraints:
            factor = constraint.factor(metrics)
            reward = reward * factor if reward >= 0 else reward / factor
        return reward

    def better(self, a: float, b: float) -> bool:
        """Whether metric value ``a`` beats ``b`` in this objective's direction."""
        return a > b if self.direction == "maximize" else a < b


def pareto_front(
    points: Sequence[tuple[float, float]], direction: Direction = "maximize"
) -> list[int]:
    """Indices (ascending) of the points ``(metric, cost)`` that no other point dominates.

    Cost is always minimized, the metric goes in ``direction``. A point is dominated when another
    is at least as good in both and better in one; equal points are all kept. Points with a
    non-finite value are never on the front.
    """
    sign = 1.0 if direction == "maximize" else -1.0
    finite = [
        (cost, sign * metric, index)
        for index, (metric, cost) in enumerate(points)
        if math.isfinite(metric) and math.isfinite(cost)
    ]
    finite.sort(key=lambda point: (point[0], -point[1]))
    front: list[int] = []
    best_cheaper = -math.inf
    for _, group in itertools.groupby(finite, key=lambda point: point[0]):
        group = list(group)
        top = group[0][1]
        if top > best_cheaper:
            front += [index for _, value, index in group if value == top]
            best_cheaper = top
    return sorted(front)
