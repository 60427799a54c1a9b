"""REINFORCE, PPO and actor-critic: they learn, respect masks, resume exactly, survive failures."""

from __future__ import annotations

import json
import math

import pytest
import torch
from strategy_helpers import BEST, count_best, round_trip, run, toy_space, trial_of

import rlnas
from rlnas.strategies import make_strategy

POLICY_STRATEGIES = ["reinforce", "ppo", "actor-critic"]


def best_option_probabilities(strategy) -> list[float]:
    """The policy's probability of 'a' at each decision, given 'a' for every earlier one."""
    return [float(strategy.policy.probabilities([BEST] * position)[0]) for position in range(5)]


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_policy_learns_the_best_option_of_every_decision(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=0)
    before = best_option_probabilities(strategy)
    assert all(abs(p - 1 / 3) < 0.05 for p in before)  # three open options, nearly uniform
    for number in range(200):
        (architecture,) = strategy.ask(1)
        strategy.tell(architecture, trial_of(number, architecture))
    after = best_option_probabilities(strategy)
    assert min(after) > 0.6, after
    last = [count_best(a) for a in strategy.ask(20)]
    assert sum(last) / len(last) > 3.5  # random search averages 5/3


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_forbidden_options_are_never_proposed(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=1)
    asked = run(strategy, 40)
    assert all("d" not in architecture.choices.values() for architecture in asked)
    assert all(
        float(p[3]) == 0.0 for p in (strategy.policy.probabilities(["a"] * k) for k in (0, 3))
    )


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_resume_from_state_dict_continues_identically(name: str) -> None:
    options = {"batch_size": 3}
    original = make_strategy(name, toy_space(), seed=5, options=options)
    run(original, 13)  # stops mid-batch
    waiting = original.ask(2)  # asked, not yet told: PPO keeps their log-probabilities pending
    state = round_trip(original.state_dict())
    resumed = make_strategy(name, toy_space(), seed=5, options=options)
    resumed.load_state_dict(state)
    for strategy in (original, resumed):
        for number, architecture in reversed(list(enumerate(waiting, start=13))):
            strategy.tell(architecture, trial_of(number, architecture))
    assert run(original, 20, start=15) == run(resumed, 20, start=15)
    for key, value in original.policy.state_dict().items():
        assert torch.equal(value, resumed.policy.state_dict()[key]), key


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_failed_trials_do_not_break_the_update(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=2)
    for number in range(12):
        (architecture,) = strategy.ask(1)
        strategy.tell(architecture, trial_of(number, architecture, fail=number % 2 == 0))
    assert all(torch.isfinite(p).all() for p in strategy.policy.parameters())
    assert strategy.ask(1)[0].choices  # still proposes


def test_ppo_takes_the_ratio_against_the_log_prob_at_sampling_time() -> None:
    strategy = make_strategy("ppo", toy_space(), seed=3, options={"batch_size": 100})
    asked = strategy.ask(4)
    recorded = {architecture: strategy.pending[architecture] for architecture in asked}
    scored = strategy.policy(list(recorded)).step_log_probs.detach()
    for row, old in zip(scored.tolist(), recorded.values()):
        assert row == pytest.approx(old, abs=1e-5)
    for number, architecture in reversed(list(enumerate(asked))):  # out of order
        strategy.tell(architecture, trial_of(number, architecture))
    assert not strategy.pending
    assert [old for _, _, old, _ in strategy.batch] == [recorded[a] for a in reversed(asked)]


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_search_runs_with_the_policy_strategy(name: str) -> None:
    result = rlnas.search(toy_space(), lambda a: {"accuracy": count_best(a)}, name, budget=20)
    assert len(result.trials) == 20
    assert result.best is not None and result.best.reward >= 3


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_diagnostics_report_the_greedy_path(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=4)
    run(strategy, 6)
    diagnostics = strategy.diagnostics()
    assert list(diagnostics["probabilities"]) == [f"x{i}" for i in range(5)]
    for probabilities in diagnostics["probabilities"].values():
        assert sum(probabilities) == pytest.approx(1.0) and probabilities[3] == 0.0
    assert all(0 < entropy <= math.log(3) + 1e-6 for entropy in diagnostics["entropy"].values())
    assert ("value" in diagnostics) == (name == "actor-critic")
    json.dumps(diagnostics)


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_the_stored_checkpoint_resumes_the_strategy(name: str, tmp_path) -> None:
    strategy = make_strategy(name, toy_space(), seed=6)
    with rlnas.Store(tmp_path / "s.db") as store:
        rlnas.search(
            toy_space(),
            lambda a: {"accuracy": count_best(a)},
            strategy,
            budget=8,
            store=store,
            name="run",
        )
        _, checkpoint = store.checkpoint(store.experiment("run"))
    resumed = make_strategy(name, toy_space(), seed=6)
    resumed.load_state_dict(checkpoint["strategy"])
    assert run(resumed, 10, start=8) == run(strategy, 10, start=8)
