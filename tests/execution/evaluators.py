"""Evaluators for executor and resume tests: importable by name, so worker processes can load them.

Every one scores the toy space the same way (one decision's option 'a' is best), so trials from
different executors can be compared; the faulty one misbehaves on purpose for chosen options.
"""

from __future__ import annotations

import math
import os
import pickle
import time

from rlnas.devices import DeviceSettings
from rlnas.space import Architecture, Choice, SearchSpace


def toy_space() -> SearchSpace:
    """Four decisions of four options: 256 architectures."""
    return SearchSpace([Choice(f"x{i}", ["a", "b", "c", "d"]) for i in range(4)], name="toy")


def score(architecture: Architecture) -> dict[str, float]:
    """Higher for more 'a's, with a distinct fraction per architecture so the best is unique."""
    values = list(architecture.choices.values())
    ties = sum(i * "abcd".index(v) for i, v in enumerate(values)) / 100
    return {"accuracy": values.count("a") - ties}


class Sleepy:
    """Takes ``delay`` seconds per evaluation, so that a run can be killed half way."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def __call__(self, architecture: Architecture) -> dict[str, float]:
        time.sleep(self.delay)
        return score(architecture)


FAULTS = {"b": "raise", "c": "nan", "d": "hang"}


class Faulty:
    """Misbehaves by decision x0's option (see FAULTS); dies when x1 is ``die_on``."""

    def __init__(self, die_on: str | None = None) -> None:
        self.die_on = die_on

    def __call__(self, architecture: Architecture) -> dict[str, float]:
        option = architecture.choices["x0"]
        if architecture.choices["x1"] == self.die_on:
            os._exit(3)  # the worker process vanishes, as under the out-of-memory killer
        fault = FAULTS.get(option)
        if fault == "raise":
            raise RuntimeError("injected failure")
        if fault == "nan":
            return {"accuracy": math.nan}
        if fault == "hang":
            time.sleep(600)
        return score(architecture)


class DeviceReporter:
    """An evaluator that runs on a device (``rlnas.devices.UsesDevice``) and reports which: the
    GPU index it was placed on (-1 for none) and its process, after ``delay`` seconds so that
    every worker takes a trial."""

    def __init__(self, devices: DeviceSettings | None = None, delay: float = 0.5) -> None:
        self.devices = devices or DeviceSettings()
        self.delay = delay

    def with_devices(self, devices: DeviceSettings) -> DeviceReporter:
        return DeviceReporter(devices, self.delay)

    def __call__(self, architecture: Architecture) -> dict[str, float]:
        time.sleep(self.delay)
        device = self.devices.device
        gpu = float(device.partition(":")[2]) if device.startswith("cuda:") else -1.0
        return {"accuracy": 1.0, "gpu": gpu, "pid": float(os.getpid())}


def ray_resources(architecture: Architecture) -> dict[str, float]:
    """The CPUs and GPUs Ray gave the actor this runs on."""
    import ray

    assigned = ray.get_runtime_context().get_assigned_resources()
    return {"accuracy": 1.0, "cpus": assigned.get("CPU", 0.0), "gpus": assigned.get("GPU", 0.0)}


def quality(architecture: Architecture) -> float:
    """The final accuracy of a candidate with known curves: option ``q``'s value if it has one,
    else ``score`` scaled into (0, 1)."""
    if "q" in architecture.choices:
        return float(architecture.choices["q"])
    return (score(architecture)["accuracy"] + 1) / 6


class Curves:
    """A ``FidelityEvaluator`` whose learning curves are known: ``quality * (1 - 0.5**epoch)``.

    Its state is (epochs reached, epochs trained in all), so the metric ``trained`` counts the
    epochs that a candidate really trained over all its jobs (a restart would count again), and
    a state that does not continue its own job fails the trial. ``delay`` seconds per epoch.
    """

    def __init__(self, epochs: int = 9, delay: float = 0.0) -> None:
        self.epochs = epochs
        self.delay = delay

    def __call__(self, architecture: Architecture) -> dict[str, float]:
        return dict(self.train_to(architecture, self.epochs).metrics)

    def train_to(self, architecture: Architecture, epochs: int, state: bytes | None = None):
        from rlnas.evaluator import Progress

        start, trained, key = (0, 0, architecture.key) if state is None else pickle.loads(state)
        if key != architecture.key or not start < epochs <= self.epochs:
            raise ValueError(f"cannot continue from epoch {start} of {key} to {epochs}")
        time.sleep(self.delay * (epochs - start))
        value = quality(architecture)
        curve = tuple({"accuracy": value * (1 - 0.5**e)} for e in range(1, epochs + 1))
        trained += epochs - start
        metrics = {"accuracy": curve[-1]["accuracy"], "epochs": float(epochs), "trained": trained}
        return Progress(metrics, curve, pickle.dumps((epochs, trained, architecture.key)))
