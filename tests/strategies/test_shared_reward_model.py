"""The reward model every model-based strategy and the screening share: a space's declared
features reach it, and it ranks a known-good architecture first."""

from __future__ import annotations

import numpy as np
import pytest
from strategy_helpers import BEST, count_best, run, toy_space

import rlnas
from rlnas.controllers.model_selection import SelectedRewardModel
from rlnas.controllers.surrogate import RewardModel
from rlnas.space import Choices, Growth, SearchSpace
from rlnas.space.growth import episode_space
from rlnas.space.nas_bench_graph import nas_bench_graph_space
from rlnas.strategies import make_strategy
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.strategies.random_search import RandomSearch
from rlnas.strategies.screening import Screened


def best_count(choices: Choices) -> np.ndarray:
    """A declared feature: how many decisions took the best option (what the reward counts)."""
    return np.array([sum(option == BEST for option in choices.values())], dtype=float)


def declaring_space() -> SearchSpace:
    """The toy space declaring ``best_count``; it grows one decision per step, for progressive."""
    space = toy_space()
    growth = Growth([(name,) for name in space.names], {name: "c" for name in space.names})
    return SearchSpace(space.choices, name="toy-declared", growth=growth, features=[best_count])


def model_of(strategy: rlnas.Strategy) -> SelectedRewardModel:
    """The fitted reward model inside a model-based strategy or a screened one."""
    model = strategy.model
    shared = model if isinstance(model, RewardModel) else model.model
    assert isinstance(shared.regressor, SelectedRewardModel)
    return shared.regressor


def screened(space: SearchSpace) -> Screened:
    return Screened(RandomSearch(space, seed=0), pool=12, top_k=3, warmup=10)


@pytest.mark.parametrize("name", ["mcts", "dyna-q", "dyna-ppo", "screened"])
def test_a_space_s_declared_features_reach_the_shared_model(name: str) -> None:
    space = declaring_space()
    pool = {"model": "pool"}  # the pool reads declared features; the pairwise model does not
    strategy = screened(space) if name == "screened" else make_strategy(name, space, 0, pool)
    run(strategy, 30)
    model = model_of(strategy)
    assert model.fitted
    one_hot = sum(len(choice.options) for choice in space.choices)
    assert model.features.shape[1] == one_hot + 1
    # the last column is the declared feature of the architectures the model was fit on
    assert set(model.features[:, -1]) <= set(range(6)) and model.features[:, -1].max() > 0


def test_progressive_mcts_fits_the_declared_features_of_whole_episodes() -> None:
    space = nas_bench_graph_space("cora")
    assert episode_space(space).features == space.features
    strategy = make_strategy(
        "mcts",
        declaring_space(),
        seed=0,
        options={"model": "pool"},
        episodes=EpisodeSettings(mode="progressive"),
    )
    run(strategy, 30)
    one_hot = sum(len(choice.options) for choice in episode_space(declaring_space()).choices)
    assert model_of(strategy).features.shape[1] == one_hot + 1


def test_screening_ranks_the_known_best_architecture_first() -> None:
    space = toy_space()
    strategy = screened(space)
    rlnas.search(space, lambda a: {"accuracy": count_best(a)}, strategy=strategy, budget=40)
    rng = np.random.default_rng(3)
    best = space.architecture({name: BEST for name in space.names})
    candidates = [best, *(space.sample(rng) for _ in range(60))]
    candidates = [a for a in candidates[1:] if a.key != best.key]
    predicted = strategy.predict([best, *candidates])
    assert int(np.argmax(predicted)) == 0, predicted[:5]


def test_mcts_selects_its_model_by_cross_validation_when_the_data_doubled() -> None:
    strategy = make_strategy("mcts", toy_space(), seed=0, options={"model": "pool"})
    run(strategy, 60)
    model = model_of(strategy)
    assert model.quality is not None and model.scores  # the pool was cross-validated
    # rescored at the first refits from 12, 24 and 48 points on (when they had doubled), not at
    # every refit: the last refit came at 57-59 points
    assert 48 <= model.selected_on < 56


@pytest.mark.parametrize("name", ["mcts", "dyna-q", "dyna-ppo", "mpc", "dp", "screened"])
def test_every_model_based_strategy_holds_the_one_reward_model(name: str) -> None:
    space = toy_space()
    strategy = screened(space) if name == "screened" else make_strategy(name, space, seed=0)
    run(strategy, 25)
    model = strategy.model if isinstance(strategy.model, RewardModel) else strategy.model.model
    assert isinstance(model, RewardModel)
    assert model.fitted and len(model.rows) >= 20  # one row per distinct evaluation
    assert model.quality is not None and -1 <= model.quality <= 1
