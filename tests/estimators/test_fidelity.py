"""Full training in parts: a candidate continued from its state trains as if it never stopped."""

from __future__ import annotations

import pytest

import rlnas
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.training import TrainingEvaluator
from rlnas.tasks import load_task

CLOCKS = {"estimator_s", "train_time_s", "latency_ms"}


def timeless(metrics) -> dict[str, float]:
    return {name: value for name, value in metrics.items() if name not in CLOCKS}


@pytest.fixture(scope="module")
def digits():
    return load_task("digits")


RECIPES = [
    TrainingRecipe(),
    TrainingRecipe(optimizer="sgd", lr=0.05, schedule="cosine", warmup_epochs=1, patience=20),
]


@pytest.mark.parametrize("recipe", RECIPES, ids=["adam", "sgd-cosine-warmup"])
def test_three_epochs_then_six_more_train_as_nine_at_once(digits, recipe) -> None:
    evaluator = TrainingEvaluator(digits, "mlp", epochs=9, data_fraction=0.3, recipe=recipe)
    assert isinstance(evaluator, rlnas.FidelityEvaluator)
    dropout = evaluator.search_space().architecture(
        {"activation": "relu", "dropout": 0.3, "width0": 64, "width1": 32, "width2": "none"}
    )
    whole = evaluator.train_to(dropout, 9)
    part = evaluator.train_to(dropout, 3)
    rest = evaluator.train_to(dropout, 9, part.state)
    assert part.curve == whole.curve[:3]
    assert rest.curve == whole.curve
    assert timeless(rest.metrics) == timeless(whole.metrics) == timeless(evaluator(dropout))
    assert len(whole.curve) == whole.metrics["epochs"] == 9
    assert whole.metrics["accuracy"] == max(point["accuracy"] for point in whole.curve)
    restarted = evaluator.train_to(dropout, 6)  # from scratch: not the continuation
    assert restarted.curve != rest.curve[3:]


def test_a_candidate_stopped_by_patience_trains_no_further() -> None:
    wine = load_task("wine")
    evaluator = TrainingEvaluator(
        wine, "mlp", epochs=200, recipe=TrainingRecipe(patience=2, lr=0.05)
    )
    architecture = evaluator.search_space().architecture(
        {"activation": "relu", "dropout": 0.0, "width0": 32, "width1": "none", "width2": "none"}
    )
    first = evaluator.train_to(architecture, 100)
    assert len(first.curve) < 100
    again = evaluator.train_to(architecture, 200, first.state)
    assert again.curve == first.curve


def test_train_to_refuses_epochs_beyond_the_full_fidelity(digits) -> None:
    evaluator = TrainingEvaluator(digits, "mlp", epochs=3)
    architecture = evaluator.search_space().architecture(
        {"activation": "relu", "dropout": 0.0, "width0": 32, "width1": "none", "width2": "none"}
    )
    with pytest.raises(ValueError, match="between 1 and 3"):
        evaluator.train_to(architecture, 4)


def test_a_scheduled_task_search_stores_curves_rungs_and_pruned_trials(tmp_path) -> None:
    config = rlnas.SearchConfig(
        task="digits",
        space="mlp",
        epochs=4,
        data_fraction=0.3,
        scheduler="asha",
        eta=2,
        strategy="random",
        budget=8,
        store=tmp_path / "runs.db",
        name="asha",
    )
    result = rlnas.run(config)
    with rlnas.Store(tmp_path / "runs.db") as store:
        stored = store.trials(store.experiment("asha"))
        assert store.experiment("asha").config["scheduler"] == "asha"
    assert len(stored) == 8
    assert {trial.status for trial in stored} == {"complete", "pruned"}
    for trial in stored:
        assert trial.rung in (0, 1, 2)
        assert len(trial.curve) == trial.metrics["epochs"] == (1, 2, 4)[trial.rung]
        assert trial.metrics["accuracy"] == pytest.approx(max(trial.curve))
    assert not result.best.pruned and len(result.best.curve) == 4
