"""Reward-model features: the one-hot block is the space's own; extra functions append columns."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rlnas.controllers.features import ArchitectureFeatures
from rlnas.space import Choice, SearchSpace
from rlnas.space.nas_bench_graph import nas_bench_graph_space, operations
from rlnas.space.nas_bench_graph_features import (
    nas_bench_graph_features,
    operation_counts,
    path_position_counts,
)
from rlnas.space.nb201 import EDGES, cell_space, live_operation_counts
from rlnas.space.nb201 import OPERATIONS as CELL_OPERATIONS

NBG = nas_bench_graph_space("cora")
OPERATIONS = operations("cora")


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=1, max_size=6), seed=st.integers(0, 10**6))
def test_one_hot_block_equals_the_space_encoding(sizes: list[int], seed: int) -> None:
    space = SearchSpace([Choice(f"x{i}", list(range(n))) for i, n in enumerate(sizes)])
    rng = np.random.default_rng(seed)
    architectures = [space.sample(rng) for _ in range(4)]
    features = ArchitectureFeatures(space, extra=[lambda a: np.array([1.0, 2.0])])
    matrix = features(architectures)
    assert matrix.shape == (4, sum(sizes) + 2)
    assert np.array_equal(
        matrix[:, : sum(sizes)], np.stack([space.one_hot(a) for a in architectures])
    )
    assert (matrix[:, sum(sizes) :] == [1.0, 2.0]).all()
    indices = [space.encode(a) for a in architectures]
    assert np.array_equal(features.from_indices(indices), matrix)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_nas_bench_graph_features_count_nodes_and_paths(seed: int) -> None:
    architecture = NBG.sample(np.random.default_rng(seed))
    counts = operation_counts(OPERATIONS)(architecture.choices)
    assert counts.sum() == 4  # every node applies one operation
    parents = [int(p) for p in str(architecture.choices["link"]).split("-")]
    outputs = {1, 2, 3, 4} - set(parents)
    paths = path_position_counts(OPERATIONS)(architecture.choices).reshape(4, len(OPERATIONS))
    assert paths[0].sum() == len(outputs)  # every path starts at depth 0
    assert paths.sum() >= len(outputs)
    for node in range(4):  # a node's operation appears on some path (each node reaches an output)
        operation = OPERATIONS.index(architecture.choices[f"op{node}"])
        assert paths[:, operation].sum() >= 1


def test_a_chain_has_one_path_through_every_node() -> None:
    chain = NBG.architecture(
        {"link": "0-1-2-3", "op0": "gcn", "op1": "gat", "op2": "gin", "op3": "fc"}
    )
    paths = path_position_counts(OPERATIONS)(chain.choices).reshape(4, len(OPERATIONS))
    expected = ["gcn", "gat", "gin", "fc"]
    for depth, operation in enumerate(expected):
        assert paths[depth, OPERATIONS.index(operation)] == 1 and paths[depth].sum() == 1
    width = ArchitectureFeatures(NBG, nas_bench_graph_features(OPERATIONS))([chain]).shape[1]
    assert width == sum(len(c.options) for c in NBG.choices) + len(OPERATIONS) * 5


def test_cell_spaces_declare_counts_of_the_operations_on_live_edges() -> None:
    space = cell_space("cell-cnn")
    choices = {**dict.fromkeys(EDGES, "none"), "edge03": "skip", "edge12": "conv3x3"}
    counts = live_operation_counts(choices)  # edge12 is dead: nothing reaches node 1
    assert counts[CELL_OPERATIONS.index("skip")] == 1
    assert counts[CELL_OPERATIONS.index("conv3x3")] == 0
    matrix = ArchitectureFeatures(space)([space.architecture(choices)])
    assert matrix.shape == (1, len(EDGES) * len(CELL_OPERATIONS) + len(CELL_OPERATIONS))
    assert np.array_equal(matrix[0, -len(CELL_OPERATIONS) :], counts)
