"""What scores an architecture: the ``Evaluator`` protocol, and evaluators that keep state.

An *evaluator* is anything that maps an ``Architecture`` to a mapping of metric values: a
user's function, a look-up table, or one of the built-in estimators (full training, weight
sharing, a supernet; ``rlnas.estimators``). The search loop, the executors and the strategies'
wrappers all speak this one protocol.

Most evaluators give the same metrics for the same architecture whatever came before. A
``StatefulEvaluator`` does not (weight sharing trains one bank of weights on every child it
scores), so the search loop saves its state with every checkpoint, restores it on resume, and
runs it on the serial executor only (``serial_only``).

An evaluator may also say up front which metrics it reports (``ReportsMetrics``): the built-in
ones do, so a misspelt ``--metric`` is an error before anything is evaluated or stored. A plain
function cannot be asked without spending budget; its metrics are known at its first trial.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from rlnas.errors import UserError
from rlnas.space import Architecture


class EvaluatorError(UserError):
    """The evaluator is not one: not callable, or it returned something other than metrics."""


@runtime_checkable
class Evaluator(Protocol):
    """Score one architecture: a mapping of metric names to values."""

    def __call__(self, architecture: Architecture) -> Mapping[str, float]: ...


@runtime_checkable
class StatefulEvaluator(Evaluator, Protocol):
    """An evaluator whose scores depend on the evaluations before; its state resumes exactly."""

    serial_only: ClassVar[bool]
    """Evaluations must run one at a time, in order, in the search process."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class ReportsMetrics(Protocol):
    """An evaluator that names the metrics it reports before it evaluates anything."""

    def metric_names(self) -> tuple[str, ...]: ...


def metrics_of(returned: Any) -> dict[str, float]:
    """What an evaluator returned, as metric names to floats; EvaluatorError when it is not that.

    A wrong return type is a mistake in the evaluator, not a bad architecture, so it stops the
    search instead of failing every trial for the same reason.
    """
    if not isinstance(returned, Mapping):
        raise EvaluatorError(
            f"the evaluator returned {_shown(returned)} ({type(returned).__name__}), not a "
            "mapping of metric names to numbers; return e.g. {'accuracy': 0.9}"
        )
    metrics = {}
    for name, value in returned.items():
        if isinstance(value, str | bytes) or not _numeric(value):
            raise EvaluatorError(
                f"the evaluator returned metric {str(name)!r} = {_shown(value)} "
                f"({type(value).__name__}); every metric must be a number"
            )
        metrics[str(name)] = float(value)
    return metrics


def _numeric(value: Any) -> bool:
    """A number of another library (numpy, a 0-d tensor) that converts to a float."""
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
