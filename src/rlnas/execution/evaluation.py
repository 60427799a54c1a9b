"""Evaluating one architecture, wherever it runs: any failure becomes a failed Trial with a reason.

Executors run ``evaluate_trial`` in the search process, in worker processes or on Ray actors, so
an exception, a missing metric or a NaN is data in every one of them. What only an executor can
see (a worker that died, a trial past its time limit) becomes ``failed_trial``.

What runs is a ``Job`` (``rlnas.evaluator``): an architecture alone is the evaluator's plain
call; a job with ``epochs`` trains a ``FidelityEvaluator`` that far, from the job's ``state``,
and the trial comes back with the learning curve and the new state. A job with a ``lineage``
(an inheriting search) grows a ``GrowingEvaluator``'s network from its parent; the trial comes
back with the trained weights as its state, its parent's key and how its training began.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import replace

from rlnas.evaluator import EvaluatorError, FidelityEvaluator, GrowingEvaluator, Job, metrics_of
from rlnas.rewards import ConstraintViolation, Objective, RewardError
from rlnas.space import Architecture
from rlnas.trial import Status, Trial

log = logging.getLogger(__name__)

Evaluator = Callable[[Architecture], Mapping[str, float]]

UNNUMBERED = -1
"""The number of a trial that has not been placed in its search yet (numbers follow completion)."""


def evaluate_trial(
    evaluate: Evaluator,
    work: Job | Architecture,
    objective: Objective,
    number: int = UNNUMBERED,
) -> Trial:
    """Evaluate one architecture (or run one job); any failure becomes a failed Trial that says
    why.

    An architecture that breaks a hard constraint before it is trained is a *rejected* trial
    (the search does not count it against the budget). An evaluator that returns something other
    than metrics raises ``EvaluatorError``: that is the evaluator's mistake, not the trial's.
    """
    job = Job.of(work)
    architecture = job.architecture
    started = time.time()
    clock = time.perf_counter()
    metrics: dict[str, float] = {}
    curve: tuple[float, ...] = ()
    state = start = None
    lineage = job.lineage
    parent = None if lineage is None or lineage.parent is None else lineage.parent.key
    try:
        if lineage is not None:
            if not isinstance(evaluate, GrowingEvaluator) or job.epochs is None:
                raise TypeError(f"{type(evaluate).__name__} cannot grow from inherited weights")
            progress = evaluate.grow(architecture, job.epochs, lineage)
            raw, state, start = progress.metrics, progress.state, progress.start
            curve = tuple(
                float(p[objective.metric]) for p in progress.curve if objective.metric in p
            )
        elif job.epochs is None:
            raw = evaluate(architecture)
        elif isinstance(evaluate, FidelityEvaluator):
            progress = evaluate.train_to(architecture, job.epochs, job.state)
            raw, state = progress.metrics, progress.state
            metric = objective.metric
            curve = tuple(float(point[metric]) for point in progress.curve if metric in point)
        else:
            raise TypeError(f"{type(evaluate).__name__} cannot train by epochs")
        metrics = metrics_of(raw)
        reward = objective.reward(metrics)
    except EvaluatorError:
        raise
    except RewardError as error:
        return failed_trial(architecture, str(error), started, clock, metrics, number)
    except ConstraintViolation as error:
        trial = failed_trial(architecture, str(error), started, clock, {}, number)
        return replace(trial, status=Status.REJECTED)
    except Exception as error:  # the evaluator is user code: anything it raises is data
        log.debug("trial %d failed:\n%s", number, traceback.format_exc())
        reason = f"{type(error).__name__}: {error}"
        return failed_trial(architecture, reason, started, clock, {}, number)
    duration = time.perf_counter() - clock
    return Trial(
        number,
        architecture,
        metrics,
        reward,
        Status.COMPLETE,
        None,
        started,
        duration,
        curve=curve,
        state=state,
        parent=parent,
        start=start,
    )


def failed_trial(
    architecture: Architecture,
    reason: str,
    started: float,
    clock: float,
    metrics: Mapping[str, float] | None = None,
    number: int = UNNUMBERED,
) -> Trial:
    """A failed trial; ``clock`` is the ``time.perf_counter()`` reading when it started."""
    duration = time.perf_counter() - clock
    finite = {k: v for k, v in (metrics or {}).items() if v == v and abs(v) != float("inf")}
    return Trial(number, architecture, finite, None, Status.FAILED, reason, started, duration)
