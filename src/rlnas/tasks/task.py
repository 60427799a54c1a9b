"""A task: a data set with its fixed train / validation / test split, ready for training.

Every task is split once, with a fixed seed (60/20/20, stratified for classification; see
``rlnas.tasks.split``), and its features are standardized with statistics of the training rows
only. The search trains on the training rows and scores on the validation rows; the test rows
are kept for the final report.
A data set too large for memory keeps its rows on disk (``make_mapped_task``): its feature
splits are ``MappedRows`` instead of tensors, split and standardized the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch

from rlnas.errors import UserError
from rlnas.tasks import KINDS, Kind
from rlnas.tasks.rows import Features, MappedRows, RowSource, feature_statistics
from rlnas.tasks.split import SPLIT_SEED, split_indices

logger = logging.getLogger(__name__)
MAX_CLASSES = 50
"""An integer or string target with more distinct values than this is not a class label."""


@dataclass(frozen=True, eq=False)
class Task:
    """A data set, its kind, and its split as float32 feature tensors (or ``MappedRows``).

    Classification targets (``binary`` included) are int64 class indices into ``classes``, and a
    model has one output per class. Regression targets are float32 in the data's own units; a model
    has one output and is trained on the target standardized with ``target_mean`` and
    ``target_std`` (training rows only). ``indices`` gives each split's rows of the source data.
    The feature tensors are standardized: ``(raw - feature_mean) / feature_std``, with statistics
    shaped like one row (ones on the axes they are shared over), kept so that an exported model
    can take raw features. A data set read through memory maps has ``MappedRows`` for its
    feature splits (``in_memory`` is False); its targets are tensors all the same.
    """

    name: str
    kind: Kind
    input_shape: tuple[int, ...]
    n_outputs: int
    X_train: Features
    y_train: torch.Tensor
    X_val: Features
    y_val: torch.Tensor
    X_test: Features
    y_test: torch.Tensor
    indices: Mapping[str, np.ndarray] = field(default_factory=dict)
    classes: tuple[str | int, ...] = ()
    target_mean: float = 0.0
    target_std: float = 1.0
    feature_mean: torch.Tensor = field(default_factory=lambda: torch.zeros(()))
    feature_std: torch.Tensor = field(default_factory=lambda: torch.ones(()))
    feature_names: tuple[str, ...] = ()
    """The feature columns' names, where the data names them (a CSV header)."""
    target_name: str | None = None
    """The target column's name, where the data names it (a CSV header)."""

    def __post_init__(self) -> None:
        # a plain dict (not a read-only proxy) keeps the task picklable for process pools
        object.__setattr__(self, "indices", dict(self.indices))

    @property
    def metric(self) -> str:
        """The validation metric a search on this task optimizes by default."""
        return {"classification": "accuracy", "binary": "roc_auc", "regression": "mse"}[self.kind]

    @property
    def in_memory(self) -> bool:
        """Whether the features are tensors (else ``MappedRows`` read from disk)."""
        return isinstance(self.X_train, torch.Tensor)

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return "minimize" if self.kind == "regression" else "maximize"

    def describe(self) -> str:
        """One line on what is learnt: target, kind, metric, shapes and rows per split."""
        sizes = "/".join(str(len(self.indices.get(s, ()))) for s in ("train", "val", "test"))
        target = f"target {self.target_name!r}" if self.target_name else "target y"
        if self.kind == "regression":
            values = "numbers"
        else:
            shown = ", ".join(map(str, self.classes[:5])) + (
                ", ..." if len(self.classes) > 5 else ""
            )
            values = f"{len(self.classes)} classes: {shown}"
        return (
            f"task {self.name}: {target} ({values}), {self.kind}, metric {self.metric}, "
            f"input {self.input_shape}, {self.n_outputs} output{'s' * (self.n_outputs != 1)}, "
            f"rows train/val/test {sizes}"
        )

    def __repr__(self) -> str:
        sizes = "/".join(str(len(self.indices.get(s, ()))) for s in ("train", "val", "test"))
        return f"Task({self.name!r}, {self.kind}, input {self.input_shape}, rows {sizes})"


