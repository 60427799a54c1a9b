"""Feature rows that stay on disk: a data set larger than memory, read a batch at a time.

A small data set is held as float32 tensors (the fast path every estimator indexes directly). A
large one keeps its rows where they are (a memory-mapped ``.npy`` array, a folder of images)
and its splits are ``MappedRows``: they answer the few questions estimators ask of a feature
tensor (``len``, ``shape``, ``rows[indices]``, ``split(n)``) by reading and standardizing only
those rows, and ``TrainingEvaluator`` trains on them through a ``torch.utils.data.DataLoader``.
The standardization statistics of both paths come from ``feature_statistics``, in chunks of the
training rows, so the same data gives the same normalization whichever path it takes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from rlnas.errors import UserError

STATISTICS_CHUNK = 4096
"""Rows read at once while the mean and std are computed: bounds the memory it takes."""
STATISTICS_BYTES = 256 * 1024**2
"""And at most this many bytes of rows (float64), however large one row is."""


class RowSource(Protocol):
    """Raw feature rows on disk: ``shape`` is (rows, *one row's shape)."""

    shape: tuple[int, ...]

    def read(self, rows: np.ndarray) -> np.ndarray:
        """The raw rows ``rows`` (in that order) as a float array."""
        ...


class NpyRows:
    """The rows of an ``.npy`` array, memory-mapped: the file is opened again after pickling."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._array: np.ndarray | None = None
        self.shape = tuple(int(n) for n in self.array.shape)

    @property
    def array(self) -> np.ndarray:
        if self._array is None:
            loaded = np.load(self.path, mmap_mode="r", allow_pickle=False)
            if not isinstance(loaded, np.ndarray):  # an .npz archive under a .npy name
                loaded.close()
                raise UserError(
                    f"{self.path} is an NPZ archive, not a .npy array; give it as npz:PATH, "
                    "or save X with numpy.save"
                )
            self._array = loaded
        return self._array

    def read(self, rows: np.ndarray) -> np.ndarray:
        order = np.argsort(rows, kind="stable")  # sorted reads walk the file forward
        values = np.empty((len(rows), *self.shape[1:]), dtype=np.float64)
        values[order] = self.array[rows[order]]
        return values

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "shape": self.shape, "_array": None}


class MappedRows:
    """Rows ``indices`` of ``source``, standardized on read with ``mean`` and ``std``: a stand-in
    for a float32 feature tensor that does not fit in memory."""

    def __init__(
        self, source: RowSource, indices: np.ndarray, mean: np.ndarray, std: np.ndarray
    ) -> None:
        self.source = source
        self.indices = np.asarray(indices, dtype=np.int64)
        self.mean = mean
        self.std = std

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.indices), *self.source.shape[1:])

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, key: Any) -> torch.Tensor:
        """The standardized rows at ``key`` (an int, a slice, or an array of positions)."""
        if isinstance(key, torch.Tensor):
            key = key.numpy()
        if isinstance(key, int | np.integer):
            return self[np.array([key])][0]
        rows = self.indices[key]
        values = (self.source.read(rows) - self.mean) / self.std
        return torch.as_tensor(values, dtype=torch.float32)

    def split(self, size: int) -> Iterator[torch.Tensor]:
        """Consecutive batches of at most ``size`` rows, like ``torch.Tensor.split``."""
        for start in range(0, len(self), size):
            yield self[start : start + size]

    def subset(self, positions: np.ndarray) -> MappedRows:
        """The rows at ``positions``, still on disk."""
        return MappedRows(self.source, self.indices[positions], self.mean, self.std)

    def __repr__(self) -> str:
        return f"MappedRows({len(self)} rows of {type(self.source).__name__}, shape {self.shape})"


Features = torch.Tensor | MappedRows
"""A split's features: in memory, or on disk."""


def join_rows(first: Features, second: Features) -> Features:
    """Two splits' features as one (final training trains on training and validation rows)."""
    if isinstance(first, torch.Tensor) and isinstance(second, torch.Tensor):
        return torch.cat([first, second])
    if isinstance(first, MappedRows) and isinstance(second, MappedRows):
        if first.source is not second.source:
            raise ValueError("rows of different sources cannot be joined")
        indices = np.concatenate([first.indices, second.indices])
        return MappedRows(first.source, indices, first.mean, first.std)
    raise TypeError("cannot join features held in memory with features on disk")


def feature_statistics(
    read: Callable[[np.ndarray], np.ndarray],
    train: np.ndarray,
    row_shape: tuple[int, ...],
    name: str,
    chunk: int = STATISTICS_CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the training rows, per feature for flat rows and per channel (the first
    axis, over all positions) for images and sequences, each shaped like one row.

    Two passes in float64 over ``chunk`` rows (and at most ``STATISTICS_BYTES``) at a time (the
    mean, then the squared deviations from it), so a memory-mapped data set never loads at once.
    A std of 0 becomes 1.
    """
    row_bytes = 8 * int(np.prod(row_shape))
    chunk = max(1, min(chunk, STATISTICS_BYTES // max(row_bytes, 1)))
    axes = (0,) if len(row_shape) == 1 else (0, *range(2, len(row_shape) + 1))
    positions = 1 if len(row_shape) == 1 else int(np.prod(row_shape[1:]))
    count = len(train) * positions
    total = 0.0
    with np.errstate(over="ignore"):  # an overflow is refused below, by name
        for start in range(0, len(train), chunk):
            values = read(train[start : start + chunk])
            if not np.isfinite(values).all():
                raise UserError(f"task {name}: the features hold NaN or infinite values")
            total = total + values.sum(axis=axes, keepdims=True)
        mean = total / count
        squares = 0.0
        for start in range(0, len(train), chunk):
            deviations = read(train[start : start + chunk]) - mean
            squares = squares + (deviations**2).sum(axis=axes, keepdims=True)
        std = np.sqrt(squares / count)
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise UserError(
            f"task {name}: the features are too large to standardize (their squares overflow "
            "float64, so every feature would become 0); rescale them, e.g. divide by 1e100"
        )
    std = np.where(std > 0, std, 1.0)
    return mean[0], std[0]


class RowsDataset(torch.utils.data.Dataset):
    """Features and targets of one split for a DataLoader that fetches a batch at a time."""

    def __init__(self, features: Features, targets: torch.Tensor) -> None:
        self.features = features
        self.targets = targets

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, position: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.features[position], self.targets[position]

    def __getitems__(self, positions: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = np.asarray(positions, dtype=np.int64)
        return self.features[rows], self.targets[torch.from_numpy(rows)]


def whole_batch(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The DataLoader's collate function: ``RowsDataset`` already returns whole batches."""
    return batch
