"""MCTS with a reward model: beats random on an additive space, proposes new architectures,
resumes exactly, survives failures, runs through ``rlnas.search``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from strategy_helpers import round_trip

import rlnas
from rlnas.space import Architecture, Choice, SearchSpace
from rlnas.strategies import make_strategy
from rlnas.trial import Status, Trial


def additive_space() -> SearchSpace:
    """Four decisions of five options, 'e' never allowed: 256 architectures."""
    return SearchSpace(
        [Choice(f"x{i}", ["a", "b", "c", "d", "e"], allowed=lambda made: "abcd") for i in range(4)]
    )


def additive_reward(seed: int):
    weights = np.random.default_rng(seed).normal(size=(4, 5))

    def reward(architecture: Architecture) -> float:
        return float(
            sum(weights[i, "abcde".index(architecture.choices[f"x{i}"])] for i in range(4))
        )

    return reward


def trial_of(number: int, architecture: Architecture, reward, fail: bool = False) -> Trial:
    if fail:
        return Trial(number, architecture, {}, None, Status.FAILED, "boom")
    value = reward(architecture)
    return Trial(number, architecture, {"accuracy": value}, value)


def run(strategy: rlnas.Strategy, reward, steps: int, start: int = 0) -> list[Architecture]:
    """Ask one, tell its reward, ``steps`` times; every seventh trial fails."""
    asked = []
    for number in range(start, start + steps):
        (architecture,) = strategy.ask(1)
        strategy.tell(architecture, trial_of(number, architecture, reward, number % 7 == 6))
        asked.append(architecture)
    return asked


def evaluations_to_optimum(name: str, seed: int, limit: int = 128) -> int:
    """Distinct architectures evaluated until the optimum is (``limit`` if not in time)."""
    space, reward = additive_space(), additive_reward(seed)
    optimum = max(reward(space.decode(indices)) for indices in np.ndindex(4, 4, 4, 4))
    strategy = make_strategy(name, space, seed=seed)
    seen: set[str] = set()
    while len(seen) < limit:
        (architecture,) = strategy.ask(1)
        trial = trial_of(len(seen), architecture, reward)
        strategy.tell(architecture, replace(trial, cached=architecture.key in seen))
        seen.add(architecture.key)
        if trial.reward == optimum:
            return len(seen)
    return limit


def test_mcts_finds_the_optimum_faster_than_random() -> None:
    seeds = range(6)
    mcts = np.mean([evaluations_to_optimum("mcts", seed) for seed in seeds])
    random = np.mean([evaluations_to_optimum("random", seed) for seed in seeds])
    assert mcts < 0.5 * random, (mcts, random)  # random needs 128 on average


def test_proposals_are_new_architectures_while_there_are_any() -> None:
    strategy = make_strategy("mcts", additive_space(), seed=1)
    asked = run(strategy, additive_reward(1), 80)
    assert len({a.key for a in asked}) == 80
    batch = strategy.ask(5)  # several asks before any tell: still distinct and new
    assert len({a.key for a in batch} | {a.key for a in asked}) == 85


def test_real_evaluations_are_backed_up_into_the_tree() -> None:
    strategy = make_strategy("mcts", additive_space(), seed=2)
    (architecture,) = strategy.ask(1)
    strategy.tell(architecture, trial_of(0, architecture, additive_reward(2)))
    leaf = tuple(strategy.space.encode(architecture))
    assert all(strategy.visits[leaf[:depth]] == 1 for depth in range(5))


def test_resume_from_state_dict_continues_identically() -> None:
    reward = additive_reward(5)
    options = {"warmup": 5, "simulations": 8}
    original = make_strategy("mcts", additive_space(), seed=5, options=options)
    run(original, reward, 17)
    state = round_trip(original.state_dict())
    resumed = make_strategy("mcts", additive_space(), seed=5, options=options)
    resumed.load_state_dict(state)
    assert run(original, reward, 25, start=17) == run(resumed, reward, 25, start=17)
    assert original.visits == resumed.visits and original.totals == resumed.totals


def test_failed_trials_are_learned_as_bad() -> None:
    strategy = make_strategy("mcts", additive_space(), seed=3, options={"warmup": 4})
    reward = additive_reward(3)
    for number in range(12):
        (architecture,) = strategy.ask(1)
        strategy.tell(architecture, trial_of(number, architecture, reward, fail=number % 2 == 0))
    assert sum(None in episode.raw for episode in strategy.evaluated) == 6
    assert strategy.ask(1)[0].choices
    assert set(strategy.diagnostics()) <= {"predicted", "model_error"}


@pytest.mark.parametrize("budget", [5, 30])
def test_search_runs_with_mcts(budget: int) -> None:
    reward = additive_reward(4)
    result = rlnas.search(
        additive_space(), lambda a: {"accuracy": reward(a)}, "mcts", budget=budget
    )
    assert len(result.trials) == budget
    assert len({t.architecture.key for t in result.trials}) == budget


def test_an_exhausted_space_is_searched_without_repeats_to_the_end() -> None:
    space = SearchSpace([Choice(f"x{i}", ["a", "b", "c"]) for i in range(2)])
    strategy = make_strategy("mcts", space, seed=6, options={"warmup": 2})
    asked = []
    for number in range(9):
        (architecture,) = strategy.ask(1)
        reward = float(architecture.choices["x0"] == "a")
        strategy.tell(architecture, Trial(number, architecture, {"accuracy": reward}, reward))
        asked.append(architecture.key)
    assert len(set(asked)) == 9
    assert () in strategy.exhausted  # every leaf evaluated: the root is closed
    assert strategy.ask(1)[0].key in asked  # nothing new is left: a repeat, not a crash
