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

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rlnas import preflight
from rlnas.config import SearchSettings
from rlnas.errors import UserError
from rlnas.evaluator import Evaluator, FidelityEvaluator, GrowingEvaluator, StatefulEvaluator
from rlnas.execution import Executor, evaluate_trial, make_executor
from rlnas.execution.settings import ExecutionSettings
from rlnas.inheriting import InheritanceSettings, Parents
from rlnas.rewards import Direction, Objective
from rlnas.schedulers import Scheduler
from rlnas.search_loop import ProgressCallback, SearchLoop, SearchResult
from rlnas.space import SearchSpace
from rlnas.store import Experiment, Store
from rlnas.strategies import Strategy, make_strategy
from rlnas.strategies.episodes import EpisodeSettings

StartCallback = Callable[[str | None], None]
"""Told the experiment's name (None without a store) once all is checked, before the first
evaluation."""


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
    strategy_option: Mapping[str, Any] | None = None,
    episodes: EpisodeSettings | None = None,
    config: Mapping[str, Any] | None = None,
    on_trial: ProgressCallback | None = None,
    on_start: StartCallback | None = None,
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
    strategy_options: Mapping[str, Any] | None = None,
) -> SearchResult:
    """Search ``space`` for the architecture that maximizes (or minimizes) ``metric``.

    ``metric`` is a metric name, or an Objective (which then also gives the direction and any
    cost constraints).

    ``evaluate`` is any callable from an Architecture to a mapping of metric values. ``strategy``
    is a registered name (see ``rlnas list``), built with ``strategy_option`` (its keywords, the
    setting of that name in a SearchConfig; ``strategy_options``, its former name, is still
    taken) and ``episodes``
    (one-shot or progressive), or a Strategy instance. With a ``store`` (a SQLite
    path or an open Store) every trial and a strategy checkpoint are saved as they happen under
    the experiment ``name``. ``config`` is extra context saved with the experiment. The search
    stops early after ``max_repeats`` proposals in a row that were all evaluated before.
    ``on_start(name)`` is called once everything is checked, with the experiment's ``name``
    (None without a store), before the first evaluation.

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

    The loose arguments are checked as the settings of ``rlnas.run`` are (the same groups, so
    a mistake is the same one line), then both go the same way: ``start``.
    """
    settings = SearchSettings(
        budget=budget,
        time_budget=time_budget,
        epoch_budget=epoch_budget,
        seed=seed,
        max_repeats=max_repeats,
        name=name,
    )
    if strategy_options is not None:
        if strategy_option is not None:
            raise UserError("give strategy_option only (strategy_options is its former name)")
        strategy_option = strategy_options
    objective = preflight.check_objective(metric, direction)
    preflight.check_space(space, settings.seed)
    preflight.check_store(store)
    if isinstance(strategy, str):
        built = make_strategy(
            strategy, space, seed=settings.seed, options=strategy_option, episodes=episodes
        )
    elif isinstance(strategy, Strategy) or all(
        callable(getattr(strategy, hook, None)) for hook in ("ask", "tell", "state_dict")
    ):  # a Strategy, or an object that answers as one
        built = strategy
    else:
        raise UserError(
            f"strategy must be a registered name (see `rlnas list`) or an rlnas.Strategy, "
            f"got a {type(strategy).__name__}"
        )
    preflight.check_trains_by_epochs(evaluate, scheduler, settings.epoch_budget)
    if inheritance is not None and inheritance.inherit:
        progressive = built.episodes is not None and built.episodes.progressive
        if isinstance(evaluate, GrowingEvaluator):  # else ``start`` says it cannot grow
            scheduled = "none" if scheduler is None else scheduler.name
            inheritance.check(evaluate.epochs, progressive, scheduled)
    if not isinstance(executor, Executor):
        execution = ExecutionSettings(
            workers=workers, executor=executor, trial_timeout=trial_timeout
        )
        executor = make_executor(
            execution.executor,
            execution.workers,
            execution.trial_timeout,
            **dict(executor_options or {}),
        )
    described = config is not None and "task" in config  # the caller says what is searched
    recorded = (
        None
        if described
        else _as_a_task_search(evaluate, strategy, strategy_option, episodes, objective)
    )
    experiment = {
        "strategy_option": dict(strategy_option or {}),
        **(recorded or {}),
        **dict(config or {}),
    }
    if "settings" in experiment:  # resumable as ``rlnas.run`` would: record these too
        experiment["settings"] = {
            **experiment["settings"],
            **settings.model_dump(mode="json", exclude={"name"}),
            **_scheduling(scheduler, inheritance),
        }
    return start(
        space,
        evaluate,
        built,
        objective,
        settings,
        executor,
        store,
        scheduler=scheduler,
        inheritance=inheritance,
        context=experiment,
        on_trial=on_trial,
        on_start=on_start,
        resume=resume,
    )


def _as_a_task_search(
    evaluate: Evaluator,
    strategy: str | Strategy,
    options: Mapping[str, Any] | None,
    episodes: EpisodeSettings | None,
    objective: Objective,
) -> dict[str, Any] | None:
    """What ``rlnas.run`` records of a task search, for the full training of a task
    (``TrainingEvaluator``) with a strategy by name: so that ``rlnas resume`` and
    ``train-final`` take it as they take a search from the command line; None otherwise."""
    training = sys.modules.get("rlnas.estimators.training")  # loaded if it is one
    if training is None or not isinstance(evaluate, training.TrainingEvaluator):
        return None
    if not isinstance(strategy, str):
        return None  # a Strategy object cannot be made again from settings
    from rlnas.space.models import space_label
    from rlnas.tasks import absolute_task_name

    task = evaluate.task
    target = task.target_name if task.name.startswith("csv:") else None
    context = {
        "task": absolute_task_name(task.name),
        "target": target,
        "kind": task.kind,
        "space": space_label(evaluate.space),
        "epochs": evaluate.epochs,
        "data_fraction": evaluate.data_fraction,
        "recipe": evaluate.recipe.model_dump(mode="json"),
        "estimator": "full",
    }
    settings = {
        **{key: context[key] for key in ("task", "target", "space", "epochs", "data_fraction")},
        "kind": task.kind,
        **context["recipe"],
        **evaluate.devices.model_dump(mode="json"),
        **(episodes.model_dump(mode="json") if episodes is not None else {}),
        "strategy": strategy,
        "strategy_option": dict(options or {}),
        "metric": objective.metric,
        "direction": objective.direction,
        "constraint": [str(constraint) for constraint in objective.constraints],
    }
    return {**context, "settings": settings}


