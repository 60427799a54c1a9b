"""The state of a search between trials: what is in flight, what a checkpoint saves, what a resume
restores; and the loop that asks, evaluates, tells and stores until the budget ends.

``rlnas.search`` builds a ``SearchLoop`` and runs it on an executor. An architecture in flight is
an ``InFlight``: the job it is on (with a scheduler, the rung it trains to and the training state
it continues from) and what its earlier jobs took. After every settled candidate the store saves
the trial and the checkpoint (the strategy's state, the scheduler's, every job in flight with its
state) in one transaction. A search that inherits weights (``rlnas.inheriting``) sends each
progressive step with its ``Lineage`` (the parent's trained weights, where they are kept), keeps
the weights that come back in ``Parents`` and in the store, and records the kept networks in the
checkpoint, so that a resumed search grows from the same parents.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

from rlnas.config import SearchSettings
from rlnas.errors import StoreError, UserError
from rlnas.evaluator import Job, Lineage, StatefulEvaluator
from rlnas.execution import Executor
from rlnas.inheriting import Parents
from rlnas.rewards import Objective
from rlnas.schedulers import Scheduler
from rlnas.space import SearchSpace
from rlnas.store import Experiment, Store, StoredTrial
from rlnas.strategies import Strategy
from rlnas.trial import Status, Trial, best_trial

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Trial, int, int], None]
DEATHS_TO_FAIL = 2
"""A candidate in flight when the search process died this many times is recorded as failed."""


@dataclass(frozen=True)
class SearchResult:
    """What a search found: every distinct trial in order, and the best complete one."""

    trials: tuple[Trial, ...]
    best: Trial | None
    experiment: str | None = None
    stopped_early: str | None = None


@dataclass
class InFlight:
    """An architecture in flight: the job it is on, and what its earlier jobs (rungs) took."""

    job: Job
    copies: int = 0
    """How many more times the strategy asked for it while it was in flight."""
    reached: int = 0
    """The epochs its job's state has trained already (0: it starts from scratch)."""
    started_at: float | None = None
    duration_s: float = 0.0

    @property
    def plain(self) -> bool:
        """An unscheduled evaluation: executors receive the architecture alone, as always."""
        return self.job.epochs is None and self.job.state is None

    def saved(self) -> tuple | dict[str, Any]:
        if self.plain:
            return (self.job.architecture, self.copies)
        lineage = self.job.lineage
        return {
            "architecture": self.job.architecture,
            "copies": self.copies,
            "epochs": self.job.epochs,
            "state": self.job.state,
            "lineage": None if lineage is None else vars(lineage),
            "reached": self.reached,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
        }

    @classmethod
    def loaded(cls, saved: tuple | dict[str, Any]) -> InFlight:
        if not isinstance(saved, dict):  # (architecture, copies)
            architecture, copies = saved
            return cls(Job(architecture), copies)
        lineage = saved.get("lineage")
        lineage = None if lineage is None else Lineage(**lineage)
        job = Job(saved["architecture"], saved["epochs"], saved["state"], lineage)
        return cls(job, saved["copies"], saved["reached"], saved["started_at"], saved["duration_s"])


