"""Evaluate in the search process, one architecture at a time: simple, and exactly reproducible."""

from __future__ import annotations

from collections import deque

from rlnas.errors import UserError
from rlnas.evaluator import Job
from rlnas.execution.base import Executor
from rlnas.execution.evaluation import evaluate_trial
from rlnas.space import Architecture
from rlnas.trial import Trial


class SerialExecutor(Executor):
    """Runs each evaluation in this process when the loop waits for it.

    It cannot interrupt an evaluation, so it takes no ``trial_timeout``: use the process executor
    (one worker is enough) to bound a trial's time.
    """

    name = "serial"

    def __init__(self, workers: int = 1, trial_timeout: float | None = None) -> None:
        if trial_timeout is not None:
            raise UserError("the serial executor cannot time a trial out: use --executor process")
        super().__init__(workers)
        self.queue: deque[Job | Architecture] = deque()

    def submit(self, work: Job | Architecture) -> None:
        self.queue.append(work)

    def wait(self) -> list[Trial]:
        return [evaluate_trial(self.evaluate, self.queue.popleft(), self.objective)]

    @property
    def in_flight(self) -> int:
        return len(self.queue)
