"""What one evaluation produced: the record that strategies learn from and the store keeps."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Protocol, TypeVar

from rlnas.space import Architecture


class Status(StrEnum):
    COMPLETE = "complete"
    FAILED = "failed"
    REJECTED = "rejected"
    """Broke a hard constraint before training: recorded, told as a failure, not counted."""
    PRUNED = "pruned"
    """Stopped early by a scheduler (``rlnas.schedulers``): its reward is estimated from the
    highest fidelity it reached, so it is told to the strategy but never named the best."""


@dataclass(frozen=True)
class Trial:
    """One evaluated architecture.

    ``reward`` is the searched metric turned so that higher is better (negated when minimized);
    it is None when the trial failed, and strategies decide what a failure is worth.
    ``cached`` trials repeat an architecture evaluated before and cost no budget.
    ``curve`` is the searched metric on validation after every epoch (evaluators that train by
    epochs), ``rung`` the scheduler's rung it reached (None without a scheduler), and ``state``
    what its evaluation left to continue from (``rlnas.evaluator.JobState``): it travels back
    from the worker with the trial, and the search loop takes it off before the trial is kept.
    In a search that inherits weights (progressive growth), ``parent`` is the key of the network
    it grew from (None: trained from scratch) and ``start`` how its training began
    (``inherited: <how>`` or ``scratch: <why>``).
    """

    number: int
    architecture: Architecture
    metrics: Mapping[str, float]
    reward: float | None
    status: Status = Status.COMPLETE
    error: str | None = None
    started_at: float = 0.0
    duration_s: float = 0.0
    cached: bool = False
    extra: Mapping[str, object] = field(default_factory=dict)
    curve: tuple[float, ...] = ()
    rung: int | None = None
    state: bytes | None = field(default=None, repr=False, compare=False)
    parent: str | None = None
    start: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))
        object.__setattr__(self, "curve", tuple(float(value) for value in self.curve))
        object.__setattr__(self, "status", Status(self.status))  # "failed" works as well
        if self.reward is not None and not math.isfinite(self.reward):
            raise ValueError(f"a trial's reward must be finite, got {self.reward}")

    def __reduce__(self) -> tuple[type[Trial], tuple[object, ...]]:
        """Pickle as plain data (the read-only mappings cannot be), for worker processes."""
        return (
            Trial,
            (
                self.number,
                self.architecture,
                dict(self.metrics),
                self.reward,
                str(self.status),
                self.error,
                self.started_at,
                self.duration_s,
                self.cached,
                dict(self.extra),
                self.curve,
                self.rung,
                self.state,
                self.parent,
                self.start,
            ),
        )

    @property
    def failed(self) -> bool:
        """Whether the trial gave no result: it failed, or broke a hard constraint."""
        return self.status in (Status.FAILED, Status.REJECTED)

    @property
    def counted(self) -> bool:
        """Whether the trial uses up budget: all but those rejected before any training."""
        return self.status is not Status.REJECTED

    @property
    def pruned(self) -> bool:
        return self.status is Status.PRUNED


class Scored(Protocol):
    """What ``best_trial`` reads: a Trial, or a trial read back from the store."""

    @property
    def number(self) -> int: ...

    @property
    def reward(self) -> float | None: ...

    @property
    def status(self) -> str: ...


ScoredTrial = TypeVar("ScoredTrial", bound=Scored)


def best_trial(trials: Iterable[ScoredTrial]) -> ScoredTrial | None:
    """The complete trial with the highest reward; the earliest one wins a tie.

    The one rule by which the search, ``show``, ``train-final`` and the report name the best.
    A pruned trial's reward is an estimate of what it would have reached: it is never the best.
    """
    complete = [
        trial for trial in trials if trial.reward is not None and trial.status != Status.PRUNED
    ]
    if not complete:
        return None
    return max(complete, key=lambda trial: (trial.reward, -trial.number))


def best_first(trial: Scored) -> tuple[bool, bool, float, int]:
    """Sort key that lists trials as ``best_trial`` ranks them: best first, then the pruned,
    failures last."""
    pruned = trial.status == Status.PRUNED
    return (trial.reward is None, pruned, -(trial.reward or 0.0), trial.number)
