"""Q-learning and SARSA: they learn, respect masks, resume exactly, survive failures."""

from __future__ import annotations

import json

import pytest
from strategy_helpers import count_best, round_trip, run, toy_space, trial_of

import rlnas
from rlnas.space import SearchSpace
from rlnas.strategies import make_strategy
from rlnas.strategies.episodes import Episode
from rlnas.trial import Trial

VALUE_STRATEGIES = ["q-learning", "sarsa"]


def greedy_options(strategy) -> list[int]:
    """The option index the table values most at each decision along its greedy path."""
    values = strategy.table.greedy_path_values()
    return [max(range(3), key=lambda i, q=q: q[i]) for q in values.values()]


def small_space() -> SearchSpace:
    """Three decisions of the toy space: 27 architectures, 'aaa' the best."""
    return SearchSpace(toy_space().choices[:3])


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_greedy_policy_finds_the_best_option_of_every_decision(name: str) -> None:
    found, late_rewards = 0, []
    for seed in range(10):
        strategy = make_strategy(name, small_space(), seed=seed, options={"epsilon_length": 20})
        for number in range(100):  # repeats included: the schedule counts distinct ones
            (architecture,) = strategy.ask(1)
            strategy.tell(architecture, trial_of(number, architecture))
        found += greedy_options(strategy) == [0] * 3
        assert strategy.schedule(len(strategy.buffer)) == pytest.approx(0.1)
        late_rewards += [count_best(a) for a in strategy.ask(10)]
    assert found >= 8
    assert sum(late_rewards) / len(late_rewards) > 2.3  # random search averages 1


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_forbidden_options_are_never_proposed(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=1, options={"epsilon_length": 20})
    asked = run(strategy, 40)
    assert all("d" not in architecture.choices.values() for architecture in asked)


def test_q_learning_backs_up_the_best_next_value_and_sarsa_the_taken_one() -> None:
    backed_up = {}
    for name in VALUE_STRATEGIES:
        strategy = make_strategy(
            name, toy_space(), options={"learning_rate": 1.0, "initial_q": 0.0, "replay": 0}
        )
        strategy.table.values[((0,), 1)] = 0.7  # the best action after 'a', not the one taken
        walk = strategy.space.decode([0, 2, 0, 0, 0])
        strategy.learn(Episode(walk, (4,), (-1.0,), (-1.0,), 5, False), [-1.0])
        assert strategy.table.value((0, 2, 0, 0), 0) == -1.0  # last decision: the reward
        backed_up[name] = [
            strategy.table.value(tuple([0, 2, 0][:k]), [0, 2, 0][k]) for k in (2, 1, 0)
        ]
    # Q-learning: max over the next state's actions (unvisited ones read 0; 0.7 after 'a')
    assert backed_up["q-learning"] == [0.0, 0.0, 0.7]
    # SARSA: the value of the action the episode took next, which carries the -1 back
    assert backed_up["sarsa"] == [-1.0, -1.0, -1.0]


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_replay_buffer_holds_each_distinct_architecture_once(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=3)
    (architecture,) = strategy.ask(1)
    trial = trial_of(0, architecture)
    strategy.tell(architecture, trial)
    strategy.tell(architecture, Trial(0, architecture, trial.metrics, trial.reward, cached=True))
    assert len(strategy.buffer) == 1
    assert strategy.shaper.seen == [trial.reward]


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_resume_from_state_dict_continues_identically(name: str) -> None:
    options = {"epsilon_length": 30, "replay": 5}
    original = make_strategy(name, toy_space(), seed=5, options=options)
    run(original, 17)
    state = round_trip(original.state_dict())
    resumed = make_strategy(name, toy_space(), seed=5, options=options)
    resumed.load_state_dict(state)
    assert run(original, 25, start=17) == run(resumed, 25, start=17)
    assert original.table.values == resumed.table.values


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_failed_trials_are_learned_as_bad(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=2, options={"replay": 3})
    for number in range(12):
        (architecture,) = strategy.ask(1)
        strategy.tell(architecture, trial_of(number, architecture, fail=number % 2 == 0))
    failed = next(episode for episode in strategy.buffer if None in episode.raw)
    assert strategy.episodes.reshaped(failed, strategy.shaper) == [0.0]  # below all: rank 0
    assert strategy.ask(1)[0].choices


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_search_runs_with_the_value_strategy(name: str) -> None:
    result = rlnas.search(
        toy_space(),
        lambda a: {"accuracy": count_best(a)},
        name,
        budget=40,
        strategy_options={"epsilon_length": 40},
    )
    assert len(result.trials) == 40
    assert result.best is not None and result.best.reward >= 3


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_diagnostics_are_json_and_show_epsilon_and_q_values(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=4, options={"epsilon_length": 10})
    run(strategy, 12)
    found = json.loads(json.dumps(strategy.diagnostics(), allow_nan=False))
    assert found["epsilon"] == pytest.approx(0.1)
    assert list(found["q_values"]) == [f"x{i}" for i in range(5)]
    assert all(q[3] is None for q in found["q_values"].values())  # 'd' is never open


@pytest.mark.parametrize("name", VALUE_STRATEGIES)
def test_one_shot_search_all_but_never_proposes_an_architecture_twice(name: str) -> None:
    """Once the greedy walk settles, a repeat gives way to its nearest new neighbour (a repeat
    is left only where every architecture the neighbour search reaches is taken)."""
    distinct = {}
    for avoid_repeats in (False, True):  # the last, avoiding repeats, is resumed below
        options = {"epsilon_length": 20, "avoid_repeats": avoid_repeats}
        strategy = make_strategy(name, toy_space(), seed=3, options=options)
        asked = run(strategy, 60)  # epsilon reaches 0.1 after 20 of the 243 architectures
        distinct[avoid_repeats] = len({a.key for a in asked})
    assert distinct[True] >= 58 and distinct[False] < 40
    state = round_trip(strategy.state_dict())
    resumed = make_strategy(name, toy_space(), seed=3, options=options)
    resumed.load_state_dict(state)
    assert run(resumed, 10, start=60) == run(strategy, 10, start=60)
