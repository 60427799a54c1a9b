"""The reward model: ranks held-out architectures right, is seeded, cheap and resumable."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from reward_model_helpers import additive_problem

from rlnas.controllers.reward_model import EnsembleRewardModel


def spearman(left: np.ndarray, right: np.ndarray) -> float:
    ranks = [np.argsort(np.argsort(values)) for values in (left, right)]
    return float(np.corrcoef(*ranks)[0, 1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_predictions_rank_held_out_architectures(seed: int) -> None:
    features, targets = additive_problem(seed, 160)
    model = EnsembleRewardModel()
    model.fit(features[:60], targets[:60], np.random.default_rng(seed))
    mean, std = model.predict(features[60:])
    assert spearman(mean, targets[60:]) > 0.5
    assert mean.shape == std.shape == (100,)
    assert (std >= 0).all() and std.max() > 0  # the members disagree somewhere


def test_fit_is_seeded_and_state_round_trips() -> None:
    features, targets = additive_problem(3, 80)
    first, second = EnsembleRewardModel(), EnsembleRewardModel()
    first.fit(features[:50], targets[:50], np.random.default_rng(7))
    second.fit(features[:50], targets[:50], np.random.default_rng(7))
    assert np.array_equal(
        first.predict_members(features[50:]), second.predict_members(features[50:])
    )
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    restored = EnsembleRewardModel()
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert np.array_equal(restored.predict_members(features), first.predict_members(features))


def test_unfitted_model_predicts_zero_with_no_uncertainty() -> None:
    features, _ = additive_problem(4, 5)
    mean, std = EnsembleRewardModel().predict(features)
    assert (mean == 0).all() and (std == 0).all()


def test_rejects_an_ensemble_of_one() -> None:
    with pytest.raises(ValueError):
        EnsembleRewardModel(members=1)