@dataclass
class SearchLoop:
    """The state of one search between trials: what a checkpoint saves and a resume restores.

    Everything it is built from is given to the constructor; the rest is the search's state.
    """

    strategy: Strategy
    objective: Objective
    settings: SearchSettings
    """The budgets (of architectures, minutes, epochs) and the stop on repeats."""
    store: Store | None
    experiment: Experiment | None
    """Where the trials go (None: no store)."""
    created: bool = False
    """The experiment was created for this run: a mistake before its first trial removes it."""
    on_trial: ProgressCallback | None = None
    evaluator: StatefulEvaluator | None = None
    """An evaluator whose state is part of the search's (weight sharing), or None."""
    scheduler: Scheduler | None = None
    full_epochs: int | None = None
    """The epochs of a full evaluation, for an evaluator that trains by epochs."""
    parents: Parents | None = None
    """The trained weights progressive steps grow from, in a search that inherits them."""
    trials: list[Trial] = field(default_factory=list)
    cache: dict[str, Trial] = field(default_factory=dict)
    in_flight: dict[str, InFlight] = field(default_factory=dict)
    """Architectures being evaluated, by key."""
    repeats_in_a_row: int = 0
    rejected_in_a_row: int = 0
    """Trials in a row rejected before training (they use no budget, so they need a stop)."""
    stopped_early: str | None = None
    epochs_used: int = 0
    deadline: float | None = None
    deadly: dict[str, str] = field(default_factory=dict)
    """Keys that killed the search process twice -> the error of the failed trial they become
    when the strategy asks for them again (a resumed serial search replays its asks)."""

    @property
    def budget(self) -> int:
        return self.settings.budget

    @property
    def max_repeats(self) -> int:
        return self.settings.max_repeats

    @property
    def epoch_budget(self) -> int | None:
        return self.settings.epoch_budget

    @property
    def time_budget(self) -> float | None:
        return self.settings.time_budget

    def run(self, executor: Executor) -> SearchResult:
        if self.time_budget is not None:
            self.deadline = time.monotonic() + 60 * self.time_budget
        for candidate in self.in_flight.values():  # re-queued after a resume
            self._submit(executor, candidate)
        paused = False
        try:
            while True:
                while self.stopped_early is None and self._room(executor):
                    if not self._propose(executor):
                        break
                if executor.in_flight == 0:
                    break
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    paused = True
                    break
                for trial in executor.wait():
                    self._finish(trial, executor)
        except BaseException as error:
            if self.store is not None and self.experiment is not None:
                with suppress(StoreError):  # a full disk may refuse this too; resume still works
                    if isinstance(error, UserError) and self.created and not self.trials:
                        self.store.delete_new_experiment(self.experiment)  # nothing to resume
                    else:
                        self.store.set_status(self.experiment, "interrupted")
            raise
        if paused:
            self.stopped_early = (
                f"the time budget of {self.time_budget:g} minutes ran out; resume to continue"
            )
        elif self.epoch_budget is not None and self.counted < self.budget:
            self.stopped_early = f"the epoch budget of {self.epoch_budget} epochs is spent"
        if self.stopped_early is not None:
            log.warning("stopping after %d trials: %s", len(self.trials), self.stopped_early)
        experiment = self.experiment
        if self.store is not None and experiment is not None:
            if paused:  # what is in flight now is abandoned: the checkpoint starts it again
                self.store.save_checkpoint(experiment, len(self.trials), self.checkpoint())
            self.store.set_status(experiment, "interrupted" if paused else "complete")
        name = self.experiment.name if self.experiment else None
        best = best_trial(self.trials)
        return SearchResult(tuple(self.trials), best, name, self.stopped_early)

    @property
    def counted(self) -> int:
        """Trials that used up budget: all but those rejected before training."""
        return sum(trial.counted for trial in self.trials)

    def _room(self, executor: Executor) -> bool:
        busy = executor.in_flight
        if busy >= executor.workers or self.counted + busy >= self.budget:
            return False
        return self.epoch_budget is None or self.epochs_used + self._committed() < self.epoch_budget

    def _committed(self) -> int:
        """The epochs that the jobs in flight will train."""
        return sum(
            (candidate.job.epochs or self.full_epochs or 0) - candidate.reached
            for candidate in self.in_flight.values()
        )

    def _submit(self, executor: Executor, candidate: InFlight) -> None:
        if self.store is not None and self.experiment is not None:  # noted first: it may kill us
            self.store.evaluating(self.experiment, list(self.in_flight))
        executor.submit(candidate.job.architecture if candidate.plain else candidate.job)

    def _propose(self, executor: Executor) -> bool:
        """Ask for one architecture and start it unless it is known; False: wait for results.

        A repeat of an evaluated architecture is told at once from the cache. A repeat of one
        still in flight is told when that one comes back; until then, asking again would most
        likely bring the same proposal, so the loop waits.
        """
        (architecture,) = self.strategy.ask(1)
        key = architecture.key
        if key not in self.cache and key not in self.in_flight:
            if self.rejected_in_a_row >= self.max_repeats:
                self.stopped_early = (
                    f"{self.max_repeats} architectures in a row broke a hard constraint"
                )
                return False
            self.repeats_in_a_row = 0
            epochs = None if self.scheduler is None else self.scheduler.start(key)
            job = Job(architecture, epochs)
            if self.parents is not None:
                failed = {known for known, trial in self.cache.items() if trial.failed}
                lineage = self.parents.lineage(architecture, self.in_flight, failed)
                grows = lineage.parent is not None
                epochs = self.parents.step_epochs if grows else self.full_epochs
                job = Job(architecture, epochs, lineage=lineage)
            self.in_flight[key] = candidate = InFlight(job)
            if key in self.deadly:  # it killed the search twice: not evaluated a third time
                error = self.deadly.pop(key)
                self._settle(Trial(0, architecture, {}, None, Status.FAILED, error))
                return True
            self._submit(executor, candidate)
            return True
        self.repeats_in_a_row += 1
        if self.repeats_in_a_row >= self.max_repeats:
            self.stopped_early = (
                f"the strategy proposed only known architectures {self.max_repeats} times in a row"
            )
        if key in self.cache:
            self.strategy.tell(architecture, replace(self.cache[key], cached=True))
            return True
        self.in_flight[key].copies += 1
        return False

    def _finish(self, trial: Trial, executor: Executor) -> None:
        """A job is done: train the candidate on to its next rung, or settle it."""
        candidate = self.in_flight[trial.architecture.key]
        state, target = trial.state, candidate.job.epochs
        reached = self._epochs_reached(trial, candidate)
        self.epochs_used += reached - candidate.reached
        started_at = trial.started_at if candidate.started_at is None else candidate.started_at
        duration_s = candidate.duration_s + trial.duration_s
        trial = replace(trial, state=None, started_at=started_at, duration_s=duration_s)
        if self.scheduler is not None and target is not None and not trial.failed:
            assert trial.reward is not None
            key, rung = trial.architecture.key, self.scheduler.rung(target)
            ended = 0 < len(trial.curve) < target  # training stopped by itself (patience)
            then = None if ended else self.scheduler.report(key, target, trial.reward)
            if then is not None:
                candidate.job = Job(trial.architecture, then, state)
                candidate.reached, candidate.started_at = reached, started_at
                candidate.duration_s = duration_s
                self._submit(executor, candidate)
                return
            trial = replace(trial, rung=rung)
            if not ended and rung < len(self.scheduler.rungs) - 1:
                estimate = self.scheduler.estimate(key)
                trial = replace(trial, status=Status.PRUNED, reward=estimate)
        weights = state if self.parents is not None and not trial.failed else None
        self._settle(trial, weights)

    def _epochs_reached(self, trial: Trial, candidate: InFlight) -> int:
        """The epochs the candidate has trained once this job is done."""
        if trial.curve:
            return len(trial.curve)
        if "epochs" in trial.metrics:
            return int(trial.metrics["epochs"])
        return candidate.job.epochs or self.full_epochs or 0

    def _settle(self, trial: Trial, weights: bytes | None = None) -> None:
        """Number, cache, tell and store a candidate whose evaluation is over; ``weights``: its
        trained network's, for the steps that grow from it."""
        copies = self.in_flight.pop(trial.architecture.key).copies
        trial = replace(trial, number=len(self.trials))
        self.rejected_in_a_row = 0 if trial.counted else self.rejected_in_a_row + 1
        self.cache[trial.architecture.key] = trial
        self.trials.append(trial)
        self.strategy.tell(trial.architecture, trial)
        for _ in range(copies):
            self.strategy.tell(trial.architecture, replace(trial, cached=True))
        kept = None
        if self.parents is not None:
            if weights is not None:
                self.parents.keep(trial.architecture, weights)
            best = best_trial(self.trials)  # its weights stay for train-final --from-inherited
            kept = {*self.parents.keys(), *([best.architecture.key] if best else [])}
        experiment = self.experiment
        if self.store is not None and experiment is not None:
            self.store.record_trial(
                experiment,
                trial,
                checkpoint=self.checkpoint(),
                diagnostics=self.strategy.diagnostics(),
                weights=weights,
                kept=kept,
            )
        if self.on_trial is not None:
            self.on_trial(trial, self.counted, self.budget)

    def checkpoint(self) -> dict[str, Any]:
        state = {
            "strategy": self.strategy.state_dict(),
            "in_flight": [candidate.saved() for candidate in self.in_flight.values()],
            "repeats_in_a_row": self.repeats_in_a_row,
            "epochs_used": self.epochs_used,
        }
        if self.evaluator is not None:
            state["evaluator"] = self.evaluator.state_dict()
        if self.scheduler is not None:
            state["scheduler"] = self.scheduler.state_dict()
        if self.parents is not None:
            state["parents"] = self.parents.keys()
        return state

    def restore(self, space: SearchSpace, seed: int) -> None:
        """Continue the stored experiment: its trials, the strategy's state, what was in flight."""
        assert self.store is not None and self.experiment is not None
        stored = self.experiment.config
        scheduler = None if self.scheduler is None else self.scheduler.name
        for what, expected in (
            ("strategy", self.strategy.name),
            ("space", space.name),
            ("scheduler", scheduler),
        ):
            if stored.get(what) != expected:
                raise UserError(
                    f"experiment {self.experiment.name!r} was searched with {what} "
                    f"{stored.get(what)!r}, not {expected!r}; resume it with the same settings"
                )
        if self.experiment.seed != seed:
            raise UserError(
                f"experiment {self.experiment.name!r} was searched with seed "
                f"{self.experiment.seed}, not {seed}; resume it with the same seed"
            )
        self.trials = [stored_trial(space, saved) for saved in self.store.trials(self.experiment)]
        self.cache = {trial.architecture.key: trial for trial in self.trials}
        checkpoint = self.store.checkpoint(self.experiment)
        if checkpoint is None:
            if self.trials:
                raise UserError(f"experiment {self.experiment.name!r} has no checkpoint to resume")
            self._fail_deadly(self.store.claim(self.experiment))
            return
        try:
            self.strategy.load_state_dict(checkpoint[1]["strategy"])
            if self.evaluator is not None:
                self.evaluator.load_state_dict(checkpoint[1]["evaluator"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(checkpoint[1]["scheduler"])
        except UserError as error:  # the strategy's own check (``StrategyMisuse``)
            raise StoreError(f"the checkpoint of {self.experiment.name!r}: {error}") from None
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise StoreError(
                f"the checkpoint of {self.experiment.name!r} does not fit strategy "
                f"{self.strategy.name!r} with these options ({type(error).__name__}: {error})"
            ) from None
        self.repeats_in_a_row = checkpoint[1].get("repeats_in_a_row", 0)
        self.epochs_used = checkpoint[1].get("epochs_used", 0)
        for saved in checkpoint[1].get("in_flight", []):
            candidate = InFlight.loaded(saved)
            self.in_flight[candidate.job.architecture.key] = candidate
        if self.parents is not None:
            kept = [
                (key, self.store.weights(self.experiment, key))
                for key in checkpoint[1].get("parents", [])
            ]
            self.parents.restore(
                (self.cache[key].architecture, weights) for key, weights in kept if weights
            )
        self._fail_deadly(self.store.claim(self.experiment))
        log.info("resuming %s after %d trials", self.experiment.name, len(self.trials))

    def _fail_deadly(self, died: dict[str, int]) -> None:
        """What was being evaluated when the last run died (``Store.claim``): evaluated again
        after one death; after two, a failed trial, so that a candidate that kills the process
        (``os._exit``, a crash in native code) cannot stop the search for good."""
        for key, deaths in died.items():
            if deaths < DEATHS_TO_FAIL or key in self.cache:
                continue
            log.warning("%s failed: the search died %d times evaluating it", key, deaths)
            error = f"the search process died while evaluating it ({deaths} times)"
            if key in self.in_flight:
                architecture = self.in_flight[key].job.architecture
                self._settle(Trial(0, architecture, {}, None, Status.FAILED, error))
            else:  # a serial search asks for it again first: it fails then (``_propose``)
                self.deadly[key] = error


def stored_trial(space: SearchSpace, stored: StoredTrial) -> Trial:
    return Trial(
        stored.number,
        space.architecture(stored.architecture),
        stored.metrics,
        stored.reward,
        stored.status,
        stored.error,
        stored.started_at,
        stored.duration_s,
        curve=stored.curve,
        rung=stored.rung,
        parent=stored.parent,
        start=stored.start,
    )
