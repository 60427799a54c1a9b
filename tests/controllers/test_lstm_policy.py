"""The LSTM policy: valid, masked, reproducible samples and scores that match them."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlnas.controllers.lstm_policy import LSTMPolicy
from rlnas.space import Choice, Rule, SearchSpace


def masked_space() -> SearchSpace:
    """Node inputs must come from earlier nodes, and the ops may not all be 'skip'."""
    return SearchSpace(
        [
            Choice("op0", ["skip", "conv", "pool"]),
            Choice("in1", [0, 1, 2], allowed=lambda made: [0]),
            Choice("op1", ["skip", "conv", "pool"]),
            Choice("in2", [0, 1, 2], allowed=lambda made: [0, 1]),
            Choice("op2", ["skip", "conv", "pool"]),
        ],
        rules=[
            Rule(
                lambda made: any(made[f"op{i}"] != "skip" for i in range(3)),
                "not all skip",
                needs=("op0", "op1", "op2"),
            )
        ],
    )


def make_policy(seed: int = 0, **options) -> LSTMPolicy:
    return LSTMPolicy(masked_space(), generator=torch.Generator().manual_seed(seed), **options)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_samples_are_valid_and_never_take_a_forbidden_option(seed: int) -> None:
    policy = make_policy(seed)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(10):
        choices = policy.sample(generator).architecture.choices
        assert choices["in1"] == 0 and choices["in2"] in (0, 1)
        assert any(choices[f"op{i}"] != "skip" for i in range(3))


def test_forbidden_options_have_zero_probability() -> None:
    policy = make_policy()
    assert policy.probabilities(["conv"])[1:].tolist() == [0.0, 0.0]
    assert policy.probabilities(["conv", 0, "pool"])[2] == 0.0
    after_two_skips = policy.probabilities(["skip", 0, "skip", 1])
    assert after_two_skips[0] == 0.0
    assert math.isclose(float(after_two_skips.sum()), 1.0, rel_tol=1e-6)


def test_scores_match_the_sample_they_re_evaluate() -> None:
    policy = make_policy(value_head=True)
    generator = torch.Generator().manual_seed(3)
    samples = [policy.sample(generator) for _ in range(6)]
    scored = policy([sample.architecture for sample in samples])
    assert scored.step_log_probs.shape == (6, 5)
    assert scored.values is not None and scored.values.shape == (6, 5)
    for row, sample in enumerate(samples):
        assert float(scored.log_prob[row].detach()) == pytest.approx(sample.log_prob, abs=1e-5)
        assert float(scored.entropy[row].detach()) == pytest.approx(sample.entropy, abs=1e-5)
        assert scored.values[row].detach().tolist() == pytest.approx(sample.values, abs=1e-5)
    # a forced decision (in1 has one open option) carries no log-probability and no entropy
    assert scored.step_log_probs[:, 1].abs().max() < 1e-6
    assert scored.step_entropies[:, 1].abs().max() < 1e-6


def test_scores_carry_gradients_to_every_head_and_embedding_used() -> None:
    policy = make_policy()
    generator = torch.Generator().manual_seed(0)
    architectures = [policy.sample(generator).architecture for _ in range(4)]
    policy(architectures).log_prob.sum().backward()
    assert policy.start.grad is not None and policy.start.grad.abs().sum() > 0
    assert all(head.weight.grad is not None for head in policy.heads)


def test_sampling_is_reproducible_and_leaves_the_global_seed_alone() -> None:
    global_state = torch.random.get_rng_state()
    draws = []
    for _ in range(2):
        policy = make_policy(seed=7)
        generator = torch.Generator().manual_seed(11)
        draws.append([policy.sample(generator).architecture for _ in range(20)])
    assert draws[0] == draws[1]
    assert torch.equal(torch.random.get_rng_state(), global_state)


def test_tanh_constant_bounds_how_sure_the_policy_can_be() -> None:
    policy = make_policy(tanh_constant=1.0, temperature=None)
    with torch.no_grad():
        for head in policy.heads:
            head.bias.copy_(torch.linspace(-100, 100, head.bias.numel()))
    probabilities = policy.probabilities()
    assert float(probabilities.max() / probabilities.min()) <= math.exp(2.0) + 1e-4
