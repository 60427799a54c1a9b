"""Weight sharing (ENAS, Pham et al., ICML 2018): every child trains and is scored on one bank.

ENAS alternates between training the shared weights on children sampled from the controller's
policy and rewarding the controller with sampled children's validation accuracy. Here each call
does both for the child it is given: ``steps`` minibatches of training on that child's slice of
the bank, then its validation accuracy with those weights. Since the search loop asks the
strategy for its children, the shared weights are trained on the current policy's samples, as in
ENAS, through the unchanged ask/tell loop, and the estimator works with any strategy.

The estimate of a child depends on every child trained before it, so this evaluator is stateful:
evaluations must run one at a time, in order, in one process (``serial_only``), and its state is
saved with every checkpoint (``rlnas.evaluator.StatefulEvaluator``). A seed and the same sequence
of calls give the same metrics.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np

from rlnas.devices import DeviceSettings
from rlnas.estimators.measuring import score_names, seeded_torch
from rlnas.estimators.shared_weights import SharedWeights, borrowed
from rlnas.space import Architecture, SearchSpace
from rlnas.tasks import Task

if TYPE_CHECKING:
    from rlnas.estimators.registry import EstimatorSettings
    from rlnas.estimators.training import TrainingEvaluator


class WeightSharingEvaluator:
    """Train the shared weights ``steps`` minibatches on each child, then score it on validation.

    Works for every model-building space (chain-cnn, cell-cnn, conv1d, mlp): the bank is filled
    from the networks the space itself builds (see ``SharedWeights``). Metrics: the task's
    validation metric, ``params``, ``flops``, ``shared_steps`` (training steps of the bank so
    far) and ``estimator_s`` (seconds of this call).
    """

    name: ClassVar[str] = "weight-sharing"
    serial_only: ClassVar[bool] = True

    def __init__(
        self,
        task: Task,
        space: str = "chain-cnn",
        steps: int = 10,
        batch_size: int = 64,
        lr: float = 1e-2,
        recalibration_batches: int = 4,
        seed: int = 0,
        threads: int = 1,
        devices: DeviceSettings | None = None,
    ) -> None:
        if steps < 0:
            raise ValueError(f"steps must be at least 0, got {steps}")
        self.steps = steps
        self.seed = seed
        self.threads = threads
        self.calls = 0
        self.shared = SharedWeights(
            task, space, batch_size, lr, recalibration_batches, seed, devices
        )

    @classmethod
    def for_search(cls, training: TrainingEvaluator, settings: EstimatorSettings) -> Self:
        """The estimator of a search whose full training is ``training``."""
        return cls(training.task, training.space, **borrowed(training))

    def search_space(self) -> SearchSpace:
        return self.shared.search_space()

    def metric_names(self) -> tuple[str, ...]:
        """What every call reports (``rlnas.evaluator.ReportsMetrics``)."""
        return (*score_names(self.shared.task), "params", "flops", "shared_steps", "estimator_s")

    def __call__(self, architecture: Architecture) -> dict[str, float]:
        started = time.perf_counter()
        # layers met for the first time are initialized from a seed of this call's position
        call_seed = int(np.random.SeedSequence([self.seed, self.calls]).generate_state(1)[0])
        self.calls += 1
        with seeded_torch(call_seed, self.threads):
            self.shared.train(architecture, self.steps)
            metrics = self.shared.score(architecture)
        return {
            **metrics,
            "shared_steps": float(self.shared.steps),
            "estimator_s": time.perf_counter() - started,
        }

    def state_dict(self) -> dict[str, Any]:
        """The shared weights, their optimizer and data order: a resumed search continues alike."""
        return {"shared": self.shared.state_dict(), "calls": self.calls}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.shared.load_state_dict(state["shared"])
        self.calls = int(state["calls"])
