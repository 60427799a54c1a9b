"""mpc and dp: they find known optima (additive, and where decisions interact in pairs) far
faster than random, never propose a repeat, plan exactly where they say so, and report it."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace

import numpy as np
import pytest

from rlnas.controllers.pairwise_model import Tables
from rlnas.space import Architecture, Choice, Growth, SearchSpace
from rlnas.strategies import make_strategy
from rlnas.strategies.dp import DynamicProgramming
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.trial import Trial

PLANNERS = ["mpc", "dp"]


def chain_space(decisions: int = 6, options: int = 4) -> SearchSpace:
    return SearchSpace([Choice(f"x{i}", list(range(options))) for i in range(decisions)])


def pairwise_reward(seed: int, decisions: int = 6, options: int = 4, unary: float = 1.0):
    """A chain of pair interactions: the best option of a decision depends on its neighbour's,
    so deciding each alone (``unary`` small) cannot find the optimum."""
    rng = np.random.default_rng(seed)
    singles = unary * rng.normal(size=(decisions, options))
    pairs = rng.normal(size=(decisions - 1, options, options))

    def reward(indices) -> float:
        total = sum(singles[i, o] for i, o in enumerate(indices))
        return float(
            total + sum(pairs[i, indices[i], indices[i + 1]] for i in range(decisions - 1))
        )

    return reward


def evaluations_to_optimum(name: str, seed: int, reward, space: SearchSpace, limit: int) -> int:
    """Distinct architectures evaluated until the optimum is (``limit`` if not in time)."""
    sizes = [len(choice.options) for choice in space.choices]
    optimum = max(reward(indices) for indices in itertools.product(*map(range, sizes)))
    strategy = make_strategy(name, space, seed=seed)
    seen: set[str] = set()
    while len(seen) < limit:
        (architecture,) = strategy.ask(1)
        value = reward(space.encode(architecture))
        trial = Trial(len(seen), architecture, {"accuracy": value}, value)
        strategy.tell(architecture, replace(trial, cached=architecture.key in seen))
        seen.add(architecture.key)
        if value == optimum:
            return len(seen)
    return limit


@pytest.mark.parametrize("name", PLANNERS)
def test_finds_the_optimum_of_an_additive_space_far_faster_than_random(name: str) -> None:
    space = chain_space(5, 4)  # 1,024 architectures: random needs ~512 on average
    found = [
        evaluations_to_optimum(name, seed, pairwise_reward(seed, 5, 4, unary=3.0), space, 300)
        for seed in range(3)
    ]
    assert np.mean(found) < 60, found


@pytest.mark.parametrize("name", PLANNERS)
def test_finds_the_optimum_where_decisions_interact_in_pairs(name: str) -> None:
    space = chain_space(6, 4)  # 4,096 architectures: random needs ~2,000 on average
    found = [
        evaluations_to_optimum(name, seed, pairwise_reward(seed, unary=0.2), space, 300)
        for seed in range(4)
    ]
    assert np.median(found) < 150, found


def test_dp_reads_out_the_exact_best_of_chain_tables() -> None:
    """Viterbi on adjacent pairs is exact: the best row of random tables, as brute force says."""
    space = chain_space(5, 3)
    strategy = make_strategy("dp", space, seed=0, options={"pairs": "adjacent"})
    assert isinstance(strategy, DynamicProgramming)
    rng = np.random.default_rng(0)
    grid = np.array(list(itertools.product(range(3), repeat=5)))
    for _ in range(20):
        pairs = tuple((i, i + 1) for i in range(4))
        tables = Tables(
            tuple(rng.normal(size=3) for _ in range(5)),
            tuple(rng.normal(size=(3, 3)) for _ in pairs),
            pairs,
        )
        best = strategy.best_under(tables)
        assert best == tuple(grid[np.argmax(tables.score(grid))])


def test_dp_honours_the_space_s_masks_when_it_reads_out() -> None:
    """Option 0 is best everywhere but closed after x0 = 0: the read-out never takes it there."""
    space = SearchSpace(
        [Choice("x0", [0, 1])]
        + [
            Choice(
                f"x{i}", [0, 1, 2], allowed=lambda made: [1, 2] if made["x0"] == 0 else [0, 1, 2]
            )
            for i in range(1, 4)
        ]
    )
    strategy = make_strategy("dp", space, seed=0)
    pairs = tuple(itertools.combinations(range(4), 2))
    tables = Tables(
        (np.array([1.0, 0.0]), *(np.array([1.0, 0.5, 0.0]) for _ in range(3))),
        tuple(
            np.zeros((len(space.choices[i].options), len(space.choices[j].options)))
            for i, j in pairs
        ),
        pairs,
    )
    best = strategy.best_under(tables)
    assert space.decode(best)  # an architecture of the space
    assert best in {(0, 1, 1, 1), (1, 0, 0, 0)}


@pytest.mark.parametrize("name", PLANNERS)
def test_proposals_are_never_repeats(name: str) -> None:
    space = chain_space(3, 4)  # 64 architectures: the planners must go through all of them
    reward = pairwise_reward(0, 3, 4)
    strategy = make_strategy(name, space, seed=1)
    asked: list[Architecture] = []
    for number in range(64):
        batch = strategy.ask(2) if number % 10 == 0 else strategy.ask(1)
        for architecture in batch:
            value = reward(space.encode(architecture))
            strategy.tell(architecture, Trial(number, architecture, {"accuracy": value}, value))
        asked += batch
        if len({a.key for a in asked}) == 64:
            break
    assert len({a.key for a in asked}) == len(asked) == 64


@pytest.mark.parametrize("name", PLANNERS)
def test_diagnostics_report_the_plan_and_the_model(name: str) -> None:
    space = chain_space(4, 3)
    reward = pairwise_reward(0, 4, 3, unary=2.0)
    strategy = make_strategy(name, space, seed=0)
    for number in range(25):
        (architecture,) = strategy.ask(1)
        value = reward(space.encode(architecture))
        strategy.tell(architecture, Trial(number, architecture, {"accuracy": value}, value))
    found = strategy.diagnostics()
    json.dumps(found)
    assert found["plans"] == 25 - 10  # every proposal after the warm-up was planned
    assert found["model_quality"] > 0.5  # the model ranks what it was fit on well
    assert {"predicted", "model_error"} <= set(found)


@pytest.mark.parametrize("name", PLANNERS)
def test_progressive_planners_grow_the_best_network(name: str) -> None:
    """Each growth step adds a decision (the others wait at option 2); options 0 are best, so
    the best network needs every step: 27 networks, found within 60 evaluations."""
    space = SearchSpace(
        [Choice(f"x{i}", [0, 1, 2]) for i in range(3)],
        growth=Growth([("x0",), ("x1",), ("x2",)], {"x0": 2, "x1": 2, "x2": 2}),
    )

    def value(architecture: Architecture) -> float:
        return float(sum(2 - option for option in architecture.choices.values()))

    best = space.architecture({"x0": 0, "x1": 0, "x2": 0})
    found = []
    for seed in range(3):
        strategy = make_strategy(
            name, space, seed=seed, episodes=EpisodeSettings(mode="progressive")
        )
        asked = []
        for number in range(60):
            (architecture,) = strategy.ask(1)
            asked.append(architecture)
            reward = value(architecture)
            strategy.tell(architecture, Trial(number, architecture, {"accuracy": reward}, reward))
        found.append(best in asked)
        assert strategy.diagnostics()["plans"] > 0
    assert sum(found) >= 2, found
