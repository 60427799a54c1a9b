"""One GPU per concurrent trial: process workers get their own device, Ray actors resources."""

from __future__ import annotations

import pytest
import torch
from evaluators import DeviceReporter, ray_resources, score
from test_executors import architectures, run_all

import rlnas
from rlnas.devices import DeviceSettings, worker_devices
from rlnas.errors import UserError
from rlnas.execution import make_executor
from rlnas.execution.process import devices_of_workers
from rlnas.execution.settings import ExecutionSettings

OBJECTIVE = rlnas.Objective("accuracy")


def fake_gpus(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)


def test_workers_take_the_visible_gpus_in_turn() -> None:
    assert worker_devices("auto", 5, 2) == ["cuda:0", "cuda:1", "cuda:0", "cuda:1", "cuda:0"]
    assert worker_devices("cuda", 2, 4) == ["cuda:0", "cuda:1"]
    assert worker_devices("auto", 2, 0) == [None, None]  # no GPU: auto stays auto
    for fixed in ("cpu", "cuda:1", "mps"):
        assert worker_devices(fixed, 3, 2) == [None, None, None]


def test_only_an_evaluator_that_uses_a_device_is_placed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_gpus(monkeypatch, 3)
    assert devices_of_workers(DeviceReporter(), 2) == ["cuda:0", "cuda:1"]
    assert devices_of_workers(DeviceReporter(DeviceSettings(device="cpu")), 2) == [None, None]
    assert devices_of_workers(score, 2) == [None, None]


def test_each_process_worker_trains_on_its_own_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_gpus(monkeypatch, 2)  # in this process; the workers only receive their device names
    with make_executor("process", workers=2) as executor:
        executor.start(DeviceReporter(delay=0.5), OBJECTIVE)
        trials = run_all(executor, architectures(4)).values()
    gpu_of_worker = {trial.metrics["pid"]: set() for trial in trials}
    for trial in trials:
        assert not trial.failed, trial.error
        gpu_of_worker[trial.metrics["pid"]].add(trial.metrics["gpu"])
    assert sorted(gpu_of_worker.values()) == [{0.0}, {1.0}]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_gpus_process_workers_keep_the_setting() -> None:
    with make_executor("process", workers=2) as executor:
        executor.start(DeviceReporter(delay=0.0), OBJECTIVE)
        trials = run_all(executor, architectures(2)).values()
    assert {trial.metrics["gpu"] for trial in trials} == {-1.0}


def test_ray_resources_are_settings_of_the_ray_executor_only() -> None:
    settings = ExecutionSettings(executor="ray", workers=2, gpus_per_trial=0.5, cpus_per_trial=2)
    executor = make_executor("ray", 2, **settings.executor_options(None))
    # a fractional GPU: two trials share one; building the request starts no actor
    assert executor.actor_options() == {"num_cpus": 2.0, "num_gpus": 0.5}
    assert make_executor("ray", 2).actor_options() == {"num_cpus": 1.0, "num_gpus": 0.0}
    with pytest.raises(UserError, match="ray executor only"):
        ExecutionSettings(executor="process", gpus_per_trial=1).executor_options(None)
    with pytest.raises(UserError, match="gpus_per_trial"):
        ExecutionSettings(gpus_per_trial=-1)


@pytest.mark.slow  # starting Ray takes several seconds
def test_ray_actors_get_the_cpus_and_gpus_they_ask_for(tmp_path) -> None:
    ray = pytest.importorskip("ray")
    from rlnas.execution.ray_cluster import start_local_ray

    start_local_ray(workers=1, temp_dir=tmp_path / "ray", cpus_per_worker=2)
    try:
        with make_executor("ray", 1, gpus_per_trial=0, cpus_per_trial=2) as executor:
            executor.start(ray_resources, OBJECTIVE)
            (trial,) = run_all(executor, architectures(1)).values()
    finally:
        ray.shutdown()
    assert not trial.failed, trial.error
    assert (trial.metrics["cpus"], trial.metrics["gpus"]) == (2.0, 0.0)
