"""What scores an architecture: the ``Evaluator`` protocol, evaluators that keep state, and jobs.

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

A ``FidelityEvaluator`` trains a candidate part of the way: up to ``epochs``, from where an
earlier part stopped, and hands back its learning curve and the state to continue from. That
is what a scheduler (``rlnas.schedulers``) needs to stop hopeless candidates early and to
continue promising ones rather than restart them. The state is opaque ``bytes`` that the
evaluator alone reads and writes (``JobState``): a ``Job`` carries it to wherever the
evaluation runs (this process, a worker process, a Ray actor) and the finished ``Trial``
carries the new one back (``Trial.state``), so no executor needs to know what is in it.

A ``GrowingEvaluator`` trains a step of a progressive episode from its parent's trained weights:
the job's ``Lineage`` carries the parent's architecture and weights (safetensors
bytes), the evaluator grows the child from them in a function-preserving way
(``rlnas.space.models.inherit_model``) and trains it the job's ``epochs``, or trains it from
scratch for its full ``epochs`` where there is no parent or the step cannot keep the parent's
function; the trial brings the child's trained weights back as its state, for its own children.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from rlnas.errors import UserError
from rlnas.space import Architecture

JobState = bytes
"""What an evaluation leaves for the next one of the same candidate (weights, optimizer, random
state...), serialized by the evaluator that made it: it pickles to any worker as it is, its size
is known (``len``), and a checkpoint stores it as it is."""


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


@dataclass(frozen=True)
class Progress:
    """A part of a candidate's training: the metrics where it stopped, the validation scores
    after every epoch so far (from the first), and the state to continue from."""

    metrics: Mapping[str, float]
    curve: tuple[Mapping[str, float], ...]
    state: JobState | None = None
    start: str | None = None
    """How a grown network's training began (``GrowingEvaluator``); None otherwise."""


@runtime_checkable
class FidelityEvaluator(Evaluator, Protocol):
    """An evaluator that trains by epochs and can continue a candidate where it stopped.

    ``train_to(architecture, epochs, state)`` trains up to epoch ``epochs`` (at most
    ``self.epochs``, the full fidelity), from ``state`` (what an earlier call for the same
    architecture returned) or from scratch; training to 3 epochs and then on to 9 gives what
    training to 9 at once gives. ``__call__`` is ``train_to(architecture, self.epochs)``'s
    metrics. A curve shorter than ``epochs`` means training ended by itself (patience).
    """

    epochs: int

    def train_to(
        self, architecture: Architecture, epochs: int, state: JobState | None = None
    ) -> Progress: ...


@dataclass(frozen=True)
class Lineage:
    """What a job of an inheriting search grows from: its ``parent`` architecture with that
    network's trained ``weights`` (a safetensors file, as bytes), or no parent and ``why_not``."""

    parent: Architecture | None = None
    weights: bytes | None = field(default=None, repr=False)
    why_not: str = "no parent"


@runtime_checkable
class GrowingEvaluator(FidelityEvaluator, Protocol):
    """A ``FidelityEvaluator`` that trains a network from its parent's weights (``Lineage``).

    ``grow`` returns the metrics, the curve, the trained network's weights as the state
    (safetensors bytes) and ``start``: how the training began (``inherited: <how>`` or
    ``scratch: <why>``). ``inherits()`` is None when its model space can grow with inherited
    weights at all, else why not.
    """

    def grow(self, architecture: Architecture, epochs: int, lineage: Lineage) -> Progress: ...

    def inherits(self) -> str | None: ...


@dataclass(frozen=True)
class Job:
    """One evaluation to run, as it travels to a worker: the architecture, the fidelity to reach
    (``epochs``; None: the evaluator's plain call) and what it continues from (``state``), or in
    an inheriting search, what it grows from (``lineage``)."""

    architecture: Architecture
    epochs: int | None = None
    state: JobState | None = field(default=None, repr=False)
    lineage: Lineage | None = None

    @classmethod
    def of(cls, work: Job | Architecture) -> Job:
        """``work`` as a job: an architecture alone is a plain evaluation."""
        return work if isinstance(work, Job) else cls(work)
