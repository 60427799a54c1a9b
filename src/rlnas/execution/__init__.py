"""Where evaluations run: in the search process, in worker processes, or on a Ray cluster."""

from __future__ import annotations

from typing import Any

from rlnas.errors import UnknownName, UserError
from rlnas.execution.base import Executor
from rlnas.execution.evaluation import Evaluator, evaluate_trial, failed_trial

EXECUTORS = ("serial", "process", "ray")


def make_executor(
    name: str | None,
    workers: int = 1,
    trial_timeout: float | None = None,
    **options: Any,
) -> Executor:
    """The executor ``name``; None picks serial for one worker without a timeout, else process.

    ``options`` go to the Ray executor (``address``, ``temp_dir``, ``gpus_per_trial``,
    ``cpus_per_trial``).
    """
    if workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if trial_timeout is not None and trial_timeout <= 0:
        raise UserError(f"--trial-timeout must be positive, got {trial_timeout:g}")
    if name is None:
        name = "serial" if workers == 1 and trial_timeout is None else "process"
    if name == "serial":
        from rlnas.execution.serial import SerialExecutor

        return SerialExecutor(workers, trial_timeout)
    if name == "process":
        from rlnas.execution.process import ProcessExecutor

        return ProcessExecutor(workers, trial_timeout)
    if name == "ray":
        from rlnas.execution.ray_cluster import RayExecutor

        return RayExecutor(workers, trial_timeout, **options)
    raise UnknownName(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")


__all__ = ["EXECUTORS", "Evaluator", "Executor", "evaluate_trial", "failed_trial", "make_executor"]
