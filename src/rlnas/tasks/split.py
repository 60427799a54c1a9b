"""The fixed split of every task: 60 % training, 20 % validation, 20 % test rows.

The rows are drawn with seed 0 (``SPLIT_SEED``) in the data's own row order (a folder's files
sorted by path), stratified by class for classification, so each class keeps its share in every
split; a regression target is split at random. The first draw takes 40 % of the rows away from
training, the second halves those into validation and test.

The draws are exactly scikit-learn's ``train_test_split`` (``StratifiedShuffleSplit`` and
``ShuffleSplit`` with a ``numpy.random.RandomState``), written out here so that a task needs no
scikit-learn import, which took seconds at start-up; tests compare the two on many targets.
A task's split is recorded with its experiment (``split_record``) so baselines can use the same
rows.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from rlnas.errors import UserError

SPLIT_SEED = 0
SPLIT_RULE = (
    "60/20/20 train/validation/test, stratified by class for classification, seed 0, in the "
    "data's row order (a folder's files sorted by path): scikit-learn's train_test_split "
    "(test_size=0.4, random_state=0), then the 40 % halved the same way"
)


def split_indices(
    name: str, target: np.ndarray, kind: str, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of the 60/20/20 train / validation / test split, stratified for classes."""
    rows = np.arange(len(target))
    stratify = None if kind == "regression" else np.asarray(target)
    try:
        train, rest = _shuffle_split(rows, 0.4, seed, stratify)
        val, test = _shuffle_split(rest, 0.5, seed, None if stratify is None else stratify[rest])
    except ValueError as error:
        raise UserError(f"task {name}: cannot split the data 60/20/20 by class ({error})") from None
    return np.sort(train), np.sort(val), np.sort(test)


def split_record(indices: dict[str, np.ndarray] | Any) -> dict[str, Any]:
    """What an experiment keeps of its task's split: the rule, each split's size and a SHA-256
    of its sorted row indices (as little-endian int64), enough to check a baseline's rows."""
    record: dict[str, Any] = {"rule": SPLIT_RULE}
    for part in ("train", "val", "test"):
        rows = np.sort(np.asarray(indices[part], dtype="<i8"))
        record[part] = {"rows": len(rows), "sha256": hashlib.sha256(rows.tobytes()).hexdigest()}
    return record


def _shuffle_split(
    rows: np.ndarray, test_fraction: float, seed: int, labels: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` drawn into (train, test) with ``ceil(test_fraction * n)`` test rows."""
    n = len(rows)
    n_test = math.ceil(test_fraction * n)
    n_train = n - n_test
    if n_train <= 0 or n_test <= 0:
        raise ValueError(f"{n} rows are too few to split")
    generator = np.random.RandomState(seed)
    if labels is None:
        order = generator.permutation(n)
        return rows[order[n_test:]], rows[order[:n_test]]
    classes, label_index, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError("a class has only 1 row; every class needs at least 2")
    if n_train < len(classes) or n_test < len(classes):
        raise ValueError(f"{n} rows are too few for {len(classes)} classes")
    members = np.split(np.argsort(label_index, kind="stable"), np.cumsum(counts)[:-1])
    train_counts = _approximate_mode(counts, n_train, generator)
    test_counts = _approximate_mode(counts - train_counts, n_test, generator)
    train: list[int] = []
    test: list[int] = []
    for index in range(len(classes)):
        shuffled = members[index].take(generator.permutation(counts[index]), mode="clip")
        train.extend(shuffled[: train_counts[index]])
        test.extend(shuffled[train_counts[index] : train_counts[index] + test_counts[index]])
    return rows[generator.permutation(train)], rows[generator.permutation(test)]


def _approximate_mode(
    counts: np.ndarray, draws: int, generator: np.random.RandomState
) -> np.ndarray:
    """Rows to draw per class: each class's share of ``draws`` rounded down, the rest given to
    the largest remainders (ties broken at random)."""
    continuous = counts / counts.sum() * draws
    floored = np.floor(continuous)
    missing = int(draws - floored.sum())
    if missing > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            taken = min(len(tied), missing)
            floored[generator.choice(tied, size=taken, replace=False)] += 1
            missing -= taken
            if missing == 0:
                break
    return floored.astype(int)
