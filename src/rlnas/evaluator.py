"""What scores an architecture: the ``Evaluator`` protocol, and evaluators that keep state.

An *evaluator* is anything that maps an ``Architecture`` to a mapping of metric values: a
user's function, a look-up table, or one of the built-in estimators (full training, weight
sharing, a supernet; ``rlnas.estimators``). The search loop, the executors and the strategies'
wrappers all speak this one protocol.

Most evaluators give the same metrics for the same architecture whatever came before. A
``StatefulEvaluator`` does not (weight sharing trains one bank of weights on every child it
scores), so the search loop saves its state with every checkpoint, restores it on resume, and
runs it on the serial executor only (``serial_only``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from rlnas.space import Architecture


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
