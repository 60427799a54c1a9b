"""Export: every written format reproduces the PyTorch model; final training end to end."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rlnas.errors import UserError
from rlnas.export import ExportError, export_model, standalone_source

onnxruntime = pytest.importorskip("onnxruntime")
safetensors_torch = pytest.importorskip("safetensors.torch")


class ResidualCNN(nn.Module):
    """Conv, BatchNorm, pooling, a residual add, a parameter read directly, flatten."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.block = nn.ModuleDict(
            {"conv": nn.Conv2d(8, 8, 3, padding=1, bias=False), "norm": nn.BatchNorm2d(8)}
        )
        self.gate = nn.Parameter(torch.tensor([0.5]))
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(8 * 4 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = F.relu(x + self.gate * self.block["norm"](self.block["conv"](x)))
        return self.head(torch.flatten(self.pool(x), 1))


def mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(10, 32),
        nn.GELU(),
        nn.Dropout(0.3),
        nn.Linear(32, 16),
        nn.Tanh(),
        nn.Linear(16, 1),
    )


def cnn_1d() -> nn.Module:
    return nn.Sequential(
        nn.Conv1d(2, 6, 5, padding=2),
        nn.BatchNorm1d(6),
        nn.ReLU(),
        nn.AvgPool1d(2),
        nn.Conv1d(6, 4, 3),
        nn.AdaptiveAvgPool1d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    )


TOY_MODELS = {
    "residual-cnn": (ResidualCNN, (5, 1, 8, 8)),
    "mlp": (mlp, (7, 10)),
    "cnn-1d": (cnn_1d, (4, 2, 40)),
}


def _trained_like(model: nn.Module, shape: tuple[int, ...]) -> nn.Module:
    """Non-default BatchNorm statistics, so that eval mode and loaded buffers matter."""
    torch.manual_seed(0)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(shape) * 2 + 1)
    return model.eval()


