"""``rlnas predict``: an export scores a CSV, an .npy array and an image folder, and refuses data
that does not fit what it was trained on with one line."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from rlnas import cli
from rlnas.export import train_final
from rlnas.export.predict import PredictError, predict

COLUMNS = ["alpha", "beta", "gamma", "delta"]


def _export(directory: Path, task_name: str, space: str) -> tuple[Path, object]:
    """A one-trial search on ``task_name`` and its final training, exported to ``final``."""
    from rlnas.estimators.training import TrainingEvaluator
    from rlnas.search import search
    from rlnas.tasks import load_task

    task = load_task(task_name)
    evaluator = TrainingEvaluator(task, space=space, epochs=1, seed=0)
    store = directory / "runs.db"
    config = {"task": task.name, "space": space, "epochs": 1}
    search(evaluator.search_space(), evaluator, strategy="random", metric=task.metric,
           direction=task.direction, budget=1, seed=0, store=store, config=config)  # fmt: skip
    return directory / "final", train_final(store, epochs=2, out_dir=directory / "final")


@pytest.fixture(scope="module")
def csv_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    folder = tmp_path_factory.mktemp("csv")
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(90, 4)) * [1, 10, 100, 0.1] + [0, 50, -20, 3]
    labels = np.where(rows[:, 0] > 0, "yes", "no")
    data = folder / "train.csv"
    lines = [",".join([*COLUMNS, "label"])]
    lines += [",".join([*(f"{v:.5f}" for v in row), label]) for row, label in zip(rows, labels)]
    data.write_text("\n".join(lines) + "\n")
    export, final = _export(folder, f"csv:{data}", "mlp")
    return export, data, final


@pytest.fixture(scope="module")
def image_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    from PIL import Image

    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(1)
    for label, brightness in (("dark", 40), ("light", 200)):
        (folder / "data" / label).mkdir(parents=True)
        for index in range(10):
            pixels = np.clip(rng.normal(brightness, 20, size=(8, 8)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, mode="L").save(folder / "data" / label / f"{index}.png")
    export, final = _export(folder, f"folder:{folder / 'data'}", "chain-cnn")
    return export, folder / "data", final


def _expected(final, rows: np.ndarray) -> list[str]:
    with torch.no_grad():
        outputs = final.model(torch.as_tensor(rows, dtype=torch.float32))
    return [("no", "yes")[int(i)] for i in outputs.argmax(dim=1)]


def test_a_csv_with_the_feature_columns_in_any_order_is_scored(csv_export, tmp_path) -> None:
    export, data, final = csv_export
    rows = np.loadtxt(data, delimiter=",", skiprows=1, usecols=range(4))
    predictions = predict(export, data)
    assert predictions.predictions == _expected(final, rows)  # the target column is ignored
    assert predictions.classes == ["no", "yes"]
    assert np.allclose(predictions.probabilities.sum(axis=1), 1)
    shuffled = tmp_path / "shuffled.csv"
    lines = data.read_text().splitlines()
    cells = [line.split(",") for line in lines]
    shuffled.write_text("\n".join(",".join([c[3], c[1], c[0], c[2]]) for c in cells) + "\n")
    assert predict(export, shuffled).predictions == predictions.predictions


def test_a_csv_missing_a_trained_column_is_refused_in_one_line(csv_export, tmp_path) -> None:
    export, data, _ = csv_export
    lines = data.read_text().splitlines()
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(",".join(line.split(",")[:2] + line.split(",")[3:]) for line in lines))
    with pytest.raises(PredictError, match="lacks the column\\(s\\) gamma the model was trained"):
        predict(export, cut)


def test_an_npy_of_rows_is_scored_and_a_wrong_shape_refused(csv_export, tmp_path) -> None:
    export, data, final = csv_export
    rows = np.loadtxt(data, delimiter=",", skiprows=1, usecols=range(4))
    np.save(tmp_path / "rows.npy", rows)
    assert predict(export, tmp_path / "rows.npy").predictions == _expected(final, rows)
    np.save(tmp_path / "one.npy", rows[0])
    assert len(predict(export, tmp_path / "one.npy").predictions) == 1  # a single row
    np.save(tmp_path / "wide.npy", np.zeros((3, 5)))
    with pytest.raises(PredictError, match=r"shaped \(3, 5\); the model takes rows shaped \(4,\)"):
        predict(export, tmp_path / "wide.npy")


def test_an_image_folder_is_scored_per_file(image_export) -> None:
    from PIL import Image

    export, data, final = image_export
    predictions = predict(export, data)
    assert predictions.names[0] == "dark/0.png" and len(predictions.names) == 20
    files = sorted(data.rglob("*.png"))
    pixels = np.stack([np.asarray(Image.open(file), dtype=np.float32)[None] for file in files])
    with torch.no_grad():  # the pixels as the files hold them, 0-255, are what the model takes
        expected = torch.softmax(final.model(torch.as_tensor(pixels)).double(), dim=1).numpy()
    assert np.allclose(predictions.probabilities, expected, atol=1e-5)
    assert predictions.predictions == [("dark", "light")[i] for i in expected.argmax(axis=1)]


def test_a_csv_for_an_image_model_is_refused(image_export, csv_export) -> None:
    image_model, _, _ = image_export
    _, data, _ = csv_export
    with pytest.raises(PredictError, match="has 5 columns; the model was trained on 64"):
        predict(image_model, data)


def test_an_image_folder_for_a_csv_model_is_refused(csv_export, image_export) -> None:
    csv_model, _, _ = csv_export
    _, images, _ = image_export
    with pytest.raises(PredictError, match=r"takes rows shaped \(4,\), not images"):
        predict(csv_model, images)


def _rlnas(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    return exit_.value.code or 0, out, err


def test_the_command_prints_a_csv_or_one_error_line(csv_export, monkeypatch, capsys, tmp_path):
    export, data, _ = csv_export
    code, out, err = _rlnas(["predict", str(export), str(data)], monkeypatch, capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "row,prediction,p(no),p(yes)" and len(lines) == 1 + 90
    written = tmp_path / "predictions.csv"
    code, _, err = _rlnas(
        ["predict", str(export), str(data), "-o", str(written)], monkeypatch, capsys
    )
    assert code == 0 and written.read_text().splitlines() == lines
    np.save(tmp_path / "wide.npy", np.zeros((3, 5)))
    code, out, err = _rlnas(
        ["predict", str(export), str(tmp_path / "wide.npy")], monkeypatch, capsys
    )
    assert code == 2 and out == ""
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_metrics_json_says_the_input_units_and_the_split(image_export, csv_export) -> None:
    import json

    from rlnas.store import Store
    from rlnas.tasks import load_task
    from rlnas.tasks.split import split_record

    image_model, data, _ = image_export
    described = json.loads((image_model / "metrics.json").read_text())
    assert described["input"]["units"].startswith("pixel values 0-255")
    assert described["kind"] == "binary" or described["kind"] == "classification"
    task = load_task(f"folder:{data}")
    split = described["split"]
    assert split["rows"]["test"] == [int(row) for row in task.indices["test"]]
    assert split["test"] == split_record(task.indices)["test"]
    assert "seed 0" in split["rule"] and "sorted by path" in split["rule"]
    csv_model, _, _ = csv_export
    units = json.loads((csv_model / "metrics.json").read_text())["input"]["units"]
    assert "CSV's feature columns" in units
    with Store(csv_model.parent / "runs.db", read_only=True) as store:
        recorded = store.experiment().config
    assert recorded["final"]["test"]  # train-final's test result, kept for the report
