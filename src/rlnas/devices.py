"""Where networks train and score, and in what precision: one settings group, resolved once.

``device`` is ``auto`` (a CUDA GPU when there is one, else Apple's ``mps``, else the CPU),
``cpu``, ``cuda``, ``cuda:N`` or ``mps``; ``precision`` is ``32`` (float32), ``bf16`` (autocast
to bfloat16; no loss scaling is needed, since bfloat16 keeps float32's range) or ``16-mixed``
(autocast to float16 with a ``torch.amp.GradScaler``, which float16's narrow range needs). A
device that is not there is a ``UserError`` when the settings are resolved, before a search
stores anything. torch is imported only when a device is resolved, so table searches never load it.

Reproducibility. Seeds stay explicit (every estimator seeds its own forked random state; data
order and augmentation draw from CPU generators, so they are the same on every device). On the
CPU the same seed gives bit-identical metrics. On a GPU, the same seed on the same GPU model,
driver and torch build gives the same data order, initialization and augmentation, but not
always bit-identical weights: cuDNN picks convolution algorithms by benchmark and several CUDA
kernels (scatter-adds, the backward of pooling and interpolation) add in a nondeterministic
order. Metrics then differ in the last digits, and reduced precision (bf16, 16-mixed) widens
that. Results differ between a CPU and a GPU run of the same seed. rlnas does not call
``torch.use_deterministic_algorithms``: it is global state, and it makes some kernels refuse to
run; a user who needs bit-identical GPU runs can set it (and ``CUBLAS_WORKSPACE_CONFIG``) first.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, Self, runtime_checkable

from pydantic import Field, field_validator

from rlnas.errors import UserError
from rlnas.settings import Settings

if TYPE_CHECKING:
    import torch

Precision = Literal["32", "bf16", "16-mixed"]
DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?|mps)$"


class DeviceSettings(Settings):
    """The device and precision of every network that trains or scores (see ``rlnas.devices``)."""

    device: str = Field(
        "auto",
        pattern=DEVICE_PATTERN,
        description="auto, cpu, cuda, cuda:N or mps (auto: a GPU when there is one).",
    )
    precision: Precision = Field(
        "32", description="32 (float32), bf16 or 16-mixed (float16 with loss scaling)."
    )
    data_workers: int = Field(
        0,
        ge=0,
        description="DataLoader worker processes for data sets read from files (0: none).",
    )

    @field_validator("precision", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def resolve(self) -> Placement:
        """The device these settings name on this machine; a UserError if it is not there."""
        return Placement(resolve_device(self.device), self.precision)


@dataclass(frozen=True)
class Placement:
    """A resolved device and precision: moves tensors there and runs forward passes in autocast."""

    device: torch.device
    precision: Precision = "32"

    def autocast(self) -> AbstractContextManager[Any]:
        """Autocast to the reduced precision, or nothing for float32."""
        import torch

        if self.precision == "32":
            return nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def grad_scaler(self) -> torch.amp.GradScaler:
        """A loss scaler for float16 training; a disabled one (a no-op) otherwise."""
        import torch

        return torch.amp.GradScaler(self.device.type, enabled=self.precision == "16-mixed")

    @property
    def pins_memory(self) -> bool:
        """Whether a DataLoader should pin its batches (it speeds up copies to a CUDA device)."""
        return self.device.type == "cuda"


def cpu_placement() -> Placement:
    """Float32 on the CPU: what a caller without device settings gets."""
    import torch

    return Placement(torch.device("cpu"), "32")


def resolve_device(name: str) -> torch.device:
    """``name`` (auto, cpu, cuda, cuda:N, mps) as a torch device that exists on this machine."""
    import torch

    if not re.match(DEVICE_PATTERN, name):
        raise UserError(f"unknown device {name!r}; choose auto, cpu, cuda, cuda:N or mps")
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not _mps_available():
            raise UserError("device mps is not available: this machine has no Apple GPU")
        return torch.device("mps")
    index = int(name.partition(":")[2] or 0)
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if index >= count:
        have = f"{count} CUDA device{'' if count == 1 else 's'}" if count else "no CUDA device"
        raise UserError(f"device {name} is not available: this machine has {have}")
    return torch.device("cuda", index)


def visible_gpus() -> int:
    """The CUDA devices this process sees (0 without CUDA)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def worker_devices(setting: str, workers: int, gpus: int) -> list[str | None]:
    """The device of each of ``workers`` worker processes: round-robin over ``gpus`` GPUs.

    Worker i gets ``cuda:(i mod gpus)`` when ``setting`` is ``auto`` or ``cuda`` and there are
    GPUs; otherwise None, meaning the worker keeps ``setting`` (``cpu``, ``mps``, an explicit
    ``cuda:N``, or ``auto`` on a machine without a GPU).
    """
    if setting not in ("auto", "cuda") or gpus < 1:
        return [None] * workers
    return [f"cuda:{i % gpus}" for i in range(workers)]


@runtime_checkable
class UsesDevice(Protocol):
    """An evaluator whose networks run on a device it can be moved to (``TrainingEvaluator``).

    Executors that give each worker its own GPU, and ``rlnas.env.make``, place it with
    ``with_devices``; other evaluators run wherever they run.
    """

    devices: DeviceSettings

    def with_devices(self, devices: DeviceSettings) -> Self:
        """A copy of this evaluator that trains and scores with ``devices``."""
        ...


def place(evaluate: Any, device: str | None) -> Any:
    """``evaluate`` moved to ``device`` when it uses a device and ``device`` is given."""
    if device is None or not isinstance(evaluate, UsesDevice):
        return evaluate
    return evaluate.with_devices(evaluate.devices.replaced(device=device))


def _mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())
