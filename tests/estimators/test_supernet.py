"""The one-shot supernet: trained once, saved, reused only for its own task and space."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import rlnas
from rlnas.errors import UserError
from rlnas.estimators import SupernetEvaluator
from rlnas.estimators.shared_weights import recalibrate_batch_norm
from rlnas.tasks import load_task

STEPS = 30


@pytest.fixture(scope="module")
def digits():
    return load_task("digits")


@pytest.fixture(scope="module")
def trained(digits, tmp_path_factory) -> SupernetEvaluator:
    path = tmp_path_factory.mktemp("supernet") / "chain.safetensors"
    return SupernetEvaluator(digits, "chain-cnn", steps=STEPS, path=path).fit()


def architectures(space: rlnas.SearchSpace, count: int = 3) -> list[rlnas.Architecture]:
    rng = np.random.default_rng(0)
    return [space.sample(rng) for _ in range(count)]


def scores(evaluator: SupernetEvaluator, archs: list[rlnas.Architecture]) -> list[float]:
    return [evaluator(architecture)["accuracy"] for architecture in archs]


def test_training_saves_a_file_that_a_second_search_loads(digits, trained) -> None:
    assert trained.path.is_file()
    archs = architectures(trained.search_space())
    reused = SupernetEvaluator(digits, "chain-cnn", steps=10_000_000, path=trained.path)
    assert scores(reused, archs) == scores(trained, archs)  # loaded: 10 million steps never ran
    untrained = SupernetEvaluator(digits, "chain-cnn", steps=1)
    assert scores(untrained, archs) != scores(trained, archs)


def test_scores_do_not_depend_on_the_order_of_calls(trained) -> None:
    archs = architectures(trained.search_space())
    forward = scores(trained, archs)
    assert scores(trained, archs[::-1]) == forward[::-1]


def test_a_supernet_of_another_space_or_task_is_refused(trained) -> None:
    with pytest.raises(UserError, match="was trained for space chain-cnn, not space cell-cnn"):
        SupernetEvaluator(trained.shared.task, "cell-cnn", path=trained.path).fit()
    mnist1d = load_task("mnist1d")
    with pytest.raises(UserError, match=r"task digits.*not task mnist1d"):
        SupernetEvaluator(mnist1d, "mlp", path=trained.path).fit()


def test_a_file_that_is_not_a_supernet_is_refused(digits, tmp_path) -> None:
    path = tmp_path / "notes.safetensors"
    path.write_text("not tensors")
    with pytest.raises(UserError, match="is not a saved supernet"):
        SupernetEvaluator(digits, "chain-cnn", path=path).fit()


def test_batch_norm_statistics_are_those_of_the_given_rows() -> None:
    model = nn.Sequential(nn.BatchNorm1d(3))
    model[0].running_mean.fill_(5.0)
    X = torch.randn(40, 3) + torch.tensor([1.0, -2.0, 0.5])
    recalibrate_batch_norm(model, X, torch.arange(20))
    assert torch.allclose(model[0].running_mean, X[:20].mean(0), atol=1e-5)
    assert not model.training


@pytest.mark.parametrize("strategy", ["random", "evolution", "ppo", "q-learning"])
def test_searches_with_any_strategy(trained, strategy: str) -> None:
    result = rlnas.search(trained.search_space(), trained, strategy=strategy, budget=4)
    assert len(result.trials) == 4 and result.best is not None
    assert all(trial.metrics["estimator_s"] > 0 for trial in result.trials if not trial.failed)
