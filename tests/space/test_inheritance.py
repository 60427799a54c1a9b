"""Inherited growth: a grown network starts with its parent's weights and computes its function."""

from __future__ import annotations

import sys
from itertools import pairwise
from types import ModuleType

import pytest
import torch
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from torch import nn

from rlnas.space import Architecture, SearchSpace
from rlnas.space.growth import episode_space, points
from rlnas.space.inheritance import Inheritance
from rlnas.space.models import MODEL_SPACES, build_model, inherit_model, model_space

TOLERANCE = 1e-5


def trained(name: str, architecture: Architecture, shape: tuple, outputs: int) -> nn.Module:
    """A network a few Adam steps into training on random data, so that its weights and its
    BatchNorm statistics are far from their defaults (inputs have a mean and spread not 0, 1)."""
    model = build_model(name, architecture, shape, outputs)
    train(model, shape, outputs, steps=6)
    return model.eval()


def train(model: nn.Module, shape: tuple, outputs: int, steps: int) -> None:
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        x = torch.randn(16, *shape) * 2 + 1
        loss = nn.functional.cross_entropy(model(x), torch.randint(outputs, (16,)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def assert_same_function(parent: nn.Module, child: nn.Module, shape: tuple, training: bool) -> None:
    x = torch.randn(32, *shape) * 2 + 1
    with torch.no_grad():
        torch.manual_seed(1)  # the same dropout masks where the layers are the same
        expected = parent.train(training)(x)
        torch.manual_seed(1)
        grown = child.train(training)(x)
    assert (expected - grown).abs().max().item() <= TOLERANCE, (expected - grown).abs().max()
    assert expected.abs().max().item() > 0.01  # the function compared is not trivially zero


def grow(name: str, shape: tuple, outputs: int, parent: dict, child: dict):
    space = model_space(name, shape)
    parent_architecture, child_architecture = space.architecture(parent), space.architecture(child)
    model = trained(name, parent_architecture, shape, outputs)
    grown = inherit_model(name, model, parent_architecture, child_architecture, shape, outputs)
    return model, grown, child_architecture


def chain(*layers: tuple) -> dict:
    """A chain-cnn architecture from (op, width, skip) layers; the rest are identities."""
    padded = [*layers, *[("identity", "none", False)] * (4 - len(layers))]
    return {
        f"{kind}{k}": value
        for k, layer in enumerate(padded)
        for kind, value in zip(("op", "width", "skip"), layer)
    }


def sequence(head: str, *layers: tuple) -> dict:
    """A conv1d architecture from (kernel, width, pool) layers; the rest are absent."""
    padded = [*layers, *[("none", "none", "none")] * (4 - len(layers))]
    choices = {"head": head}
    for k, layer in enumerate(padded):
        choices.update(zip((f"kernel{k}", f"width{k}", f"pool{k}"), layer))
    return choices


def perceptron(activation: str, dropout: float, *widths: int) -> dict:
    padded = [*widths, *["none"] * (3 - len(widths))]
    return {"activation": activation, "dropout": dropout} | {
        f"width{k}": width for k, width in enumerate(padded)
    }


def cell(**edges: str) -> dict:
    return dict.fromkeys(("edge01", "edge02", "edge12", "edge03", "edge13", "edge23"), "none") | {
        f"edge{name[-2:]}": op for name, op in edges.items()
    }


# fmt: off
RELU_16 = ("conv3x3", 16, False)  # ends in ReLU: the next layer's input is non-negative
SIGNED_16 = ("conv3x3", 16, True)  # a projection shortcut from one channel: signed features
GROWTHS = {
    # name: (space, input shape, outputs, parent, child, what it does or None, exact in train mode)
    "chain: a conv after ReLU": (
        "chain-cnn", (1, 8, 8), 3, chain(RELU_16), chain(RELU_16, ("conv3x3", 16, False)),
        "identity layer", False,
    ),
    "chain: a wider conv with a projection": (
        "chain-cnn", (1, 8, 8), 3, chain(RELU_16), chain(RELU_16, ("conv5x5", 32, True)),
        "identity layer", False,
    ),
    "chain: a sepconv with an identity shortcut": (
        "chain-cnn", (1, 8, 8), 3, chain(RELU_16), chain(RELU_16, ("sepconv3x3", 16, True)),
        "identity layer", False,
    ),
    "chain: a conv after a max-pool": (
        "chain-cnn", (1, 8, 8), 3, chain(RELU_16, ("maxpool", "none", False)),
        chain(RELU_16, ("maxpool", "none", False), ("conv3x3", 32, False)),
        "identity layer", False,
    ),
    "chain: a conv on signed features": (
        "chain-cnn", (1, 8, 8), 3, chain(SIGNED_16), chain(SIGNED_16, ("conv3x3", 16, False)),
        "negation", False,
    ),
    "chain: a residual conv on signed features": (
        "chain-cnn", (3, 6, 6), 3, chain(SIGNED_16), chain(SIGNED_16, ("conv3x3", 16, True)),
        "negation", False,
    ),
    "chain: a narrower sepconv": (
        "chain-cnn", (1, 8, 8), 3, chain(("conv3x3", 64, False)),
        chain(("conv3x3", 64, False), ("sepconv3x3", 16, False)),
        "negation", False,
    ),
    "chain: too narrow for signed features and ten outputs": (
        "chain-cnn", (1, 8, 8), 10, chain(SIGNED_16), chain(SIGNED_16, ("conv3x3", 16, False)),
        None, False,
    ),
    "chain: a max-pool": (
        "chain-cnn", (1, 8, 8), 3, chain(RELU_16), chain(RELU_16, ("maxpool", "none", False)),
        None, False,
    ),
    "chain: an identity layer": (
        "chain-cnn", (1, 8, 8), 3, chain(RELU_16), chain(RELU_16), "adds nothing", True,
    ),
    "conv1d: a wider layer": (
        "conv1d", (2, 40), 3, sequence("average", (3, 32, "none")),
        sequence("average", (3, 32, "none"), (5, 64, "none")),
        "identity layer", False,
    ),
    "conv1d: a narrower layer under the average head": (
        "conv1d", (2, 40), 3, sequence("average", (3, 32, "max")),
        sequence("average", (3, 32, "max"), (7, 16, "none")),
        "negation", False,
    ),
    "conv1d: a layer under the flatten head": (
        "conv1d", (2, 40), 3, sequence("flatten", (3, 16, "max")),
        sequence("flatten", (3, 16, "max"), (5, 32, "none")),
        "identity layer", False,
    ),
    "conv1d: a narrower layer under the flatten head": (
        "conv1d", (2, 40), 3, sequence("flatten", (3, 32, "none")),
        sequence("flatten", (3, 32, "none"), (3, 16, "none")),
        None, False,
    ),
    "conv1d: a layer that pools": (
        "conv1d", (2, 40), 3, sequence("average", (3, 32, "none")),
        sequence("average", (3, 32, "none"), (3, 32, "max")),
        None, False,
    ),
    "conv1d: no layer": (
        "conv1d", (2, 40), 3, sequence("average", (3, 32, "none")),
        sequence("average", (3, 32, "none")),
        "adds nothing", True,
    ),
    "mlp: a wider relu layer": (
        "mlp", (6,), 3, perceptron("relu", 0.0, 64), perceptron("relu", 0.0, 64, 128),
        "identity layer", True,
    ),
    "mlp: a narrower relu layer": (
        "mlp", (6,), 3, perceptron("relu", 0.0, 128), perceptron("relu", 0.0, 128, 32),
        "negation", True,
    ),
    "mlp: a gelu layer": (
        "mlp", (6,), 3, perceptron("gelu", 0.0, 64, 256), perceptron("gelu", 0.0, 64, 256, 64),
        "negation", True,
    ),
    "mlp: a relu layer with dropout": (
        "mlp", (6,), 3, perceptron("relu", 0.3, 32), perceptron("relu", 0.3, 32, 64),
        "identity layer", False,
    ),
    "mlp: a gelu layer too narrow for twenty outputs": (
        "mlp", (6,), 20, perceptron("gelu", 0.1, 64), perceptron("gelu", 0.1, 64, 32),
        None, False,
    ),
    "mlp: a tanh layer": (
        "mlp", (6,), 3, perceptron("tanh", 0.0, 64), perceptron("tanh", 0.0, 64, 256),
        None, False,
    ),
    "cell: a conv1x1 edge": (
        "cell-cnn", (1, 8, 8), 3, cell(e01="conv3x3", e03="skip"),
        cell(e01="conv3x3", e03="skip", e13="conv1x1"),
        "zero-initialised", True,
    ),
    "cell: a conv3x3 edge into the output": (
        "cell-cnn", (1, 8, 8), 3, cell(e02="conv1x1", e12="conv1x1", e03="conv3x3"),
        cell(e02="conv1x1", e12="conv1x1", e03="conv3x3", e23="conv3x3"),
        "zero-initialised", True,
    ),
    "cell: a skip edge": (
        "cell-cnn", (1, 8, 8), 3, cell(e01="conv3x3", e03="skip"),
        cell(e01="conv3x3", e03="skip", e13="skip"),
        None, False,
    ),
    "cell: a pool edge": (
        "cell-cnn", (1, 8, 8), 3, cell(e01="conv3x3", e12="skip", e13="conv1x1"),
        cell(e01="conv3x3", e12="skip", e13="conv1x1", e23="avgpool3x3"),
        None, False,
    ),
    "cell: a pool edge from a node that is always zero": (
        "cell-cnn", (1, 8, 8), 3, cell(e02="conv1x1", e03="skip"),
        cell(e02="conv1x1", e03="skip", e13="avgpool3x3"),
        "always zero", True,
    ),
    # node 2 only has a convolution of the zero node 1: it is that BatchNorm's shift, not zero
    "cell: a skip edge from a node that is a constant": (
        "cell-cnn", (1, 8, 8), 3, cell(e12="conv1x1", e03="conv3x3"),
        cell(e12="conv1x1", e03="conv3x3", e23="skip"),
        None, False,
    ),
    "cell: no edge": (
        "cell-cnn", (1, 8, 8), 3, cell(e01="conv3x3", e13="conv1x1"),
        cell(e01="conv3x3", e13="conv1x1"),
        "adds nothing", True,
    ),
    "nb201: a conv3x3 edge in every cell of every stage": (
        "nb201-cell", (3, 8, 8), 3, cell(e01="conv3x3", e03="skip"),
        cell(e01="conv3x3", e03="skip", e13="conv3x3"),
        "zero-initialised", True,
    ),
    "nb201: a skip edge": (
        "nb201-cell", (3, 8, 8), 3, cell(e01="conv3x3", e03="skip"),
        cell(e01="conv3x3", e03="skip", e13="skip"),
        None, False,
    ),
    "nb201: a conv1x1 edge": (
        "nb201-cell", (3, 8, 8), 3, cell(e01="conv3x3", e03="skip"),
        cell(e01="conv3x3", e03="skip", e13="conv1x1"),
        "zero-initialised", True,
    ),
    "nb201: an avgpool edge from a node that is not zero": (
        "nb201-cell", (3, 8, 8), 3, cell(e01="conv3x3", e03="skip"),
        cell(e01="conv3x3", e03="skip", e13="avgpool3x3"),
        None, False,
    ),
}
# fmt: on


@pytest.fixture(autouse=True)
def seeded() -> None:
    torch.manual_seed(0)


def test_every_model_space_is_covered() -> None:
    assert {growth[0] for growth in GROWTHS.values()} == set(MODEL_SPACES)


@pytest.mark.parametrize("kind", GROWTHS)
def test_a_growth_step_keeps_the_function_or_says_it_cannot(kind: str) -> None:
    name, shape, outputs, parent, child, how, exact_in_training = GROWTHS[kind]
    model, grown, child_architecture = grow(name, shape, outputs, parent, child)
    if how is None:
        assert not grown.preserved and grown.model is None and grown.how
        return
    assert grown.preserved and how in grown.how, grown.how
    assert grown.exact_in_training == exact_in_training
    # the child is what the space builds: the search and the exports treat it like any network
    build_model(name, child_architecture, shape, outputs).load_state_dict(grown.model.state_dict())
    assert_same_function(model, grown.model, shape, training=False)
    if exact_in_training:
        assert_same_function(model, grown.model, shape, training=True)


ADDS_NO_PARAMETERS = (None, "adds nothing", "always zero")


@pytest.mark.parametrize(
    "kind", [kind for kind, growth in GROWTHS.items() if growth[5] not in ADDS_NO_PARAMETERS]
)
def test_the_new_layer_learns(kind: str) -> None:
    """Each new or rewritten parameter moves within two training steps, in nearly all its units
    (a zero fan-in and fan-out would leave units dead; a few ReLU units rest on the batch)."""
    name, shape, outputs, parent, child, _, _ = GROWTHS[kind]
    model, grown, _ = grow(name, shape, outputs, parent, child)
    kept = model.state_dict()
    before = {key: value.clone() for key, value in grown.model.named_parameters()}
    new = [key for key, value in before.items() if not _same(value, kept.get(key))]
    assert new
    train(grown.model, shape, outputs, steps=2)
    for key in new:
        moved = (grown.model.get_parameter(key) != before[key]).reshape(len(before[key]), -1)
        assert moved.any(dim=1).float().mean() >= 0.8, key


def _same(value: torch.Tensor, other: torch.Tensor | None) -> bool:
    return other is not None and value.shape == other.shape and torch.equal(value, other)


def test_a_calibration_batch_makes_train_mode_start_from_the_parent() -> None:
    name, shape, outputs, parent, child, _, _ = GROWTHS["chain: a wider conv with a projection"]
    space = model_space(name, shape)
    parent_architecture, child_architecture = space.architecture(parent), space.architecture(child)
    model = trained(name, parent_architecture, shape, outputs)
    batch = torch.randn(64, *shape) * 2 + 1
    calibrated = inherit_model(
        name, model, parent_architecture, child_architecture, shape, outputs, calibration=batch
    ).model
    plain = inherit_model(
        name, model, parent_architecture, child_architecture, shape, outputs
    ).model
    assert_same_function(model, calibrated, shape, training=False)
    with torch.no_grad():
        expected = model.train()(batch)
        assert (calibrated.train()(batch) - expected).abs().max() <= TOLERANCE
        assert (plain.train()(batch) - expected).abs().max() > 100 * TOLERANCE


@pytest.mark.parametrize(
    "child",
    [chain(RELU_16, RELU_16, RELU_16), chain(("conv5x5", 16, False), RELU_16), chain(SIGNED_16)],
)
def test_a_child_that_is_not_its_parent_grown_by_one_step_is_refused(child: dict) -> None:
    space = model_space("chain-cnn", (1, 8, 8))
    parent = space.architecture(chain(RELU_16))
    model = build_model("chain-cnn", parent, (1, 8, 8), 3)
    with pytest.raises(ValueError, match="grown by one step"):
        inherit_model("chain-cnn", model, parent, space.architecture(child), (1, 8, 8), 3)


def test_a_space_without_inherit_trains_each_step_from_scratch(monkeypatch) -> None:
    flat = ModuleType("flat_space")
    flat.NAME, flat.INPUT_RANK = "flat", None
    flat.space = lambda shape: model_space("mlp", shape)
    flat.build = lambda architecture, shape, outputs: build_model(
        "mlp", architecture, shape, outputs
    )
    monkeypatch.setitem(sys.modules, "flat_space", flat)
    monkeypatch.setitem(MODEL_SPACES, "flat", "flat_space")
    parent = model_space("mlp", (6,)).architecture(perceptron("relu", 0.0, 64))
    child = model_space("mlp", (6,)).architecture(perceptron("relu", 0.0, 64, 64))
    model = build_model("mlp", parent, (6,), 3)
    grown = inherit_model("flat", model, parent, child, (6,), 3)
    assert isinstance(grown, Inheritance) and grown.model is None
    assert "does not inherit" in grown.how


# --- random episodes -------------------------------------------------------------------------

EPISODE_SHAPES = {
    "chain-cnn": (1, 6, 6),
    "cell-cnn": (1, 6, 6),
    "nb201-cell": (1, 6, 6),
    "conv1d": (1, 24),
    "mlp": (5,),
}


def walk(data: st.DataObject, episodes: SearchSpace) -> Architecture:
    made: dict = {}
    for choice in episodes.choices:
        open_ = episodes.open_options(made)
        if not open_:
            reject()
        made[choice.name] = data.draw(st.sampled_from(open_))
    return episodes.architecture(made)


@pytest.mark.parametrize("name", sorted(EPISODE_SHAPES))
@settings(max_examples=20, deadline=None)
@given(data=st.data(), outputs=st.sampled_from([2, 10]))
def test_every_step_of_a_random_episode_keeps_the_function_where_it_claims(
    name: str, data: st.DataObject, outputs: int
) -> None:
    """Along a whole episode each inherited network trains a little and is grown again."""
    torch.manual_seed(0)
    shape = EPISODE_SHAPES[name]
    space = model_space(name, shape)
    found, _ = points(space, walk(data, episode_space(space)))
    model = trained(name, found[0].architecture, shape, outputs)
    for parent, child in pairwise(found):
        grown = inherit_model(name, model, parent.architecture, child.architecture, shape, outputs)
        if not grown.preserved:
            model = trained(name, child.architecture, shape, outputs)
            continue
        build_model(name, child.architecture, shape, outputs).load_state_dict(
            grown.model.state_dict()
        )
        assert_same_function(model, grown.model, shape, training=False)
        if grown.exact_in_training:
            assert_same_function(model, grown.model, shape, training=True)
        model = grown.model
        train(model, shape, outputs, steps=2)
        model.eval()
