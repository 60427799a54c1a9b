"""The training recipe: each setting reaches the optimizer, the schedule, the loss, the gradient
and the augmentation, both in a search's training and in train_final."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import torch
from spies import spy_on_networks
from torch import nn

import rlnas
import rlnas.estimators.stepping
import rlnas.estimators.training
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.stepping import GradientStep
from rlnas.estimators.training import TrainingEvaluator
from rlnas.settings import SettingError
from rlnas.tasks import load_task

STANDARD = TrainingRecipe(
    optimizer="sgd",
    lr=0.05,
    momentum=0.8,
    nesterov=True,
    weight_decay=1e-3,
    batch_size=32,
    schedule="cosine",
    warmup_epochs=1,
    label_smoothing=0.1,
    grad_clip=0.5,
    crop_padding=2,
    horizontal_flip=True,
)


@pytest.fixture(scope="module")
def digits():
    return load_task("digits")


def test_the_defaults_are_the_recipe_searches_always_used() -> None:
    recipe = TrainingRecipe()
    optimizer = recipe.build_optimizer([nn.Parameter(torch.zeros(2))])
    assert type(optimizer) is torch.optim.Adam
    assert (
        optimizer.param_groups[0]["lr"] == 3e-3 and optimizer.param_groups[0]["weight_decay"] == 0
    )
    assert (recipe.batch_size, recipe.schedule, recipe.augments) == (64, "constant", False)
    assert (recipe.label_smoothing, recipe.grad_clip, recipe.patience) == (0.0, None, None)


def test_warm_up_then_cosine_decay_per_step() -> None:
    recipe = TrainingRecipe(lr=1.0, schedule="cosine", warmup_epochs=1)
    optimizer = recipe.build_optimizer([nn.Parameter(torch.zeros(2))])
    scheduler = recipe.build_scheduler(optimizer, epochs=3, steps_per_epoch=10)
    rates = []
    for _ in range(30):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[0] == pytest.approx(0.1) and rates[10] == pytest.approx(1.0)
    assert all(a < b for a, b in pairwise(rates[:11]))  # the ramp
    assert all(a > b for a, b in pairwise(rates[10:]))  # the decay
    assert rates[-1] < 0.01


def test_augmentation_flips_and_shifts_images_only() -> None:
    images = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4) + 1
    flips = TrainingRecipe(horizontal_flip=True)
    seen = {
        tuple(flips.augment(images, torch.Generator().manual_seed(s))[0, 0, 0].tolist())
        for s in range(8)
    }
    assert seen == {(1.0, 2.0, 3.0, 4.0), (4.0, 3.0, 2.0, 1.0)}
    crops = TrainingRecipe(crop_padding=1).augment(images, torch.Generator().manual_seed(0))
    assert crops.shape == images.shape and not torch.equal(crops, images)
    assert set(crops.unique().tolist()) <= {0.0, *images.unique().tolist()}  # zero padding
    rows = torch.randn(5, 3)  # not images: left alone
    assert torch.equal(STANDARD.augment(rows, torch.Generator()), rows)


def test_bad_recipes_name_the_setting() -> None:
    for values, setting in (
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"lr": 0}, "lr"),
        ({"patience": 0}, "patience"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"batch_size": 0}, "batch_size"),
    ):
        with pytest.raises(SettingError, match=setting):
            TrainingRecipe(**values)
    with pytest.raises(SettingError, match="nesterov applies to the sgd"):
        TrainingRecipe(nesterov=True)


class Recorded:
    """What the trainer's optimizer steps, loss and clipping saw."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.optimizers: list[torch.optim.Optimizer] = []
        self.rates: list[float] = []
        self.smoothing: list[float] = []
        self.clips: list[float] = []
        recorded = self

        class RecordingStep(GradientStep):
            def __call__(self, loss: torch.Tensor) -> None:
                if not recorded.optimizers or recorded.optimizers[-1] is not self.optimizer:
                    recorded.optimizers.append(self.optimizer)
                recorded.rates.append(self.optimizer.param_groups[0]["lr"])
                super().__call__(loss)

        def loss(task, outputs, targets, label_smoothing=0.0):
            recorded.smoothing.append(label_smoothing)
            return nn.functional.cross_entropy(outputs.float(), targets)

        clip = nn.utils.clip_grad_norm_

        def clipping(parameters, max_norm, *arguments, **options):
            recorded.clips.append(max_norm)
            return clip(parameters, max_norm, *arguments, **options)

        monkeypatch.setattr(rlnas.estimators.training, "GradientStep", RecordingStep)
        monkeypatch.setattr(rlnas.estimators.training, "training_loss", loss)
        monkeypatch.setattr(nn.utils, "clip_grad_norm_", clipping)

    def assert_recipe(self, recipe: TrainingRecipe, epochs: int) -> None:
        (optimizer,) = self.optimizers
        group = optimizer.param_groups[0]
        assert type(optimizer) is torch.optim.SGD
        assert (group["momentum"], group["nesterov"], group["weight_decay"]) == (
            recipe.momentum,
            recipe.nesterov,
            recipe.weight_decay,
        )
        steps = len(self.rates) // epochs
        peak = max(self.rates)
        assert self.rates[0] == pytest.approx(recipe.lr / 10)  # warm-up starts at lr / 10
        assert peak == pytest.approx(recipe.lr, rel=1e-6) and self.rates[steps] == peak
        assert self.rates[-1] < 0.3 * recipe.lr  # cosine decay
        assert set(self.smoothing) == {recipe.label_smoothing}
        assert self.clips and set(self.clips) == {recipe.grad_clip}


