"""Full training: it learns, is deterministic, reports costs, and fails the way the loop expects."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

import rlnas
from rlnas.errors import UserError
from rlnas.estimators.measuring import Diverged
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.training import BuildError, TrainingEvaluator
from rlnas.rewards import Constraint, ConstraintViolation, Objective
from rlnas.tasks import load_task

CONV = {"op": "conv3x3", "width": 16, "skip": False}
IDLE = {"op": "identity", "width": "none", "skip": False}


def chain(*layers: dict) -> dict:
    return {f"{k}{i}": v for i, layer in enumerate(layers) for k, v in layer.items()}


@pytest.fixture(scope="module")
def digits():
    return load_task("digits")


@pytest.fixture(scope="module")
def small_cnn(digits):
    space = TrainingEvaluator(digits, "chain-cnn").search_space()
    pool = {"op": "maxpool", "width": "none", "skip": False}
    return space.architecture(chain(CONV, pool, {**CONV, "width": 32, "skip": True}, IDLE))


def test_learns_digits_and_reports_costs(digits, small_cnn) -> None:
    metrics = TrainingEvaluator(digits, "chain-cnn", epochs=3)(small_cnn)
    assert metrics["accuracy"] > 0.6  # chance is 0.1
    assert metrics["params"] == pytest.approx(16 * 9 + 32 + 16 * 32 * 9 + 64 + 16 * 32 + 64 + 330)
    assert metrics["flops"] > 2 * 64 * 16 * 9  # at least the first convolution
    assert metrics["latency_ms"] > 0 and metrics["train_time_s"] > 0
    assert metrics["epochs"] == 3


def test_same_seed_same_metrics_and_global_state_untouched(digits, small_cnn) -> None:
    torch.manual_seed(123)
    expected_draw = torch.rand(1)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    first = TrainingEvaluator(digits, "chain-cnn", epochs=1, data_fraction=0.3, seed=4)(small_cnn)
    assert torch.rand(1) == expected_draw
    assert torch.get_num_threads() == threads
    second = TrainingEvaluator(digits, "chain-cnn", epochs=1, data_fraction=0.3, seed=4)(small_cnn)
    other = TrainingEvaluator(digits, "chain-cnn", epochs=1, data_fraction=0.3, seed=5)(small_cnn)
    assert first["accuracy"] == second["accuracy"]
    assert first["accuracy"] != other["accuracy"]


def test_early_stopping_stops_before_the_last_epoch() -> None:
    wine = load_task("wine")
    evaluator = TrainingEvaluator(
        wine, "mlp", epochs=200, recipe=TrainingRecipe(patience=2, lr=0.05)
    )
    architecture = evaluator.search_space().sample(np.random.default_rng(0))
    metrics = evaluator(architecture)
    assert metrics["epochs"] < 200 and metrics["accuracy"] > 0.8


def test_binary_and_regression_metrics() -> None:
    cancer = load_task("breast-cancer")
    evaluator = TrainingEvaluator(cancer, "mlp", epochs=3)
    metrics = evaluator(evaluator.search_space().sample(np.random.default_rng(0)))
    assert 0.8 < metrics["roc_auc"] <= 1 and "accuracy" in metrics
    diabetes = load_task("diabetes")
    evaluator = TrainingEvaluator(diabetes, "mlp", epochs=30)
    metrics = evaluator(evaluator.search_space().sample(np.random.default_rng(0)))
    variance = float(diabetes.y_val.var())
    assert 0 < metrics["mse"] < variance  # better than predicting the mean, in the target's units


def test_conv1d_on_mnist1d_one_epoch() -> None:
    task = load_task("mnist1d")
    evaluator = TrainingEvaluator(task, "conv1d", epochs=1, data_fraction=0.2)
    metrics = evaluator(evaluator.search_space().sample(np.random.default_rng(1)))
    assert 0 <= metrics["accuracy"] <= 1


def test_huge_learning_rate_diverges() -> None:
    wine = load_task("wine")
    evaluator = TrainingEvaluator(wine, "mlp", epochs=3, recipe=TrainingRecipe(lr=1e12))
    with pytest.raises(Diverged, match="lower learning rate"):
        evaluator(evaluator.search_space().sample(np.random.default_rng(0)))


def test_time_limit(digits, small_cnn) -> None:
    evaluator = TrainingEvaluator(digits, "chain-cnn", epochs=50, time_limit_s=0.05)
    with pytest.raises(TimeoutError, match="time limit"):
        evaluator(small_cnn)


def test_hard_constraint_rejects_before_training(digits, small_cnn, monkeypatch) -> None:
    def no_training(*args, **kwargs):
        raise AssertionError("trained an architecture that breaks a hard constraint")

    monkeypatch.setattr(TrainingEvaluator, "_train", no_training)
    evaluator = TrainingEvaluator(digits, "chain-cnn", constraints=[Constraint("params", 1000)])
    with pytest.raises(ConstraintViolation, match="params<=1000"):
        evaluator(small_cnn)
    flops = TrainingEvaluator(digits, "chain-cnn", constraints=[Constraint.parse("flops<=1e3")])
    with pytest.raises(ConstraintViolation, match="flops"):
        flops(small_cnn)


def test_bad_settings_are_user_errors(digits) -> None:
    for settings in (
        {"epochs": 0},
        {"data_fraction": 0.0},
        {"data_fraction": 1.5},
        {"threads": 0},
    ):
        with pytest.raises(UserError):
            TrainingEvaluator(digits, "chain-cnn", **settings)


def test_search_with_training_records_failures_and_goes_on(digits, small_cnn) -> None:
    evaluator = TrainingEvaluator(digits, "chain-cnn", epochs=1, data_fraction=0.3)
    space = evaluator.search_space()
    first = space.sample(np.random.default_rng(0))

    def evaluate(architecture):
        if architecture == first:
            raise RuntimeError("this candidate always fails")
        return evaluator(architecture)

    class FirstThenOthers:
        """Propose a known failing candidate first, then a few fixed ones."""

        name = "fixed"

        def __init__(self) -> None:
            self.queue = [first, small_cnn, space.sample(np.random.default_rng(9))]

        def ask(self, n):
            return [self.queue.pop(0)]

        def tell(self, architecture, trial):
            pass

        def state_dict(self):
            return {}

        def diagnostics(self):
            return {}

    result = rlnas.search(space, evaluate, FirstThenOthers(), metric="accuracy", budget=3)
    assert [trial.failed for trial in result.trials] == [True, False, False]
    assert "always fails" in result.trials[0].error
    assert result.best is not None and 0 <= result.best.metrics["accuracy"] <= 1


def test_search_with_a_constrained_objective(digits) -> None:
    limit = Constraint("params", 5000)
    evaluator = TrainingEvaluator(
        digits, "chain-cnn", epochs=1, data_fraction=0.2, constraints=[limit]
    )
    result = rlnas.search(
        evaluator.search_space(),
        evaluator,
        "random",
        metric=Objective("accuracy", constraints=[limit]),
        budget=4,
        seed=1,
    )
    # rejected before training, an architecture over the limit uses no budget
    assert sum(trial.counted for trial in result.trials) == 4
    assert {trial.status for trial in result.trials} == {"rejected", "complete"}
    for trial in result.trials:
        if trial.failed:
            assert trial.status == "rejected" and "hard constraint params<=5000" in trial.error
        else:
            assert trial.metrics["params"] <= 5000


def test_an_architecture_the_space_cannot_build_says_why(digits) -> None:
    wine = load_task("wine")
    mlp = TrainingEvaluator(wine, "mlp").search_space().sample(np.random.default_rng(0))
    with pytest.raises(BuildError, match=r"space chain-cnn cannot build .*KeyError"):
        TrainingEvaluator(digits, "chain-cnn")(mlp)


def test_evaluator_pickles_for_process_pools(digits) -> None:
    copy = pickle.loads(pickle.dumps(TrainingEvaluator(digits, "chain-cnn", epochs=2)))
    assert copy.epochs == 2 and torch.equal(copy.task.X_val, digits.X_val)
