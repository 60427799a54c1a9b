"""Data read from files: image folders and memory-mapped .npy arrays, searched, trained and
exported end to end; the on-disk path trains through a DataLoader like the in-memory one."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import rlnas
import rlnas.estimators.stepping
from rlnas.devices import DeviceSettings
from rlnas.errors import UserError
from rlnas.estimators.training import TrainingEvaluator
from rlnas.tasks import load_task
from rlnas.tasks.files import npy_task
from rlnas.tasks.images import folder_task
from rlnas.tasks.rows import MappedRows

PATTERNS = ("rows", "columns", "blank")


def pattern(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """A gray image of stripes along rows or columns, or none, with noise: easy to tell apart."""
    image = rng.integers(0, 60, (size, size))
    if kind == "rows":
        image[::2] += 180
    elif kind == "columns":
        image[:, ::2] += 180
    return image.clip(0, 255).astype(np.uint8)


def write_folder(root: Path, size: int = 10, per_class: int = 15, rgb: bool = False) -> Path:
    rng = np.random.default_rng(0)
    for kind in PATTERNS:
        (root / kind).mkdir(parents=True)
        for i in range(per_class):
            pixels = pattern(kind, size, rng)
            image = Image.fromarray(pixels, "L")
            if rgb:
                image = image.convert("RGB")
            image.save(root / kind / f"{i}.{'jpg' if rgb and i % 2 else 'png'}")
    return root


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_folder(tmp_path_factory.mktemp("images") / "patterns")


def test_a_folder_of_pngs_is_a_classification_task_that_records_its_size(folder: Path) -> None:
    task = load_task(f"folder:{folder}")
    assert task.name == f"folder:{folder}@10x10" and task.classes == tuple(sorted(PATTERNS))
    assert (task.kind, task.input_shape, task.n_outputs, task.in_memory) == (
        "classification",
        (1, 10, 10),
        3,
        True,
    )
    resized = load_task(f"folder:{folder}@6x8")
    assert resized.name == f"folder:{folder}@6x8" and resized.input_shape == (1, 6, 8)
    assert load_task(resized.name).input_shape == (1, 6, 8)  # the recorded name reads the same


def test_colour_images_are_read_as_rgb(tmp_path: Path) -> None:
    task = load_task(f"folder:{write_folder(tmp_path / 'rgb', rgb=True)}")
    assert task.input_shape == (3, 10, 10) and task.feature_mean.shape == (3, 1, 1)


def test_bad_folders_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a folder"):
        load_task(f"folder:{tmp_path / 'missing'}")
    (tmp_path / "one" / "only").mkdir(parents=True)
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "one" / "only" / "a.png")
    with pytest.raises(UserError, match="at least two subfolders"):
        load_task(f"folder:{tmp_path / 'one'}")
    with pytest.raises(UserError, match=r"X\.npy"):
        load_task(f"npy:{tmp_path}")


def _raw_test_images(folder: Path, task) -> torch.Tensor:
    """The test split's images as Pillow reads them, before any standardization."""
    files = sorted(f for kind in sorted(PATTERNS) for f in (folder / kind).iterdir())
    files = [files[i] for i in task.indices["test"]]
    return torch.tensor(
        np.stack([np.asarray(Image.open(f))[None] for f in files]), dtype=torch.float32
    )


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_a_folder_task_is_searched_trained_and_exported(folder: Path, tmp_path: Path) -> None:
    from rlnas.export import train_final

    task = load_task(f"folder:{folder}")
    evaluator = TrainingEvaluator(task, "chain-cnn", epochs=3)
    store = tmp_path / "runs.db"
    result = rlnas.search(
        evaluator.search_space(),
        evaluator,
        "random",
        metric="accuracy",
        budget=3,
        seed=1,
        store=store,
        config={"task": task.name, "space": "chain-cnn"},
    )
    assert result.best is not None and result.best.metrics["accuracy"] > 0.5  # chance: 1/3
    final = train_final(store, epochs=5, out_dir=tmp_path / "final")
    assert final.test_metrics["accuracy"] > 0.5
    report = json.loads((tmp_path / "final" / "metrics.json").read_text())
    assert report["task"] == task.name and report["input"]["shape"] == ["batch", 1, 10, 10]
    # the exported model takes pixels as the files hold them
    namespace: dict = {}
    exec((tmp_path / "final" / "model.py").read_text(), namespace)
    model = namespace["load"](tmp_path / "final" / "model.safetensors")
    with torch.no_grad():
        predictions = model(_raw_test_images(folder, task)).argmax(-1)
    accuracy = float((predictions == task.y_test).float().mean())
    assert accuracy == pytest.approx(final.test_metrics["accuracy"])


