"""The Q-table: epsilon-greedy over open options only, the update step, the epsilon schedule."""

from __future__ import annotations

import io
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlnas.controllers.q_table import EpsilonSchedule, QTable
from rlnas.space import Choice, Rule, SearchSpace


def gated_space() -> SearchSpace:
    """Three decisions; 'd' is never open, and 'b' is closed after a first 'c'."""
    return SearchSpace(
        [
            Choice("x0", ["a", "b", "c", "d"], allowed=lambda made: ["a", "b", "c"]),
            Choice("x1", ["a", "b", "c", "d"], allowed=lambda made: ["a", "b", "c"]),
            Choice("x2", [1, True, 2.0]),
        ],
        rules=[
            Rule(lambda c: not (c["x0"] == "c" and c["x1"] == "b"), "no c then b", ("x0", "x1"))
        ],
    )


def test_schedule_steps_from_one_down_to_final_and_stays() -> None:
    schedule = EpsilonSchedule(length=100, explore_fraction=0.5, final=0.1, steps=9)
    values = [schedule(told) for told in range(200)]
    assert values[:50] == [1.0] * 50
    assert all(later <= earlier for earlier, later in itertools.pairwise(values))
    assert sorted({round(v, 6) for v in values}) == pytest.approx(
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    )
    assert values[99] == pytest.approx(0.1) and values[150] == pytest.approx(0.1)


def test_schedule_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        EpsilonSchedule(length=0)
    with pytest.raises(ValueError):
        EpsilonSchedule(final=1.5)


def test_open_actions_follow_allowed_and_rules() -> None:
    table = QTable(gated_space())
    assert table.open_actions(()) == (0, 1, 2)
    assert table.open_actions((2,)) == (0, 2)  # 'b' after 'c' breaks the rule; 'd' never open
    assert table.open_actions((0, 0)) == (0, 1, 2)  # 1, True and 2.0 stay three options


def test_greedy_takes_the_highest_open_value_and_never_a_closed_one() -> None:
    table = QTable(gated_space(), initial=0.0)
    table.values[((2,), 1)] = 9.0  # closed after 'c': must be ignored
    table.values[((2,), 2)] = 1.0
    rng = np.random.default_rng(0)
    assert table.greedy_action((2,), rng) == 2
    assert table.best_value((2,)) == 1.0
    assert table.best_value((0, 0, 0)) == 0.0  # terminal


def test_update_moves_by_the_learning_rate() -> None:
    table = QTable(gated_space(), initial=0.5)
    table.update((), 1, target=1.5, learning_rate=0.1)
    assert table.value((), 1) == pytest.approx(0.6)
    assert table.value((), 0) == 0.5  # others untouched


def test_greedy_ties_are_broken_at_random() -> None:
    table = QTable(gated_space())
    rng = np.random.default_rng(0)
    assert {table.greedy_action((), rng) for _ in range(50)} == {0, 1, 2}


@settings(max_examples=60, deadline=None)
@given(epsilon=st.floats(0.0, 1.0), seed=st.integers(0, 2**16), noise=st.integers(0, 2**16))
def test_rollouts_are_valid_architectures(epsilon: float, seed: int, noise: int) -> None:
    space = gated_space()
    table = QTable(space)
    values = np.random.default_rng(noise).normal(size=4)
    for action, value in enumerate(values):
        table.values[((2,), action)] = float(value)  # even a closed action valued highest
    architecture = table.rollout(epsilon, np.random.default_rng(seed))
    assert space.architecture(dict(architecture.choices)) == architecture
    assert "d" not in architecture.choices.values()


def test_state_dict_survives_weights_only_load() -> None:
    table = QTable(gated_space(), initial=0.25)
    table.update((0,), 2, 1.0, 0.5)
    table.update((), 1, -1.0, 0.5)
    buffer = io.BytesIO()
    torch.save(table.state_dict(), buffer)
    buffer.seek(0)
    restored = QTable(gated_space())
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert restored.values == table.values and restored.initial == 0.25
