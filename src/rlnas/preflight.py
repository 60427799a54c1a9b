"""What a search checks before it stores or evaluates anything: the arguments, the space, the
evaluator and the metric.

A mistake found here costs nothing: no experiment is created, no budget spent. What cannot be
known without evaluating (the metrics of a plain function) is found at its first trial instead.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from rlnas.errors import UnknownName, UserError
from rlnas.evaluator import EvaluatorError, FidelityEvaluator, GrowingEvaluator, ReportsMetrics
from rlnas.rewards import Objective
from rlnas.schedulers import Scheduler
from rlnas.space import SearchSpace
from rlnas.store import Store


def check_objective(metric: Any, direction: Any) -> Objective:
    """``metric`` as an Objective: a metric's name (with ``direction``) or an Objective."""
    if isinstance(metric, Objective):
        return metric
    if not isinstance(metric, str) or not metric:
        raise UserError(
            f"metric must be the name of a metric the evaluator returns or an rlnas.Objective, "
            f"got {metric!r} ({type(metric).__name__})"
        )
    if direction not in ("maximize", "minimize"):
        raise UserError(f"direction must be 'maximize' or 'minimize', got {direction!r}")
    return Objective(metric, direction)


def check_store(store: Any) -> None:
    """``store`` is where experiments are kept: a path, an open Store, or None."""
    if store is not None and not isinstance(store, str | Path | Store):
        raise UserError(
            f"store must be the path of a SQLite file or an rlnas.Store, got {store!r} "
            f"({type(store).__name__})"
        )


def check_space(space: Any, seed: int) -> None:
    """``space`` is a SearchSpace with at least one architecture that its rules allow."""
    if not isinstance(space, SearchSpace):
        hint = (
            "; wrap the decisions: rlnas.SearchSpace([rlnas.Choice(...), ...])"
            if isinstance(space, list | tuple)
            else ""
        )
        raise UserError(
            f"the space must be an rlnas.SearchSpace, got a {type(space).__name__}{hint}"
        )
    space.sample(np.random.default_rng(seed))  # a UserError when the rules leave nothing open


def check_evaluator(evaluate: Any) -> None:
    """``evaluate`` is something to call, not its name."""
    if isinstance(evaluate, str):
        raise EvaluatorError(
            f"the evaluator is the string {evaluate!r}; pass the function itself "
            "(or, in a SearchConfig or TOML file, its import path as evaluator='module:function')"
        )
    if not callable(evaluate):
        raise EvaluatorError(
            f"the evaluator must be callable (Architecture -> metrics), got a "
            f"{type(evaluate).__name__}"
        )


def check_metric(evaluate: Any, objective: Objective) -> None:
    """The metric and the constraints' costs are among what the evaluator reports, where it
    says so up front (``ReportsMetrics``: every built-in evaluator)."""
    if not isinstance(evaluate, ReportsMetrics):
        return
    names = evaluate.metric_names()
    wanted = [objective.metric, *(constraint.cost for constraint in objective.constraints)]
    for metric in wanted:
        if metric not in names:
            raise UnknownName(
                f"the evaluator reports no metric {metric!r}; it reports {', '.join(names)}"
            )


def check_sendable(evaluate: Any, executor: str) -> None:
    """An evaluator that runs in other processes (``executor`` not serial) must pickle."""
    if executor == "serial":
        return
    try:
        pickle.dumps(evaluate)
    except Exception as error:  # pickling raises several kinds (PicklingError, AttributeError)
        raise EvaluatorError(
            f"the {executor} executor sends the evaluator to worker processes, but it cannot be "
            f"pickled ({type(error).__name__}: {error}); define it at the top level of a module "
            "(not a lambda, a nested function or an object holding one), or use one worker"
        ) from None


def check_trains_by_epochs(evaluate: Any, scheduler: Scheduler | None, epoch_budget: Any) -> None:
    """A scheduler or an epoch budget needs an evaluator that trains by epochs, as many as the
    scheduler's last rung."""
    if scheduler is None and epoch_budget is None:
        return
    if not isinstance(evaluate, FidelityEvaluator):
        what = f"scheduler {scheduler.name}" if scheduler is not None else "an epoch budget"
        raise UserError(
            f"{what} needs an evaluator that trains by epochs (full training of a task), "
            f"not {type(evaluate).__name__}"
        )
    if scheduler is not None and scheduler.epochs != evaluate.epochs:
        raise UserError(
            f"the scheduler's rungs end at {scheduler.epochs} epochs, but candidates train for "
            f"{evaluate.epochs}"
        )


def check_grows(evaluate: Any) -> None:
    """A search that inherits weights needs an evaluator that grows networks from a parent's
    weights, on a space whose networks can grow so."""
    if not isinstance(evaluate, GrowingEvaluator):
        raise UserError(
            "inherit needs an evaluator that trains by epochs from a parent's weights (the full "
            f"training of a task), not {type(evaluate).__name__}"
        )
    why_not = evaluate.inherits()
    if why_not is not None:
        raise UserError(f"inherit: {why_not}; search it with inherit = false")
