"""Full-training evaluation: build the architecture's network, train it, score it on validation.

Every call is seeded (initialization, dropout, batch order and augmentation) inside a forked
torch random state, so the same architecture and seed give the same metrics and the caller's
global state is left as it was. Hard limits on params or FLOPs reject an architecture before any
training. The network trains on the device of ``devices`` (``rlnas.devices``) with the
``recipe`` (``TrainingRecipe``); data sets on disk train through a DataLoader.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from typing import Self

import numpy as np
import torch
from torch import nn

from rlnas.devices import DeviceSettings, Placement
from rlnas.errors import UserError
from rlnas.estimators.measuring import (
    VALIDATION_BATCH,
    Diverged,
    count_flops,
    measure_latency_ms,
    score_names,
    score_outputs,
    seeded_torch,
    training_loss,
)
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.stepping import GradientStep, epoch_batches, forward_batches
from rlnas.rewards import BEFORE_TRAINING, Constraint
from rlnas.space import Architecture, SearchSpace
from rlnas.space.models import SpaceLike, build_model, model_space, portable_space, space_label
from rlnas.tasks import Task
from rlnas.tasks.rows import Features, MappedRows

TRAINING_METRICS = ("params", "flops", "latency_ms", "epochs", "train_time_s", "estimator_s")
"""What a full training reports besides the task's scores."""


class BuildError(RuntimeError):
    """The space cannot build a working network from the architecture."""


