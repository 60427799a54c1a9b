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

With a ``scheduler`` (``rlnas.schedulers``) a candidate trains in parts, rung by rung: each part is
a ``Job`` that carries the training state the last part left, so a promoted candidate continues
rather than restarts. The strategy is told each candidate once, when it stops: at the last rung
(complete) or earlier (pruned, its reward estimated on the last rung's scale by the scheduler).
The budget still counts candidates started; ``time_budget`` (minutes of this run's wall time) and
``epoch_budget`` (training epochs) end a search early, resumably.

With ``inheritance`` on (``rlnas.inheriting``) a progressive search grows each step from its
parent's trained weights and trains it ``step_epochs``, the first step of an episode from scratch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rlnas import preflight
from rlnas.errors import UserError
from rlnas.evaluator import Evaluator, FidelityEvaluator, GrowingEvaluator, StatefulEvaluator
from rlnas.execution import Executor, evaluate_trial, make_executor
from rlnas.inheriting import InheritanceSettings, Parents
from rlnas.rewards import Direction, Objective
from rlnas.schedulers import Scheduler
from rlnas.search_loop import ProgressCallback, SearchLoop, SearchResult
from rlnas.space import SearchSpace
from rlnas.store import Store
from rlnas.strategies import Strategy, make_strategy
from rlnas.strategies.episodes import EpisodeSettings


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
    scheduler: Scheduler | None = None,
    time_budget: float | None = None,
    epoch_budget: int | None = None,
    inheritance: InheritanceSettings | None = None,
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

    ``scheduler`` stops weak candidates early and continues the others (``evaluate`` must be a
    ``FidelityEvaluator`` of the scheduler's epochs). ``time_budget`` minutes of wall time (of
    this run; a resumed search gets its own) or ``epoch_budget`` epochs of training (over the
    whole search; an ``evaluate`` that trains by epochs) end the search before ``budget``
    candidates have started, resumably.

    ``inheritance`` (``InheritanceSettings(inherit=True, step_epochs=...)``): a progressive
    strategy's steps start from their parents' trained weights (``evaluate`` must be a
    ``GrowingEvaluator``, such as the full training of a task on a space that inherits).
    """
    budget = preflight.check_whole_number("budget", budget, minimum=1)
    seed = preflight.check_whole_number("seed", seed)
    max_repeats = preflight.check_whole_number("max_repeats", max_repeats, minimum=1)
    preflight.check_space(space, seed)
    preflight.check_evaluator(evaluate)
    _check_budgets(evaluate, scheduler, time_budget, epoch_budget)
    if resume and (store is None or name is None):
        raise UserError("resuming needs the store and the name of the experiment")
    objective = metric if isinstance(metric, Objective) else Objective(metric, direction)
    preflight.check_metric(evaluate, objective)
    if isinstance(strategy, str):
        options = dict(strategy_options or {})
        strategy = make_strategy(strategy, space, seed=seed, options=options, episodes=episodes)
    inherits = inheritance is not None and inheritance.inherit
    if inherits:
        assert inheritance is not None
        _check_inheritance(evaluate, strategy, scheduler, inheritance)
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
        loop = SearchLoop(strategy, objective, budget, opened, on_trial, max_repeats, stateful)
        loop.scheduler = scheduler
        loop.full_epochs = evaluate.epochs if isinstance(evaluate, FidelityEvaluator) else None
        loop.epoch_budget = epoch_budget
        loop.time_budget = time_budget
        if inherits:
            assert inheritance is not None
            # a serial search grows from its last step; each further worker keeps an episode open
            loop.parents = Parents(space, inheritance.step_epochs, 2 * executor.workers)
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
                **({"scheduler": scheduler.name} if scheduler is not None else {}),
                "metric": objective.metric,
                "direction": objective.direction,
                "constraints": [str(constraint) for constraint in objective.constraints],
                "budget": budget,
                "strategy_options": dict(strategy_options or {}),
                # the options of each decision, so the report names them (not "option 3")
                "decisions": {c.name: [str(o) for o in c.options] for c in space.choices},
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


def _check_budgets(
    evaluate: Evaluator,
    scheduler: Scheduler | None,
    time_budget: float | None,
    epoch_budget: int | None,
) -> None:
    """One-line errors for the time and epoch budgets and a scheduler that cannot work, before
    anything is stored (``preflight`` checks the budget of architectures)."""
    if time_budget is not None and time_budget <= 0:
        raise UserError(f"the time budget must be positive (minutes), got {time_budget:g}")
    if epoch_budget is not None and epoch_budget < 1:
        raise UserError(f"the epoch budget must be at least 1 epoch, got {epoch_budget}")
    trains_by_epochs = isinstance(evaluate, FidelityEvaluator)
    if (scheduler is not None or epoch_budget is not None) and not trains_by_epochs:
        what = f"scheduler {scheduler.name}" if scheduler is not None else "an epoch budget"
        raise UserError(
            f"{what} needs an evaluator that trains by epochs (full training of a task), "
            f"not {type(evaluate).__name__}"
        )
    if scheduler is not None and scheduler.epochs != evaluate.epochs:  # type: ignore[union-attr]
        raise UserError(
            f"the scheduler's rungs end at {scheduler.epochs} epochs, but candidates train for "
            f"{evaluate.epochs}"  # type: ignore[union-attr]
        )


def _check_inheritance(
    evaluate: Evaluator,
    strategy: Strategy,
    scheduler: Scheduler | None,
    inheritance: InheritanceSettings,
) -> None:
    """One-line errors for a search that cannot inherit weights, before anything is stored."""
    progressive = strategy.episodes is not None and strategy.episodes.progressive
    if not isinstance(evaluate, GrowingEvaluator):
        raise UserError(
            "inherit needs an evaluator that trains by epochs from a parent's weights (the full "
            f"training of a task), not {type(evaluate).__name__}"
        )
    inheritance.check(evaluate.epochs, progressive, "none" if scheduler is None else scheduler.name)
    why_not = evaluate.inherits()
    if why_not is not None:
        raise UserError(f"inherit: {why_not}; search it with inherit = false")


__all__ = ["Evaluator", "ProgressCallback", "SearchResult", "evaluate_trial", "search"]