@pytest.fixture(scope="module")
def arrays(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """X.npy (images of the three patterns, uint8) and y.npy in a folder."""
    rng = np.random.default_rng(1)
    X = np.stack([pattern(kind, 8, rng)[None] for kind in PATTERNS for _ in range(30)])
    y = np.repeat(np.arange(3), 30)
    folder = tmp_path_factory.mktemp("arrays")
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    np.save(folder / "trainX.npy", X)  # a prefix: trainX.npy and trainy.npy
    np.save(folder / "trainy.npy", y)
    return folder


def test_a_large_npy_array_stays_on_disk_with_the_same_split_and_normalization(
    arrays: Path,
) -> None:
    in_memory = load_task(f"npy:{arrays}")
    mapped = npy_task(arrays, in_memory_bytes=0)
    assert in_memory.in_memory and not mapped.in_memory
    assert isinstance(mapped.X_train, MappedRows)
    assert isinstance(mapped.X_train.source.array, np.memmap)
    for split in ("train", "val", "test"):
        assert np.array_equal(in_memory.indices[split], mapped.indices[split])
    assert torch.equal(in_memory.feature_mean, mapped.feature_mean)
    assert torch.equal(in_memory.feature_std, mapped.feature_std)
    assert torch.equal(in_memory.X_val, torch.cat(list(mapped.X_val.split(7))))
    assert torch.equal(in_memory.y_train, mapped.y_train)
    assert load_task(f"npy:{arrays}/train").input_shape == (1, 8, 8)


def test_statistics_are_computed_in_chunks(arrays: Path, monkeypatch) -> None:
    import rlnas.tasks.rows

    whole = npy_task(arrays, in_memory_bytes=0)
    monkeypatch.setattr(rlnas.tasks.rows, "STATISTICS_CHUNK", 5)
    chunked = npy_task(arrays, in_memory_bytes=0)
    assert torch.allclose(whole.feature_mean, chunked.feature_mean, rtol=1e-6)
    assert torch.allclose(whole.feature_std, chunked.feature_std, rtol=1e-6)


def test_rows_on_disk_train_through_a_data_loader_like_rows_in_memory(
    arrays: Path, monkeypatch
) -> None:
    loaders = []
    original = rlnas.estimators.stepping.DataLoader

    def recording(*arguments, **options):
        loaders.append(options)
        return original(*arguments, **options)

    monkeypatch.setattr(rlnas.estimators.stepping, "DataLoader", recording)
    in_memory = load_task(f"npy:{arrays}")
    mapped = npy_task(arrays, in_memory_bytes=0)
    space = TrainingEvaluator(in_memory, "chain-cnn").search_space()
    architecture = space.sample(np.random.default_rng(2))
    fast = TrainingEvaluator(in_memory, "chain-cnn", epochs=2)(architecture)
    assert loaders == []
    slow = TrainingEvaluator(mapped, "chain-cnn", epochs=2)(architecture)
    assert len(loaders) == 2 and loaders[0]["pin_memory"] is False  # one per epoch; no CUDA
    # the same batches in the same order: the same network
    assert slow["accuracy"] == fast["accuracy"] and slow["params"] == fast["params"]
    workers = DeviceSettings(device="cpu", data_workers=1)
    with_workers = TrainingEvaluator(mapped, "chain-cnn", epochs=2, devices=workers)(architecture)
    assert loaders[-1]["num_workers"] == 1 and with_workers["accuracy"] == fast["accuracy"]


def test_a_task_on_disk_pickles_without_its_rows(arrays: Path) -> None:
    mapped = npy_task(arrays, in_memory_bytes=0)
    copy = pickle.loads(pickle.dumps(mapped))
    assert len(pickle.dumps(mapped)) < 20_000  # the rows are not in the pickle
    assert torch.equal(copy.X_test[:5], mapped.X_test[:5])


def test_images_on_disk_give_the_in_memory_normalization(folder: Path) -> None:
    in_memory = folder_task(str(folder))
    on_disk = folder_task(str(folder), in_memory_bytes=0)
    assert not on_disk.in_memory
    assert torch.equal(in_memory.feature_mean, on_disk.feature_mean)
    assert torch.equal(in_memory.X_test, on_disk.X_test[:])


def test_the_problem_records_the_image_size_and_the_recipe(folder: Path) -> None:
    from rlnas.estimators.recipe import TrainingRecipe
    from rlnas.problems import ProblemSettings, load_problem

    context = load_problem(ProblemSettings(task=f"folder:{folder}")).context
    assert context["task"] == f"folder:{folder}@10x10"
    assert TrainingRecipe(**context["recipe"]) == TrainingRecipe()
    assert not {"batch_size", "lr", "weight_decay", "patience"} & set(context)
