"""Screening by a predictor: only the top k are evaluated, every sample is told, resume is exact."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from strategy_helpers import count_best, round_trip, run, toy_space

import rlnas
from rlnas.strategies.random_search import RandomSearch
from rlnas.strategies.screening import Screened, ranking_quality


class Recording(RandomSearch):
    """Random search that remembers what it proposed and what it was told."""

    def __init__(self, space: rlnas.SearchSpace, seed: int = 0) -> None:
        super().__init__(space, seed)
        self.asked: Counter[rlnas.Architecture] = Counter()
        self.told: list[rlnas.Trial] = []

    def ask(self, n: int = 1) -> list[rlnas.Architecture]:
        proposed = super().ask(n)
        self.asked.update(proposed)
        return proposed

    def tell(self, architecture: rlnas.Architecture, trial: rlnas.Trial) -> None:
        self.told.append(trial)


def evaluate(architecture: rlnas.Architecture) -> dict[str, float]:
    return {"accuracy": count_best(architecture)}


def test_only_the_top_k_are_evaluated_and_every_sample_is_told() -> None:
    inner = Recording(toy_space(), seed=0)
    screened = Screened(inner, pool=20, top_k=2, warmup=5)
    evaluated = []

    def counting(architecture: rlnas.Architecture) -> dict[str, float]:
        evaluated.append(architecture)
        return evaluate(architecture)

    result = rlnas.search(toy_space(), counting, strategy=screened, budget=15)
    assert len(result.trials) == len(evaluated) == 15
    rounds = math.ceil((15 - 5) / 2)
    assert sum(inner.asked.values()) >= 5 + rounds * 20  # a pool of 20 per round of 2
    told = Counter(trial.architecture for trial in inner.told)
    queued = Counter(screened.queue)
    assert told + queued == inner.asked  # every sample is told once, or still waits its turn
    estimated = [t for t in inner.told if t.extra.get("estimated")]
    assert estimated and all(t.cached and t.reward is not None for t in estimated)
    assert not any(t.extra.get("estimated") for t in result.trials)


def test_screening_proposes_better_architectures_than_its_inner_strategy() -> None:
    screened = Screened(RandomSearch(toy_space(), seed=1), pool=30, top_k=3, warmup=10)
    result = rlnas.search(toy_space(), evaluate, strategy=screened, budget=40)
    warmup = [t.reward for t in result.trials[:10]]
    screened_rewards = [t.reward for t in result.trials[10:]]
    assert np.mean(screened_rewards) > np.mean(warmup) + 1  # 'a' counts; random averages 5/3


@pytest.mark.parametrize("inner", ["evolution", "reinforce", "mcts"])
def test_resumes_exactly_from_its_state_dict(inner: str) -> None:
    def screened(seed: int) -> Screened:
        return Screened(rlnas.make_strategy(inner, toy_space(), seed=seed), pool=8, top_k=3)

    original = screened(5)
    run(original, 14)
    resumed = screened(5)
    resumed.load_state_dict(round_trip(original.state_dict()))
    continued = run(original, 12, start=14)
    assert run(resumed, 12, start=14) == continued
    assert run(screened(6), 26) != run(screened(5), 26)  # the state carries the randomness


def test_respects_the_budget_and_survives_failures_in_a_stored_search(tmp_path) -> None:
    def flaky(architecture: rlnas.Architecture) -> dict[str, float]:
        if architecture.choices["x0"] == "b":
            raise RuntimeError("out of memory")
        return evaluate(architecture)

    space = toy_space()
    strategy = Screened(rlnas.make_strategy("ppo", space, seed=0), pool=10, top_k=2, warmup=4)
    result = rlnas.search(space, flaky, strategy=strategy, budget=12, store=tmp_path / "r.db")
    assert len(result.trials) == 12
    assert any(t.failed for t in result.trials) and result.best is not None
    with rlnas.Store(tmp_path / "r.db") as store:
        experiment = store.experiment()
        assert experiment.config["strategy"] == "ppo"
        _, state = store.checkpoint(experiment)
    resumed = Screened(rlnas.make_strategy("ppo", space, seed=0), pool=10, top_k=2, warmup=4)
    resumed.load_state_dict(state["strategy"])
    assert resumed.queue == strategy.queue and resumed.rewards == strategy.rewards


def test_ranking_quality_is_high_where_the_reward_is_learnable() -> None:
    space = toy_space()
    rng = np.random.default_rng(0)
    architectures = [space.sample(rng) for _ in range(150)]
    values = [count_best(a) + 0.1 * rng.standard_normal() for a in architectures]
    assert ranking_quality(space, architectures, values, train_size=50) > 0.6
    shuffled = list(rng.permutation(values))
    assert abs(ranking_quality(space, architectures, shuffled, train_size=50)) < 0.3
