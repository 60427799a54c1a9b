"""Where evaluations run: in the search process, in worker processes, or on a Ray cluster."""

from __future__ import annotations

from typing import Any

from rlnas.errors import UnknownName
from rlnas.execution.base import Executor
from rlnas.execution.evaluation import Evaluator, evaluate_trial, failed_trial

EXECUTORS = ("serial", "process", "ray")
"""The executors by name: the one list that the settings and the command line read."""


def make_executor(
    name: str | None,
    workers: int = 1,
    trial_timeout: float | None = None,
    **options: Any,
) -> Executor:
    """The executor ``name``; None picks serial for one worker without a timeout, else process.

    ``options`` go to the Ray executor (``address``, ``temp_dir``, ``gpus_per_trial``,
    ``cpus_per_trial``). The arguments are checked already, as ``ExecutionSettings``.
    """
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