def make_task(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    kind: Kind | None = None,
    seed: int = SPLIT_SEED,
) -> Task:
    """Check, split and standardize ``X`` (rows first, any feature shape) and target ``y``.

    ``kind`` is inferred from ``y`` when not given: strings or integers with few distinct values
    are class labels (``binary`` when there are two), anything else is a regression target.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    _check_rows(name, X.shape, y)
    try:
        X = X.astype(np.float64)
    except (TypeError, ValueError):
        raise UserError(f"task {name}: the features are not all numeric") from None
    if not np.isfinite(X).all():
        row = int(np.argwhere(~np.isfinite(X))[0][0])
        raise UserError(f"task {name}: the features hold NaN or infinite values (row {row})")
    kind, target, classes = _target(name, y, kind)
    train, val, test = split_indices(name, target, kind, seed)
    row_shape = tuple(int(n) for n in X.shape[1:])
    feature_mean, feature_std = feature_statistics(X.__getitem__, train, row_shape, name)
    X = (X - feature_mean) / feature_std

    def features(rows: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(X[rows], dtype=torch.float32)

    return _task(
        name,
        kind,
        row_shape,
        target,
        classes,
        (train, val, test),
        features,
        feature_mean,
        feature_std,
    )


def make_mapped_task(
    name: str,
    source: RowSource,
    y: np.ndarray,
    kind: Kind | None = None,
    seed: int = SPLIT_SEED,
) -> Task:
    """A task whose features stay in ``source`` (on disk); ``y`` (one target per row) is read.

    The split and the standardization are those ``make_task`` gives the same data in memory;
    the features' statistics are computed from the training rows a chunk at a time.
    """
    y = np.asarray(y)
    _check_rows(name, tuple(source.shape), y)
    kind, target, classes = _target(name, y, kind)
    train, val, test = split_indices(name, target, kind, seed)
    row_shape = tuple(int(n) for n in source.shape[1:])
    feature_mean, feature_std = feature_statistics(source.read, train, row_shape, name)

    def features(rows: np.ndarray) -> MappedRows:
        return MappedRows(source, rows, feature_mean, feature_std)

    return _task(
        name,
        kind,
        row_shape,
        target,
        classes,
        (train, val, test),
        features,
        feature_mean,
        feature_std,
    )


def _task(
    name: str,
    kind: Kind,
    row_shape: tuple[int, ...],
    target: np.ndarray,
    classes: tuple,
    splits: tuple[np.ndarray, np.ndarray, np.ndarray],
    features: Callable[[np.ndarray], Features],
    feature_mean: np.ndarray,
    feature_std: np.ndarray,
) -> Task:
    """The task of split ``splits`` of ``target``, with each split's features from ``features``."""
    train, val, test = splits
    if kind == "regression":
        mean, std = float(target[train].mean()), float(target[train].std()) or 1.0
        dtype, n_outputs = torch.float32, 1
    else:
        mean, std = 0.0, 1.0
        dtype, n_outputs = torch.int64, len(classes)

    def targets(rows: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(target[rows], dtype=dtype)

    return Task(
        name=name,
        kind=kind,
        input_shape=row_shape,
        n_outputs=n_outputs,
        X_train=features(train),
        y_train=targets(train),
        X_val=features(val),
        y_val=targets(val),
        X_test=features(test),
        y_test=targets(test),
        indices={"train": train, "val": val, "test": test},
        classes=classes,
        target_mean=mean,
        target_std=std,
        feature_mean=torch.as_tensor(feature_mean, dtype=torch.float32),
        feature_std=torch.as_tensor(feature_std, dtype=torch.float32),
    )


def _check_rows(name: str, shape: tuple[int, ...], y: np.ndarray) -> None:
    """Features of ``shape`` (rows first) and target ``y``: one target per row, enough rows."""
    if len(shape) < 2:
        raise UserError(f"task {name}: the features need one row per example, got shape {shape}")
    if shape[0] != len(y) or y.ndim != 1:
        raise UserError(
            f"task {name}: {shape[0]} feature rows but the target has shape {y.shape}; "
            "give one target value per row"
        )
    if 0 in shape[1:]:
        raise UserError(
            f"task {name}: the rows hold no features (each row is shaped {shape[1:]}); "
            "give at least one feature column"
        )
    if y.dtype.kind in "Mm":
        raise UserError(
            f"task {name}: the target holds dates or durations ({y.dtype}); convert it to "
            "numbers (a regression target) or to class labels"
        )
    if shape[0] < 10:
        raise UserError(f"task {name}: {shape[0]} rows are too few to split; give at least 10")


def _target(
    name: str, y: np.ndarray, kind: Kind | None
) -> tuple[Kind, np.ndarray, tuple[str | int, ...]]:
    """The task's kind (given, else inferred), its target as trained on, and its classes."""
    if kind is None:
        kind = infer_kind(y)
        if kind == "regression":
            _warn_if_labels(name, y)
    if kind not in KINDS:
        raise UserError(f"task {name}: kind {kind!r} is not one of {', '.join(KINDS)}")
    if kind == "regression":
        return kind, _regression_target(name, y), ()
    target, classes = _class_target(name, y, kind)
    return kind, target, classes


def _warn_if_labels(name: str, y: np.ndarray) -> None:
    """A regression target that looks like labels (``0.0``/``1.0``): say how to classify."""
    try:
        values = np.unique(np.asarray(y, dtype=np.float64))
    except (TypeError, ValueError):
        return
    if len(values) > MAX_CLASSES or not np.equal(np.mod(values, 1), 0).all():
        return
    shown = ", ".join(f"{value:g}" for value in values[:5]) + (", ..." if len(values) > 5 else "")
    hint = "--kind binary" if len(values) == 2 else "--kind classification"
    logger.warning(
        "task %s: the target has %d distinct values (%s) with a decimal point, so it is read as "
        "a regression target; pass %s to classify",
        name,
        len(values),
        shown,
        hint,
    )


def infer_kind(y: np.ndarray) -> Kind:
    """Class labels (strings, or integers with few distinct values) or a regression target."""
    y = np.asarray(y)
    if y.dtype.kind == "O":
        y = y.astype(str)
    distinct = len(np.unique(y))
    if y.dtype.kind in "USb" or (y.dtype.kind in "iu" and distinct <= MAX_CLASSES):
        return "binary" if distinct == 2 else "classification"
    return "regression"


def _class_target(name: str, y: np.ndarray, kind: Kind) -> tuple[np.ndarray, tuple]:
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise UserError(f"task {name}: the target holds NaN or infinite values")
        if not np.equal(np.mod(y, 1), 0).all():
            raise UserError(f"task {name}: a {kind} target needs class labels, not fractions")
        y = y.astype(np.int64)
    if y.dtype.kind == "O":
        y = y.astype(str)
    classes, target = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise UserError(
            f"task {name}: the target has one class only ({classes[0]!r}); need at least two"
        )
    if kind == "binary" and len(classes) != 2:
        raise UserError(f"task {name}: a binary target needs 2 classes, found {len(classes)}")
    counts = np.bincount(target)
    if counts.min() < 3:
        rare = classes[int(counts.argmin())].item()  # a plain 25, not np.int64(25)
        raise UserError(
            f"task {name}: class {rare!r} has {counts.min()} row(s); each class needs at least 3 "
            "to appear in every split"
        )
    return target.astype(np.int64), tuple(c.item() for c in classes)


def _regression_target(name: str, y: np.ndarray) -> np.ndarray:
    try:
        target = y.astype(np.float64)
    except (TypeError, ValueError):
        raise UserError(f"task {name}: a regression target must be numeric") from None
    if not np.isfinite(target).all():
        raise UserError(f"task {name}: the target holds NaN or infinite values")
    if len(np.unique(target)) < 2:
        raise UserError(f"task {name}: the target is constant; nothing to learn")
    return target