def _run_standalone(directory: Path, inputs: Path, outputs: Path) -> None:
    """Import model.py in a fresh interpreter where importing rlnas fails, and predict."""
    script = textwrap.dedent(
        f"""
        import importlib.util, sys
        sys.modules["rlnas"] = None  # any `import rlnas` now raises ImportError
        import torch
        from safetensors.torch import load_file, save_file
        spec = importlib.util.spec_from_file_location("exported", {str(directory / "model.py")!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = module.load({str(directory / "model.safetensors")!r})
        assert not model.training
        assert not [name for name in sys.modules if name.startswith("rlnas.")]
        with torch.no_grad():
            output = model(load_file({str(inputs)!r})["x"])
        save_file({{"y": output.contiguous()}}, {str(outputs)!r})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=directory, timeout=120)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
@pytest.mark.parametrize("name", TOY_MODELS)
def test_every_format_reproduces_the_model(name: str, tmp_path: Path) -> None:
    build, shape = TOY_MODELS[name]
    model = _trained_like(build(), shape)
    x = torch.randn(shape)
    with torch.no_grad():
        expected = model(x)
    architecture = {"choices": {"toy": name}}

    exported = export_model(model, x, architecture, tmp_path / "out")

    out = tmp_path / "out"
    assert {path.name for path in exported.files} == {
        "architecture.json",
        "model.safetensors",
        "model.torchscript.pt",
        "model.onnx",
        "model.py",
    }
    assert all(value <= 1e-5 for value in exported.differences.values())
    assert json.loads((out / "architecture.json").read_text()) == architecture

    weights = safetensors_torch.load_file(str(out / "model.safetensors"))
    assert weights.keys() == model.state_dict().keys()
    for key, value in model.state_dict().items():
        assert torch.equal(weights[key], value)

    scripted = torch.jit.load(str(out / "model.torchscript.pt"))
    assert torch.allclose(scripted(x), expected, atol=1e-5)

    # ONNX with another batch size than the example: the batch dimension is dynamic.
    batch = torch.randn((3, *shape[1:]))
    session = onnxruntime.InferenceSession(str(out / "model.onnx"))
    (onnx_output,) = session.run(None, {"input": batch.numpy()})
    with torch.no_grad():
        assert np.abs(onnx_output - model(batch).numpy()).max() <= 1e-5

    safetensors_torch.save_file({"x": x}, str(tmp_path / "x.safetensors"))
    _run_standalone(out, tmp_path / "x.safetensors", tmp_path / "y.safetensors")
    standalone = safetensors_torch.load_file(str(tmp_path / "y.safetensors"))["y"]
    assert (standalone - expected).abs().max() <= 1e-5


def test_export_restores_the_training_mode(tmp_path: Path) -> None:
    model = mlp().train()
    export_model(model, torch.randn(2, 10), {}, tmp_path)
    assert model.training


def test_standalone_source_keeps_the_state_dict_keys() -> None:
    model = ResidualCNN()
    namespace: dict = {}
    exec(standalone_source(model, class_name="Rebuilt"), namespace)
    rebuilt = namespace["Rebuilt"]()
    assert list(rebuilt.state_dict()) == list(model.state_dict())
    assert "import rlnas" not in standalone_source(model)
    assert "from rlnas" not in standalone_source(model)


class Branchy(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if x.sum() > 0 else -x


def _tagged_layer() -> nn.Module:
    layer = nn.Dropout(0.1)
    layer.schedule = "cosine"  # an attribute neither its repr nor its constructor records
    return nn.Sequential(layer)


def _with_tensor_constant() -> nn.Module:
    class Shifted(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.shift = torch.ones(3)  # a plain attribute: not in the state_dict

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.shift

    return Shifted()


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (Branchy(), "cannot trace"),
        (_tagged_layer(), "attribute schedule='cosine'"),
        (_with_tensor_constant(), "not a parameter or persistent buffer"),
    ],
)
def test_a_model_the_source_cannot_rebuild_is_refused(model: nn.Module, message: str) -> None:
    with pytest.raises(ExportError, match=message) as raised:
        standalone_source(model)
    assert isinstance(raised.value, UserError)


@pytest.mark.parametrize(
    ("layer", "attribute", "value"),
    [
        # The repr prints the string unquoted: padding=same, padding_mode=reflect.
        (nn.Conv2d(1, 2, 3, padding="same", padding_mode="reflect"), "padding_mode", "reflect"),
        # The repr leaves align_corners out.
        (nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), "align_corners", True),
    ],
)
def test_a_layer_whose_repr_falls_short_is_rebuilt_from_its_attributes(
    layer: nn.Module, attribute: str, value: object
) -> None:
    namespace: dict = {}
    exec(standalone_source(nn.Sequential(layer)), namespace)
    assert getattr(getattr(namespace["Model"](), "0"), attribute) == value


# --- the model spaces ------------------------------------------------------------------------

SPACE_INPUTS = {
    "chain-cnn": (1, 8, 8),
    "cell-cnn": (1, 8, 8),
    "nb201-cell": (3, 12, 12),
    "conv1d": (1, 40),
    "mlp": (3, 4),
}


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
@pytest.mark.parametrize("space_name", SPACE_INPUTS)
def test_sampled_architectures_of_every_model_space_export(space_name: str, tmp_path: Path) -> None:
    models = pytest.importorskip("rlnas.space.models")
    if space_name not in models.MODEL_SPACES:
        pytest.skip(f"model space {space_name} is not registered")
    shape = SPACE_INPUTS[space_name]
    space = models.model_space(space_name, shape)
    rng = np.random.default_rng(0)
    for index in range(2):
        architecture = space.sample(rng)
        torch.manual_seed(index)
        model = _trained_like(models.build_model(space_name, architecture, shape, 3), (4, *shape))
        x = torch.randn((4, *shape))
        exported = export_model(model, x, architecture.to_json(), tmp_path / str(index))
        assert max(exported.differences.values()) <= 1e-5, (architecture, exported.differences)
        _assert_reads_like_written_code(tmp_path / str(index) / "model.py")


def _assert_reads_like_written_code(source: Path) -> None:
    """ruff finds nothing at line length 100, and layers are reached by indexing, not fx's
    ``getattr`` chains or ``add_module`` calls."""
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--line-length", "100"]
    checked = subprocess.run(
        [*ruff, "--select", "E,F,W,I,UP,B", "--target-version", "py311", str(source)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = source.read_text()
    assert "getattr(" not in text and "add_module(" not in text, text


# --- final training -------------------------------------------------------------------------


def _searched_store(directory: Path, task_name: str, space: str = "mlp") -> Path:
    """A store with one experiment searched on ``task_name`` by full training."""
    from rlnas.estimators.training import TrainingEvaluator
    from rlnas.search import search
    from rlnas.tasks import load_task

    task = load_task(task_name)
    evaluator = TrainingEvaluator(task, space=space, epochs=1, seed=3)
    store = directory / "runs.db"
    search(
        evaluator.search_space(),
        evaluator,
        strategy="random",
        metric=task.metric,
        direction=task.direction,
        budget=3,
        seed=3,
        store=store,
        name=f"{task_name}-search",
        config={"task": task_name, "space": space, "epochs": 1},
    )
    return store


@pytest.fixture(scope="module")
def wine_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("rlnas.estimators.training")
    return _searched_store(tmp_path_factory.mktemp("wine"), "wine")


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_train_final_retrains_tests_and_exports_the_best_trial(
    wine_store: Path, tmp_path: Path
) -> None:
    from rlnas.export import train_final
    from rlnas.store import Store
    from rlnas.tasks import load_task

    final = train_final(wine_store, epochs=3, out_dir=tmp_path / "final")

    with Store(wine_store) as store:
        trials = store.trials(store.experiment())
    best = max(trials, key=lambda trial: (trial.reward, -trial.number))
    assert final.trial == best.number
    assert dict(final.architecture) == dict(best.architecture)
    assert set(final.test_metrics) == {"accuracy"}
    assert {path.name for path in final.files} == {
        "architecture.json",
        "model.safetensors",
        "model.torchscript.pt",
        "model.onnx",
        "model.py",
        "metrics.json",
    }
    report = json.loads((tmp_path / "final" / "metrics.json").read_text())
    assert report["trial"] == best.number and report["epochs"] == 3 and report["seed"] == 3
    assert report["test"] == final.test_metrics

    assert report["input"]["shape"] == ["batch", 13] and "raw" in report["input"]["features"]

    # The exported model, fed the raw test rows, scores what train-final reported.
    task = load_task("wine")
    namespace: dict = {}
    exec((tmp_path / "final" / "model.py").read_text(), namespace)
    model = namespace["load"](tmp_path / "final" / "model.safetensors")
    with torch.no_grad():
        predictions = model(_raw_test_rows("wine")).argmax(dim=-1)
    accuracy = float((predictions == task.y_test).float().mean())
    assert accuracy == pytest.approx(final.test_metrics["accuracy"])


def _raw_test_rows(task_name: str) -> torch.Tensor:
    """The task's test rows as scikit-learn ships them, before any standardization."""
    from sklearn import datasets

    from rlnas.tasks import load_task

    loader = {"wine": datasets.load_wine, "diabetes": datasets.load_diabetes}[task_name]
    rows = load_task(task_name).indices["test"]
    return torch.as_tensor(loader().data[rows], dtype=torch.float32)


def _exported_outputs(directory: Path, inputs: torch.Tensor) -> dict[str, torch.Tensor]:
    """The outputs of every exported format on ``inputs``."""
    namespace: dict = {}
    exec((directory / "model.py").read_text(), namespace)
    standalone = namespace["load"](directory / "model.safetensors")
    session = onnxruntime.InferenceSession(str(directory / "model.onnx"))
    (onnx_output,) = session.run(None, {"input": inputs.numpy()})
    with torch.no_grad():
        return {
            "source": standalone(inputs),
            "torchscript": torch.jit.load(str(directory / "model.torchscript.pt"))(inputs),
            "onnx": torch.from_numpy(onnx_output),
        }


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
@pytest.mark.parametrize("task_name", ["wine", "diabetes"])
def test_the_exported_model_takes_raw_features(
    task_name: str, wine_store: Path, tmp_path: Path
) -> None:
    from rlnas.export import train_final
    from rlnas.tasks import load_task

    store = wine_store if task_name == "wine" else _searched_store(tmp_path, task_name)
    final = train_final(store, epochs=2, out_dir=tmp_path / "final")
    task = load_task(task_name)
    with torch.no_grad():
        expected = final.model.network(task.X_test)  # as trained: standardized features
    if task.kind == "regression":
        expected = expected * task.target_std + task.target_mean
    raw = _raw_test_rows(task_name)
    assert not torch.allclose(raw, task.X_test, atol=0.5)  # the rows really are unscaled
    for name, output in _exported_outputs(tmp_path / "final", raw).items():
        assert torch.allclose(output, expected, rtol=1e-4, atol=1e-4), name
        if task.kind == "regression":
            mse = float(((output.squeeze(-1) - task.y_test) ** 2).mean())
            assert mse == pytest.approx(final.test_metrics["mse"], rel=1e-4), name
        else:
            assert torch.equal(output.argmax(-1), expected.argmax(-1)), name


def test_train_final_is_seeded_and_takes_a_chosen_trial(wine_store: Path, tmp_path: Path) -> None:
    from rlnas.export import train_final

    told: list[tuple[str, int, int, Mapping[str, float]]] = []
    first = train_final(
        wine_store, trial=0, epochs=2, out_dir=tmp_path / "a", on_epoch=lambda *e: told.append(e)
    )
    again = train_final(wine_store, trial=0, epochs=2, out_dir=tmp_path / "b")
    # what train-final's progress bar shows: the phase, the epoch, of how many, the loss
    assert [(phase, epoch, of) for phase, epoch, of, _ in told] == [
        ("final training", 1, 2),
        ("final training", 2, 2),
    ]
    assert all(set(scores) == {"loss"} and scores["loss"] > 0 for *_, scores in told)
    assert first.trial == 0
    assert first.test_metrics == again.test_metrics
    weights = [
        (path / "model.safetensors").read_bytes() for path in (tmp_path / "a", tmp_path / "b")
    ]
    assert weights[0] == weights[1]


def test_train_final_on_a_regression_task_reports_mse(tmp_path: Path) -> None:
    pytest.importorskip("rlnas.estimators.training")
    from rlnas.export import train_final

    store = _searched_store(tmp_path, "diabetes")
    final = train_final(store, epochs=2, out_dir=tmp_path / "final")
    assert set(final.test_metrics) == {"mse"}
    report = json.loads((tmp_path / "final" / "metrics.json").read_text())
    assert report["target_std"] > 1  # diabetes progression is in the tens


def _tabular_store(directory: Path) -> Path:
    from rlnas.search import search
    from rlnas.space import Choice, SearchSpace

    store = directory / "tabular.db"
    space = SearchSpace([Choice("width", (1, 2))], name="toy")
    search(
        space,
        lambda a: {"accuracy": 0.5},
        strategy="random",
        budget=1,
        store=store,
        name="toy-search",
        config={"benchmark": "toy"},
    )
    return store


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"name": "missing"}, "no experiment 'missing'"),
        ({"trial": 7}, "has no trial 7"),
    ],
)
def test_train_final_refuses_what_the_store_lacks(
    wine_store: Path, tmp_path: Path, arguments: dict, message: str
) -> None:
    from rlnas.export import train_final

    with pytest.raises(UserError, match=message):
        train_final(wine_store, epochs=1, out_dir=tmp_path, **arguments)


