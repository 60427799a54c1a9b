"""nb201-cell: NAS-Bench-201's three-stage network builds for any image, trains, exports, has
canonical keys that merge isomorphic cells, and works with the shared-weight estimators."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from rlnas.errors import InvalidArchitecture
from rlnas.estimators import SupernetEvaluator, TrainingEvaluator, WeightSharingEvaluator
from rlnas.space.blocks import Cell, Residual
from rlnas.space.models import build_model, model_space
from rlnas.space.nb201 import EDGES, OPERATIONS, canonical_key
from rlnas.space.nb201_cell import build
from rlnas.tasks import make_task

CONV_CELL = {
    "edge01": "conv3x3",
    "edge02": "skip",
    "edge12": "conv1x1",
    "edge03": "avgpool3x3",
    "edge13": "none",
    "edge23": "conv3x3",
}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def stripes(size: int, channels: int = 3, per_class: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Images of three classes told apart by their stripes: rows, columns or none."""
    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.3, (3 * per_class, channels, size, size))
    X[:per_class, :, ::2, :] += 1
    X[per_class : 2 * per_class, :, :, ::2] += 1
    return X, np.repeat(np.arange(3), per_class)


def test_three_stages_with_residual_reductions_between_them() -> None:
    model = build(CONV_CELL, (3, 32, 32), 10, cells_per_stage=2, channels=8)
    cells = [m for m in model if isinstance(m, Cell)]
    reductions = [m for m in model if isinstance(m, Residual)]
    assert len(cells) == 6 and len(reductions) == 2
    assert [r.body[1].stride for r in reductions] == [(2, 2), (2, 2)]
    assert model[-1].in_features == 32  # 8 -> 16 -> 32 channels
    features = nn.Sequential(*list(model)[:-4])
    assert features(torch.randn(2, 3, 32, 32)).shape == (2, 32, 8, 8)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.parametrize("shape", [(3, 32, 32), (1, 7, 5), (4, 1, 1), (1, 28, 28)])
def test_any_image_size_and_channel_count(shape: tuple[int, ...]) -> None:
    space = model_space("nb201-cell", shape)
    for architecture in (space.sample(np.random.default_rng(seed)) for seed in range(3)):
        model = build_model("nb201-cell", architecture, shape, 4)
        assert model(torch.randn(2, *shape)).shape == (2, 4)


def test_the_space_refuses_a_cell_whose_output_is_not_connected() -> None:
    space = model_space("nb201-cell", (3, 32, 32))
    with pytest.raises(InvalidArchitecture, match="connected"):
        space.architecture({**dict.fromkeys(EDGES, "none"), "edge01": "skip"})


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated")
def test_trains_one_epoch_on_32x32_images_and_exports_every_format(tmp_path) -> None:
    from rlnas.export import export_model

    X, y = stripes(32)
    task = make_task("stripes", X, y, "classification")
    evaluator = TrainingEvaluator(task, "nb201-cell", epochs=1)
    architecture = evaluator.search_space().architecture(CONV_CELL)
    model, metrics = evaluator.train(architecture)
    assert metrics["epochs"] == 1 and 0 <= metrics["accuracy"] <= 1
    assert metrics["params"] == sum(p.numel() for p in model.parameters())
    exported = export_model(model.eval(), task.X_test[:4], architecture.to_json(), tmp_path)
    assert {path.name for path in exported.files} >= {
        "model.onnx",
        "model.torchscript.pt",
        "model.py",
        "model.safetensors",
    }
    assert max(exported.differences.values()) <= 1e-5


cells = st.fixed_dictionaries({edge: st.sampled_from(OPERATIONS) for edge in EDGES})


def _connected(choices: dict) -> bool:
    try:
        model_space("nb201-cell", (1, 6, 6)).architecture(choices)
    except InvalidArchitecture:
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(cells)
def test_isomorphic_cells_share_a_key_and_compute_the_same_function(choices: dict) -> None:
    assume(_connected(choices))
    canonical = dict(zip(EDGES, json.loads(canonical_key(choices))))
    assert canonical_key(canonical) == canonical_key(choices)
    torch.manual_seed(0)
    full = build(choices, (1, 6, 6), 3, channels=4).eval()
    pruned = build(canonical, (1, 6, 6), 3, channels=4).eval()
    # the live edges keep their place and their weights; dead edges' weights are left out
    pruned.load_state_dict({k: v for k, v in full.state_dict().items() if k in pruned.state_dict()})
    x = torch.randn(2, 1, 6, 6)
    with torch.no_grad():
        assert torch.allclose(full(x), pruned(x), atol=1e-5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(cells, st.sampled_from(EDGES), st.sampled_from(OPERATIONS))
def test_changing_a_dead_edge_keeps_the_key(choices: dict, edge: str, op: str) -> None:
    key = canonical_key(choices)
    assume(json.loads(key)[EDGES.index(edge)] == "none" and choices[edge] != "none")
    assert canonical_key({**choices, edge: op}) == key  # it was off every path, and stays off


def test_the_count_of_distinct_cells() -> None:
    valid = [
        dict(zip(EDGES, ops))
        for ops in itertools.product(OPERATIONS, repeat=len(EDGES))
        if _fast_connected(dict(zip(EDGES, ops)))
    ]
    keys = {canonical_key(choices) for choices in valid}
    assert 5**6 == 15625
    # 15,625 cells, 341 of them with no path from input to output; merging dead edges leaves
    # 9,444 distinct networks (NAS-Bench-201 counts 6,466 by also merging commuted branches)
    assert (len(valid), len(keys)) == (15625 - 341, 9444)


def _fast_connected(choices: dict) -> bool:
    return any(op != "none" for op in json.loads(canonical_key(choices)))


@pytest.mark.parametrize("estimator", [WeightSharingEvaluator, SupernetEvaluator])
def test_the_shared_weight_estimators_accept_it(estimator) -> None:
    X, y = stripes(8, channels=1)
    task = make_task("small stripes", X, y, "classification")
    evaluator = estimator(task, "nb201-cell", 2, batch_size=8)
    space = evaluator.search_space()
    first = evaluator(space.architecture(CONV_CELL))
    second = evaluator(space.sample(np.random.default_rng(3)))
    for metrics in (first, second):
        assert 0 <= metrics["accuracy"] <= 1 and metrics["params"] > 0
    assert any("Conv2d" in key for key in evaluator.shared.bank)


def test_one_stage_of_two_cells_is_cell_cnn_and_computes_the_same() -> None:
    """cell-cnn is NAS-Bench-201's network with one stage: same layers, weights and outputs."""
    torch.manual_seed(0)
    small = build_model("cell-cnn", CONV_CELL, (3, 8, 8), 4)
    one_stage = build(CONV_CELL, (3, 8, 8), 4, cells_per_stage=2, stages=1)
    assert [type(layer) for layer in small] == [type(layer) for layer in one_stage]
    assert not any(isinstance(layer, Residual) for layer in small)  # no reductions
    one_stage.load_state_dict(small.state_dict())  # strict: the same parameters and shapes
    images = torch.randn(2, 3, 8, 8)
    torch.testing.assert_close(small.eval()(images), one_stage.eval()(images))
