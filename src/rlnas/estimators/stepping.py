"""Training steps on a device: batches of a split, and one optimizer step with loss scaling.

Full training and the shared-weight estimators both train through these, so every estimator
honours the device, the precision and the data path (tensors in memory, or rows on disk read by
a ``DataLoader``) the same way.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader

from rlnas.devices import Placement
from rlnas.tasks.rows import Features, RowsDataset, whole_batch


def epoch_batches(
    features: Features,
    targets: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
    placement: Placement,
    workers: int = 0,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """One epoch of shuffled batches on ``placement``'s device, in ``generator``'s order.

    Tensors are indexed directly (the fast path); rows on disk are read by a DataLoader with
    ``workers`` processes, pinned for a CUDA device. Both give the same batches in the same
    order. A last batch of one row is skipped: batch norm cannot train on a single example.
    """
    order = torch.randperm(len(targets), generator=generator)
    batches = [order[start : start + batch_size] for start in range(0, len(targets), batch_size)]
    batches = [batch for batch in batches if len(batch) >= 2 or len(targets) == 1]
    if isinstance(features, torch.Tensor):
        for batch in batches:
            yield (
                features[batch].to(placement.device),
                targets[batch].to(placement.device),
            )
        return
    loader = DataLoader(
        RowsDataset(features, targets),
        batch_sampler=[batch.tolist() for batch in batches],
        collate_fn=whole_batch,
        num_workers=workers,
        pin_memory=placement.pins_memory,
    )
    for inputs, labels in loader:
        yield (
            inputs.to(placement.device, non_blocking=True),
            labels.to(placement.device, non_blocking=True),
        )


def forward_batches(
    model: nn.Module, features: Features, size: int, placement: Placement
) -> torch.Tensor:
    """``model``'s float32 outputs for every row of ``features``, on the CPU, ``size`` at a time."""
    outputs = []
    with torch.inference_mode(), placement.autocast():
        for rows in features.split(size):
            outputs.append(model(rows.to(placement.device)).float().cpu())
    return torch.cat(outputs)


class GradientStep:
    """Backward pass and optimizer step: loss scaling for float16, gradient clipping, and the
    learning-rate schedule stepped after every optimizer step."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        placement: Placement,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
        grad_clip: float | None = None,
    ) -> None:
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.grad_clip = grad_clip
        self.scaler = placement.grad_scaler()

    def __call__(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.grad_clip is not None:
            self.scaler.unscale_(self.optimizer)
            parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
            nn.utils.clip_grad_norm_(parameters, self.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
