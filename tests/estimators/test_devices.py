"""Devices: auto picks what is there, a missing device is a one-line error, and every place that
trains or scores runs its networks and batches on the device, in the precision asked for."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from spies import fake_gpus, spy_on_networks

from rlnas.devices import DeviceSettings, resolve_device
from rlnas.errors import UserError
from rlnas.estimators import SupernetEvaluator, TrainingEvaluator, WeightSharingEvaluator
from rlnas.settings import SettingError
from rlnas.tasks import load_task

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def digits():
    return load_task("digits")


def test_auto_picks_a_gpu_then_mps_then_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_gpus(monkeypatch, 2)
    assert resolve_device("auto") == torch.device("cuda", 0)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    fake_gpus(monkeypatch, 0)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == CPU


@pytest.mark.parametrize(
    ("device", "gpus", "message"),
    [
        ("cuda:1", 1, "device cuda:1 is not available: this machine has 1 CUDA device"),
        ("cuda", 0, "device cuda is not available: this machine has no CUDA device"),
        ("cuda:2", 2, "this machine has 2 CUDA devices"),
    ],
)
def test_a_missing_device_is_a_one_line_user_error(
    monkeypatch: pytest.MonkeyPatch, device: str, gpus: int, message: str, digits
) -> None:
    fake_gpus(monkeypatch, gpus)
    with pytest.raises(UserError, match=message) as error:
        DeviceSettings(device=device).resolve()
    assert "\n" not in str(error.value)
    with pytest.raises(UserError, match=message):  # at construction, before any search runs
        TrainingEvaluator(digits, "chain-cnn", devices=DeviceSettings(device=device))


def test_bad_device_settings_name_the_setting() -> None:
    with pytest.raises(SettingError, match="'device'"):
        DeviceSettings(device="gpu")
    with pytest.raises(SettingError, match="'precision'"):
        DeviceSettings(precision="fp8")
    assert DeviceSettings(precision=32).precision == "32"  # as a TOML file writes it


@pytest.mark.parametrize("precision", ["32", "bf16"])
def test_full_training_runs_on_the_device_in_the_precision(
    monkeypatch: pytest.MonkeyPatch, digits, precision: str
) -> None:
    spy = spy_on_networks(monkeypatch)
    evaluator = TrainingEvaluator(
        digits,
        "chain-cnn",
        epochs=1,
        data_fraction=0.1,
        devices=DeviceSettings(device="cpu", precision=precision),
    )
    metrics = evaluator(evaluator.search_space().sample(np.random.default_rng(0)))
    assert all(isinstance(value, float) for value in metrics.values())
    expected = None if precision == "32" else torch.bfloat16
    passes = spy.training + spy.scoring
    assert spy.training and spy.scoring
    assert {(f.input_device, f.parameter_device) for f in passes} == {(CPU, CPU)}
    assert {forward.autocast for forward in passes} == {expected}


def test_16_mixed_scales_the_loss(monkeypatch: pytest.MonkeyPatch, digits) -> None:
    scaled = []
    original = torch.amp.GradScaler.scale

    def scale(self, loss):
        scaled.append(self.is_enabled())
        return original(self, loss)

    monkeypatch.setattr(torch.amp.GradScaler, "scale", scale)
    devices = DeviceSettings(device="cpu", precision="16-mixed")
    evaluator = TrainingEvaluator(digits, "chain-cnn", epochs=1, data_fraction=0.1, devices=devices)
    evaluator(evaluator.search_space().sample(np.random.default_rng(1)))
    assert scaled and all(scaled)


@pytest.mark.parametrize("estimator", [WeightSharingEvaluator, SupernetEvaluator])
def test_shared_weight_estimators_run_on_the_device(
    monkeypatch: pytest.MonkeyPatch, digits, estimator
) -> None:
    spy = spy_on_networks(monkeypatch)
    devices = DeviceSettings(device="cpu", precision="bf16")
    evaluator = estimator(digits, "chain-cnn", 3, devices=devices)
    evaluator(evaluator.search_space().sample(np.random.default_rng(0)))
    passes = spy.training + spy.scoring
    assert spy.training and spy.scoring
    assert {(f.input_device, f.parameter_device) for f in passes} == {(CPU, CPU)}
    assert {forward.autocast for forward in passes} == {torch.bfloat16}
    assert all(p.device == CPU for p in evaluator.shared.bank.values())


def test_the_device_is_resolved_where_the_evaluator_runs(monkeypatch: pytest.MonkeyPatch, digits):
    asked = []
    import rlnas.devices

    original = rlnas.devices.resolve_device

    def recording(name: str) -> torch.device:
        asked.append(name)
        return original("cpu")

    monkeypatch.setattr(rlnas.devices, "resolve_device", recording)
    evaluator = TrainingEvaluator(digits, "chain-cnn", epochs=1, data_fraction=0.1)
    moved = evaluator.with_devices(DeviceSettings(device="cuda:3"))
    asked.clear()
    moved(moved.search_space().sample(np.random.default_rng(0)))
    assert asked and set(asked) == {"cuda:3"}
    assert evaluator.devices.device == "auto"  # the original is left as it was


def test_env_make_passes_the_device_through(monkeypatch: pytest.MonkeyPatch) -> None:
    from rlnas.env import make

    spy = spy_on_networks(monkeypatch)
    env = make("wine", device="cpu", precision="bf16", data_fraction=0.5)
    assert env.evaluate.devices.precision == "bf16"
    env.reset(seed=0)
    finished = False
    while not finished:
        _, _, finished, _, _ = env.step(int(np.flatnonzero(env.action_masks())[0]))
    assert {forward.autocast for forward in spy.training} == {torch.bfloat16}
    with pytest.raises(UserError, match="not available"):
        make("wine", device="cuda:7")


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_train_final_trains_on_the_device_and_exports_from_the_cpu(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import rlnas
    from rlnas.export import train_final

    wine = load_task("wine")
    evaluator = TrainingEvaluator(wine, "mlp", epochs=1)
    store = tmp_path / "runs.db"
    config = {"task": "wine", "space": "mlp"}
    rlnas.search(
        evaluator.search_space(), evaluator, "random", budget=1, store=store, config=config
    )
    spy = spy_on_networks(monkeypatch)
    devices = DeviceSettings(device="cpu", precision="bf16")
    final = train_final(store, epochs=1, out_dir=tmp_path / "final", devices=devices)
    assert spy.training and {forward.autocast for forward in spy.training} == {torch.bfloat16}
    assert all(p.device == CPU for p in final.model.parameters())
    assert all(isinstance(value, float) for value in final.test_metrics.values())
    with pytest.raises(UserError, match="not available"):
        train_final(store, epochs=1, out_dir=tmp_path / "x", devices=DeviceSettings(device="mps"))
    assert not (tmp_path / "x").exists()