def test_train_final_refuses_a_missing_store_and_a_benchmark_experiment(tmp_path: Path) -> None:
    from rlnas.export import train_final

    with pytest.raises(UserError, match="does not exist"):
        train_final(tmp_path / "nowhere.db", epochs=1, out_dir=tmp_path / "out")
    assert not (tmp_path / "nowhere.db").exists()
    with pytest.raises(UserError, match="searched with --task"):
        train_final(_tabular_store(tmp_path), epochs=1, out_dir=tmp_path / "out")


def _rlnas(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *arguments: str
) -> tuple[int, str, str]:
    """Run the ``rlnas`` entry point in this process: (exit status, stdout, stderr)."""
    from rlnas.cli import main

    monkeypatch.setattr(sys, "argv", ["rlnas", *arguments])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return exited.value.code or 0, captured.out, captured.err


def test_cli_train_final_prints_metrics_and_files(
    wine_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "final"
    status, printed, errors = _rlnas(
        monkeypatch,
        capsys,
        "train-final",
        "--store",
        str(wine_store),
        "--epochs",
        "1",
        "--out",
        str(out),
    )
    assert status == 0, errors
    assert "test: accuracy = " in printed
    for name in ("model.onnx", "model.py", "model.safetensors", "metrics.json"):
        assert str(out / name) in printed.splitlines()
        assert (out / name).is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--name", "missing"), "no experiment 'missing'"),
        (("--trial", "99"), "has no trial 99"),
        (("--store", "nowhere.db"), "store nowhere.db does not exist"),
    ],
)
def test_cli_train_final_reports_a_bad_input_on_one_line(
    wine_store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    arguments: tuple[str, ...],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, errors = _rlnas(
        monkeypatch,
        capsys,
        "train-final",
        "--store",
        str(wine_store),
        "--epochs",
        "1",
        "--out",
        "out",
        *arguments,
    )
    assert status == 2
    assert errors.startswith("error: ") and message in errors
    assert len(errors.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_train_final_without_epochs_stops_early_and_records_the_choice(
    wine_store: Path, tmp_path: Path
) -> None:
    from rlnas.export import train_final
    from rlnas.export.final_training import FINDING, RETRAINING
    from rlnas.store import Store

    seen: dict[str, list[Mapping[str, float]]] = {FINDING: [], RETRAINING: []}
    final = train_final(
        wine_store,
        out_dir=tmp_path / "final",
        on_epoch=lambda phase, epoch, of, scores: seen[phase].append(dict(scores)),
    )

    accuracy = [scores["accuracy"] for scores in seen[FINDING]]
    best = accuracy.index(max(accuracy)) + 1  # the first epoch with the best validation score
    chosen = json.loads((tmp_path / "final" / "metrics.json").read_text())["epochs_chosen_by"]
    assert final.epochs == best == chosen["best_epoch"] == len(seen[RETRAINING])
    assert chosen["epochs_trained"] == len(accuracy) <= best + chosen["patience"]
    assert chosen["validation"] == {"accuracy": pytest.approx(max(accuracy))}
    assert all(set(scores) == {"loss"} for scores in seen[RETRAINING])
    with Store(wine_store, read_only=True) as store:
        recorded = store.experiment().config["final"]
    assert recorded["test"] == pytest.approx(dict(final.test_metrics))
    assert recorded["epochs"] == best


def test_every_exported_file_has_the_same_permissions(tmp_path: Path) -> None:
    exported = export_model(mlp(), torch.randn(2, 10), {}, tmp_path)
    modes = {path.name: path.stat().st_mode & 0o777 for path in exported.files}
    assert len(set(modes.values())) == 1, modes  # model.safetensors is not owner-only


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_a_store_that_cannot_take_the_test_result_only_loses_that_note(
    wine_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    from rlnas.errors import StoreError
    from rlnas.export import train_final
    from rlnas.store import Store

    def refuse(*args, **keywords):
        raise StoreError("the file or its folder is read-only")

    monkeypatch.setattr(Store, "update_config", refuse)
    with caplog.at_level("WARNING"):
        final = train_final(wine_store, epochs=1, out_dir=tmp_path / "final")
    assert (tmp_path / "final" / "metrics.json").is_file() and final.test_metrics
    assert "the test result was not recorded" in caplog.text and "read-only" in caplog.text
