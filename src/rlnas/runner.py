"""Run a search from its settings: the one place where a ``SearchConfig`` becomes a search.

``run`` builds what the settings name (the problem's space, evaluator and objective, the
estimator, the strategy with its episodes and screening, the executor, the logger) and hands
them to the search loop; ``resume`` rebuilds the same from an experiment's stored settings. The
command line is these two functions with parsing and rendering around them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rlnas.config import SearchConfig, SearchSettings
from rlnas.devices import DeviceSettings
from rlnas.errors import StoreError, UserError
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.registry import EstimatorSettings, make_estimator
from rlnas.execution import make_executor
from rlnas.execution.settings import ExecutionSettings
from rlnas.inheriting import InheritanceSettings
from rlnas.problems import Problem, ProblemSettings, load_problem
from rlnas.report.tracking import make_logger
from rlnas.schedulers import SchedulerSettings
from rlnas.search import ProgressCallback, SearchResult, start
from rlnas.store import Store
from rlnas.strategies import Strategy, make_strategy
from rlnas.strategies.episodes import EpisodeSettings

StageCallback = Callable[[str], None]
"""Told what a run is doing before its first trial (loading data, training a supernet)."""

RESUMABLE = {
    *ExecutionSettings.model_fields,
    *DeviceSettings.model_fields,
    "log",
    "budget",
    "time_budget",
}
"""What a resumed search may change: where and how fast it runs, what it logs to, its budget
(a larger one extends a finished search) and how long this run may take; not what it searches
or how candidates are trained."""

_RENAMED = {"constraints": "constraint", "strategy_options": "strategy_option"}
"""Settings stored under another name by stores written before the names were unified."""


def run(
    config: SearchConfig,
    *,
    on_trial: ProgressCallback | None = None,
    on_stage: StageCallback | None = None,
    on_start: Callable[[str | None], None] | None = None,
    resume: bool = False,
) -> SearchResult:
    """Run the search that ``config`` describes (or continue it, ``resume``); its result.

    ``on_trial(trial, done, budget)`` is called after every trial, ``on_stage(text)`` before the
    slow steps that come before the first one, and once with what is searched (a task's
    target, kind, metric, shapes and rows); ``on_start(experiment)`` once all is checked and
    the experiment exists. A task's file path is stored absolute.
    """
    if not isinstance(config, SearchConfig):
        raise UserError(
            f"config must be an rlnas.SearchConfig, got a {type(config).__name__}; write "
            "rlnas.run(rlnas.SearchConfig(budget=..., ...))"
        )
    stage = on_stage or (lambda text: None)
    config = config.replaced(**dict(ProblemSettings.of(config).with_absolute_paths()))
    execution = ExecutionSettings.of(config)
    executor_options = execution.executor_options(config.store)
    stage(f"loading {config.searched}")
    problem = load_problem(
        ProblemSettings.of(config),
        config.seed,
        TrainingRecipe.of(config),
        DeviceSettings.of(config),
    )
    if problem.description is not None:
        stage(problem.description)
    context = dict(problem.context)
    scheduler = SchedulerSettings.of(config).make(config.epochs)
    evaluate = _estimator(EstimatorSettings.of(config), problem, context, stage)
    strategy = _strategy(config, problem)
    executor = make_executor(
        execution.executor, execution.workers, execution.trial_timeout, **executor_options
    )
    context["strategy_option"] = config.strategy_option
    context["settings"] = config.stored()
    title = f"{config.strategy} on {config.searched}"
    logs = (config.store or Path("runs.db")).with_suffix(".logs")
    with make_logger(config.log, logs, experiment=config.name or title, then=on_trial) as logger:
        stage(f"searching with {config.strategy}")
        return start(
            problem.space,
            evaluate,
            strategy,
            problem.objective,
            SearchSettings.of(config),
            executor,
            config.store,
            scheduler=scheduler,
            inheritance=InheritanceSettings.of(config),
            context=context,
            on_trial=logger,
            on_start=on_start,
            resume=resume,
        )


def resume(
    store: str | Path,
    name: str | None = None,
    *,
    on_trial: ProgressCallback | None = None,
    on_stage: StageCallback | None = None,
    on_start: Callable[[str | None], None] | None = None,
    **changes: Any,
) -> SearchResult:
    """Continue experiment ``name`` (default: the latest) of ``store`` with its stored settings.

    ``changes`` (None values ignored) may set where it runs (workers, executor, address,
    trial_timeout) and what it logs to; what it searches stays as stored.
    """
    path = Path(store)
    if not path.is_file():
        raise StoreError(f"store {path} does not exist")
    with Store(path, read_only=True) as opened:
        experiment = opened.experiment(name)
    stored = experiment.config.get("settings")
    if stored is None:
        raise UserError(
            f"experiment {experiment.name!r} was not started by `rlnas search` or rlnas.run; "
            "resume it from Python with rlnas.search(..., name=..., resume=True)"
        )
    given = {key: value for key, value in changes.items() if value is not None}
    fixed = sorted(set(given) - RESUMABLE)
    if fixed:
        raise UserError(
            f"a resumed search keeps its stored settings; {', '.join(fixed)} cannot change "
            f"(only {', '.join(sorted(RESUMABLE))} can)"
        )
    settings = {_RENAMED.get(key, key): value for key, value in stored.items()}
    settings.pop("time_budget", None)  # the stopped run's: a resumed run has its own, or none
    config = SearchConfig(**{**settings, **given, "store": path, "name": experiment.name})
    return run(config, on_trial=on_trial, on_stage=on_stage, on_start=on_start, resume=True)


def _estimator(
    settings: EstimatorSettings, problem: Problem, context: dict[str, Any], stage: StageCallback
) -> Any:
    """The evaluator the estimator settings choose, recorded in ``context``."""
    context.update(settings.recorded())
    if not problem.trains:  # a table or the user's evaluator (the settings allow no other)
        return problem.evaluate
    evaluate = make_estimator(settings, problem.evaluate)
    if settings.entry.fits_supernet:
        stage("training the supernet (or loading it)")
        started = time.perf_counter()
        evaluate.fit()
        context["supernet_fit_s"] = time.perf_counter() - started
    return evaluate


def _strategy(config: SearchConfig, problem: Problem) -> Strategy:
    """The strategy with its episodes, screened by the predictor when that is the estimator."""
    strategy = make_strategy(
        config.strategy,
        problem.space,
        seed=config.seed,
        options=config.strategy_option,
        episodes=EpisodeSettings.of(config),
    )
    if not config.screens:
        return strategy
    from rlnas.strategies.screening import Screened

    return Screened(strategy, pool=config.pool, top_k=config.top_k)
