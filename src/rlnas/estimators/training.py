"""Full-training evaluation: build the architecture's network, train it, score it on validation.

Every call is seeded (initialization, dropout, batch order and augmentation) inside a forked
torch random state, so the same architecture and seed give the same metrics and the caller's
global state is left as it was. Hard limits on params or FLOPs reject an architecture before any
training. The network trains on the device of ``devices`` (``rlnas.devices``) with the
``recipe`` (``TrainingRecipe``); data sets on disk train through a DataLoader.

It is a ``FidelityEvaluator``: ``train_to`` trains part of the way and returns the validation
scores after every epoch and the state to go on from (weights, optimizer, schedule, the batch
order's and dropout's random states, the best score so far), so a scheduler's promoted candidate
continues exactly where it stopped: 3 epochs and then 6 more give what 9 at once give.

It is also a ``GrowingEvaluator``: ``grow`` builds a progressive step's network from its
parent's trained weights (``inherit_model``, calibrated on a batch of training rows) and trains
it the job's few epochs with a fresh optimizer and a schedule over those epochs; a step the
space refuses, or one without a parent, trains from scratch for ``epochs``. Either way the
trained weights come back as a safetensors file (bytes), for the step's own children.
"""

from __future__ import annotations

import copy
import io
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

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
from rlnas.estimators.recipe import EPOCHS, TrainingRecipe
from rlnas.estimators.stepping import GradientStep, epoch_batches, forward_batches
from rlnas.evaluator import JobState, Lineage, Progress
from rlnas.rewards import BEFORE_TRAINING, Constraint
from rlnas.space import Architecture, SearchSpace
from rlnas.space.models import (
    InheritingModelSpace,
    SpaceLike,
    build_model,
    inherit_model,
    model_space,
    model_space_module,
    portable_space,
    space_label,
)
from rlnas.tasks import Task
from rlnas.tasks.rows import Features, MappedRows

BUILD_ERRORS = (KeyError, ValueError, TypeError, RuntimeError)
"""What a space's ``build`` or a first forward pass raises for a network that cannot work."""
TRAINING_METRICS = ("params", "flops", "latency_ms", "epochs", "train_time_s", "estimator_s")
"""What a full training reports besides the task's scores."""


class BuildError(RuntimeError):
    """The space cannot build a working network from the architecture."""


