"""Regularized evolution: aging population, one-decision mutations, and better than random."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rlnas
from rlnas.strategies.evolution import RegularizedEvolution
from rlnas.trial import Status, Trial


def plain_space(decisions: int = 6, options: int = 4) -> rlnas.SearchSpace:
    return rlnas.SearchSpace(
        [rlnas.Choice(f"d{i}", [f"o{j}" for j in range(options)]) for i in range(decisions)]
    )


def _tell(strategy: rlnas.Strategy, number: int, reward: float | None) -> rlnas.Architecture:
    [architecture] = strategy.ask(1)
    status = Status.COMPLETE if reward is not None else Status.FAILED
    strategy.tell(architecture, Trial(number, architecture, {}, reward, status))
    return architecture


def test_population_never_exceeds_its_size_and_the_oldest_dies() -> None:
    strategy = rlnas.make_strategy("evolution", plain_space(), seed=0)
    told = []
    for number in range(60):
        told.append(_tell(strategy, number, float(number % 11)))
        assert len(strategy.population) == min(number + 1, 20)
        assert [member for member, _ in strategy.population] == told[-20:]


def test_a_failed_trial_never_joins_the_population() -> None:
    strategy = rlnas.make_strategy("evolution", plain_space(), seed=0)
    for number in range(30):
        _tell(strategy, number, None if number % 2 else 1.0)
    assert len(strategy.population) == 15
    assert all(reward == 1.0 for _, reward in strategy.population)


def test_custom_population_and_tournament_sizes() -> None:
    strategy = rlnas.make_strategy(
        "evolution", plain_space(), options={"population_size": 5, "tournament_size": 2}
    )
    for number in range(12):
        _tell(strategy, number, 0.0)
    assert len(strategy.population) == 5
    with pytest.raises(rlnas.UserError, match="tournament_size must be <= population_size"):
        RegularizedEvolution(plain_space(), population_size=3, tournament_size=4)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutation_changes_exactly_one_decision(seed: int) -> None:
    space = plain_space()
    strategy = RegularizedEvolution(space, seed=seed)
    parent = space.sample(np.random.default_rng(seed))
    child = strategy.mutate(parent)
    changed = [n for n in space.names if child.choices[n] != parent.choices[n]]
    assert len(changed) == 1


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_mutation_stays_inside_a_space_with_dependencies(seed: int) -> None:
    space = rlnas.SearchSpace(
        [
            rlnas.Choice("a", [0, 1, 2]),
            rlnas.Choice("b", [0, 1, 2], allowed=lambda made: range(made["a"] + 1)),
            rlnas.Choice("c", ["x", "y"]),
            rlnas.Choice("fixed", ["only"]),
        ],
        rules=[rlnas.Rule(lambda m: not (m["b"] == 2 and m["c"] == "y"), "no", needs=("b", "c"))],
    )
    strategy = RegularizedEvolution(space, seed=seed)
    parent = space.sample(np.random.default_rng(seed))
    child = strategy.mutate(parent)
    assert space.architecture(dict(child.choices)) == child
    assert child != parent
    assert child.choices["fixed"] == "only"


def test_mutation_tells_apart_options_that_compare_equal() -> None:
    space = rlnas.SearchSpace([rlnas.Choice("x", [1, True]), rlnas.Choice("y", [1.0, 1, "1"])])
    strategy = RegularizedEvolution(space, seed=0)
    for _ in range(30):
        parent = space.sample(strategy.rng)
        child = strategy.mutate(parent)
        assert space.encode(child) != space.encode(parent)


def test_the_child_of_a_tournament_comes_from_a_good_parent() -> None:
    space = plain_space(decisions=3, options=3)
    strategy = RegularizedEvolution(space, seed=0, population_size=4, tournament_size=4)
    best = space.architecture({"d0": "o0", "d1": "o0", "d2": "o0"})
    for number, reward in enumerate([0.0, 0.0, 9.0, 0.0]):
        architecture = best if reward else space.sample(np.random.default_rng(number + 10))
        strategy.tell(architecture, Trial(number, architecture, {}, reward))
    for _ in range(20):
        [child] = strategy.ask(1)
        assert sum(child.choices[n] != best.choices[n] for n in space.names) == 1


def test_evolution_beats_random_on_an_additive_score() -> None:
    space = plain_space(decisions=8, options=5)
    values = np.random.default_rng(123).random((8, 5))

    def evaluate(architecture: rlnas.Architecture) -> dict[str, float]:
        indices = space.encode(architecture)
        return {"accuracy": float(sum(values[i, j] for i, j in enumerate(indices)))}

    def mean_best(strategy: str) -> float:
        bests = [
            rlnas.search(space, evaluate, strategy=strategy, budget=150, seed=seed).best.reward
            for seed in range(6)
        ]
        return float(np.mean(bests))

    assert mean_best("evolution") > mean_best("random") + 0.1
