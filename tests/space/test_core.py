"""Search space core: sampling validity, round trips, dependent options, rules, error messages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rlnas

OPTION = st.one_of(
    st.text(max_size=5),
    st.integers(-1000, 1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
)


def _distinct_options(options: list) -> list:
    seen, kept = set(), []
    for option in options:
        typed = (type(option).__name__, option)
        if typed not in seen:
            seen.add(typed)
            kept.append(option)
    return kept


@st.composite
def spaces(draw: st.DrawFn) -> rlnas.SearchSpace:
    """Random spaces of plain decisions, some of them dependent on the one before."""
    count = draw(st.integers(1, 5))
    choices = []
    for position in range(count):
        options = _distinct_options(draw(st.lists(OPTION, min_size=1, max_size=5)))
        if position > 0 and draw(st.booleans()):
            previous = choices[-1].name
            # the open options depend on the previous option's position in its list
            previous_options = choices[-1].options

            def allowed(earlier, options=tuple(options), previous=previous, prev=previous_options):
                chosen = (type(earlier[previous]), earlier[previous])
                index = next(i for i, o in enumerate(prev) if (type(o), o) == chosen)
                return options[: 1 + index % len(options)]

            choices.append(rlnas.Choice(f"d{position}", options, allowed=allowed))
        else:
            choices.append(rlnas.Choice(f"d{position}", options))
    return rlnas.SearchSpace(choices)


def dag_space() -> rlnas.SearchSpace:
    """Node k reads one earlier node; the last two nodes may not read the same input."""
    return rlnas.SearchSpace(
        [
            rlnas.Choice("input1", [0]),
            rlnas.Choice("op1", ["conv", "pool", "skip"]),
            rlnas.Choice("input2", [0, 1, 2], allowed=lambda c: range(2)),
            rlnas.Choice("op2", ["conv", "pool", "skip"]),
            rlnas.Choice("input3", [0, 1, 2], allowed=lambda c: range(3)),
            rlnas.Choice("op3", ["conv", "pool", "skip"]),
        ],
        rules=[
            rlnas.Rule(
                lambda c: c["input2"] != c["input3"],
                "nodes 2 and 3 read different inputs",
                needs=("input2", "input3"),
            ),
            rlnas.Rule(
                lambda c: not (c["op2"] == "skip" and c["op3"] == "skip"),
                "nodes 2 and 3 are not both skip",
                needs=("op2", "op3"),
            ),
        ],
    )


@settings(max_examples=60, deadline=None)
@given(space=spaces(), seed=st.integers(0, 2**32 - 1))
def test_samples_are_valid_and_round_trip(space: rlnas.SearchSpace, seed: int) -> None:
    architecture = space.sample(np.random.default_rng(seed))
    assert space.architecture(dict(architecture.choices)) == architecture
    again = space.from_json(architecture.to_json())
    assert again == architecture
    assert again.key == architecture.key
    assert [type(v) for v in again.choices.values()] == [
        type(v) for v in architecture.choices.values()
    ]
    assert space.decode(space.encode(architecture)) == architecture
    assert space.one_hot(architecture).sum() == len(space)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_dependent_options_and_rules_are_respected_by_sampling(seed: int) -> None:
    space = dag_space()
    architecture = space.sample(np.random.default_rng(seed))
    choices = architecture.choices
    assert choices["input2"] in (0, 1)
    assert choices["input3"] in (0, 1, 2)
    assert choices["input2"] != choices["input3"]
    assert not (choices["op2"] == "skip" and choices["op3"] == "skip")
    assert space.from_json(architecture.to_json()) == architecture


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_open_options_never_offer_an_option_that_breaks_a_rule(seed: int) -> None:
    space = dag_space()
    rng = np.random.default_rng(seed)
    made: dict = {}
    for choice in space.choices:
        open_ = space.open_options(made)
        mask = space.open_mask(made)
        assert [o for o, m in zip(choice.options, mask) if m] == list(open_)
        if choice.name == "input3":
            assert made["input2"] not in open_
            assert set(open_) == {0, 1, 2} - {made["input2"]}
        if choice.name == "op3" and made["op2"] == "skip":
            assert "skip" not in open_
        made[choice.name] = open_[int(rng.integers(len(open_)))]
    space.architecture(made)  # every completion built from open options is valid


def test_every_valid_architecture_can_be_sampled() -> None:
    space = dag_space()
    rng = np.random.default_rng(0)
    seen = {space.sample(rng) for _ in range(3000)}
    # input2 in {0,1}, input3 one of the 2 others, ops 3*3*3 minus 3 (both skip)
    assert len(seen) == 2 * 2 * (27 - 3)


def test_rule_without_needs_checks_the_whole_architecture() -> None:
    space = rlnas.SearchSpace(
        [rlnas.Choice("a", [0, 1]), rlnas.Choice("b", [0, 1])],
        rules=[rlnas.Rule(lambda c: c["a"] + c["b"] == 1, "exactly one is on")],
    )
    rng = np.random.default_rng(0)
    assert {space.sample(rng) for _ in range(100)} == {
        space.architecture({"a": 0, "b": 1}),
        space.architecture({"a": 1, "b": 0}),
    }


@pytest.mark.parametrize(
    ("choices", "named"),
    [
        ({"input1": 0, "op1": "conv", "input2": 0, "op2": "conv", "input3": 1, "oops": 1}, "oops"),
        ({"input1": 0, "op1": "conv", "input2": 0, "op2": "conv", "input3": 1}, "op3"),
        (
            {"input1": 0, "op1": "dense", "input2": 0, "op2": "conv", "input3": 1, "op3": "conv"},
            "op1",
        ),
        (
            {"input1": 0, "op1": "conv", "input2": 2, "op2": "conv", "input3": 1, "op3": "conv"},
            "input2",
        ),
        (
            {"input1": 0, "op1": "conv", "input2": 1, "op2": "conv", "input3": 1, "op3": "conv"},
            "input3",
        ),
        (
            {"input1": 0, "op1": "conv", "input2": 0, "op2": "skip", "input3": 1, "op3": "skip"},
            "op3",
        ),
    ],
    ids=["unknown", "missing", "bad-option", "disallowed", "rule-inputs", "rule-ops"],
)
def test_invalid_architectures_name_the_bad_decision(choices: dict, named: str) -> None:
    with pytest.raises(rlnas.InvalidArchitecture, match=repr(named)):
        dag_space().architecture(choices)


def test_broken_rule_message_is_shown() -> None:
    choices = {"input1": 0, "op1": "conv", "input2": 1, "op2": "conv", "input3": 1, "op3": "pool"}
    with pytest.raises(rlnas.InvalidArchitecture, match="read different inputs"):
        dag_space().architecture(choices)


def test_options_keep_their_type() -> None:
    space = rlnas.SearchSpace([rlnas.Choice("x", [1, 1.0, True, "1"])])
    for index, option in enumerate([1, 1.0, True, "1"]):
        architecture = space.from_json(space.architecture({"x": option}).to_json())
        assert type(architecture.choices["x"]) is type(option)
        assert space.encode(architecture) == [index]
    assert len({space.architecture({"x": o}).key for o in (1, 1.0, True, "1")}) == 4


def test_numpy_options_round_trip_through_json() -> None:
    space = rlnas.SearchSpace([rlnas.Choice("rate", list(np.linspace(0.1, 0.5, 5)))])
    architecture = space.sample(np.random.default_rng(0))
    assert space.from_json(architecture.to_json()) == architecture
    assert space.architecture({"rate": np.float64(0.1)}).choices["rate"] == 0.1


def test_decode_rejects_bad_indices() -> None:
    space = rlnas.SearchSpace([rlnas.Choice("a", ["x", "y"]), rlnas.Choice("b", [1, 2])])
    for indices in ([0], [0, 2], [-1, 0]):
        with pytest.raises(rlnas.InvalidArchitecture):
            space.decode(indices)


def test_from_json_rejects_malformed_text() -> None:
    space = rlnas.SearchSpace([rlnas.Choice("a", ["x", "y"])])
    with pytest.raises(rlnas.InvalidArchitecture, match="malformed"):
        space.from_json("{not json")
    with pytest.raises(rlnas.InvalidArchitecture):
        space.from_json(json.dumps(["x"]))


@pytest.mark.parametrize(
    "build",
    [
        lambda: rlnas.Choice("a", []),
        lambda: rlnas.Choice("", [1]),
        lambda: rlnas.Choice("a", [1, 1]),
        lambda: rlnas.Choice("a", [[1]]),
        lambda: rlnas.Choice("a", [float("nan")]),
        lambda: rlnas.Choice("a", [float("inf")]),
        lambda: rlnas.SearchSpace([]),
        lambda: rlnas.SearchSpace([rlnas.Choice("a", [1]), rlnas.Choice("a", [2])]),
        lambda: rlnas.SearchSpace(
            [rlnas.Choice("a", [1])], rules=[rlnas.Rule(lambda c: True, "m", needs=("b",))]
        ),
    ],
    ids=[
        "no-options",
        "no-name",
        "twice",
        "not-scalar",
        "nan",
        "inf",
        "empty",
        "same-name",
        "rule",
    ],
)
def test_malformed_spaces_are_user_errors(build) -> None:
    with pytest.raises(rlnas.UserError):
        build()


def test_impossible_rules_raise_a_user_error_when_sampling() -> None:
    space = rlnas.SearchSpace(
        [rlnas.Choice("a", [0, 1])], rules=[rlnas.Rule(lambda c: False, "never", needs=("a",))]
    )
    with pytest.raises(rlnas.UserError, match="could not sample"):
        space.sample(np.random.default_rng(0))


def test_architecture_is_immutable_and_hashable() -> None:
    space = dag_space()
    architecture = space.sample(np.random.default_rng(1))
    with pytest.raises(TypeError):
        architecture.choices["op1"] = "pool"  # type: ignore[index]
    assert hash(architecture) == hash(space.from_json(architecture.to_json()))


def test_architectures_pickle_for_worker_processes() -> None:
    import pickle

    space = rlnas.SearchSpace([rlnas.Choice("a", [1, 2]), rlnas.Choice("b", ["x", "y"])])
    architecture = space.architecture({"a": 2, "b": "y"})
    copy = pickle.loads(pickle.dumps(architecture))
    assert copy == architecture and copy.key == architecture.key
    assert dict(copy.choices) == {"a": 2, "b": "y"}
