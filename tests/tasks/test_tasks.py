"""Tasks: shapes, fixed splits without leakage, standardization, and the user's own files."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from rlnas.errors import UnknownName, UserError
from rlnas.tasks import TASKS, load_task, make_task
from rlnas.tasks.task import infer_kind

EXPECTED = {
    # name: (kind, input shape, outputs, rows)
    "digits": ("classification", (1, 8, 8), 10, 1797),
    "mnist": ("classification", (1, 28, 28), 10, 5000),
    "mnist1d": ("classification", (1, 40), 10, 5000),
    "breast-cancer": ("binary", (30,), 2, 569),
    "diabetes": ("regression", (10,), 1, 442),
    "wine": ("classification", (13,), 3, 178),
}


def test_every_registered_task_is_checked() -> None:
    assert set(TASKS) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_builtin_task_shapes_and_disjoint_splits(name: str) -> None:
    kind, shape, outputs, rows = EXPECTED[name]
    task = load_task(name)
    assert (task.kind, task.input_shape, task.n_outputs) == (kind, shape, outputs)
    train, val, test = (task.indices[split] for split in ("train", "val", "test"))
    assert len(train) + len(val) + len(test) == rows
    assert abs(len(train) - 0.6 * rows) <= 1 and abs(len(test) - 0.2 * rows) <= 1
    assert not set(train) & set(test) and not set(val) & set(test) and not set(train) & set(val)
    for X, y, split in ((task.X_train, task.y_train, train), (task.X_val, task.y_val, val)):
        assert X.shape == (len(split), *shape) and X.dtype == torch.float32 and len(y) == len(split)
    assert task.X_test.shape == (len(test), *shape)
    expected_dtype = torch.float32 if kind == "regression" else torch.int64
    assert task.y_train.dtype == expected_dtype


def test_split_is_fixed_stratified_and_standardized_on_train_only() -> None:
    first, second = load_task("wine"), load_task("wine")
    assert all(np.array_equal(first.indices[s], second.indices[s]) for s in first.indices)
    for y in (first.y_train, first.y_val, first.y_test):
        shares = torch.bincount(y, minlength=3) / len(y)
        assert torch.allclose(shares, torch.tensor([59, 71, 48]) / 178, atol=0.05)
    assert torch.allclose(first.X_train.mean(0), torch.zeros(13), atol=1e-5)
    assert torch.allclose(first.X_train.std(0, unbiased=False), torch.ones(13), atol=1e-4)
    assert not torch.allclose(first.X_test.mean(0), torch.zeros(13), atol=1e-3)


@pytest.mark.parametrize(("name", "shape"), [("wine", (13,)), ("digits", (1, 1, 1))])
def test_the_kept_statistics_turn_raw_rows_into_the_task_features(
    name: str, shape: tuple[int, ...]
) -> None:
    from sklearn.datasets import load_digits, load_wine

    task = load_task(name)
    raw = {"wine": load_wine, "digits": load_digits}[name]().data
    raw = torch.as_tensor(raw, dtype=torch.float32).reshape(len(raw), *task.input_shape)
    assert task.feature_mean.shape == task.feature_std.shape == shape
    standardized = (raw[task.indices["test"]] - task.feature_mean) / task.feature_std
    assert torch.allclose(standardized, task.X_test, atol=1e-5)


def test_default_metrics_follow_the_kind() -> None:
    assert (load_task("digits").metric, load_task("digits").direction) == ("accuracy", "maximize")
    assert load_task("breast-cancer").metric == "roc_auc"
    assert (load_task("diabetes").metric, load_task("diabetes").direction) == ("mse", "minimize")


def test_mnist1d_leaves_global_random_state_alone() -> None:
    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), np.random.random())
    random.seed(5)
    np.random.seed(5)
    load_task("mnist1d")
    assert (random.random(), np.random.random()) == expected


def test_unknown_task_and_wrong_kind() -> None:
    with pytest.raises(UnknownName, match="digits"):
        load_task("cifar")
    with pytest.raises(UserError, match="regression"):
        load_task("digits", kind="regression")
    with pytest.raises(UserError, match="csv"):
        load_task("digits", target="label")


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (np.array(["a", "b", "a"]), "binary"),
        (np.array(["a", "b", "c"]), "classification"),
        (np.array([0, 1, 2, 1]), "classification"),
        (np.array([0, 1, 1]), "binary"),
        (np.arange(100), "regression"),
        (np.array([0.5, 1.0, 2.5]), "regression"),
    ],
)
def test_kind_inference(values: np.ndarray, kind: str) -> None:
    assert infer_kind(values) == kind


def write_csv(path, header: str | None, rows: list[str]) -> str:
    path.write_text("\n".join(([header] if header else []) + rows) + "\n")
    return str(path)


def table_rows(n: int = 30, label=lambda i: "yes" if i % 2 else "no") -> list[str]:
    return [f"{i},{i * 0.5},{label(i)}" for i in range(n)]


def test_csv_with_header_string_target_is_binary(tmp_path) -> None:
    path = write_csv(tmp_path / "data.csv", "a,b,label", table_rows())
    task = load_task(f"csv:{path}")
    assert (task.kind, task.input_shape, task.n_outputs, task.classes) == (
        "binary",
        (2,),
        2,
        ("no", "yes"),
    )
    assert len(task.indices["test"]) == 6


def test_csv_named_target_and_regression(tmp_path) -> None:
    rows = [f"{i * 0.1:.3f},{i},{i % 3}" for i in range(40)]
    path = write_csv(tmp_path / "data.csv", "y,x1,x2", rows)
    task = load_task(f"csv:{path}", target="y")
    assert (task.kind, task.input_shape, task.n_outputs) == ("regression", (2,), 1)
    last = load_task(f"csv:{path}")  # default target: the last column, 3 integer classes
    assert (last.kind, last.n_outputs) == ("classification", 3)
    assert load_task(f"csv:{path}", kind="regression").kind == "regression"


def test_csv_without_header(tmp_path) -> None:
    path = write_csv(tmp_path / "data.csv", None, table_rows(label=lambda i: str(i % 2)))
    task = load_task(f"csv:{path}")
    assert (task.kind, task.input_shape) == ("binary", (2,))


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        ("a,b,label", table_rows(), "no column 'target'"),
        ("a,b,label", [*table_rows()[:-1], "1,nan,yes"], "NaN"),
        ("a,b,label", [*table_rows()[:-1], "1,,yes"], "not a number"),
        ("a,b,label", [*table_rows()[:-1], "1,x,yes"], "not a number"),
        ("a,b,label", [*table_rows()[:-1], "1,2"], "line 31 has 2 cells"),
        ("a,b,label", table_rows(label=lambda i: "same"), "one class only"),
        ("a,b,label", [], "no data rows"),
        ("a,b,label", table_rows(4), "too few"),
        ("label", ["1", "2"], "at least one feature"),
    ],
)
def test_bad_csv_files_raise_one_line_user_errors(tmp_path, header, rows, message) -> None:
    path = write_csv(tmp_path / "bad.csv", header, rows)
    target = "target" if message.startswith("no column") else None
    with pytest.raises(UserError, match=message) as raised:
        load_task(f"csv:{path}", target=target)
    assert "\n" not in str(raised.value)


def test_missing_and_unreadable_files(tmp_path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_task(f"csv:{tmp_path / 'none.csv'}")
    with pytest.raises(UserError, match="does not exist"):
        load_task(f"npz:{tmp_path / 'none.npz'}")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00not a zip")
    with pytest.raises(UserError, match="NPZ"):
        load_task(f"npz:{garbage}")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(UserError):
        load_task(f"csv:{binary}")


def test_npz_images_and_bad_npz(tmp_path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "images.npz"
    np.savez(path, X=rng.normal(size=(50, 3, 6, 6)), y=np.arange(50) % 5)
    task = load_task(f"npz:{path}")
    assert (task.kind, task.input_shape, task.n_outputs) == ("classification", (3, 6, 6), 5)
    no_y = tmp_path / "no_y.npz"
    np.savez(no_y, X=rng.normal(size=(50, 3)))
    with pytest.raises(UserError, match="arrays named X and y"):
        load_task(f"npz:{no_y}")
    nan = tmp_path / "nan.npz"
    features = rng.normal(size=(50, 3))
    features[7, 1] = np.nan
    np.savez(nan, X=features, y=np.arange(50) % 2)
    with pytest.raises(UserError, match="NaN"):
        load_task(f"npz:{nan}")


def test_rare_class_and_mismatched_lengths() -> None:
    X = np.zeros((20, 2))
    with pytest.raises(UserError, match="each class needs at least 3"):
        make_task("t", X, np.array([0] * 18 + [1, 1]))
    with pytest.raises(UserError, match="one target value per row"):
        make_task("t", X, np.zeros(19))
    with pytest.raises(UserError, match="binary target needs 2 classes"):
        make_task("t", X, np.arange(20) % 4, kind="binary")
