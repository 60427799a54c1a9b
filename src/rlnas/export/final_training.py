"""Final training: retrain a searched architecture on training + validation rows, test, export.

The search scored each architecture on the validation rows; once one is chosen, those rows are
better spent on training. The test rows, untouched until now, give the honest estimate that goes
into ``metrics.json`` beside the exported model. The exported model takes raw features and, for
regression, predicts in the target's units: the task's standardization is part of it. The
network trains with the recipe the search recorded, on the device of ``devices``, and is moved
back to the CPU before it is tested and exported. A trial of a search that inherited weights
can instead be fine-tuned from the weights the search trained (``from_inherited``), which the
store keeps for the best trial.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from rlnas.devices import DeviceSettings, Placement
from rlnas.errors import StoreError, UserError
from rlnas.estimators.measuring import VALIDATION_BATCH, score_outputs
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.stepping import forward_batches
from rlnas.estimators.training import TrainingEvaluator
from rlnas.export.epoch_count import FINDING, RETRAINING, EpochCallback, epoch_count
from rlnas.export.files import ExportedModel, export_model
from rlnas.export.raw_units import RawUnitsModel, raw_features
from rlnas.store import Store, StoredTrial
from rlnas.tasks import Task, load_task
from rlnas.tasks.rows import join_rows
from rlnas.tasks.split import split_record
from rlnas.trial import best_trial

logger = logging.getLogger(__name__)
__all__ = ["FINDING", "RETRAINING", "FinalModel", "recorded_recipe", "train_final"]

METRICS = "metrics.json"
EXAMPLE_ROWS = 8
"""Rows of the test split that every exported format is run on and compared with PyTorch."""

# What stores written before the recipe was recorded kept of the search's training, as loose keys.
_LOOSE_RECIPE_KEYS = ("batch_size", "lr", "weight_decay")


@dataclass(frozen=True)
class FinalModel:
    """A retrained architecture: which trial it came from, its test metrics and exported files,
    and how many epochs it trained, chosen how (``epochs_chosen_by["rule"]``).

    ``model`` is the exported model, in eval mode: raw features in; ``model.network`` is the
    trained network, which reads standardized features like the search's.
    """

    experiment: str
    trial: int
    architecture: Mapping[str, Any]
    test_metrics: Mapping[str, float]
    exported: ExportedModel
    model: RawUnitsModel
    epochs: int
    epochs_chosen_by: Mapping[str, Any]

    @property
    def files(self) -> tuple[Path, ...]:
        return (*self.exported.files, self.exported.directory / METRICS)


def train_final(
    store_path: str | Path,
    name: str | None = None,
    trial: int | None = None,
    epochs: int | None = None,
    out_dir: str | Path = "final",
    *,
    threads: int = 1,
    devices: DeviceSettings | None = None,
    on_epoch: EpochCallback | None = None,
    from_inherited: bool = False,
) -> FinalModel:
    """Retrain the best complete trial (or trial number ``trial``) of experiment ``name`` (default:
    the latest) for ``epochs`` on its task's training and validation rows, seeded with the
    experiment's seed and trained with its recorded recipe on ``devices``; score it on the test
    rows and export it with ``metrics.json`` to ``out_dir``. ``from_inherited``: fine-tune the
    weights the search trained for that trial (a search with ``inherit``) instead of training
    from scratch.

    Without ``epochs`` the count is found first: the network trains on the training rows alone
    (up to ``MAX_EPOCHS``, stopping after the recipe's patience or ``PATIENCE`` epochs without a
    better validation score), and the epoch with the best validation score is how long the final
    training on training + validation rows runs. ``metrics.json`` records the choice and why.
    The test result is also recorded with the experiment (its ``final``), for the report."""
    path = Path(store_path)
    if not path.is_file():
        raise StoreError(f"store {path} does not exist")
    weights = None
    with Store(path, read_only=True) as store:
        experiment = store.experiment(name)
        trials = store.trials(experiment)
        if from_inherited:
            chosen = _chosen_trial(trials, trial, experiment.name)
            weights = store.weights(experiment, chosen.key)
            if weights is None:
                raise UserError(
                    f"trial {chosen.number} of {experiment.name!r} has no stored weights (only a "
                    "search with inherit keeps its best's); train it without --from-inherited"
                )
    config = experiment.config
    if "task" not in config:
        searched = config.get("benchmark", config.get("space", "a benchmark"))
        raise UserError(
            f"train-final needs an experiment searched with --task; {experiment.name!r} "
            f"searched {searched}"
        )
    chosen = _chosen_trial(trials, trial, experiment.name)
    task = load_task(config["task"], target=config.get("target"), kind=config.get("kind"))
    recipe = recorded_recipe(config)
    devices = devices or DeviceSettings()
    devices.resolve()
    started = time.perf_counter()
    space, seed = config["space"], experiment.seed
    if epochs is None:
        epochs, chosen_by = epoch_count(
            task, space, chosen, seed, threads, recipe, devices, on_epoch, weights
        )
    else:
        chosen_by = {"rule": "given (--epochs)"}

    def retraining(epoch: int, of: int, scores: Mapping[str, float]) -> None:
        if on_epoch is not None:  # the validation rows are training rows now: only the loss
            on_epoch(RETRAINING, epoch, of, {"loss": scores["loss"]})

    model = _retrain(
        task, space, chosen, epochs, seed, threads, recipe, devices, retraining, weights
    )
    train_time_s = time.perf_counter() - started
    model.cpu().eval()  # the trainer returns it on the CPU; tested and exported there
    outputs = forward_batches(model, task.X_test, VALIDATION_BATCH, Placement(torch.device("cpu")))
    test_metrics = score_outputs(task, outputs, task.y_test)
    deployable = RawUnitsModel(model, task).eval()
    example = raw_features(task, task.X_test[:EXAMPLE_ROWS])
    exported = export_model(deployable, example, chosen.architecture, Path(out_dir))
    report = {
        "experiment": experiment.name,
        "trial": chosen.number,
        "task": config["task"],
        "space": config["space"],
        "architecture": dict(chosen.architecture),
        "seed": experiment.seed,
        "epochs": epochs,
        "epochs_chosen_by": chosen_by,
        "from_inherited": weights is not None,
        "recipe": recipe.model_dump(mode="json"),
        "train_time_s": train_time_s,
        "test": test_metrics,
        "search_validation": dict(chosen.metrics),
        "export_max_abs_difference": dict(exported.differences),
        "kind": task.kind,
        "input": {
            "shape": ["batch", *task.input_shape],
            "feature_names": list(task.feature_names) or None,
            "target": task.target_name,
            "units": input_units(config["task"], task.input_shape),
            "features": "raw, in the data set's own units; the model standardizes them with the "
            "training rows' feature_mean and feature_std, stored with its weights",
        },
        "split": {**split_record(task.indices), "rows": _split_rows(task)},
        "output": _output_description(task),
        "target_mean": task.target_mean,
        "target_std": task.target_std,
        "classes": list(task.classes),
    }
    (exported.directory / METRICS).write_text(json.dumps(report, indent=1) + "\n")
    _record_with_experiment(path, experiment.name, report, exported.directory)
    return FinalModel(
        experiment.name,
        chosen.number,
        chosen.architecture,
        test_metrics,
        exported,
        deployable,
        epochs,
        chosen_by,
    )


def _record_with_experiment(
    path: Path, experiment: str, report: Mapping[str, Any], out: Path
) -> None:
    """Keep the test result with the experiment (``config["final"]``), so that the report shows
    it; a store that cannot be written only loses this note (a warning says so)."""
    final = {
        "trial": report["trial"],
        "epochs": report["epochs"],
        "epochs_chosen_by": report["epochs_chosen_by"]["rule"],
        "test": report["test"],
        "out": str(out.resolve()),
    }
    try:
        with Store(path) as store:
            found = store.experiment(experiment)
            store.update_config(found, {**found.config, "final": final})
    except (StoreError, OSError, sqlite3.Error) as error:
        logger.warning("the test result was not recorded in %s: %s", path, error)


def input_units(task_name: str, input_shape: tuple[int, ...]) -> str:
    """What the exported model's input values are, in words, for ``metrics.json``."""
    prefix, _, _ = task_name.partition(":")
    if prefix == "folder":
        colour = "grayscale, one channel" if input_shape[0] == 1 else "RGB, channels first"
        return (
            f"pixel values 0-255 as the image files hold them ({colour}), resized to "
            f"{input_shape[1]}x{input_shape[2]}; not scaled to 0-1"
        )
    described = {
        "digits": "pixel values 0-16 (scikit-learn's 8x8 digits)",
        "mnist": "pixel values 0-255",
        "csv": "the CSV's feature columns as the file holds them, in feature_names' order",
        "npz": "the values of the file's X array as stored",
        "npy": "the values of the X.npy array as stored",
    }
    return described.get(prefix, "the data set's features in their own units, as loaded")