@dataclass
class _Training:
    """Where a candidate's training stands after some epochs: all that continuing it needs."""

    curve: list[dict[str, float]] = field(default_factory=list)
    best: dict[str, float] | None = None
    since_best: int = 0
    stopped: bool = False
    """Patience ended it: later calls train no further."""
    state: JobState | None = None


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
        epochs: int = EPOCHS,
        data_fraction: float = 1.0,
        recipe: TrainingRecipe | None = None,
        seed: int = 0,
        threads: int = 1,
        time_limit_s: float | None = None,
        constraints: Sequence[Constraint] = (),
        latency_repeats: int = 10,
        devices: DeviceSettings | None = None,
        on_epoch: Callable[[int, int, Mapping[str, float]], None] | None = None,
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
        self.on_epoch = on_epoch
        """Told (epoch, epochs, scores) after every epoch, scores being the mean training
        ``loss`` and the validation metrics: a progress bar, or the final training's choice of
        the epoch count."""

    def search_space(self) -> SearchSpace:
        """The SearchSpace of ``space`` for this task's input shape (one of its networks run
        first: it must return one score per output, ``rlnas.space.models.model_space``)."""
        return model_space(self.space, self.task.input_shape, self.task.n_outputs)

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

    def train(
        self, architecture: Architecture, weights: bytes | None = None
    ) -> tuple[nn.Module, dict[str, float]]:
        """Build, check, train and measure ``architecture``: the trained model and its metrics.

        ``weights`` (a safetensors file as bytes, what ``grow`` returns): start from them, not
        from a fresh initialization (fine-tuning a network trained in a search).
        """
        with seeded_torch(self.seed, self.threads):
            model = None
            if weights is not None:
                model = self._build(architecture)
                model.load_state_dict(load_weights(weights))
            model, metrics, _ = self._evaluate(architecture, self.epochs, model=model)
            return model, metrics

    def inherits(self) -> str | None:
        """None if the model space grows with inherited weights, else why not."""
        if isinstance(model_space_module(self.space), InheritingModelSpace):
            return None
        return f"space {space_label(self.space)} does not inherit weights across growth steps"

    def grow(self, architecture: Architecture, epochs: int, lineage: Lineage) -> Progress:
        """Train ``architecture`` ``epochs`` epochs from its parent's weights, or from scratch for
        ``self.epochs`` where there is no parent or the step would not keep its function."""
        if not 1 <= epochs <= self.epochs:
            raise ValueError(f"epochs must be between 1 and {self.epochs}, got {epochs}")
        with seeded_torch(self.seed, self.threads):
            model, start, until = None, f"scratch: {lineage.why_not}", self.epochs
            if lineage.parent is not None and lineage.weights is not None:
                parent = self._build(lineage.parent)
                parent.load_state_dict(load_weights(lineage.weights))
                task = self.task
                calibration = torch.as_tensor(task.X_train[: self.recipe.batch_size])
                grown = inherit_model(
                    self.space,
                    parent,
                    lineage.parent,
                    architecture,
                    task.input_shape,
                    task.n_outputs,
                    calibration.float(),
                )
                if grown.model is not None:
                    model, start, until = grown.model, f"inherited: {grown.how}", epochs
                else:
                    start = f"scratch: {grown.how}"
            model, metrics, training = self._evaluate(architecture, until, model=model)
        return Progress(metrics, tuple(training.curve), save_weights(model), start)

    def train_to(
        self, architecture: Architecture, epochs: int, state: JobState | None = None
    ) -> Progress:
        """Train ``architecture`` up to epoch ``epochs``, from ``state`` (what an earlier call
        returned for it) or from scratch: its metrics, curve and the state to go on from."""
        if not 1 <= epochs <= self.epochs:
            raise ValueError(f"epochs must be between 1 and {self.epochs}, got {epochs}")
        with seeded_torch(self.seed, self.threads):
            _, metrics, training = self._evaluate(architecture, epochs, state, keep=True)
        return Progress(metrics, tuple(training.curve), training.state)

    def _evaluate(
        self,
        architecture: Architecture,
        until: int,
        state: JobState | None = None,
        keep: bool = False,
        model: nn.Module | None = None,
    ) -> tuple[nn.Module, dict[str, float], _Training]:
        """Build (unless ``model`` is given: it trains on from its weights), check, train up to
        epoch ``until`` and measure; a given model's schedule spans ``until`` epochs."""
        called = time.perf_counter()
        task = self.task
        horizon = self.epochs if model is None else until
        try:
            model = self._build(architecture) if model is None else model
            # counting FLOPs runs one forward pass: a network that cannot run fails here
            flops = count_flops(model, task.X_train[:1])
        except BuildError:
            raise
        except BUILD_ERRORS as error:
            raise self._cannot_build(architecture, error) from error
        costs = {"params": float(sum(p.numel() for p in model.parameters())), "flops": float(flops)}
        for constraint in self.constraints:
            if constraint.cost in BEFORE_TRAINING:
                constraint.check(costs)
        started = time.perf_counter()
        placement = self.devices.resolve()
        training = self._train(model, placement, started, until, state, keep, horizon)
        assert training.best is not None
        train_time_s = time.perf_counter() - started
        model.cpu()
        latency_ms = measure_latency_ms(model, task.X_val[:1], self.latency_repeats)
        metrics = {
            **training.best,
            **costs,
            "latency_ms": latency_ms,
            "epochs": float(len(training.curve)),
            "train_time_s": train_time_s,
            "estimator_s": time.perf_counter() - called,
        }
        return model, metrics, training

    def _train(
        self,
        model: nn.Module,
        placement: Placement,
        started: float,
        until: int,
        state: JobState | None,
        keep: bool,
        horizon: int,
    ) -> _Training:
        """Train with the recipe up to epoch ``until`` (from ``state``), its learning rate
        scheduled over ``horizon`` epochs; where it stands then, with its state (``keep``) to go
        on from."""
        task, recipe = self.task, self.recipe
        X, y = self._training_rows()
        if task.kind == "regression":
            y = (y - task.target_mean) / task.target_std
        model.to(placement.device)
        generator = torch.Generator().manual_seed(self.seed)
        optimizer = recipe.build_optimizer(list(model.parameters()))
        steps_per_epoch = max(1, len(y) // recipe.batch_size + (len(y) % recipe.batch_size > 1))
        scheduler = recipe.build_scheduler(optimizer, horizon, steps_per_epoch)
        step = GradientStep(optimizer, placement, scheduler, recipe.grad_clip)
        parts = {"model": model, "optimizer": optimizer, "scheduler": scheduler}
        training = _Training()
        if state is not None:
            training = _load(state, parts, step, generator)
        for epoch in range(len(training.curve) + 1, until + 1):
            if training.stopped:
                break
            model.train()
            loss_sum, batches = torch.zeros((), device=placement.device), 0
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
                loss_sum, batches = loss_sum + loss.detach().float(), batches + 1
                self._check_time(started, epoch)
            score = self.validate(model, placement)
            training.curve.append(score)
            if self.on_epoch is not None:
                self.on_epoch(epoch, until, {"loss": float(loss_sum) / max(1, batches), **score})
            best = training.best
            if best is None or _improves(score[task.metric], best[task.metric], task.direction):
                training.best, training.since_best = score, 0
            else:
                training.since_best += 1
                if recipe.patience is not None and training.since_best >= recipe.patience:
                    training.stopped = True
        if keep:
            training.state = _save(training, parts, step, generator)
        return training

    def _build(self, architecture: Architecture) -> nn.Module:
        task = self.task
        try:
            return build_model(self.space, architecture, task.input_shape, task.n_outputs)
        except BUILD_ERRORS as error:
            raise self._cannot_build(architecture, error) from error

    def _cannot_build(self, architecture: Architecture, error: Exception) -> BuildError:
        choices = dict(getattr(architecture, "choices", architecture))
        return BuildError(
            f"space {space_label(self.space)} cannot build a working network for inputs shaped "
            f"{self.task.input_shape} from {choices}: {type(error).__name__}: {error}"
        )

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


def save_weights(model: nn.Module) -> bytes:
    """A network's weights and buffers as a safetensors file (bytes): plain tensors, no pickle."""
    from safetensors.torch import save

    return save({name: value.detach().cpu().clone() for name, value in model.state_dict().items()})


def load_weights(weights: bytes) -> dict[str, torch.Tensor]:
    """What ``save_weights`` saved: a state dict for the same architecture's network."""
    from safetensors.torch import load

    return load(weights)


def _save(
    training: _Training, parts: dict[str, Any], step: GradientStep, generator: torch.Generator
) -> JobState:
    """The state to continue ``training`` from, as bytes (``torch.save``, on the CPU)."""
    saved = {name: _on_cpu(part.state_dict()) for name, part in parts.items()}
    saved.update(
        scaler=step.scaler.state_dict(),
        generator=generator.get_state(),
        torch=torch.get_rng_state(),
        curve=training.curve,
        best=training.best,
        since_best=training.since_best,
        stopped=training.stopped,
    )
    buffer = io.BytesIO()
    torch.save(saved, buffer)
    return buffer.getvalue()


def _load(
    state: JobState, parts: dict[str, Any], step: GradientStep, generator: torch.Generator
) -> _Training:
    """Put the model, optimizer, schedule and random states back as ``_save`` found them."""
    saved = torch.load(io.BytesIO(state), map_location="cpu", weights_only=True)
    for name, part in parts.items():
        part.load_state_dict(saved[name])
    if saved["scaler"]:  # a disabled scaler (no float16) saves nothing
        step.scaler.load_state_dict(saved["scaler"])
    generator.set_state(saved["generator"])
    torch.set_rng_state(saved["torch"])
    return _Training(list(saved["curve"]), saved["best"], saved["since_best"], saved["stopped"])


def _on_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {key: _on_cpu(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_on_cpu(item) for item in value]
    return value


def _improves(value: float, best: float, direction: str) -> bool:
    if math.isnan(best):
        return not math.isnan(value)
    return value > best if direction == "maximize" else value < best
