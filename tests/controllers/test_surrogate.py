"""The shared reward model: the pairwise Bayesian regressor learns pair interactions and samples
its posterior, the schedule refits when due, the gate reads the model's out-of-sample quality,
and a checkpoint restores the same predictions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from rlnas.controllers.pairwise_model import PairwiseModel
from rlnas.controllers.surrogate import RewardModel
from rlnas.space import Choice, SearchSpace


def chain_problem(seed: int, count: int, noise: float = 0.05):
    """Rows of 6 decisions x 4 options and a reward made of adjacent-pair terms only."""
    rng = np.random.default_rng(seed)
    pairs = rng.normal(size=(5, 4, 4))

    def reward(rows: np.ndarray) -> np.ndarray:
        return sum(pairs[i, rows[:, i], rows[:, i + 1]] for i in range(5))

    rows = rng.integers(4, size=(count, 6))
    return rows, reward(rows) + noise * rng.normal(size=count), reward


def space() -> SearchSpace:
    return SearchSpace([Choice(f"x{i}", [0, 1, 2, 3]) for i in range(6)])


@pytest.mark.parametrize("pairs", ["adjacent", "all"])
def test_the_pairwise_model_ranks_unseen_architectures_of_a_pair_reward(pairs: str) -> None:
    rows, targets, reward = chain_problem(0, 200)
    model = PairwiseModel([4] * 6, pairs)
    model.fit(rows, targets)
    unseen = np.random.default_rng(1).integers(4, size=(500, 6))
    mean, std = model.predict(unseen)
    assert kendalltau(mean, reward(unseen)).statistic > (0.8 if pairs == "adjacent" else 0.6)
    assert model.pair_share > 0  # the evidence gave the pair terms a share of the signal
    assert (std > 0).all()


def test_posterior_samples_spread_around_the_mean_and_narrow_with_data() -> None:
    rows, targets, _ = chain_problem(0, 200)
    probe = np.random.default_rng(2).integers(4, size=(50, 6))
    spreads = []
    for count in (20, 200):
        model = PairwiseModel([4] * 6, "adjacent")
        model.fit(rows[:count], targets[:count])
        rng = np.random.default_rng(0)
        draws = np.array([model.sample(rng).score(probe) for _ in range(300)])
        mean, std = model.predict(probe)
        assert np.abs(draws.mean(axis=0) - mean).max() < 0.25 * std.mean() + 0.05
        np.testing.assert_allclose(draws.std(axis=0), std, rtol=0.3, atol=0.02)
        spreads.append(std.mean())
    assert spreads[1] < 0.5 * spreads[0]


def test_the_schedule_refits_when_the_evaluations_have_grown_enough() -> None:
    rows, targets, _ = chain_problem(0, 40)
    model = RewardModel(space(), refit_growth=0.5)
    refits = []
    for count in range(1, 41):
        model.observe(rows[count - 1])
        if model.refit_if_due(lambda c=count: targets[:c], np.random.default_rng(0)):
            refits.append(count)
    assert refits == [1, 2, 3, 5, 8, 12, 18, 27]  # each after 50 % more (at least one)


def test_the_gate_trusts_a_learnable_reward_and_not_noise() -> None:
    rows, targets, _ = chain_problem(0, 60)
    noise = np.random.default_rng(5).random(60)
    for values, trusted in ((targets, True), (noise, False)):
        model = RewardModel(space(), pairs="adjacent", min_quality=0.3)
        for row in rows:
            model.observe(row)
        model.refit_if_due(lambda v=values: v, np.random.default_rng(0))
        assert model.quality is not None
        assert model.trusted == trusted, model.quality


@pytest.mark.parametrize("kind", ["pairwise", "pool"])
def test_a_restored_model_predicts_as_the_original(kind: str) -> None:
    rows, targets, _ = chain_problem(0, 30)
    model = RewardModel(space(), kind=kind, candidates=["kernel", "forest"])
    for row in rows:
        model.observe(row)
    model.refit_if_due(lambda: targets, np.random.default_rng(0))
    restored = RewardModel(space(), kind=kind, candidates=["kernel", "forest"])
    restored.load_state_dict(model.state_dict())
    probe = rows[:5] + 1 - 2 * (rows[:5] == 3)
    for left, right in zip(model.predict(probe), restored.predict(probe)):
        np.testing.assert_allclose(left, right)
    assert not restored.due


def test_thompson_and_ucb_scorers_of_the_pool_model() -> None:
    rows, targets, _ = chain_problem(0, 30)
    model = RewardModel(space(), kind="pool", candidates=["kernel"])
    for row in rows:
        model.observe(row)
    model.refit_if_due(lambda: targets, np.random.default_rng(0))
    mean, std = model.predict(rows[:5])
    ucb = model.scorer("ucb", 2.0, np.random.default_rng(0))(rows[:5])
    np.testing.assert_allclose(ucb, mean + 2.0 * std)
    thompson = model.scorer("thompson", 0.0, np.random.default_rng(0))
    assert not np.allclose(thompson(rows[:5]), thompson(rows[:5]))  # a draw per call
