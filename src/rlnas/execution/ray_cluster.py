"""Evaluate on Ray actors: a local Ray instance, or an existing cluster (``address``).

One actor per worker holds the evaluator; architectures travel to it one by one. An actor that
dies (its node lost, the process killed) or a trial past ``trial_timeout`` (the actor is killed)
gives a failed trial, and a fresh actor takes the free place. Each actor asks Ray for
``cpus_per_trial`` CPUs and ``gpus_per_trial`` GPUs (a fraction lets trials share a GPU), so on a
cluster each trial lands on a node that has them; Ray makes an actor's GPUs the only ones it
sees, so an evaluator on device ``auto`` or ``cuda`` trains on its own. Ray is an optional extra
(``pip install rlnas[ray]``).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from rlnas.errors import UserError
from rlnas.evaluator import Job
from rlnas.execution.base import Executor
from rlnas.execution.evaluation import Evaluator, evaluate_trial, failed_trial
from rlnas.execution.process import limit_threads, threads_per_worker
from rlnas.rewards import Objective
from rlnas.space import Architecture
from rlnas.trial import Trial

log = logging.getLogger(__name__)

LONGEST_TEMP_DIR = 40
"""Ray puts sockets below its temporary folder, and a socket path may not exceed 107 bytes."""


class _Worker:
    """What each Ray actor runs: the evaluator, received once."""

    def __init__(self, evaluate: Evaluator, objective: Objective, threads: int) -> None:
        limit_threads(threads)
        self.evaluate = evaluate
        self.objective = objective

    def ready(self) -> bool:
        return True

    def run(self, work: Job | Architecture) -> Trial:
        return evaluate_trial(self.evaluate, work, self.objective)


class RayExecutor(Executor):
    """``workers`` Ray actors. Without ``address`` a local Ray instance starts, with its temporary
    files in ``temp_dir`` (a short folder linked from there when its path is too long for Ray)."""

    name = "ray"

    def __init__(
        self,
        workers: int = 2,
        trial_timeout: float | None = None,
        address: str | None = None,
        temp_dir: str | Path | None = None,
        gpus_per_trial: float = 0.0,
        cpus_per_trial: float | None = None,
    ) -> None:
        super().__init__(workers, trial_timeout)
        self.address = address
        self.temp_dir = temp_dir
        self.gpus_per_trial = gpus_per_trial
        self.cpus_per_trial = cpus_per_trial

    def actor_options(self) -> dict[str, float]:
        """The resources each actor asks Ray for: ``num_cpus`` (default 1) and ``num_gpus``."""
        cpus = 1.0 if self.cpus_per_trial is None else self.cpus_per_trial
        return {"num_cpus": cpus, "num_gpus": self.gpus_per_trial}

    def start(self, evaluate: Evaluator, objective: Objective) -> None:
        super().start(evaluate, objective)
        try:
            import ray
        except ImportError:
            raise UserError("the ray executor needs Ray: pip install 'rlnas[ray]'") from None
        self.ray = ray
        self.started_ray = not ray.is_initialized()
        if self.started_ray and self.address is not None:
            check_reachable(self.address)
            try:
                ray.init(address=self.address, log_to_driver=False)
            except (ConnectionError, RuntimeError) as error:
                raise UserError(
                    f"cannot join the Ray cluster at {self.address}: {_cause(error)}"
                ) from None
        elif self.started_ray:
            cpus = self.actor_options()["num_cpus"]
            start_local_ray(self.workers, self.temp_dir, cpus_per_worker=cpus)
        if self.cpus_per_trial is not None:
            self.threads = max(1, int(self.cpus_per_trial))
        else:
            self.threads = threads_per_worker(self.workers) if self.address is None else 1
        self.actor_class = ray.remote(**self.actor_options())(_Worker)
        self.queue: deque[tuple[Job, float, float]] = deque()
        self.running: dict[Any, tuple[Any, Architecture, float, float]] = {}
        self.idle: list[Any] = []
        self.idle = self._new_actors(self.workers)

    def _new_actors(self, count: int) -> list[Any]:
        """Start ``count`` actors and wait until they hold the evaluator, so that no trial's
        time limit counts their start."""
        actors = [
            self.actor_class.remote(self.evaluate, self.objective, self.threads)
            for _ in range(count)
        ]
        try:
            self.ray.get([actor.ready.remote() for actor in actors])
        except self.ray.exceptions.RayError as error:
            raise UserError(f"a Ray worker could not start: {_cause(error)}") from None
        return actors

    def submit(self, work: Job | Architecture) -> None:
        self.queue.append((Job.of(work), time.time(), time.perf_counter()))

    def _dispatch(self) -> None:
        while self.queue and self.idle:
            job, started, _ = self.queue.popleft()
            actor = self.idle.pop()
            ref = actor.run.remote(job)
            self.running[ref] = (actor, job.architecture, started, time.perf_counter())

    def wait(self) -> list[Trial]:
        self._dispatch()
        ready, _ = self.ray.wait(list(self.running), num_returns=1, timeout=self._next_deadline())
        if ready:  # collect whatever else finished meanwhile too
            ready, _ = self.ray.wait(list(self.running), num_returns=len(self.running), timeout=0)
        trials = [self._trial(ref) for ref in ready]
        trials += self._time_out_overdue()
        return trials

    def _next_deadline(self) -> float | None:
        if self.trial_timeout is None:
            return None
        oldest = min(clock for _, _, _, clock in self.running.values())
        return max(0.0, oldest + self.trial_timeout - time.perf_counter())

    def _trial(self, ref: Any) -> Trial:
        actor, architecture, started, clock = self.running.pop(ref)
        try:
            trial = self.ray.get(ref)
        except UserError as error:  # the evaluator's own mistake stops the search
            raise UserError(_cause(error)) from None
        except self.ray.exceptions.RayActorError as error:
            self.idle += self._new_actors(1)
            reason = f"the Ray worker died ({_cause(error)})"
            return failed_trial(architecture, reason, started, clock)
        except self.ray.exceptions.RayError as error:
            self.idle.append(actor)
            return failed_trial(architecture, f"{type(error).__name__}: {error}", started, clock)
        self.idle.append(actor)
        return trial

    def _time_out_overdue(self) -> list[Trial]:
        if self.trial_timeout is None:
            return []
        trials = []
        now = time.perf_counter()
        for ref, (actor, architecture, started, clock) in list(self.running.items()):
            if now - clock >= self.trial_timeout:
                del self.running[ref]
                self.ray.kill(actor)
                self.idle += self._new_actors(1)
                reason = f"timed out after {self.trial_timeout:g} s (the worker was restarted)"
                trials.append(failed_trial(architecture, reason, started, clock))
        return trials

    @property
    def in_flight(self) -> int:
        return len(self.queue) + len(self.running)

    def close(self) -> None:
        if not hasattr(self, "ray"):
            return  # never started
        for actor in self.idle + [actor for actor, *_ in self.running.values()]:
            self.ray.kill(actor)
        self.idle, self.running = [], {}
        if self.started_ray:
            self.ray.shutdown()


def _cause(error: Exception) -> str:
    """The last line of a Ray error, which names what went wrong (the rest is a traceback)."""
    return str(error).strip().splitlines()[-1]


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """A one-line error now for a ``HOST:PORT`` where nothing answers, which ``ray.init`` would
    wait on for minutes; ``auto`` and other forms are left to Ray."""
    host, colon, port = address.removeprefix("ray://").rpartition(":")
    if not colon or not port.isdigit() or not host:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise UserError(
            f"cannot reach the Ray cluster at {address} ({error.strerror or error}); start it "
            "(ray start --head) or check --address"
        ) from None


def start_local_ray(
    workers: int, temp_dir: str | Path | None = None, cpus_per_worker: float = 1.0
) -> None:
    """Start Ray on this machine, its files in ``temp_dir``; workers import what this process can.

    It offers at least the CPUs that ``workers`` actors of ``cpus_per_worker`` ask for, even
    where the machine has fewer (they then share them), and the GPUs Ray detects.

    Executors that find Ray running use it and leave it running: start it once to share it.
    """
    import ray

    options: dict[str, Any] = {}
    if temp_dir is not None:
        options["_temp_dir"] = str(_short_temp_dir(Path(temp_dir).absolute()))
    ray.init(
        # the evaluator's module must import in the workers, wherever it lives
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, sys.path))}},
        num_cpus=max(math.ceil(workers * cpus_per_worker), os.cpu_count() or 1),
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=128 * 1024**2,
        **options,
    )


def _short_temp_dir(wanted: Path) -> Path:
    """``wanted`` when Ray's socket paths fit below it, else a short folder that it links to."""
    if len(str(wanted)) <= LONGEST_TEMP_DIR:
        wanted.mkdir(parents=True, exist_ok=True)
        return wanted
    if wanted.is_symlink() and wanted.resolve().is_dir():
        return wanted.resolve()
    short = Path(tempfile.mkdtemp(prefix="rlnas-ray-"))
    wanted.parent.mkdir(parents=True, exist_ok=True)
    if not wanted.exists():
        wanted.symlink_to(short, target_is_directory=True)
    log.info("Ray's temporary files are in %s (linked from %s)", short, wanted)
    return short
