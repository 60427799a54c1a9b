"""Predictions from an exported model: ``rlnas predict EXPORT_DIR DATA``.

The export's ``metrics.json`` says what the model was trained on: the input shape, the feature
columns of a CSV, the classes, the kind of task. ``DATA`` is checked against it before anything
runs: a CSV with the same feature columns (by name when the training CSV had a header, else by
count; a target column is ignored), an ``.npy`` array of rows shaped like the input, or a folder
of images (searched recursively, sorted by path), read like the search read its folder: resized
to the input's size, grayscale or RGB as trained, pixel values 0-255. The model is the export's
standalone ``model.py`` with its safetensors weights; it takes raw values, as the data holds them.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlnas.errors import UserError
from rlnas.export.files import SOURCE, WEIGHTS
from rlnas.export.final_training import METRICS
from rlnas.tasks.files import is_number
from rlnas.tasks.images import SUFFIXES, image_pixels

BATCH = 256


class PredictError(UserError):
    """The export or the data cannot be read, or the data does not fit the model."""


@dataclass(frozen=True)
class Predictions:
    """One row per input: what names it (row number or file), the prediction, and for a
    classifier each class's probability (softmax of the logits), in the order of ``classes``."""

    names: list[str]
    predictions: list[Any]
    probabilities: np.ndarray | None
    classes: list[Any]

    def rows(self) -> list[list[Any]]:
        """The table ``write_csv`` writes: header first."""
        header = ["row", "prediction", *(f"p({label})" for label in self.classes)]
        rows: list[list[Any]] = [header]
        for index, (name, prediction) in enumerate(zip(self.names, self.predictions, strict=True)):
            scores = [] if self.probabilities is None else list(self.probabilities[index])
            rows.append([name, prediction, *(f"{p:.6g}" for p in scores)])
        return rows

    def write_csv(self, handle: Any) -> None:
        csv.writer(handle, lineterminator="\n").writerows(self.rows())


def predict(export_dir: str | Path, data: str | Path) -> Predictions:
    """Load the model exported to ``export_dir`` and predict every row of ``data`` (a ``.csv``,
    an ``.npy`` or a folder of images), after checking it fits what the model was trained on."""
    export = Path(export_dir)
    described = _described(export)
    shape = tuple(int(n) for n in described["input"]["shape"][1:])
    names, rows = _read(Path(data), shape, described["input"].get("feature_names"))
    model = _model(export)
    with torch.no_grad():
        outputs = torch.cat(
            [
                model(torch.as_tensor(rows[start : start + BATCH], dtype=torch.float32))
                for start in range(0, len(rows), BATCH)
            ]
        )
    classes = list(described.get("classes") or [])
    if not classes:
        return Predictions(
            names, [float(v) for v in outputs.reshape(len(rows), -1)[:, 0]], None, []
        )
    probabilities = torch.softmax(outputs.double(), dim=1).numpy()
    chosen = [classes[int(i)] for i in probabilities.argmax(axis=1)]
    return Predictions(names, chosen, probabilities, classes)


def _described(export: Path) -> dict[str, Any]:
    for needed in (METRICS, SOURCE, WEIGHTS):
        if not (export / needed).is_file():
            raise PredictError(
                f"{export} holds no {needed}; give the folder `rlnas train-final --out` wrote"
            )
    try:
        return json.loads((export / METRICS).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PredictError(f"{export / METRICS} is not valid JSON ({error})") from None


def _model(export: Path) -> torch.nn.Module:
    """The standalone model.py's ``load``: the export needs no rlnas to run, nor does this."""
    namespace: dict[str, Any] = {"__name__": "rlnas_exported_model"}
    exec(compile((export / SOURCE).read_text(), str(export / SOURCE), "exec"), namespace)
    return namespace["load"](export / WEIGHTS)


def _read(
    data: Path, shape: tuple[int, ...], feature_names: list[str] | None
) -> tuple[list[str], np.ndarray]:
    """Names and rows of ``data``, checked against the model's input ``shape``."""
    if data.is_dir():
        return _images(data, shape)
    if not data.is_file():
        raise PredictError(f"{data} does not exist; give a .csv file, an .npy file or a folder")
    if data.suffix.lower() == ".npy":
        return _npy(data, shape)
    if data.suffix.lower() == ".csv":
        return _csv(data, shape, feature_names)
    raise PredictError(f"{data}: give a .csv file, an .npy file or a folder of images")


def _npy(data: Path, shape: tuple[int, ...]) -> tuple[list[str], np.ndarray]:
    try:
        array = np.load(data, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise PredictError(f"{data}: not a readable .npy file ({error})") from None
    if tuple(array.shape) == shape:
        array = array[None]  # one row
    if tuple(array.shape[1:]) != shape:
        raise PredictError(
            f"{data} holds an array shaped {tuple(array.shape)}; the model takes rows shaped "
            f"{shape}, so give (N, {', '.join(map(str, shape))})"
        )
    if array.dtype.kind not in "iuf" or not np.isfinite(array).all():
        raise PredictError(f"{data}: the array must hold finite numbers ({array.dtype})")
    return [str(i) for i in range(len(array))], array.astype(np.float32)


def _csv(
    data: Path, shape: tuple[int, ...], feature_names: list[str] | None
) -> tuple[list[str], np.ndarray]:
    with data.open(newline="") as handle:
        lines = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if not lines:
        raise PredictError(f"{data} holds no rows")
    width = math.prod(shape)
    header = None if all(is_number(cell) for cell in lines[0]) else [c.strip() for c in lines[0]]
    body = lines[1:] if header is not None else lines
    if feature_names and header is not None:
        missing = [name for name in feature_names if name not in header]
        if missing:
            raise PredictError(
                f"{data} lacks the column(s) {', '.join(missing)} the model was trained on "
                f"(it needs {', '.join(feature_names)})"
            )
        columns = [header.index(name) for name in feature_names]
    else:
        count = len(body[0]) if body else 0
        if count not in (width, width + 1):
            trained = f"{', '.join(feature_names)}" if feature_names else f"{width} features"
            raise PredictError(
                f"{data} has {count} columns; the model was trained on {width} ({trained}), "
                "optionally followed by the target"
            )
        columns = list(range(width))
    rows = np.empty((len(body), width), dtype=np.float32)
    for number, line in enumerate(body, start=2 if header else 1):
        try:
            rows[number - (2 if header else 1)] = [float(line[i]) for i in columns]
        except (ValueError, IndexError):
            raise PredictError(
                f"{data}: line {number} does not hold a number in every feature column"
            ) from None
    return [str(i) for i in range(len(rows))], rows.reshape(-1, *shape)


def _images(folder: Path, shape: tuple[int, ...]) -> tuple[list[str], np.ndarray]:
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise PredictError(
            f"the model takes rows shaped {shape}, not images; give a .csv or an .npy file"
        )
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
    if not files:
        raise PredictError(f"{folder} holds no PNG or JPEG image")
    channels, size = shape[0], (shape[1], shape[2])
    rows = np.stack([image_pixels(file, size, channels) for file in files]).astype(np.float32)
    return [str(file.relative_to(folder)) for file in files], rows
