"""The fixed split: the same rows as scikit-learn's train_test_split, recorded by hash."""

from __future__ import annotations

import numpy as np
import pytest

from rlnas.errors import UserError
from rlnas.tasks.split import split_indices, split_record


def _sklearn_split(target: np.ndarray, stratified: bool, seed: int):
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(target))
    stratify = target if stratified else None
    train, rest = train_test_split(rows, test_size=0.4, random_state=seed, stratify=stratify)
    val, test = train_test_split(
        rest, test_size=0.5, random_state=seed, stratify=None if stratify is None else target[rest]
    )
    return np.sort(train), np.sort(val), np.sort(test)


@pytest.mark.parametrize("seed", [0, 1, 7])
@pytest.mark.parametrize(
    "counts", [[10, 10], [5, 50], [5, 7, 11, 13], [100, 6, 4, 40, 9], [179] * 10, [6, 6, 6]]
)
def test_the_stratified_split_is_scikit_learns(counts: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    target = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    ours = split_indices("t", target, "classification", seed)
    for got, expected in zip(ours, _sklearn_split(target, True, seed), strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("rows", "seed"), [(5, 0), (442, 0), (101, 3)])
def test_the_regression_split_is_scikit_learns(rows: int, seed: int) -> None:
    target = np.linspace(0, 1, rows)
    ours = split_indices("t", target, "regression", seed)
    for got, expected in zip(ours, _sklearn_split(target, False, seed), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_a_class_too_small_to_split_is_one_line() -> None:
    with pytest.raises(UserError, match="cannot split the data 60/20/20 by class"):
        split_indices("t", np.array([0, 0, 0, 0, 1]), "classification")


def test_the_record_names_the_rule_and_hashes_the_rows() -> None:
    train, val, test = split_indices("t", np.repeat([0, 1], 10), "binary")
    record = split_record({"train": train, "val": val, "test": test})
    assert "seed 0" in record["rule"] and "stratified" in record["rule"]
    assert [record[part]["rows"] for part in ("train", "val", "test")] == [12, 4, 4]
    moved = split_record({"train": train[1:], "val": np.append(val, train[0]), "test": test})
    assert moved["train"]["sha256"] != record["train"]["sha256"]
    assert moved["test"] == record["test"]