def _split_rows(task: Task) -> dict[str, list[int]]:
    """Each split's row numbers in the source data (0-based, in its row or sorted file order)."""
    return {part: [int(row) for row in task.indices[part]] for part in ("train", "val", "test")}


def recorded_recipe(config: Mapping[str, Any]) -> TrainingRecipe:
    """The recipe an experiment's search trained with: its ``recipe``, or in a store written
    before recipes were recorded, its loose ``batch_size``, ``lr`` and ``weight_decay``."""
    if "recipe" in config:
        return TrainingRecipe(**config["recipe"])
    loose = {key: config[key] for key in _LOOSE_RECIPE_KEYS if config.get(key) is not None}
    return TrainingRecipe(**loose)


def _output_description(task: Task) -> str:
    if task.kind == "regression":
        return "the prediction, in the target's own units (one column)"
    return "one score (logit) per class, in the order of classes; the prediction is the largest"


def _chosen_trial(trials: list[StoredTrial], number: int | None, experiment: str) -> StoredTrial:
    """Trial ``number``, or the complete trial with the highest reward (the earliest on a tie)."""
    if number is None:
        best = best_trial(trials)
        if best is None:
            raise UserError(f"experiment {experiment!r} has no complete trial to train")
        return best
    for trial in trials:
        if trial.number == number:
            if trial.reward is None:
                raise UserError(
                    f"trial {number} of {experiment!r} failed ({trial.error}); "
                    "choose a complete one"
                )
            return trial
    numbers = f"0 to {len(trials) - 1}" if trials else "none: it has no trials"
    raise UserError(f"experiment {experiment!r} has no trial {number} (trials: {numbers})")


def _retrain(
    task: Task,
    space: str,
    trial: StoredTrial,
    epochs: int,
    seed: int,
    threads: int,
    recipe: TrainingRecipe,
    devices: DeviceSettings,
    on_epoch: Callable[[int, int, Mapping[str, float]], None] | None = None,
    weights: bytes | None = None,
) -> torch.nn.Module:
    """Build and train the trial's network on training + validation rows with the search's loop
    (from ``weights``, the search's trained ones, when given).

    The evaluator trains on its task's training rows, so it gets a task whose training rows are
    both splits; it still scores each epoch on the validation rows, which the caller ignores.
    Without a held-out split to stop on, it trains for all ``epochs`` (the recipe's patience is
    for the search).
    """
    merged = replace(
        task,
        X_train=join_rows(task.X_train, task.X_val),
        y_train=torch.cat([task.y_train, task.y_val]),
    )
    trainer = TrainingEvaluator(
        merged,
        space=space,
        epochs=epochs,
        recipe=recipe.replaced(patience=None),
        seed=seed,
        threads=threads,
        devices=devices,
        on_epoch=on_epoch,
    )
    model, _ = trainer.train(trainer.search_space().architecture(trial.architecture), weights)
    return model
