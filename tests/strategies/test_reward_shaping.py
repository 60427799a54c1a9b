"""Reward shaping shared by the learning strategies: normalize, rank, raw, and failures."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import rlnas
from rlnas.strategies.reward_shaping import RewardShaper
from rlnas.trial import Status, Trial

SPACE = rlnas.SearchSpace([rlnas.Choice("a", ["x", "y"])])
ARCHITECTURE = SPACE.architecture({"a": "x"})


def complete(reward: float) -> Trial:
    return Trial(0, ARCHITECTURE, {"m": reward}, reward)


def failed() -> Trial:
    return Trial(0, ARCHITECTURE, {}, None, Status.FAILED, "boom")


def test_normalize_is_a_running_z_score() -> None:
    shaper = RewardShaper("normalize")
    rewards = [0.2, 0.9, 0.5, 0.7, 0.1]
    shaped = [shaper(complete(r)) for r in rewards]
    assert shaped[0] == 0.0
    for count in range(2, len(rewards) + 1):
        seen = np.array(rewards[:count])
        expected = (rewards[count - 1] - seen.mean()) / seen.std()
        assert shaped[count - 1] == pytest.approx(expected)
    assert shaper.mean() == pytest.approx(np.mean(rewards))
    assert shaper.std() == pytest.approx(np.std(rewards))


def test_rank_is_the_fraction_beaten() -> None:
    shaper = RewardShaper("rank")
    for reward in [0.3, 0.1, 0.5, 0.2, 0.4]:
        shaper(complete(reward))
    assert shaper.transform(0.1) == 0.0
    assert shaper.transform(0.5) == 1.0
    assert shaper.transform(0.3) == pytest.approx(0.5)
    assert shaper.transform(1e9) == pytest.approx(5 / 4)
    assert 0.0 <= shaper(complete(0.35)) <= 1.0


def test_raw_passes_rewards_through() -> None:
    shaper = RewardShaper("raw")
    assert shaper(complete(-3000.0)) == -3000.0
    assert shaper(complete(12.5)) == 12.5


@pytest.mark.parametrize("mode", ["normalize", "rank", "raw"])
def test_a_failure_is_worth_a_little_less_than_the_worst(mode: str) -> None:
    shaper = RewardShaper(mode)
    assert shaper(failed()) == 0.0  # nothing seen yet: neutral
    rewards = [0.4, 0.8, 0.6]
    shaped = [shaper(complete(r)) for r in rewards]
    worst = shaper.transform(min(rewards))
    failure = shaper(failed())
    assert failure <= worst
    assert failure >= worst - 1.0 - 1e-9 if mode != "raw" else failure < min(rewards)
    assert len(shaper.seen) == 3  # a failure does not enter the statistics
    assert shaped  # the complete trials were shaped


@pytest.mark.parametrize("mode", ["normalize", "rank"])
def test_one_failure_after_equal_rewards_stays_on_the_same_scale(mode: str) -> None:
    """With no spread yet a failure is one step below, not 1e5 below (that swamps a gradient)."""
    shaper = RewardShaper(mode)
    shaper(complete(0.5))
    assert -1.0 <= shaper(failed()) <= 0.0
    shaper(complete(0.5))
    assert -1.0 <= shaper(failed()) <= 0.0
    expected = -np.sqrt(2) if mode == "normalize" else 0.0  # the lone lowest of three
    assert shaper(complete(0.49999)) == pytest.approx(expected, rel=1e-3)


@pytest.mark.parametrize("name", ["reinforce", "q-learning", "mcts"])
def test_unknown_mode_is_refused_as_a_strategy_option(name: str) -> None:
    with pytest.raises(rlnas.UserError, match="reward_shaping must be one of 'normalize'"):
        rlnas.make_strategy(name, SPACE, options={"reward_shaping": "softmax"})


def test_state_round_trips_through_the_store_format() -> None:
    shaper = RewardShaper("normalize")
    for reward in [0.3, 0.1, 0.5]:
        shaper(complete(reward))
    buffer = io.BytesIO()
    torch.save(shaper.state_dict(), buffer)
    buffer.seek(0)
    restored = RewardShaper("normalize")
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    for reward in [0.2, 0.7]:
        assert restored(complete(reward)) == shaper(complete(reward))
    assert restored(failed()) == shaper(failed())
