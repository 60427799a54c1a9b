"""The search loop: ask the strategy, evaluate, tell it the result, store; until the budget ends.

The budget counts *distinct* architectures evaluated: a repeat (same canonical key) is answered
from the cache at no cost, yet still told to the strategy, because a learning controller needs a
reward for every sample it drew. A candidate that raises, returns no metric or diverges becomes a
failed trial with its reason, and the search goes on. A candidate that breaks a hard constraint
before any training (params, FLOPs: ``rewards.BEFORE_TRAINING``) is recorded as a *rejected*
trial and told to the strategy as a failure, but uses no budget; ``max_repeats`` rejections in a
row stop the search. The arguments, the space and the metric are checked first
(``rlnas.preflight``), so that a mistake stores nothing.

Up to ``workers`` architectures are evaluated at once by an executor (serial, process, Ray);
trials are numbered in the order they finish. After every trial the store saves it together with
the strategy's state and the architectures still in flight, so ``resume=True`` continues an
interrupted search from there: with the serial executor, exactly as if it had never stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rlnas import preflight
from rlnas.errors import StoreError, UserError
from rlnas.evaluator import Evaluator, StatefulEvaluator
from rlnas.execution import Executor, evaluate_trial, make_executor
from rlnas.rewards import Direction, Objective
from rlnas.space import Architecture, SearchSpace
from rlnas.store import Experiment, Store, StoredTrial
from rlnas.strategies import Strategy, make_strategy
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.trial import Trial, best_trial

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Trial, int, int], None]


@dataclass(frozen=True)
class SearchResult:
    """What a search found: every distinct trial in order, and the best complete one."""

    trials: tuple[Trial, ...]
    best: Trial | None
    experiment: str | None = None
    stopped_early: str | None = None


def search(
    space: SearchSpace,
    evaluate: Evaluator,
    strategy: str | Strategy = "evolution",
    metric: str | Objective = "accuracy",
    budget: int = 100,
    seed: int = 0,
    store: str | Path | Store | None = None,
    *,
    direction: Direction = "maximize",
    name: str | None = None,
    strategy_options: Mapping[str, Any] | None = None,
    episodes: EpisodeSettings | None = None,
    config: Mapping[str, Any] | None = None,
    on_trial: ProgressCallback | None = None,
    on_start: Callable[[str | None], None] | None = None,
    max_repeats: int = 1000,
    workers: int = 1,
    executor: str | Executor | None = None,
    executor_options: Mapping[str, Any] | None = None,
    trial_timeout: float | None = None,
    resume: bool = False,
) -> SearchResult:
    """Search ``space`` for the architecture that maximizes (or minimizes) ``metric``.

    ``metric`` is a metric name, or an Objective (which then also gives the direction and any
    cost constraints).

    ``evaluate`` is any callable from an Architecture to a mapping of metric values. ``strategy``
    is a registered name (see ``rlnas list``), built with ``strategy_options`` and ``episodes``
    (one-shot or progressive), or a Strategy instance. With a ``store`` (a SQLite
    path or an open Store) every trial and a strategy checkpoint are saved as they happen under
    the experiment ``name``. ``config`` is extra context saved with the experiment. The search
    stops early after ``max_repeats`` proposals in a row that were all evaluated before.
    ``on_start(name)`` is called once everything is checked and the experiment ``name`` (None
    without a store) exists, before the first evaluation.

    ``workers`` evaluations run at once on ``executor`` ("serial", "process", "ray" or an
    Executor instance, which brings its own workers and timeout; by default serial for one
    worker, else process); ``trial_timeout`` seconds fail a trial that runs longer;
    ``executor_options`` go to the Ray executor (``address``, ``temp_dir``).
    ``resume=True`` continues the stored experiment ``name`` (same
    strategy, space and seed) from its last checkpoint, or starts it when it does not exist.
    """
    budget = preflight.check_whole_number("budget", budget, minimum=1)
    seed = preflight.check_whole_number("seed", seed)
    max_repeats = preflight.check_whole_number("max_repeats", max_repeats, minimum=1)
    preflight.check_space(space, seed)
    preflight.check_evaluator(evaluate)
    if resume and (store is None or name is None):
        raise UserError("resuming needs the store and the name of the experiment")
    objective = metric if isinstance(metric, Objective) else Objective(metric, direction)
    preflight.check_metric(evaluate, objective)
    if isinstance(strategy, str):
        options = dict(strategy_options or {})
        strategy = make_strategy(strategy, space, seed=seed, options=options, episodes=episodes)
    if not isinstance(executor, Executor):
        workers = preflight.check_whole_number("workers", workers, minimum=1)
        executor = make_executor(executor, workers, trial_timeout, **dict(executor_options or {}))
    preflight.check_sendable(evaluate, executor.name)
    serial_only = isinstance(evaluate, StatefulEvaluator) and evaluate.serial_only
    if serial_only and executor.name != "serial":
        raise UserError(
            "this evaluator learns from every evaluation in turn (weight sharing): it needs one "
            "worker, the serial executor and no trial timeout"
        )
    opened = Store(store) if isinstance(store, str | Path) else store
    try:  # an opened store is closed even when the experiment cannot be created
        stateful = evaluate if isinstance(evaluate, StatefulEvaluator) else None
        loop = _SearchLoop(strategy, objective, budget, opened, on_trial, max_repeats, stateful)
        if opened is not None and resume and name in {e.name for e in opened.experiments()}:
            loop.experiment = opened.experiment(name)
            loop.restore(space, seed)
            if loop.experiment.config.get("budget") != budget:  # extended (or cut) on resume
                settings = dict(config or {}).get("settings")
                changed = {"budget": budget, **({"settings": settings} if settings else {})}
                loop.experiment = opened.update_config(
                    loop.experiment, {**loop.experiment.config, **changed}
                )
        elif opened is not None:
            experiment_config = {
                "space": space.name,
                "strategy": strategy.name,
                "metric": objective.metric,
                "direction": objective.direction,
                "constraints": [str(constraint) for constraint in objective.constraints],
                "budget": budget,
                "strategy_options": dict(strategy_options or {}),
                **dict(config or {}),
            }
            experiment_name = name or opened.unique_name(f"{strategy.name}-{space.name}-seed{seed}")
            loop.experiment = opened.create_experiment(experiment_name, experiment_config, seed)
        executor.start(evaluate, objective)
        if on_start is not None:
            on_start(loop.experiment.name if loop.experiment is not None else None)
        try:
            return loop.run(executor)
        finally:
            executor.close()
    finally:
        if opened is not None and opened is not store:
            opened.close()


@dataclass
class _SearchLoop:
    """The state of one search between trials: what a checkpoint saves and a resume restores."""

    strategy: Strategy
    objective: Objective
    budget: int
    store: Store | None
    on_trial: ProgressCallback | None
    max_repeats: int
    evaluator: StatefulEvaluator | None
    """An evaluator whose state is part of the search's (weight sharing), or None."""
    experiment: Experiment | None = None
    trials: list[Trial] = field(default_factory=list)
    cache: dict[str, Trial] = field(default_factory=dict)
    in_flight: dict[str, tuple[Architecture, int]] = field(default_factory=dict)
    """Architectures being evaluated, by key, with how many more times the strategy asked them."""
    repeats_in_a_row: int = 0
    rejected_in_a_row: int = 0
    """Trials in a row rejected before training (they use no budget, so they need a stop)."""
    stopped_early: str | None = None

    def run(self, executor: Executor) -> SearchResult:
        for architecture, _ in self.in_flight.values():  # re-queued after a resume
            executor.submit(architecture)
        try:
            while True:
                while self.stopped_early is None and self._room(executor):
                    if not self._propose(executor):
                        break
                if executor.in_flight == 0:
                    break
                for trial in executor.wait():
                    self._finish(trial)
        except BaseException:
            if self.store is not None and self.experiment is not None:
                with suppress(StoreError):  # a full disk may refuse this too; resume still works
                    self.store.set_status(self.experiment, "interrupted")
            raise
        if self.stopped_early is not None:
            log.warning("stopping after %d trials: %s", len(self.trials), self.stopped_early)
        if self.store is not None and self.experiment is not None:
            self.store.set_status(self.experiment, "complete")
        name = self.experiment.name if self.experiment else None
        best = best_trial(self.trials)
        return SearchResult(tuple(self.trials), best, name, self.stopped_early)

    @property
    def counted(self) -> int:
        """Trials that used up budget: all but those rejected before training."""
        return sum(trial.counted for trial in self.trials)

    def _room(self, executor: Executor) -> bool:
        busy = executor.in_flight
        return busy < executor.workers and self.counted + busy < self.budget

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
            self.in_flight[key] = (architecture, 0)
            executor.submit(architecture)
            return True
        self.repeats_in_a_row += 1
        if self.repeats_in_a_row >= self.max_repeats:
            self.stopped_early = (
                f"the strategy proposed only known architectures {self.max_repeats} times in a row"
            )
        if key in self.cache:
            self.strategy.tell(architecture, replace(self.cache[key], cached=True))
            return True
        known, copies = self.in_flight[key]
        self.in_flight[key] = (known, copies + 1)
        return False

    def _finish(self, trial: Trial) -> None:
        """Number, cache, tell and store a finished trial."""
        _, copies = self.in_flight.pop(trial.architecture.key)
        trial = replace(trial, number=len(self.trials))
        self.rejected_in_a_row = 0 if trial.counted else self.rejected_in_a_row + 1
        self.cache[trial.architecture.key] = trial
        self.trials.append(trial)
        self.strategy.tell(trial.architecture, trial)
        for _ in range(copies):
            self.strategy.tell(trial.architecture, replace(trial, cached=True))
        if self.store is not None and self.experiment is not None:
            self.store.record_trial(
                self.experiment,
                trial,
                checkpoint=self.checkpoint(),
                diagnostics=self.strategy.diagnostics(),
            )
        if self.on_trial is not None:
            self.on_trial(trial, self.counted, self.budget)

    def checkpoint(self) -> dict[str, Any]:
        state = {
            "strategy": self.strategy.state_dict(),
            "in_flight": list(self.in_flight.values()),
            "repeats_in_a_row": self.repeats_in_a_row,
        }
        if self.evaluator is not None:
            state["evaluator"] = self.evaluator.state_dict()
        return state

    def restore(self, space: SearchSpace, seed: int) -> None:
        """Continue the stored experiment: its trials, the strategy's state, what was in flight."""
        assert self.store is not None and self.experiment is not None
        stored = self.experiment.config
        for what, expected in (("strategy", self.strategy.name), ("space", space.name)):
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
        self.trials = [
            _trial(space, stored_trial) for stored_trial in self.store.trials(self.experiment)
        ]
        self.cache = {trial.architecture.key: trial for trial in self.trials}
        checkpoint = self.store.checkpoint(self.experiment)
        if checkpoint is None:
            if self.trials:
                raise UserError(f"experiment {self.experiment.name!r} has no checkpoint to resume")
            return
        try:
            self.strategy.load_state_dict(checkpoint[1]["strategy"])
            if self.evaluator is not None:
                self.evaluator.load_state_dict(checkpoint[1]["evaluator"])
        except UserError as error:  # the strategy's own check (``StrategyMisuse``)
            raise StoreError(f"the checkpoint of {self.experiment.name!r}: {error}") from None
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise StoreError(
                f"the checkpoint of {self.experiment.name!r} does not fit strategy "
                f"{self.strategy.name!r} with these options ({type(error).__name__}: {error})"
            ) from None
        self.repeats_in_a_row = checkpoint[1].get("repeats_in_a_row", 0)
        for architecture, copies in checkpoint[1].get("in_flight", []):
            self.in_flight[architecture.key] = (architecture, copies)
        self.store.set_status(self.experiment, "running")
        log.info("resuming %s after %d trials", self.experiment.name, len(self.trials))


def _trial(space: SearchSpace, stored: StoredTrial) -> Trial:
    return Trial(
        stored.number,
        space.architecture(stored.architecture),
        stored.metrics,
        stored.reward,
        stored.status,
        stored.error,
        stored.started_at,
        stored.duration_s,
    )


__all__ = ["Evaluator", "SearchResult", "evaluate_trial", "search"]
