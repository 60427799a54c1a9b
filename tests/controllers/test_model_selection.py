"""The cross-validated reward model: picks the better regressor, is seeded, resumes, is cheap."""

from __future__ import annotations

import numpy as np
import pytest
from reward_model_helpers import additive_problem
from scipy.stats import kendalltau

from rlnas.controllers.model_selection import SelectedRewardModel
from rlnas.controllers.regressors import CANDIDATES, make_regressor
from rlnas.store import deserialize_state, serialize_state


@pytest.mark.parametrize("seed", [0, 1])
def test_selection_picks_the_model_that_ranks_held_out_points_best(seed: int) -> None:
    # an exactly additive reward over one-hot columns: a GP fits it perfectly, trees do not
    features, targets = additive_problem(seed, 300)
    model = SelectedRewardModel(top=1)
    model.fit(features[:40], targets[:40], np.random.default_rng(seed))
    held_out = {}
    for name in CANDIDATES:
        regressor = make_regressor(name, seed)
        regressor.fit(features[:40], targets[:40])
        held_out[name] = kendalltau(regressor.predict(features[40:])[0], targets[40:]).statistic
    assert model.chosen == (max(held_out, key=held_out.__getitem__),) == ("gp",)
    assert model.quality == max(model.scores.values())
    chosen = kendalltau(model.predict(features[40:])[0], targets[40:]).statistic
    assert chosen > held_out["kernel"] + 0.2  # the old default model, beaten by a margin


def test_too_few_points_use_the_default_and_have_no_quality() -> None:
    features, targets = additive_problem(2, 20)
    model = SelectedRewardModel(min_points=12)
    model.fit(features[:8], targets[:8], np.random.default_rng(0))
    assert model.chosen == ("kernel",) and model.quality is None
    model.fit(features[:12], targets[:12], np.random.default_rng(0))
    assert model.quality is not None and len(model.chosen) == model.top


def test_the_pool_is_scored_again_only_when_the_points_have_grown() -> None:
    features, targets = additive_problem(3, 60)
    model = SelectedRewardModel(select_growth=0.5)
    model.fit(features[:20], targets[:20], np.random.default_rng(0))
    model.fit(features[:29], targets[:29], np.random.default_rng(0))
    assert model.selected_on == 20  # 29 < 1.5 * 20: only the chosen models were refit
    model.fit(features[:30], targets[:30], np.random.default_rng(0))
    assert model.selected_on == 30


def test_an_ensemble_of_the_best_reports_mean_and_spread() -> None:
    features, targets = additive_problem(4, 120)
    model = SelectedRewardModel(top=2)
    model.fit(features[:50], targets[:50], np.random.default_rng(1))
    mean, std = model.predict(features[50:])
    assert mean.shape == std.shape == (70,)
    assert (std >= 0).all() and std.max() > 0
    assert len(model.chosen) == 2


def test_state_round_trips_through_the_store_and_refits_identically() -> None:
    features, targets = additive_problem(5, 80)
    model = SelectedRewardModel()
    model.fit(features[:40], targets[:40], np.random.default_rng(7))
    state = deserialize_state(serialize_state({"model": model.state_dict()}))["model"]
    restored = SelectedRewardModel()
    restored.load_state_dict(state)
    assert restored.chosen == model.chosen and restored.quality == model.quality
    for left, right in zip(model.predict(features[40:]), restored.predict(features[40:])):
        assert np.array_equal(left, right)


def test_unfitted_model_predicts_zero() -> None:
    features, _ = additive_problem(6, 5)
    mean, std = SelectedRewardModel().predict(features)
    assert (mean == 0).all() and (std == 0).all()
