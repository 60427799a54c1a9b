"""Rewards: one metric, MnasNet-style soft and hard cost constraints, and the Pareto front."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlnas.errors import UserError
from rlnas.rewards import Constraint, ConstraintViolation, Objective, RewardError, pareto_front


def test_single_metric_objective_is_unchanged() -> None:
    assert Objective("accuracy").reward({"accuracy": 0.9}) == 0.9
    assert Objective("mse", "minimize").reward({"mse": 2.0}) == -2.0
    with pytest.raises(RewardError, match="no 'accuracy'"):
        Objective("accuracy").reward({"loss": 1.0})
    with pytest.raises(RewardError, match="diverged"):
        Objective("accuracy").reward({"accuracy": math.nan})
    with pytest.raises(UserError):
        Objective("accuracy", "up")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params<=20000", Constraint("params", 20000)),
        ("flops<=1e6:soft", Constraint("flops", 1e6, soft=True)),
        (" latency_ms <= 2.5 : soft : -0.1 ", Constraint("latency_ms", 2.5, True, -0.1)),
        ("params<=5e4:hard", Constraint("params", 5e4)),
    ],
)
def test_parse_constraints(text: str, expected: Constraint) -> None:
    assert Constraint.parse(text) == expected
    assert Constraint.parse(str(expected)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "params<20000",
        "params<=",
        "accuracy<=3",
        "params<=abc",
        "params<=-5",
        "params<=1:hard:-1",
        "params<=1:fuzzy",
        "flops<=1e6:soft:x",
        "",
    ],
)
def test_bad_constraints_are_user_errors(text: str) -> None:
    with pytest.raises(UserError):
        Constraint.parse(text)


def test_soft_constraint_is_the_mnasnet_factor() -> None:
    objective = Objective("accuracy", constraints=[Constraint("params", 1000, soft=True)])
    assert objective.reward({"accuracy": 0.8, "params": 1000}) == pytest.approx(0.8)
    assert objective.reward({"accuracy": 0.8, "params": 2000}) == pytest.approx(0.8 * 2**-0.07)
    assert objective.reward({"accuracy": 0.8, "params": 500}) > 0.8  # cheaper earns a little


def test_soft_constraint_on_a_minimized_metric_penalizes_cost() -> None:
    objective = Objective("mse", "minimize", [Constraint("flops", 100, soft=True)])
    cheap = objective.reward({"mse": 3.0, "flops": 100})
    costly = objective.reward({"mse": 3.0, "flops": 400})
    assert cheap == pytest.approx(-3.0)
    assert costly == pytest.approx(-3.0 * 4**0.07) and costly < cheap


def test_hard_constraint_is_neutral_below_and_rejects_above() -> None:
    limit = Constraint("latency_ms", 2.0)
    objective = Objective("accuracy", constraints=[limit])
    assert objective.reward({"accuracy": 0.7, "latency_ms": 2.0}) == 0.7
    with pytest.raises(RewardError, match="latency_ms<=2 violated"):
        objective.reward({"accuracy": 0.7, "latency_ms": 2.5})
    with pytest.raises(RewardError, match="needs a 'latency_ms'"):
        objective.reward({"accuracy": 0.7})
    limit.check({"latency_ms": 1.0})
    with pytest.raises(ConstraintViolation, match="latency_ms"):
        limit.check({"latency_ms": 3.0})
    Constraint("latency_ms", 2.0, soft=True).check({"latency_ms": 3.0})  # soft never rejects


def test_pareto_front_examples() -> None:
    points = [(0.9, 100), (0.8, 50), (0.85, 120), (0.9, 100), (0.7, 50), (0.95, 300)]
    assert pareto_front(points) == [0, 1, 3, 5]
    errors = [(1.0, 10), (0.5, 20), (2.0, 5), (0.5, 30), (math.nan, 1)]
    assert pareto_front(errors, "minimize") == [0, 1, 2]
    assert pareto_front([]) == []


def dominated(point, other, sign) -> bool:
    better_or_equal = sign * other[0] >= sign * point[0] and other[1] <= point[1]
    return better_or_equal and (sign * other[0] > sign * point[0] or other[1] < point[1])


@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=25),
    st.sampled_from(["maximize", "minimize"]),
)
def test_pareto_front_matches_brute_force(points, direction) -> None:
    sign = 1 if direction == "maximize" else -1
    expected = [i for i, p in enumerate(points) if not any(dominated(p, q, sign) for q in points)]
    assert pareto_front([(float(m), float(c)) for m, c in points], direction) == expected
