"""Measuring a torch network: seeded runs, losses, scores, FLOPs and latency.

Every estimator that trains or scores a network (full training, weight sharing, the supernet) and
the final training use these, so a metric means the same thing whichever estimator produced it.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from rlnas.tasks import Task

VALIDATION_BATCH = 512
"""Validation rows per forward pass: bounds the memory that large images take."""


class Diverged(ArithmeticError):
    """The training loss, or a network's outputs, became NaN or infinite."""


@contextmanager
def seeded_torch(seed: int, threads: int) -> Iterator[None]:
    """Run on ``threads`` CPU threads with torch's random state seeded; restore both after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            yield
    finally:
        torch.set_num_threads(previous)


def training_loss(
    task: Task, outputs: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """Cross-entropy for classes (with ``label_smoothing``); mse on the standardized target for
    regression. Computed in float32 whatever precision the outputs came in."""
    outputs = outputs.float()
    if task.kind == "regression":
        return nn.functional.mse_loss(outputs.squeeze(-1), targets)
    return nn.functional.cross_entropy(outputs, targets, label_smoothing=label_smoothing)


def score_names(task: Task) -> tuple[str, ...]:
    """The metrics ``score_outputs`` reports for ``task``'s kind."""
    return {"regression": ("mse",), "binary": ("accuracy", "roc_auc")}.get(task.kind, ("accuracy",))


def score_outputs(task: Task, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Accuracy, ROC AUC (binary) or mse in the target's units, from a model's raw outputs."""
    if task.kind == "regression":
        predictions = outputs.squeeze(-1) * task.target_std + task.target_mean
        return {"mse": float(((predictions - targets) ** 2).mean())}
    scores = {"accuracy": float((outputs.argmax(dim=-1) == targets).float().mean())}
    if task.kind == "binary":
        scores["roc_auc"] = roc_auc(outputs[:, 1] - outputs[:, 0], targets)
    return scores


def roc_auc(scores: torch.Tensor, labels: torch.Tensor) -> float:
    """Area under the ROC curve: the chance that a positive outranks a negative (ties: half)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores.double().numpy())
    positive = labels.numpy() == 1
    n_positive, n_negative = int(positive.sum()), int((~positive).sum())
    if n_positive == 0 or n_negative == 0:
        return math.nan
    return float(
        (ranks[positive].sum() - n_positive * (n_positive + 1) / 2) / (n_positive * n_negative)
    )


def count_flops(model: nn.Module, example: torch.Tensor) -> int:
    """Floating-point operations of one forward pass on ``example`` (a batch of one)."""
    training = model.training
    model.eval()
    try:
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            model(example)
    finally:
        model.train(training)
    return int(counter.get_total_flops())


def measure_latency_ms(model: nn.Module, example: torch.Tensor, repeats: int = 10) -> float:
    """Median CPU time of one forward pass on ``example``, in milliseconds, after a warm-up."""
    model.eval()
    timings = []
    with torch.inference_mode():
        model(example)
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            model(example)
            timings.append(time.perf_counter() - start)
    return 1000 * statistics.median(timings)
