"""Choosing an estimator: the registry, and `rlnas search --estimator` at tiny sizes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import rlnas
from rlnas.cli import app
from rlnas.errors import UserError
from rlnas.estimators import (
    ESTIMATORS,
    SupernetEvaluator,
    TrainingEvaluator,
    WeightSharingEvaluator,
    make_estimator,
)
from rlnas.estimators.registry import EstimatorSettings
from rlnas.tasks import load_task

TINY = ["--task", "digits", "--epochs", "1", "--data-fraction", "0.1", "--budget", "3"]


def search(tmp_path, *args: str):
    store = tmp_path / "runs.db"
    return CliRunner().invoke(app, ["search", *TINY, "--store", str(store), *args])


def stored(tmp_path, name: str):
    with rlnas.Store(tmp_path / "runs.db") as store:
        experiment = store.experiment(name)
        return experiment.config, store.trials(experiment)


def test_make_estimator_builds_each_name_for_the_training_task() -> None:
    training = TrainingEvaluator(load_task("digits"), "cell-cnn", seed=3)
    built = {
        name: make_estimator(EstimatorSettings(estimator=name), training) for name in ESTIMATORS
    }
    assert built["full"] is training and built["predictor"] is training
    assert isinstance(built["weight-sharing"], WeightSharingEvaluator)
    assert isinstance(built["supernet"], SupernetEvaluator)
    assert built["supernet"].shared.space == "cell-cnn" and built["supernet"].seed == 3
    with pytest.raises(UserError, match="invalid setting 'estimator'"):
        EstimatorSettings(estimator="oracle")
    with pytest.raises(UserError, match="supernet estimator only"):
        make_estimator(EstimatorSettings(supernet_path="x.safetensors"), training)


def test_weight_sharing_search_records_the_estimator_and_its_cost(tmp_path) -> None:
    result = search(tmp_path, "--estimator", "weight-sharing", "--name", "ws")
    assert result.exit_code == 0, result.output
    config, trials = stored(tmp_path, "ws")
    assert config["estimator"] == "weight-sharing"
    assert len(trials) == 3 and all(t.metrics["estimator_s"] > 0 for t in trials)


def test_supernet_is_saved_reused_and_refused_for_another_space(tmp_path) -> None:
    path = tmp_path / "digits.safetensors"
    args = ["--estimator", "supernet", "--supernet-path", str(path), "--supernet-steps", "20"]
    assert search(tmp_path, *args, "--name", "first").exit_code == 0
    saved = path.stat().st_mtime_ns
    assert search(tmp_path, *args, "--name", "again").exit_code == 0
    assert path.stat().st_mtime_ns == saved  # loaded, not trained and written again
    config, trials = stored(tmp_path, "again")
    assert config["supernet_path"] == str(path) and config["supernet_fit_s"] >= 0
    assert [t.metrics["accuracy"] for t in trials] == [
        t.metrics["accuracy"] for t in stored(tmp_path, "first")[1]
    ]
    refused = search(tmp_path, *args, "--space", "cell-cnn", "--name", "other")
    assert isinstance(refused.exception, UserError)
    assert "was trained for space chain-cnn, not space cell-cnn" in str(refused.exception)


def test_predictor_screens_proposals_of_the_chosen_strategy(tmp_path) -> None:
    result = search(tmp_path, "--estimator", "predictor", "--top-k", "2", "--name", "p")
    assert result.exit_code == 0, result.output
    config, trials = stored(tmp_path, "p")
    assert config["estimator"] == "predictor" and config["top_k"] == 2
    assert config["strategy"] == "evolution" and len(trials) == 3


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--benchmark", "nbg:cora", "--estimator", "supernet"], "it needs a task"),
        (["--task", "digits", "--estimator", "weight-sharing", "--workers", "2"], "one worker"),
        (["--task", "digits", "--supernet-path", "s.safetensors"], "supernet estimator only"),
        (["--task", "digits", "--estimator", "oracle"], "'estimator'"),
        (["--estimator", "predictor", "--strategy", "sarsa", "--mode", "progressive"], "one-shot"),
    ],
)
def test_bad_estimator_options_are_user_errors(tmp_path, args: list[str], error: str) -> None:
    result = CliRunner().invoke(app, ["search", *args, "--store", str(tmp_path / "x.db")])
    assert isinstance(result.exception, UserError) and error in str(result.exception)
    assert not (tmp_path / "x.db").exists()


def test_predictor_screens_a_tabular_benchmark_within_its_budget(tmp_path) -> None:
    args = ["--benchmark", "nbg:cora", "--budget", "15", "--estimator", "predictor", "--top-k", "2"]
    store = str(tmp_path / "runs.db")
    result = CliRunner().invoke(app, ["search", *args, "--store", store, "--name", "t"])
    assert result.exit_code == 0, result.output
    config, trials = stored(tmp_path, "t")
    assert config["estimator"] == "predictor" and len(trials) == 15
