"""The interface of executors: submit architectures, wait for finished trials, in any order.

The search loop keeps up to ``workers`` architectures in flight. An executor evaluates each one
(a ``Job``: the architecture, and for a scheduled search the epochs to reach and the state to
continue from, which travel with it to the worker; the trial brings the new state back)
somewhere (here, in worker processes, on a Ray cluster) and hands back Trials as they finish;
whatever goes wrong on the way (the evaluator raised, the worker died, the trial ran past
``trial_timeout``) comes back as a failed Trial, never as an exception.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from rlnas.evaluator import Job
from rlnas.execution.evaluation import Evaluator
from rlnas.rewards import Objective
from rlnas.space import Architecture
from rlnas.trial import Trial


class Executor(ABC):
    """Runs evaluations for one search at a time: ``start`` it with the evaluator and the
    objective (which turns metrics into rewards), ``close`` it when the search ends."""

    name: str

    def __init__(self, workers: int = 1, trial_timeout: float | None = None) -> None:
        self.workers = workers
        self.trial_timeout = trial_timeout

    def start(self, evaluate: Evaluator, objective: Objective) -> None:
        """Get ready to evaluate with ``evaluate`` (executors with workers start them here)."""
        self.evaluate = evaluate
        self.objective = objective

    @abstractmethod
    def submit(self, work: Job | Architecture) -> None:
        """Start evaluating ``work`` (at most ``workers`` run at once; others wait)."""

    @abstractmethod
    def wait(self) -> list[Trial]:
        """Block until at least one submitted architecture is done; return every finished trial."""

    @property
    @abstractmethod
    def in_flight(self) -> int:
        """Submitted architectures whose trials have not been returned yet."""

    def close(self) -> None:  # noqa: B027 (executors without workers have nothing to stop)
        """Stop the workers; unfinished evaluations are abandoned."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