class TrainingEvaluator:
    """Train ``architecture``'s network on ``task``'s training rows; return validation metrics.

    The metrics are the task's metric (``accuracy``, ``roc_auc`` with ``accuracy`` for binary
    tasks, or ``mse`` in the target's units) at the best validation epoch, ``params``, ``flops``
    (of one example's forward pass), ``latency_ms`` (median CPU time of one example's forward
    pass, on the CPU whatever the training device), ``epochs`` run, ``train_time_s`` and
    ``estimator_s`` (the whole call, measuring included). ``data_fraction`` trains on a fixed,
    seeded subset of the training rows; ``recipe`` is how (optimizer, schedule, batch size,
    early-stopping patience, augmentation), ``devices`` where. Training runs on ``threads`` CPU
    threads, restored afterwards. The trained model comes back on the CPU.
    """

    def __init__(
        self,
        task: Task,
        space: SpaceLike = "chain-cnn",
        epochs: int = 10,
        data_fraction: float = 1.0,
        recipe: TrainingRecipe | None = None,
        seed: int = 0,
        threads: int = 1,
        time_limit_s: float | None = None,
        constraints: Sequence[Constraint] = (),
        latency_repeats: int = 10,
        devices: DeviceSettings | None = None,
    ) -> None:
        if epochs < 1:
            raise UserError(f"epochs must be at least 1, got {epochs}")
        if not 0 < data_fraction <= 1:
            raise UserError(f"the data fraction must be in (0, 1], got {data_fraction}")
        if threads < 1:
            raise UserError("the number of threads must be at least 1")
        self.task = task
        self.space = portable_space(space)  # a user's family by its import path: it pickles
        self.epochs = epochs
        self.data_fraction = data_fraction
        self.recipe = recipe or TrainingRecipe()
        self.devices = devices or DeviceSettings()
        self.devices.resolve()  # a device that is not there fails now, before anything runs
        self.seed = seed
        self.threads = threads
        self.time_limit_s = time_limit_s
        self.constraints = tuple(constraints)
        self.latency_repeats = latency_repeats

    def search_space(self) -> SearchSpace:
        """The SearchSpace of ``space`` for this task's input shape."""
        return model_space(self.space, self.task.input_shape)

    def metric_names(self) -> tuple[str, ...]:
        """What every call reports (``rlnas.evaluator.ReportsMetrics``)."""
        return (*score_names(self.task), *TRAINING_METRICS)

    def with_devices(self, devices: DeviceSettings) -> Self:
        """This evaluator on other devices (an executor's worker gets its own GPU this way)."""
        placed = copy.copy(self)
        placed.devices = devices
        devices.resolve()
        return placed

    def __call__(self, architecture: Architecture) -> dict[str, float]:
        return self.train(architecture)[1]

    def train(self, architecture: Architecture) -> tuple[nn.Module, dict[str, float]]:
        """Build, check, train and measure ``architecture``: the trained model and its metrics."""
        with seeded_torch(self.seed, self.threads):
            return self._evaluate(architecture)

    def _evaluate(self, architecture: Architecture) -> tuple[nn.Module, dict[str, float]]:
        called = time.perf_counter()
        task = self.task
        try:
            model = build_model(self.space, architecture, task.input_shape, task.n_outputs)
            # counting FLOPs runs one forward pass: a network that cannot run fails here
            flops = count_flops(model, task.X_train[:1])
        except (KeyError, ValueError, TypeError, RuntimeError) as error:
            choices = dict(getattr(architecture, "choices", architecture))
            raise BuildError(
                f"space {space_label(self.space)} cannot build a working network for inputs shaped "
                f"{task.input_shape} from {choices}: {type(error).__name__}: {error}"
            ) from error
        costs = {"params": float(sum(p.numel() for p in model.parameters())), "flops": float(flops)}
        for constraint in self.constraints:
            if constraint.cost in BEFORE_TRAINING:
                constraint.check(costs)
        started = time.perf_counter()
        score, epochs = self._train(model, self.devices.resolve(), started)
        train_time_s = time.perf_counter() - started
        model.cpu()
        latency_ms = measure_latency_ms(model, task.X_val[:1], self.latency_repeats)
        metrics = {
            **score,
            **costs,
            "latency_ms": latency_ms,
            "epochs": float(epochs),
            "train_time_s": train_time_s,
            "estimator_s": time.perf_counter() - called,
        }
        return model, metrics

    def _train(
        self, model: nn.Module, placement: Placement, started: float
    ) -> tuple[dict[str, float], int]:
        """Train with the recipe; return the best validation scores and the number of epochs."""
        task, recipe = self.task, self.recipe
        X, y = self._training_rows()
        if task.kind == "regression":
            y = (y - task.target_mean) / task.target_std
        model.to(placement.device)
        generator = torch.Generator().manual_seed(self.seed)
        optimizer = recipe.build_optimizer(list(model.parameters()))
        steps_per_epoch = max(1, len(y) // recipe.batch_size + (len(y) % recipe.batch_size > 1))
        scheduler = recipe.build_scheduler(optimizer, self.epochs, steps_per_epoch)
        step = GradientStep(optimizer, placement, scheduler, recipe.grad_clip)
        best: dict[str, float] | None = None
        since_best = 0
        epoch = 0
        for epoch in range(1, self.epochs + 1):
            model.train()
            for inputs, targets in epoch_batches(
                X, y, recipe.batch_size, generator, placement, self.devices.data_workers
            ):
                inputs = recipe.augment(inputs, generator)
                with placement.autocast():
                    loss = self._loss(model(inputs), targets)
                if not torch.isfinite(loss):
                    raise Diverged(
                        f"training loss became {loss.item()} in epoch {epoch}; "
                        f"try a lower learning rate than {recipe.lr:g}"
                    )
                step(loss)
                self._check_time(started, epoch)
            score = self.validate(model, placement)
            if best is None or _improves(score[task.metric], best[task.metric], task.direction):
                best, since_best = score, 0
            else:
                since_best += 1
                if recipe.patience is not None and since_best >= recipe.patience:
                    break
        assert best is not None
        return best, epoch

    def validate(self, model: nn.Module, placement: Placement | None = None) -> dict[str, float]:
        """The task's metrics of ``model`` (on ``placement``'s device) on the validation rows."""
        task = self.task
        placement = placement or Placement(torch.device("cpu"))
        model.eval()
        outputs = forward_batches(model, task.X_val, VALIDATION_BATCH, placement)
        if not torch.isfinite(outputs).all():
            raise Diverged("the model's validation outputs are NaN or infinite")
        return score_outputs(task, outputs, task.y_val)

    def _loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return training_loss(self.task, outputs, targets, self.recipe.label_smoothing)

    def _training_rows(self) -> tuple[Features, torch.Tensor]:
        X, y = self.task.X_train, self.task.y_train
        if self.data_fraction >= 1:
            return X, y
        count = max(2, round(self.data_fraction * len(X)))
        rows = np.sort(np.random.default_rng(self.seed).permutation(len(X))[:count])
        if isinstance(X, MappedRows):
            return X.subset(rows), y[rows]
        return X[rows], y[rows]

    def _check_time(self, started: float, epoch: int) -> None:
        if self.time_limit_s is not None and time.perf_counter() - started > self.time_limit_s:
            raise TimeoutError(
                f"training took longer than the time limit of {self.time_limit_s:g} s "
                f"(in epoch {epoch} of {self.epochs})"
            )


def _improves(value: float, best: float, direction: str) -> bool:
    if math.isnan(best):
        return not math.isnan(value)
    return value > best if direction == "maximize" else value < best
