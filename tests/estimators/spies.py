"""A spy on the networks that estimators build: where their parameters and batches are, and in
what precision their forward passes run. Importable by name from the tests of every estimator."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
import torch
from torch import nn

import rlnas.estimators.shared_weights
import rlnas.estimators.training


@dataclass
class Forward:
    """What one forward pass saw."""

    input_device: torch.device
    parameter_device: torch.device
    autocast: torch.dtype | None
    inputs: torch.Tensor
    train_mode: bool


@dataclass
class NetworkSpy:
    forwards: list[Forward] = field(default_factory=list)

    def hook(self, module: nn.Module, arguments: tuple) -> None:
        (inputs,) = arguments
        if not isinstance(inputs, torch.Tensor) or torch.jit.is_tracing():
            return  # an export traces the model: not a forward pass
        device = inputs.device.type
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else None
        parameter = next(module.parameters())
        forward = Forward(inputs.device, parameter.device, dtype, inputs.detach(), module.training)
        self.forwards.append(forward)

    @property
    def training(self) -> list[Forward]:
        """The forward passes in training mode (FLOPs and latency run in eval mode)."""
        return [forward for forward in self.forwards if forward.train_mode]

    @property
    def scoring(self) -> list[Forward]:
        """The forward passes in eval mode on more than one row (validation, test)."""
        return [f for f in self.forwards if not f.train_mode and len(f.inputs) > 1]


def spy_on_networks(monkeypatch: pytest.MonkeyPatch) -> NetworkSpy:
    """Every network that full training and the shared-weight estimators build is watched."""
    spy = NetworkSpy()
    for module in (rlnas.estimators.training, rlnas.estimators.shared_weights):
        build = module.build_model

        def watched(*arguments, _build=build, **options) -> nn.Module:
            model = _build(*arguments, **options)
            model.register_forward_pre_hook(spy.hook)
            return model

        monkeypatch.setattr(module, "build_model", watched)
    return spy


def fake_gpus(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Make torch report ``count`` CUDA devices (nothing runs on them)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
