"""The training recipe: optimizer, learning-rate schedule, regularization and image augmentation.

The defaults are the recipe every search used before it was a setting (Adam at 3e-3, batches of
64, a constant rate, nothing else), so stored results keep their meaning. The standard recipe
for CIFAR-style image search (NAS-Bench-201, Dong & Yang, ICLR 2020) is one setting each away:
``optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4, schedule="cosine",
crop_padding=4, horizontal_flip=True``. Optimizers and schedules are torch's own; a recipe is
recorded with an experiment (``model_dump(mode="json")``) and rebuilt by ``train_final``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Self

from pydantic import Field, model_validator

from rlnas.settings import Settings

EPOCHS = 10
"""The epochs a candidate trains by default: the one default of ``epochs`` (the settings'
field and ``TrainingEvaluator`` both read it)."""

if TYPE_CHECKING:  # torch loads when a recipe trains, not when the settings are read
    import torch
    from torch import nn
    from torch.optim import lr_scheduler


class TrainingRecipe(Settings):
    """How a network is trained: by ``TrainingEvaluator`` in a search and by ``train_final``."""

    optimizer: Literal["adam", "adamw", "sgd"] = Field("adam", description="adam, adamw or sgd.")
    lr: float = Field(3e-3, gt=0, description="Peak learning rate.")
    momentum: float = Field(0.9, ge=0, lt=1, description="Momentum of sgd (others: unused).")
    nesterov: bool = Field(False, description="Nesterov momentum for sgd.")
    weight_decay: float = Field(0.0, ge=0, description="L2 penalty (adamw: decoupled decay).")
    batch_size: int = Field(64, ge=1, description="Training rows per step.")
    schedule: Literal["constant", "cosine"] = Field(
        "constant", description="Learning rate after warm-up: constant, or cosine decay to 0."
    )
    warmup_epochs: int = Field(
        0, ge=0, description="Epochs of linear warm-up from lr/10 to lr (0: none)."
    )
    label_smoothing: float = Field(
        0.0, ge=0, lt=1, description="Label smoothing of the classification loss."
    )
    grad_clip: float | None = Field(
        None, gt=0, description="Clip the gradients' total norm to this (default: no clipping)."
    )
    patience: int | None = Field(
        None, ge=1, description="Stop after this many epochs without a better validation score."
    )
    crop_padding: int = Field(
        0, ge=0, description="Image tasks: random crops after zero padding by this many pixels."
    )
    horizontal_flip: bool = Field(False, description="Image tasks: flip half the images.")

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> Self:
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ValueError("nesterov applies to the sgd optimizer with a momentum above 0")
        return self

    def build_optimizer(self, parameters: list[nn.Parameter]) -> torch.optim.Optimizer:
        """The optimizer of this recipe over ``parameters``."""
        import torch

        if self.optimizer == "sgd":
            return torch.optim.SGD(
                parameters,
                lr=self.lr,
                momentum=self.momentum,
                nesterov=self.nesterov,
                weight_decay=self.weight_decay,
            )
        optimizer = torch.optim.AdamW if self.optimizer == "adamw" else torch.optim.Adam
        return optimizer(parameters, lr=self.lr, weight_decay=self.weight_decay)

    def build_scheduler(
        self, optimizer: torch.optim.Optimizer, epochs: int, steps_per_epoch: int
    ) -> lr_scheduler.LRScheduler:
        """The schedule, stepped after every optimizer step: warm-up, then constant or cosine."""
        from torch.optim import lr_scheduler

        total = max(1, epochs * steps_per_epoch)
        warmup = min(total - 1, self.warmup_epochs * steps_per_epoch)
        if self.schedule == "cosine":
            after: lr_scheduler.LRScheduler = lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=total - warmup
            )
        else:
            after = lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
        if warmup <= 0:
            return after
        ramp = lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=warmup)
        return lr_scheduler.SequentialLR(optimizer, [ramp, after], milestones=[warmup])

    @property
    def augments(self) -> bool:
        return self.crop_padding > 0 or self.horizontal_flip

    def augment(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Random crops of the zero-padded images and horizontal flips, for a batch of images
        (rank 4: batch, channels, height, width); other inputs come back unchanged.

        Random numbers come from the CPU ``generator``, so the same seed augments alike on every
        device. Zero is the training rows' mean once the features are standardized.
        """
        import torch
        from torch import nn

        if images.ndim != 4 or not self.augments:
            return images
        count, _, height, width = images.shape
        if self.horizontal_flip:
            flip = (torch.rand(count, generator=generator) < 0.5).to(images.device)
            images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        if self.crop_padding > 0:
            pad = self.crop_padding
            padded = nn.functional.pad(images, (pad, pad, pad, pad))
            shifts = torch.randint(0, 2 * pad + 1, (2, count), generator=generator)
            rows = (shifts[0, :, None] + torch.arange(height)).to(images.device)
            columns = (shifts[1, :, None] + torch.arange(width)).to(images.device)
            batch = torch.arange(count, device=images.device)[:, None, None, None]
            channels = torch.arange(images.shape[1], device=images.device)[None, :, None, None]
            images = padded[batch, channels, rows[:, None, :, None], columns[:, None, None, :]]
        return images
