"""One-shot supernet with single-path uniform sampling (SPOS, Guo et al., ECCV 2020).

The supernet (the bank of ``SharedWeights``) is trained once: each step samples one child
uniformly from the space and trains its path on one minibatch, so every operation is trained
about equally and no child is favoured. A search then scores each child with the inherited
weights, its batch-norm statistics recalibrated on a few training batches, at the cost of a few
forward passes. Training is the expensive part, so the trained supernet is saved to a
safetensors file and reused by every later search of the same task and space.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Self

import numpy as np
from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from rlnas.devices import DeviceSettings
from rlnas.errors import UserError
from rlnas.estimators.measuring import score_names, seeded_torch
from rlnas.estimators.shared_weights import SharedWeights, borrowed
from rlnas.space import Architecture, SearchSpace
from rlnas.space.models import space_label
from rlnas.tasks import Task

if TYPE_CHECKING:
    from rlnas.estimators.registry import EstimatorSettings
    from rlnas.estimators.training import TrainingEvaluator

FORMAT = "rlnas-supernet"


class SupernetEvaluator:
    """Score children with the weights of a supernet trained for ``steps`` single-path steps.

    With ``path``, a supernet saved there for the same task and space is loaded instead of being
    trained; otherwise it is trained (at the first call, or by ``fit()``) and saved there.
    Metrics: the task's validation metric, ``params``, ``flops`` and ``estimator_s`` (seconds of
    the call; the first call's includes training or loading). A child's score does not depend
    on the children scored before it, unless one of them needed a layer wider than any trained.
    """

    name: ClassVar[str] = "supernet"

    def __init__(
        self,
        task: Task,
        space: str = "chain-cnn",
        steps: int = 1000,
        path: str | Path | None = None,
        batch_size: int = 64,
        lr: float = 1e-2,
        recalibration_batches: int = 4,
        seed: int = 0,
        threads: int = 1,
        devices: DeviceSettings | None = None,
    ) -> None:
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        self.steps = steps
        self.path = None if path is None else Path(path)
        self.seed = seed
        self.threads = threads
        self.trained = False
        self.shared = SharedWeights(
            task, space, batch_size, lr, recalibration_batches, seed, devices
        )

    @classmethod
    def for_search(cls, training: TrainingEvaluator, settings: EstimatorSettings) -> Self:
        """The estimator of a search whose full training is ``training``."""
        return cls(
            training.task,
            training.space,
            settings.supernet_steps,
            path=settings.supernet_path,
            **borrowed(training),
        )

    def search_space(self) -> SearchSpace:
        return self.shared.search_space()

    def metric_names(self) -> tuple[str, ...]:
        """What every call reports (``rlnas.evaluator.ReportsMetrics``)."""
        return (*score_names(self.shared.task), "params", "flops", "estimator_s")

    def __call__(self, architecture: Architecture) -> dict[str, float]:
        started = time.perf_counter()
        if not self.trained:
            self.fit()
        with seeded_torch(self.seed, self.threads):  # unseen layers: the same init every call
            metrics = self.shared.score(architecture)
        return {**metrics, "estimator_s": time.perf_counter() - started}

    def fit(self) -> SupernetEvaluator:
        """Load the supernet from ``path`` if it was saved there, else train it (and save it)."""
        if self.path is not None and self.path.exists():
            self.shared.load_bank(self._read(self.path))
        else:
            space = self.search_space()
            rng = np.random.default_rng(self.seed)
            with seeded_torch(self.seed, self.threads):
                for _ in range(self.steps):
                    self.shared.train(space.sample(rng), steps=1)
            if self.path is not None:
                self.save(self.path)
        self.trained = True
        return self

    def save(self, path: str | Path) -> None:
        """Write the supernet's weights, with what they were trained for, as safetensors."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {key: p.detach().cpu().contiguous() for key, p in self.shared.bank.items()}
        save_file(tensors, str(path), metadata={"format": FORMAT, **self._identity()})

    def _identity(self) -> dict[str, str]:
        """What a saved supernet must match to be reused: the task and the space."""
        task = self.shared.task
        return {
            "task": task.name,
            "space": space_label(self.shared.space),
            "input_shape": json.dumps(list(task.input_shape)),
            "n_outputs": str(task.n_outputs),
        }

    def _read(self, path: Path) -> dict:
        try:
            with safe_open(str(path), framework="pt") as handle:
                metadata = handle.metadata() or {}
            tensors = load_file(str(path))
        except (SafetensorError, OSError) as error:
            raise UserError(f"{path} is not a saved supernet ({error})") from None
        if metadata.get("format") != FORMAT:
            raise UserError(f"{path} is not a supernet saved by rlnas")
        expected = self._identity()
        wrong = {k: metadata.get(k) for k, v in expected.items() if metadata.get(k) != v}
        if wrong:
            found = ", ".join(f"{k} {v}" for k, v in wrong.items())
            wanted = ", ".join(f"{k} {expected[k]}" for k in wrong)
            raise UserError(
                f"supernet {path} was trained for {found}, not {wanted}; "
                "give another --supernet-path, or delete the file to train a new one"
            )
        return tensors
