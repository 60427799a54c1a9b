"""Growth: every network along any growth path is a valid architecture that builds and runs."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import rlnas
from rlnas.errors import UserError
from rlnas.estimators import load_benchmark
from rlnas.space import Architecture, SearchSpace
from rlnas.space.growth import STOP, episode_space, partial, points
from rlnas.space.models import build_model, model_space

GROWABLE = {"chain-cnn": (1, 8, 8), "cell-cnn": (1, 8, 8), "conv1d": (1, 40), "mlp": (6,)}


def walk(data: st.DataObject, episodes: SearchSpace) -> Architecture:
    """A growth path that hypothesis chooses, one open option at a time."""
    made: dict = {}
    for choice in episodes.choices:
        open_ = episodes.open_options(made)
        if not open_:  # a dead end the rules could not foresee: hypothesis tries another path
            reject()
        made[choice.name] = data.draw(st.sampled_from(open_))
    return episodes.architecture(made)


@pytest.mark.parametrize("name", sorted(GROWABLE))
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_step_of_a_model_space_builds_a_network(name: str, data: st.DataObject) -> None:
    shape = GROWABLE[name]
    space = model_space(name, shape)
    found, length = points(space, walk(data, episode_space(space)))
    assert found and found[-1].index < length
    for point in found:
        assert space.architecture(dict(point.architecture.choices)) == point.architecture
        with torch.no_grad():
            output = build_model(name, point.architecture, shape, 3).eval()(torch.zeros(2, *shape))
        assert output.shape == (2, 3)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_step_of_a_nas_bench_graph_episode_has_a_true_table_value(
    data: st.DataObject,
) -> None:
    bench = load_benchmark("nbg:cora")
    found, _ = points(bench.space, walk(data, episode_space(bench.space)))
    assert found
    for point in found:
        assert point.architecture.key in bench.table


def test_a_stop_is_offered_only_where_the_network_so_far_is_valid() -> None:
    space = model_space("chain-cnn", (1, 8, 8))
    episodes = episode_space(space)
    pool = {"op0": "maxpool", "width0": "none", "skip0": False}
    assert partial(space, pool) is None  # no convolution yet
    assert episodes.open_options(pool) == (False,)
    convolution = {"op0": "conv3x3", "width0": 16, "skip0": True}
    assert episodes.open_options(convolution) == (False, True)
    stopped = {**convolution, f"{STOP}0": True}
    assert episodes.open_options(stopped) == ("identity",)  # the rest is filled


def test_stopping_ends_the_episode_at_the_network_grown_so_far() -> None:
    space = model_space("chain-cnn", (1, 8, 8))
    episodes = episode_space(space)
    made: dict = {"op0": "conv3x3", "width0": 32, "skip0": False, f"{STOP}0": True}
    while len(made) < len(episodes):
        made[episodes.choices[len(made)].name] = episodes.open_options(made)[0]
    found, length = points(space, episodes.architecture(made))
    assert length == 4 and [p.index for p in found] == [2]
    assert found[0].architecture.key == '[["conv3x3",32,false]]'


def test_a_space_without_growth_cannot_grow() -> None:
    space = rlnas.SearchSpace([rlnas.Choice("x", [1, 2])], name="flat")
    with pytest.raises(UserError, match="does not declare how it grows"):
        episode_space(space)


@pytest.mark.parametrize(
    ("growth", "message"),
    [
        (rlnas.Growth(steps=[("y",), ("x",)], fill={"x": 1, "y": 1}), "in order"),
        (rlnas.Growth(steps=[("x",)], fill={"x": 1}), "every decision"),
        (rlnas.Growth(steps=[("x",), ("y",)], fill={"x": 1, "y": 3}), "not one of its options"),
    ],
)
def test_a_growth_must_cover_the_decisions_in_order_with_valid_fills(
    growth: rlnas.Growth, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        rlnas.SearchSpace([rlnas.Choice("x", [1, 2]), rlnas.Choice("y", [1, 2])], growth=growth)
