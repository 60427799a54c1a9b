"""REINFORCE, PPO and actor-critic: they learn, respect masks, resume exactly, survive failures."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from strategy_helpers import BEST, count_best, round_trip, run, toy_space, trial_of

import rlnas
from rlnas.strategies import make_strategy
from rlnas.trial import Trial

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
    # drawn from the policy itself: after 200 of 243 architectures, ask() avoids repeats with
    # the few, poor ones left
    drawn = [strategy.policy.sample(strategy.generator).architecture for _ in range(20)]
    last = [count_best(a) for a in drawn]
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


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_the_elite_holds_the_best_walks_evaluated_so_far_best_first(name: str) -> None:
    strategy = make_strategy(name, toy_space(), seed=7, options={"imitation_top": 3})
    asked = run(strategy, 25)  # every fifth fails
    told = {a.key: count_best(a) for number, a in enumerate(asked) if number % 5 != 4}
    values = [value for value, _ in strategy.elite]
    assert values == sorted(told.values(), reverse=True)[:3]
    assert len({walk.key for _, walk in strategy.elite}) == 3
    assert all(told[walk.key] == value for value, walk in strategy.elite)


@pytest.mark.parametrize("name", POLICY_STRATEGIES)
def test_imitation_pulls_the_policy_towards_the_best_evaluated_architecture(name: str) -> None:
    """The same 30 results told with and without imitation: with it the best is likelier."""
    rng = np.random.default_rng(0)
    told = [toy_space().sample(rng) for _ in range(30)]
    rewards = rng.uniform(0.0, 0.5, size=30)
    rewards[7] = 1.0  # an arbitrary architecture is the best
    probabilities = {}
    for weight in (0.0, 1.0):
        strategy = make_strategy(name, toy_space(), seed=8, options={"imitation_weight": weight})
        for number, (architecture, reward) in enumerate(zip(told, rewards)):
            strategy.ask(1)
            trial = Trial(number, architecture, {"accuracy": reward}, float(reward))
            strategy.tell(architecture, trial)
        with torch.no_grad():
            probabilities[weight] = float(strategy.policy([told[7]]).log_prob.exp())
    assert probabilities[1.0] > 3 * probabilities[0.0]


def test_adam_steps_exactly_as_torch_optim_adam() -> None:
    from rlnas.strategies.policy_search import Adam

    generator = torch.Generator().manual_seed(0)
    ours = torch.nn.Parameter(torch.randn(4, 3, generator=generator))
    theirs = torch.nn.Parameter(ours.detach().clone())
    unused = torch.nn.Parameter(torch.ones(2))  # no gradient: left as it is
    optimizers = [(ours, Adam([ours, unused], 0.05)), (theirs, torch.optim.Adam([theirs], 0.05))]
    for _ in range(5):
        for parameter, optimizer in optimizers:
            optimizer.zero_grad()
            (parameter**3).sum().backward()
            optimizer.step()
    assert torch.allclose(ours, theirs, atol=1e-7)
    assert torch.equal(unused, torch.ones(2))
    restored = Adam([torch.nn.Parameter(ours.detach().clone()), unused], 0.05)
    restored.load_state_dict(round_trip(optimizers[0][1].state_dict()))
    assert restored.state_dict()["steps"] == 5
    assert torch.equal(restored.state_dict()["first"][0], optimizers[0][1].first[0])
