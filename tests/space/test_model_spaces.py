"""Model-building spaces: every sampled architecture builds a network of the right output shape."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from rlnas.errors import UnknownName, UserError
from rlnas.space.models import MODEL_SPACES, build_model, default_space_name, model_space

SHAPES = {
    "chain-cnn": [(1, 8, 8), (3, 5, 7), (1, 28, 28)],
    "cell-cnn": [(1, 8, 8), (3, 5, 7)],
    "nb201-cell": [(3, 32, 32), (1, 5, 7)],
    "conv1d": [(1, 40), (2, 3)],
    "mlp": [(13,), (1, 8, 8)],
}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny forward passes: threads only add overhead, and much of it on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_every_registered_space_is_checked() -> None:
    assert set(SHAPES) == set(MODEL_SPACES)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_sampled_architectures_build_with_the_right_output_shape(name: str) -> None:
    rng = np.random.default_rng(0)
    for shape in SHAPES[name]:
        space = model_space(name, shape)
        for outputs in (1, 3):
            for _ in range(15):
                architecture = space.sample(rng)
                assert space.architecture(dict(architecture.choices)) == architecture
                model = build_model(name, architecture, shape, outputs)
                model.train()
                assert model(torch.randn(4, *shape)).shape == (4, outputs)
                model.eval()
                assert model(torch.randn(1, *shape)).shape == (1, outputs)


def test_absent_layers_collapse_to_none() -> None:
    conv1d = model_space("conv1d", (1, 40))
    assert conv1d.open_options({"head": "average", "kernel0": "none"}) == ("none",)
    assert conv1d.open_options({"head": "average", "kernel0": 3}) == (16, 32, 64)
    absent = {"head": "average", "kernel0": "none", "width0": "none"}
    assert conv1d.open_options(absent) == ("none",)
    mlp = model_space("mlp", (4,))
    assert mlp.open_options({"activation": "relu", "dropout": 0.0}) == ("none", 32, 64, 128, 256)


@pytest.mark.parametrize(
    ("name", "shape", "layer", "absent"),
    [
        ("mlp", (4,), {"width": 64}, {"width": "none"}),
        (
            "conv1d",
            (1, 40),
            {"kernel": 5, "width": 16, "pool": "max"},
            {"kernel": "none", "width": "none", "pool": "none"},
        ),
    ],
)
def test_absent_layers_drop_out_of_the_key_and_one_layer_is_needed(
    name: str, shape: tuple, layer: dict, absent: dict
) -> None:
    space = model_space(name, shape)
    first = {"activation": "gelu", "dropout": 0.1} if name == "mlp" else {"head": "flatten"}
    depth = len([d for d in space.names if d.startswith(next(iter(layer)))])

    def network(*layers: dict) -> dict:
        return {**first, **{f"{k}{i}": v for i, lay in enumerate(layers) for k, v in lay.items()}}

    gaps = [absent] * (depth - 1)
    early = space.architecture(network(layer, *gaps))
    late = space.architecture(network(*gaps, layer))
    assert early.key == late.key and early != late
    assert repr(build_model(name, early, shape, 2)) == repr(build_model(name, late, shape, 2))
    deeper = space.architecture(network(layer, layer, *gaps[1:]))
    assert deeper.key != early.key
    with pytest.raises(UserError, match="at least one"):
        space.architecture(network(*gaps, absent))


def test_chain_cnn_widths_and_skips_only_for_convolutions() -> None:
    space = model_space("chain-cnn", (1, 8, 8))
    assert space.open_options({"op0": "maxpool"}) == ("none",)
    assert space.open_options({"op0": "conv3x3"}) == (16, 32, 64)
    assert space.open_options({"op0": "identity", "width0": "none"}) == (False,)


def test_chain_cnn_pools_only_while_the_image_is_big_enough() -> None:
    space = model_space("chain-cnn", (1, 4, 4))
    pooled = {"op0": "maxpool", "width0": "none", "skip0": False}
    assert "maxpool" in space.open_options(pooled)
    twice = {**pooled, "op1": "maxpool", "width1": "none", "skip1": False}
    assert "maxpool" not in space.open_options(twice)


def test_chain_cnn_needs_a_convolution_and_ignores_identity_layers_in_its_key() -> None:
    space = model_space("chain-cnn", (1, 8, 8))
    idle = {"width": "none", "skip": False}
    layer = {"op": "conv3x3", "width": 16, "skip": False}

    def network(*layers: dict) -> dict:
        return {f"{k}{i}": v for i, lay in enumerate(layers) for k, v in lay.items()}

    identity = {"op": "identity", **idle}
    first = space.architecture(network(layer, identity, identity, identity))
    last = space.architecture(network(identity, identity, identity, layer))
    assert first.key == last.key and first != last
    with pytest.raises(UserError, match="convolution"):
        space.architecture(network(identity, identity, identity, identity))


def test_cell_cnn_requires_a_connected_cell_and_drops_dead_edges_from_its_key() -> None:
    space = model_space("cell-cnn", (1, 8, 8))
    cell = dict.fromkeys(("edge01", "edge02", "edge12", "edge03", "edge13", "edge23"), "none")
    with pytest.raises(UserError, match="connected"):
        space.architecture(cell)
    direct = space.architecture({**cell, "edge03": "conv3x3"})
    # node 1 receives input but feeds nothing on to the output: its edge is dead
    dangling = space.architecture({**cell, "edge03": "conv3x3", "edge01": "conv1x1"})
    assert direct.key == dangling.key
    used = space.architecture({**cell, "edge03": "conv3x3", "edge01": "conv1x1", "edge13": "skip"})
    assert used.key != direct.key
    assert json.loads(used.key)[0] == "conv1x1"


def test_cell_cnn_none_edge_contributes_nothing() -> None:
    cell = dict.fromkeys(("edge01", "edge02", "edge12", "edge03", "edge13", "edge23"), "none")
    skip_only = build_model("cell-cnn", {**cell, "edge03": "skip"}, (1, 6, 6), 2)
    assert skip_only(torch.randn(2, 1, 6, 6)).shape == (2, 2)


def test_unknown_space_and_wrong_input_shape() -> None:
    with pytest.raises(UnknownName, match="chain-cnn"):
        model_space("resnet", (1, 8, 8))
    with pytest.raises(UserError, match="try the space mlp"):
        model_space("chain-cnn", (13,))
    with pytest.raises(UserError, match="try the space chain-cnn"):
        model_space("conv1d", (1, 8, 8))


def test_default_space_by_input_shape() -> None:
    assert default_space_name((1, 8, 8)) == "chain-cnn"
    assert default_space_name((1, 40)) == "conv1d"
    assert default_space_name((30,)) == "mlp"


def test_importing_rlnas_does_not_import_torch() -> None:
    code = "import sys, rlnas, rlnas.space; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
