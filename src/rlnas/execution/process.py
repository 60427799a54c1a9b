"""Evaluate in persistent worker processes (pebble's process pool), CPU threads split between them.

Each worker receives the evaluator once, when it starts, and then only architectures. pebble
kills a worker whose trial runs past ``trial_timeout`` and starts a fresh one, and reports a worker
that died (a crash, the out-of-memory killer) as ``ProcessExpired``: both become failed trials.
An evaluator that runs on a device (``rlnas.devices.UsesDevice``) set to ``auto`` or ``cuda`` gets
one GPU per worker: worker i trains on ``cuda:(i mod GPUs)``, so concurrent trials do not share a
GPU while there are as many GPUs as workers (a restarted worker takes the next GPU in turn).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_futures
from typing import Any

from pebble import ProcessExpired, ProcessPool

from rlnas.devices import UsesDevice, place, visible_gpus, worker_devices
from rlnas.errors import UserError
from rlnas.evaluator import Job
from rlnas.execution.base import Executor
from rlnas.execution.evaluation import Evaluator, evaluate_trial, failed_trial
from rlnas.rewards import Objective
from rlnas.space import Architecture
from rlnas.trial import Trial

_worker: tuple[Evaluator, Objective] | None = None
"""The evaluator and objective of this worker process, set once when it starts."""


SPAWN = multiprocessing.get_context("spawn")
"""Workers are fresh interpreters: no lock or thread pool is inherited mid-use."""

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""What the numeric libraries (torch's OpenMP, BLAS) read for their thread pools' size."""


def threads_per_worker(workers: int) -> int:
    """The CPU threads each of ``workers`` processes may use so that together they fill the CPU."""
    return max(1, (os.cpu_count() or 1) // workers)


def limit_threads(threads: int) -> None:
    """Bound this process's numeric libraries, and those of processes it starts, to ``threads``.

    Without it each of several processes starts one thread per core, and they oversubscribe
    the CPU; small networks and linear solves run faster on one thread anyway.
    """
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    if "torch" in sys.modules:  # torch read the variables when it loaded: tell it directly
        import torch

        torch.set_num_threads(threads)


def worker_pool(
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple = (),
    threads: int | None = None,
) -> ProcessPool:
    """``workers`` persistent, spawned processes that together use the CPU's threads once.

    Spawned: each worker is a fresh interpreter, so no lock or thread pool is inherited mid-use.
    ``initializer(*initargs)`` runs in each worker after its threads are bounded (to
    ``threads``, default an equal share of the cores).
    """
    share = threads or threads_per_worker(workers)
    return ProcessPool(
        max_workers=workers,
        initializer=_start,
        initargs=(share, initializer, initargs),
        context=SPAWN,
    )


def _start(threads: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    limit_threads(threads)
    if initializer is not None:
        initializer(*initargs)


def devices_of_workers(evaluate: Evaluator, workers: int) -> list[str | None]:
    """The device each worker moves ``evaluate`` to (None: leave it where it is)."""
    if not isinstance(evaluate, UsesDevice):
        return [None] * workers
    return worker_devices(evaluate.devices.device, workers, visible_gpus())


def _start_worker(
    evaluate: Evaluator, objective: Objective, devices: list[str | None], started: Any
) -> None:
    """Set up this worker: the evaluator on the device of the next worker place in turn."""
    global _worker
    with started.get_lock():
        index = started.value
        started.value += 1
    _worker = (place(evaluate, devices[index % len(devices)]), objective)


def _evaluate_in_worker(work: Job | Architecture) -> Trial:
    assert _worker is not None, "the worker was not started with an evaluator"
    evaluate, objective = _worker
    return evaluate_trial(evaluate, work, objective)


class ProcessExecutor(Executor):
    """``workers`` persistent processes; the default executor when there is more than one worker."""

    name = "process"

    def start(self, evaluate: Evaluator, objective: Objective) -> None:
        super().start(evaluate, objective)
        devices = devices_of_workers(evaluate, self.workers)
        started = SPAWN.Value("i", 0)  # counts the workers started: worker i takes device i
        self.pool = worker_pool(
            self.workers, _start_worker, (evaluate, objective, devices, started)
        )
        self.running: dict[Future, tuple[Architecture, float, float]] = {}

    def submit(self, work: Job | Architecture) -> None:
        future = self.pool.schedule(_evaluate_in_worker, args=(work,), timeout=self.trial_timeout)
        self.running[future] = (Job.of(work).architecture, time.time(), time.perf_counter())

    def wait(self) -> list[Trial]:
        done, _ = wait_futures(list(self.running), return_when=FIRST_COMPLETED)
        return [self._trial(future) for future in done]

    def _trial(self, future: Future) -> Trial:
        architecture, started, clock = self.running.pop(future)
        try:
            return future.result()
        except FutureTimeout:
            reason = f"timed out after {self.trial_timeout:g} s (the worker was restarted)"
        except ProcessExpired as error:
            reason = f"the worker process died (exit code {error.exitcode})"
        except UserError:  # the evaluator's own mistake (``EvaluatorError``) stops the search
            raise
        except Exception as error:  # e.g. the trial could not be sent to the worker
            reason = f"{type(error).__name__}: {error}"
        return failed_trial(architecture, reason, started, clock)

    @property
    def in_flight(self) -> int:
        return len(self.running)

    def close(self) -> None:
        if getattr(self, "pool", None) is not None:
            self.pool.stop()
            self.pool.join()
            self.pool = None
