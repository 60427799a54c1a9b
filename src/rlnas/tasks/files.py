"""The user's own data: a CSV table with a target column, an NPZ file with arrays X and y, or
``X.npy`` and ``y.npy`` arrays read through memory maps."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from rlnas.errors import UserError
from rlnas.tasks.rows import NpyRows
from rlnas.tasks.task import Kind, Task, make_mapped_task, make_task


def csv_task(path: str | Path, target: str | None = None, kind: Kind | None = None) -> Task:
    """A task from a CSV file: numeric feature columns and one target column.

    The target is the column named ``target`` or else the last one. The first row is a header
    when any of its cells is not a number; without a header, columns are named 0, 1, 2, ...
    The kind is inferred from the target's values unless ``kind`` says it: integers or text with
    few distinct values are classes, numbers with a decimal point (``0.0``, ``1.0``) a
    regression target; state ``kind`` to be sure.
    """
    path = Path(path)
    rows = _read_rows(path)
    header = rows[0] if not all(is_number(cell) for cell in rows[0]) else None
    body = rows[1:] if header is not None else rows
    names = header or [str(i) for i in range(len(rows[0]))]
    if len(names) < 2:
        raise UserError(f"{path}: needs at least one feature column and a target column")
    if target is None:
        column = len(names) - 1
    elif target in names:
        column = names.index(target)
    else:
        raise UserError(f"{path}: no column {target!r}; the columns are {', '.join(names)}")
    for number, row in enumerate(body, start=2 if header else 1):
        if len(row) != len(names):
            raise UserError(f"{path}: line {number} has {len(row)} cells, expected {len(names)}")
    features = np.empty((len(body), len(names) - 1))
    feature_columns = [i for i in range(len(names)) if i != column]
    for number, row in enumerate(body, start=2 if header else 1):
        for position, i in enumerate(feature_columns):
            try:
                features[number - (2 if header else 1), position] = float(row[i])
            except ValueError:
                raise UserError(
                    f"{path}: line {number}, column {names[i]!r}: {row[i]!r} is not a number "
                    "(encode text features as numbers first)"
                ) from None
    labels = [row[column].strip() for row in body]
    if any(label == "" for label in labels):
        raise UserError(f"{path}: the target column {names[column]!r} has empty cells")
    task = make_task(f"csv:{path}", features, _parse_target(labels), kind)
    feature_names = tuple(names[i] for i in feature_columns)
    return replace(task, feature_names=feature_names, target_name=names[column])


LAYOUTS = ("images", "sequences")


def npz_task(path: str | Path, kind: Kind | None = None) -> Task:
    """A task from an NPZ file holding an array ``X`` (rows first) and a target ``y``.

    ``X`` shaped ``(N, features)`` is tabular, ``(N, C, H, W)`` images and ``(N, C, L)`` sequences,
    except that a 3-D ``X`` ``(N, H, W)`` is read as one-channel images ``(N, 1, H, W)`` (the
    usual way to save grayscale images); save an array ``layout = "sequences"`` beside it to keep
    it as ``(N, C, L)`` sequences (for conv1d).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"data file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise UserError(
                f"{path}: is a single .npy array, not an NPZ archive; save X and y with "
                "numpy.savez(path, X=X, y=y), or give a folder of X.npy and y.npy as npy:PATH"
            )
        with loaded as arrays:
            missing = [key for key in ("X", "y") if key not in arrays.files]
            if missing:
                found = ", ".join(arrays.files) or "none"
                raise UserError(f"{path}: needs arrays named X and y; it has {found}")
            X, y = arrays["X"], arrays["y"]
            layout = str(arrays["layout"]) if "layout" in arrays.files else "images"
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise UserError(f"{path}: not a readable NPZ file ({error})") from None
    if layout not in LAYOUTS:
        raise UserError(f"{path}: layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    if X.ndim == 3 and layout == "images":
        X = X[:, None]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    return make_task(f"npz:{path}", X, y, kind)


def _read_rows(path: Path) -> list[list[str]]:
    if not path.is_file():
        raise UserError(f"data file {path} does not exist")
    try:
        with path.open(newline="") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"{path}: not a readable CSV file ({error})") from None
    if len(rows) < 2:
        raise UserError(f"{path}: holds no data rows")
    return rows


def is_number(cell: str) -> bool:
    """Whether a CSV cell reads as a number (a header row has a cell that does not)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_target(labels: list[str]) -> np.ndarray:
    """Integers, else floats, else the labels as strings."""
    for kind in (int, float):
        try:
            return np.array([kind(label) for label in labels])
        except ValueError:
            continue
    return np.array(labels)


IN_MEMORY_BYTES = 1024**3
"""Data sets whose float32 features fit in this many bytes are loaded into memory (the fast
path); larger ones stay on disk and train through a DataLoader."""


def npy_task(
    path: str | Path, kind: Kind | None = None, in_memory_bytes: int = IN_MEMORY_BYTES
) -> Task:
    """A task from arrays ``X.npy`` (rows first, any shape) and ``y.npy`` in the folder ``path``
    (or named ``PATHX.npy`` and ``PATHy.npy`` when ``path`` is a prefix), memory-mapped.

    Features larger than ``in_memory_bytes`` as float32 stay on disk (``MappedRows``).
    """
    folder = Path(path)
    features, targets = (
        (folder / "X.npy", folder / "y.npy")
        if folder.is_dir()
        else (Path(f"{path}X.npy"), Path(f"{path}y.npy"))
    )
    for file in (features, targets):
        if not file.is_file():
            raise UserError(f"npy:{path}: {file} does not exist (it needs X.npy and y.npy)")
    try:
        rows = NpyRows(features)
        y = np.load(targets, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise UserError(f"npy:{path}: not a readable .npy array ({error})") from None
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if rows.array.dtype.kind not in "biuf":
        raise UserError(f"npy:{path}: the features are not numeric ({rows.array.dtype})")
    if 4 * rows.array.size <= in_memory_bytes:
        return make_task(f"npy:{path}", np.asarray(rows.array), y, kind)
    return make_mapped_task(f"npy:{path}", rows, y, kind)
