"""What a search checks before it stores or evaluates anything: the arguments, the space, the
evaluator and the metric.

A mistake found here costs nothing: no experiment is created, no budget spent. What cannot be
known without evaluating (the metrics of a plain function) is found at its first trial instead.
"""

from __future__ import annotations

import numbers
import pickle
from typing import Any

import numpy as np

from rlnas.errors import UnknownName, UserError
from rlnas.evaluator import EvaluatorError, ReportsMetrics
from rlnas.rewards import Objective
from rlnas.space import SearchSpace


def check_whole_number(name: str, value: Any, minimum: int | None = None) -> int:
    """``value`` as an int; a one-line error for a string, a float or a number too small."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise UserError(
            f"{name} must be a whole number, got {value!r} ({type(value).__name__}); "
            f"write e.g. {name}={max(minimum or 0, 10)}"
        )
    if minimum is not None and value < minimum:
        raise UserError(f"{name} must be at least {minimum}, got {int(value)}")
    return int(value)


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
