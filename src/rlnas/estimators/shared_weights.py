"""One bank of parameters that every child network of a model space draws its weights from.

A child is built by its space's own ``build`` (no operation is defined twice); each of its
parameters then reads a region of the bank's tensor for the same place in the network and the
same kind of layer: the leading channels when the child is narrower, the central taps when its
kernel is smaller (the sharing of slimmable and once-for-all networks). Children that share a
layer therefore share its weights, as in ENAS (Pham et al., ICML 2018) and one-shot supernets
(Guo et al., ECCV 2020), without one copy per width and kernel, which would leave most copies
untrained. A residual wrapper does not change the weights its body uses. Batch-norm statistics
are not shared: they depend on the child, so they are recomputed for each child on a few
training batches before it is scored (SPOS's recalibration). The bank and the children live on
the device of ``devices``; saved state (checkpoints, supernet files) is kept on the CPU.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from rlnas.devices import DeviceSettings, Placement
from rlnas.estimators.measuring import (
    VALIDATION_BATCH,
    Diverged,
    count_flops,
    score_outputs,
    training_loss,
)
from rlnas.estimators.stepping import GradientStep, forward_batches
from rlnas.space import Architecture, SearchSpace
from rlnas.space.models import build_model, model_space
from rlnas.tasks import Task
from rlnas.tasks.rows import Features

if TYPE_CHECKING:
    from rlnas.estimators.training import TrainingEvaluator


class SharedWeights:
    """The parameter bank of ``space`` for ``task``, its Adam optimizer and its data stream.

    ``batch_size`` rows per training step, drawn in a seeded order that cycles over the training
    rows; ``recalibration_batches`` training batches re-estimate a child's batch-norm statistics.
    ``devices`` is where the bank and the children run, and in what precision.
    """

    def __init__(
        self,
        task: Task,
        space: str,
        batch_size: int = 64,
        lr: float = 3e-3,
        recalibration_batches: int = 4,
        seed: int = 0,
        devices: DeviceSettings | None = None,
    ) -> None:
        self.devices = devices or DeviceSettings()
        self.placement = self.devices.resolve()
        self.task = task
        self.space = space
        self.batch_size = batch_size
        self.lr = lr
        self.recalibration_batches = recalibration_batches
        self.seed = seed
        self.bank: dict[str, nn.Parameter] = {}
        self.optimizer = _optimizer(lr, self.placement.device)
        self.step = GradientStep(self.optimizer, self.placement)
        self.generator = torch.Generator().manual_seed(seed)
        self.order = torch.zeros(0, dtype=torch.long)  # the current pass over the training rows
        self.position = 0
        self.steps = 0
        y = task.y_train
        y = (y - task.target_mean) / task.target_std if task.kind == "regression" else y
        self.targets = y.to(self.placement.device)

    def search_space(self) -> SearchSpace:
        return model_space(self.space, self.task.input_shape)

    # --- children --------------------------------------------------------------------------------
    def child(self, architecture: Architecture) -> tuple[nn.Module, dict[str, str]]:
        """``architecture``'s network and the bank key of each of its parameters."""
        model = build_model(self.space, architecture, self.task.input_shape, self.task.n_outputs)
        model.to(self.placement.device)
        keys = {}
        places = _places(model)
        for module_name, module in model.named_modules():
            for name, parameter in module.named_parameters(recurse=False):
                key = _bank_key(places[module_name], name, module)
                self._make_room(key, parameter.detach())
                keys[f"{module_name}.{name}".lstrip(".")] = key
        return model, keys

    def weights(self, model: nn.Module, keys: dict[str, str]) -> dict[str, torch.Tensor]:
        """The bank's region for each parameter of ``model`` (views: gradients reach the bank)."""
        shapes = {name: parameter.shape for name, parameter in model.named_parameters()}
        return {name: _region(self.bank[key], shapes[name]) for name, key in keys.items()}

    def train(self, architecture: Architecture, steps: int) -> None:
        """``steps`` Adam steps on the bank's weights that ``architecture``'s network uses."""
        model, keys = self.child(architecture)
        model.train()
        device = self.placement.device
        for _ in range(steps):
            rows = self._next_batch()
            inputs = self.task.X_train[rows].to(device, non_blocking=True)
            with self.placement.autocast():
                outputs = functional_call(model, self.weights(model, keys), (inputs,))
                loss = training_loss(self.task, outputs, self.targets[rows.to(device)])
            if not torch.isfinite(loss):
                raise Diverged(f"the shared weights' training loss became {loss.item()}")
            self.step(loss)
            self.steps += 1

    def score(self, architecture: Architecture) -> dict[str, float]:
        """Validation metrics, params and flops of ``architecture`` with inherited weights."""
        model, keys = self.child(architecture)
        with torch.no_grad():
            model.load_state_dict(self.weights(model, keys), strict=False)
        recalibrate_batch_norm(model, self.task.X_train, self.recalibration_rows(), self.placement)
        outputs = forward_batches(model, self.task.X_val, VALIDATION_BATCH, self.placement)
        if not torch.isfinite(outputs).all():
            raise Diverged("the child's validation outputs are NaN or infinite")
        params = sum(p.numel() for p in model.parameters())
        flops = count_flops(model.cpu(), self.task.X_train[:1])
        return {
            **score_outputs(self.task, outputs, self.task.y_val),
            "params": float(params),
            "flops": float(flops),
        }

    def _make_room(self, key: str, initial: torch.Tensor) -> None:
        """Create the bank's tensor for ``key``, or grow it to hold ``initial``'s shape.

        A grown tensor keeps its trained values in their region; the rest is drawn like the
        child's fresh initialization, and Adam's moments for it start over.
        """
        stored = self.bank.get(key)
        if stored is not None and all(n <= s for n, s in zip(initial.shape, stored.shape)):
            return
        shape = (
            initial.shape if stored is None else torch.Size(map(max, initial.shape, stored.shape))
        )
        spread = initial.std() if initial.numel() > 1 else torch.tensor(0.0)
        grown = torch.randn(shape, device=initial.device) * spread + initial.mean()
        _region(grown, initial.shape).copy_(initial)
        parameters = self.optimizer.param_groups[0]["params"]
        if stored is None:
            self.bank[key] = nn.Parameter(grown)
            parameters.append(self.bank[key])
            return
        _region(grown, stored.shape).copy_(stored.detach())
        self.bank[key] = nn.Parameter(grown)
        parameters[next(i for i, p in enumerate(parameters) if p is stored)] = self.bank[key]
        self.optimizer.state.pop(stored, None)

    def recalibration_rows(self) -> torch.Tensor:
        """The same training rows for every child, so that children are compared alike."""
        count = self.recalibration_batches * self.batch_size
        rows = np.random.default_rng(self.seed).permutation(len(self.task.X_train))[:count]
        return torch.from_numpy(rows)

    def _next_batch(self) -> torch.Tensor:
        if self.position >= len(self.order):
            self.order = torch.randperm(len(self.task.X_train), generator=self.generator)
            self.position = 0
        rows = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return rows

    # --- state -----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The bank, the optimizer and the data stream: continuing from it is exact."""
        return {
            "bank": {key: parameter.detach().cpu().clone() for key, parameter in self.bank.items()},
            "optimizer": _on_cpu(self.optimizer.state_dict()),
            "generator": self.generator.get_state(),
            "order": self.order.clone(),
            "position": self.position,
            "steps": self.steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.load_bank(state["bank"])
        self.optimizer.load_state_dict(state["optimizer"])  # moves the moments to the bank's device
        self.generator.set_state(state["generator"])
        self.order = state["order"].clone()
        self.position = int(state["position"])
        self.steps = int(state["steps"])

    def load_bank(self, tensors: dict[str, torch.Tensor]) -> None:
        """Replace the bank by ``tensors`` (in their order) with a fresh optimizer."""
        device = self.placement.device
        self.bank = {
            key: nn.Parameter(tensor.to(device).clone()) for key, tensor in tensors.items()
        }
        self.optimizer = _optimizer(self.lr, device)
        self.step = GradientStep(self.optimizer, self.placement)
        self.optimizer.param_groups[0]["params"].extend(self.bank.values())


def borrowed(training: TrainingEvaluator) -> dict[str, Any]:
    """What a shared-weight estimator takes from the search's full training: batch size, seed,
    threads and devices; not its learning rate, since shared weights train on many children."""
    return {
        "batch_size": training.recipe.batch_size,
        "seed": training.seed,
        "threads": training.threads,
        "devices": training.devices,
    }


def _places(model: nn.Module) -> dict[str, str]:
    """Each module's name, with a position in a Sequential counted over layers with weights.

    A pooling or activation layer (no weights) then does not shift the place of the layers after
    it: the second convolution is the second whether or not a pooling layer came between.
    """
    places = {"": ""}
    for name, module in model.named_modules():
        weighted = 0
        for child_name, child in module.named_children():
            part = child_name
            if isinstance(module, nn.Sequential) and any(True for _ in child.parameters()):
                part, weighted = str(weighted), weighted + 1
            places[f"{name}.{child_name}".lstrip(".")] = f"{places[name]}.{part}".lstrip(".")
    return places


def _bank_key(place: str, name: str, module: nn.Module) -> str:
    """Where a parameter sits and in what kind of layer; not its size, which is sliced."""
    place = ".".join(part for part in f"{place}.{name}".split(".") if part and part != "body")
    grouped = "/grouped" if getattr(module, "groups", 1) > 1 else ""
    return f"{place}:{type(module).__name__}{grouped}"


def _region(tensor: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The part of ``tensor`` a parameter of ``shape`` uses: leading channels, central taps."""
    index = []
    for dim, (size, wanted) in enumerate(zip(tensor.shape, shape)):
        start = (size - wanted) // 2 if dim >= 2 else 0  # dims 2+ are a kernel's taps
        index.append(slice(start, start + wanted))
    return tensor[tuple(index)]


def _optimizer(lr: float, device: torch.device) -> torch.optim.Adam:
    """Adam with one parameter group that the bank appends to (Adam skips those without grad)."""
    placeholder = nn.Parameter(torch.zeros(0, device=device))  # Adam needs one parameter
    return torch.optim.Adam([placeholder], lr=lr)


def _on_cpu(state: Any) -> Any:
    """``state`` with every tensor in it copied to the CPU (checkpoints load on any machine)."""
    if isinstance(state, torch.Tensor):
        return state.cpu()
    if isinstance(state, dict):
        return {key: _on_cpu(value) for key, value in state.items()}
    if isinstance(state, list | tuple):
        return type(state)(_on_cpu(value) for value in state)
    return state


def recalibrate_batch_norm(
    model: nn.Module, X: Features, rows: torch.Tensor, placement: Placement | None = None
) -> None:
    """Re-estimate every batch-norm layer's statistics on ``X[rows]``; leave ``model`` in eval.

    Statistics gathered while other children trained describe other networks; SPOS (Guo et al.,
    ECCV 2020) recomputes them per child before scoring it.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a cumulative average over the batches below
    model.train()
    device = placement.device if placement is not None else torch.device("cpu")
    autocast = placement.autocast() if placement is not None else nullcontext()
    with torch.no_grad(), autocast:
        for batch in rows.split(VALIDATION_BATCH):
            if norms and len(batch) > 1:
                model(X[batch].to(device))
    model.eval()