def _augmented_share(spy, rows: torch.Tensor) -> float:
    """The share of training inputs the model saw that are not rows of ``rows`` as they are."""
    known = {row.numpy().tobytes() for row in rows}
    seen = [row for forward in spy.training for row in forward.inputs]
    return sum(row.numpy().tobytes() not in known for row in seen) / len(seen)


def test_every_setting_reaches_the_search_s_training(
    monkeypatch: pytest.MonkeyPatch, digits
) -> None:
    recorded = Recorded(monkeypatch)
    spy = spy_on_networks(monkeypatch)
    evaluator = TrainingEvaluator(digits, "chain-cnn", epochs=3, data_fraction=0.2, recipe=STANDARD)
    evaluator(evaluator.search_space().sample(np.random.default_rng(0)))
    recorded.assert_recipe(STANDARD, epochs=3)
    assert {len(forward.inputs) for forward in spy.training} >= {STANDARD.batch_size}
    assert _augmented_share(spy, digits.X_train) > 0.5


def test_without_augmentation_the_model_sees_the_rows_as_they_are(
    monkeypatch: pytest.MonkeyPatch, digits
) -> None:
    spy = spy_on_networks(monkeypatch)
    evaluator = TrainingEvaluator(digits, "chain-cnn", epochs=1, data_fraction=0.2)
    evaluator(evaluator.search_space().sample(np.random.default_rng(0)))
    assert _augmented_share(spy, digits.X_train) == 0


def _store(tmp_path: Path, config: dict) -> Path:
    task = load_task(config["task"])
    evaluator = TrainingEvaluator(task, config["space"], epochs=1, data_fraction=0.2)
    store = tmp_path / "runs.db"
    rlnas.search(
        evaluator.search_space(),
        evaluator,
        "random",
        metric="accuracy",
        budget=1,
        seed=2,
        store=store,
        config=config,
    )
    return store


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_train_final_trains_with_the_recorded_recipe(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, digits
) -> None:
    from rlnas.export import train_final

    config = {"task": "digits", "space": "chain-cnn", "recipe": STANDARD.model_dump(mode="json")}
    store = _store(tmp_path, config)
    recorded = Recorded(monkeypatch)
    spy = spy_on_networks(monkeypatch)
    train_final(store, epochs=2, out_dir=tmp_path / "final")
    recorded.assert_recipe(STANDARD, epochs=2)
    assert _augmented_share(spy, torch.cat([digits.X_train, digits.X_val])) > 0.5
    report = json.loads((tmp_path / "final" / "metrics.json").read_text())
    assert TrainingRecipe(**report["recipe"]) == STANDARD


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_train_final_reads_the_loose_settings_of_older_stores(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from rlnas.export import train_final

    config = {"task": "wine", "space": "mlp", "batch_size": 16, "lr": 0.02, "weight_decay": 1e-3}
    store = _store(tmp_path, config)
    recorded = Recorded(monkeypatch)
    spy = spy_on_networks(monkeypatch)
    train_final(store, epochs=1, out_dir=tmp_path / "final")
    (optimizer,) = recorded.optimizers
    assert type(optimizer) is torch.optim.Adam
    assert (optimizer.param_groups[0]["lr"], optimizer.param_groups[0]["weight_decay"]) == (
        0.02,
        1e-3,
    )
    assert max(len(forward.inputs) for forward in spy.training) == 16
