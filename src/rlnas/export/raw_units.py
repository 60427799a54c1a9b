"""A trained network wrapped so that it reads raw features and predicts in the target's units.

The search trains on standardized features (and, for regression, a standardized target), so the
bare network is only right for inputs that went through the task's statistics. The wrapper keeps
those statistics as persistent buffers: they are saved with the weights and rebuilt by every
exported format, so a user feeds the model data as it comes.
"""

from __future__ import annotations

import torch
from torch import nn

from rlnas.tasks import Task


class RawUnitsModel(nn.Module):
    """``network`` between the task's input standardization and, for regression, the inverse
    standardization of its output: ``network((x - feature_mean) / feature_std)``, then
    ``* target_std + target_mean`` when the task is a regression."""

    def __init__(self, network: nn.Module, task: Task) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("feature_mean", task.feature_mean.detach().clone().float())
        self.register_buffer("feature_std", task.feature_std.detach().clone().float())
        # A plain bool: torch.fx reads it while tracing, so the exported graphs hold no branch.
        self.rescales_output = task.kind == "regression"
        if self.rescales_output:
            self.register_buffer("target_mean", torch.tensor(task.target_mean))
            self.register_buffer("target_std", torch.tensor(task.target_std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output = self.network((x - self.feature_mean) / self.feature_std)
        if self.rescales_output:
            output = output * self.target_std + self.target_mean
        return output


def raw_features(task: Task, standardized: torch.Tensor) -> torch.Tensor:
    """The raw features that standardize to ``standardized`` (up to float32 rounding)."""
    return standardized * task.feature_std + task.feature_mean
