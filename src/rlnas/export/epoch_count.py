"""How many epochs the final training runs when the user does not say: early stopping on the
validation rows finds the count, which is then trained on training + validation rows.

The network trains on the training rows alone (at most ``MAX_EPOCHS``), stopping after the
recipe's patience or ``PATIENCE`` epochs without a better validation score; the epoch with the
best score is the count. With all rows the same count of epochs sees more data per epoch, which
is the usual way to reuse a count found on a hold-out (the learning-rate schedule spans the
count in the final training, the maximum here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rlnas.devices import DeviceSettings
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.training import TrainingEvaluator
from rlnas.store import StoredTrial
from rlnas.tasks import Task

EpochCallback = Callable[[str, int, int, Mapping[str, float]], None]
"""Told (phase, epoch, epochs, scores) after every epoch; scores hold the mean training ``loss``
and, while the epoch count is being found, the validation metrics."""

MAX_EPOCHS = 100
"""The most epochs the search for the epoch count trains (it stops earlier on a plateau)."""
PATIENCE = 10
"""Epochs without a better validation score before that search stops, unless the recipe says."""
FINDING = "finding the epoch count"
RETRAINING = "final training"


def epoch_count(
    task: Task,
    space: str,
    trial: StoredTrial,
    seed: int,
    threads: int,
    recipe: TrainingRecipe,
    devices: DeviceSettings,
    on_epoch: EpochCallback | None,
    weights: bytes | None,
) -> tuple[int, dict[str, Any]]:
    """Train on the training rows with early stopping on the validation rows: the epoch with the
    best validation score, and a record of how it was found."""
    patience = recipe.patience or PATIENCE
    curve: list[float] = []

    def finding(epoch: int, of: int, scores: Mapping[str, float]) -> None:
        curve.append(scores[task.metric])
        if on_epoch is not None:
            on_epoch(FINDING, epoch, of, scores)

    trainer = TrainingEvaluator(
        task,
        space=space,
        epochs=MAX_EPOCHS,
        recipe=recipe.replaced(patience=patience),
        seed=seed,
        threads=threads,
        devices=devices,
        on_epoch=finding,
    )
    trainer.train(trainer.search_space().architecture(trial.architecture), weights)
    sign = 1 if task.direction == "maximize" else -1
    best = max(range(len(curve)), key=lambda index: (sign * curve[index], -index))
    return best + 1, {
        "rule": f"early stopping on the validation rows: trained on the training rows alone, "
        f"stopped after {patience} epochs without a better validation {task.metric} (at most "
        f"{MAX_EPOCHS}); the best epoch's count is then trained on training + validation rows",
        "best_epoch": best + 1,
        "validation": {task.metric: curve[best]},
        "epochs_trained": len(curve),
        "patience": patience,
        "max_epochs": MAX_EPOCHS,
    }
