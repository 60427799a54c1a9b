"""The search loop: ask the strategy, evaluate, tell it the result, store; until the budget ends.

The budget counts *distinct* architectures evaluated: a repeat (same canonical key) is answered
from the cache at no cost, yet still told to the strategy, because a learning controller needs a
reward for every sample it drew. A candidate that raises, returns no metric or diverges becomes a
failed trial with its reason, and the search goes on.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rlnas.errors import UserError
from rlnas.rewards import Direction, Objective, RewardError
from rlnas.space import Architecture, SearchSpace
from rlnas.store import Experiment, Store
from rlnas.strategies import Strategy, make_strategy
from rlnas.trial import Status, Trial

log = logging.getLogger(__name__)

Evaluator = Callable[[Architecture], Mapping[str, float]]
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
    config: Mapping[str, Any] | None = None,
    on_trial: ProgressCallback | None = None,
    max_repeats: int = 1000,
) -> SearchResult:
    """Search ``space`` for the architecture that maximizes (or minimizes) ``metric``.

    ``metric`` is a metric name, or an Objective (which then also gives the direction and any
    cost constraints).

    ``evaluate`` is any callable from an Architecture to a mapping of metric values. ``strategy``
    is a registered name (see ``rlnas list``) or a Strategy instance. With a ``store`` (a SQLite
    path or an open Store) every trial and a strategy checkpoint are saved as they happen under
    the experiment ``name``. ``config`` is extra context saved with the experiment. The search
    stops early after ``max_repeats`` proposals in a row that were all evaluated before.
    """
    if budget < 1:
        raise UserError(f"the budget must be at least 1 architecture, got {budget}")
    objective = metric if isinstance(metric, Objective) else Objective(metric, direction)
    if isinstance(strategy, str):
        strategy = make_strategy(strategy, space, seed=seed, options=dict(strategy_options or {}))
    opened = Store(store) if isinstance(store, str | Path) else store
    try:  # an opened store is closed even when the experiment cannot be created
        experiment = None
        if opened is not None:
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
            base = f"{strategy.name}-{space.name}-seed{seed}"
            experiment_name = name or opened.unique_name(base)
            experiment = opened.create_experiment(experiment_name, experiment_config, seed)
        return _run(
            strategy, evaluate, objective, budget, opened, experiment, on_trial, max_repeats
        )
    finally:
        if opened is not None and opened is not store:
            opened.close()


def _run(
    strategy: Strategy,
    evaluate: Evaluator,
    objective: Objective,
    budget: int,
    store: Store | None,
    experiment: Experiment | None,
    on_trial: ProgressCallback | None,
    max_repeats: int,
) -> SearchResult:
    cache: dict[str, Trial] = {}
    trials: list[Trial] = []
    repeats_in_a_row = 0
    stopped_early = None
    try:
        while len(trials) < budget:
            for architecture in strategy.ask(1):
                known = cache.get(architecture.key)
                if known is not None:
                    strategy.tell(architecture, replace(known, cached=True))
                    repeats_in_a_row += 1
                    continue
                repeats_in_a_row = 0
                trial = evaluate_trial(evaluate, architecture, objective, number=len(trials))
                cache[architecture.key] = trial
                trials.append(trial)
                strategy.tell(architecture, trial)
                if store is not None and experiment is not None:
                    store.record_trial(
                        experiment,
                        trial,
                        checkpoint={"strategy": strategy.state_dict()},
                        diagnostics=strategy.diagnostics(),
                    )
                if on_trial is not None:
                    on_trial(trial, len(trials), budget)
            if repeats_in_a_row >= max_repeats:
                stopped_early = (
                    f"the strategy proposed only known architectures {max_repeats} times in a row"
                )
                log.warning("stopping after %d trials: %s", len(trials), stopped_early)
                break
    except BaseException:
        if store is not None and experiment is not None:
            store.set_status(experiment, "interrupted")
        raise
    if store is not None and experiment is not None:
        store.set_status(experiment, "complete")
    best = best_trial(trials)
    return SearchResult(tuple(trials), best, experiment.name if experiment else None, stopped_early)


def evaluate_trial(
    evaluate: Evaluator, architecture: Architecture, objective: Objective, number: int
) -> Trial:
    """Evaluate one architecture; any failure becomes a failed Trial that says why."""
    started = time.time()
    clock = time.perf_counter()
    metrics: dict[str, float] = {}
    try:
        raw = evaluate(architecture)
        metrics = {str(k): float(v) for k, v in raw.items()}
        reward = objective.reward(metrics)
    except RewardError as error:
        return _failed(number, architecture, started, clock, str(error), metrics)
    except Exception as error:  # the evaluator is user code: anything it raises is data
        log.debug("trial %d failed:\n%s", number, traceback.format_exc())
        return _failed(number, architecture, started, clock, f"{type(error).__name__}: {error}", {})
    duration = time.perf_counter() - clock
    return Trial(number, architecture, metrics, reward, Status.COMPLETE, None, started, duration)


def _failed(
    number: int,
    architecture: Architecture,
    started: float,
    clock: float,
    reason: str,
    metrics: Mapping[str, float],
) -> Trial:
    duration = time.perf_counter() - clock
    finite = {k: v for k, v in metrics.items() if v == v and abs(v) != float("inf")}
    return Trial(number, architecture, finite, None, Status.FAILED, reason, started, duration)


def best_trial(trials: list[Trial] | tuple[Trial, ...]) -> Trial | None:
    """The complete trial with the highest reward; the earliest one wins a tie."""
    complete = [trial for trial in trials if trial.reward is not None]
    if not complete:
        return None
    return max(complete, key=lambda trial: (trial.reward, -trial.number))