def _scheduling(
    scheduler: Scheduler | None, inheritance: InheritanceSettings | None
) -> dict[str, Any]:
    """The scheduler's and inheritance's settings, as a SearchConfig holds them."""
    found: dict[str, Any] = {} if inheritance is None else inheritance.model_dump(mode="json")
    if scheduler is not None:
        found.update(
            scheduler=scheduler.name,
            min_epochs=scheduler.min_epochs,
            eta=scheduler.eta,
            pruned_reward=scheduler.pruned_reward,
        )
    return found


def start(
    space: SearchSpace,
    evaluate: Evaluator,
    strategy: Strategy,
    objective: Objective,
    settings: SearchSettings,
    executor: Executor,
    store: str | Path | Store | None,
    *,
    scheduler: Scheduler | None = None,
    inheritance: InheritanceSettings | None = None,
    context: Mapping[str, Any] | None = None,
    on_trial: ProgressCallback | None = None,
    on_start: StartCallback | None = None,
    resume: bool = False,
) -> SearchResult:
    """Run a search of checked settings: the one path of ``rlnas.search`` and ``rlnas.run``.

    What is checked here is about the objects both take (the evaluator with the metric, the
    executor, a space that can grow from inherited weights); nothing is stored before these
    checks pass and the executor has started (a Ray cluster joined). An experiment that a
    mistake stops before its first trial (an evaluator returning no metrics) is removed.
    """
    preflight.check_evaluator(evaluate)
    preflight.check_metric(evaluate, objective)
    inherits = inheritance is not None and inheritance.inherit
    if inherits:
        preflight.check_grows(evaluate)
    preflight.check_sendable(evaluate, executor.name)
    serial_only = isinstance(evaluate, StatefulEvaluator) and evaluate.serial_only
    if serial_only and executor.name != "serial":
        raise UserError(
            "this evaluator learns from every evaluation in turn (weight sharing): it needs one "
            "worker, the serial executor and no trial timeout"
        )
    if resume and (store is None or settings.name is None):
        raise UserError("resuming needs the store and the name of the experiment")
    executor.start(evaluate, objective)
    try:
        opened = Store(store) if isinstance(store, str | Path) else store
        try:  # an opened store is closed even when the experiment cannot be created
            experiment, resumed = _experiment(
                opened, strategy, space, objective, settings, scheduler, context, resume
            )
            loop = SearchLoop(
                strategy,
                objective,
                settings,
                opened,
                experiment,
                created=not resumed,
                on_trial=on_trial,
                evaluator=evaluate if isinstance(evaluate, StatefulEvaluator) else None,
                scheduler=scheduler,
                full_epochs=evaluate.epochs if isinstance(evaluate, FidelityEvaluator) else None,
                # a serial search grows from its last step; each further worker keeps an
                # episode open
                parents=Parents(space, inheritance.step_epochs, 2 * executor.workers)
                if inherits and inheritance is not None
                else None,
            )
            if resumed:
                loop.restore(space, settings.seed)
            if on_start is not None:
                on_start(None if experiment is None else experiment.name)
            return loop.run(executor)
        finally:
            if opened is not None and opened is not store:
                opened.close()
    finally:
        executor.close()


def _experiment(
    opened: Store | None,
    strategy: Strategy,
    space: SearchSpace,
    objective: Objective,
    settings: SearchSettings,
    scheduler: Scheduler | None,
    context: Mapping[str, Any] | None,
    resume: bool,
) -> tuple[Experiment | None, bool]:
    """The stored experiment to continue (its budget updated), or a new one, or None; and
    whether it continues."""
    if opened is None:
        return None, False
    name = settings.name
    existing = {experiment.name for experiment in opened.experiments()}
    if name in existing and not resume:  # said now, not when its first trial is stored
        raise UserError(
            f"experiment {name!r} already exists in {opened.path}; choose another --name"
        )
    if resume and name in existing:
        stored = opened.experiment(name)
        if stored.config.get("budget") != settings.budget:  # extended (or cut) on resume
            kept = dict(context or {}).get("settings")
            changed = {"budget": settings.budget, **({"settings": kept} if kept else {})}
            stored = opened.update_config(stored, {**stored.config, **changed})
        return stored, True
    config = {
        "space": space.name,
        "strategy": strategy.name,
        **({"scheduler": scheduler.name} if scheduler is not None else {}),
        "metric": objective.metric,
        "direction": objective.direction,
        "constraints": [str(constraint) for constraint in objective.constraints],
        "budget": settings.budget,
        # the options of each decision, so the report names them (not "option 3")
        "decisions": {c.name: [str(o) for o in c.options] for c in space.choices},
        **dict(context or {}),
    }
    name = name or opened.unique_name(f"{strategy.name}-{space.name}-seed{settings.seed}")
    return opened.create_experiment(name, config, settings.seed), False


__all__ = ["Evaluator", "ProgressCallback", "SearchResult", "evaluate_trial", "search", "start"]
