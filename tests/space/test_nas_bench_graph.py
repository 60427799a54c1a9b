"""NAS-Bench-Graph space: canonical keys, the all-skip rule, and agreement with the table."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest

import rlnas
from rlnas.estimators import load_benchmark
from rlnas.space.nas_bench_graph import LINKS, nas_bench_graph_space, operations

OPS = ("op0", "op1", "op2", "op3")


def _choices(link: str, ops: tuple[str, ...]) -> dict:
    return {"link": link, **dict(zip(OPS, ops))}


def test_isomorphic_encodings_share_the_key() -> None:
    space = nas_bench_graph_space("cora")
    # link 0-0-0-0: four parallel nodes fed by the input, so permuting the ops changes nothing
    first = space.architecture(_choices("0-0-0-0", ("gcn", "gat", "sage", "fc")))
    permuted = space.architecture(_choices("0-0-0-0", ("fc", "sage", "gat", "gcn")))
    assert first != permuted
    assert first.key == permuted.key
    chained = space.architecture(_choices("0-1-2-3", ("gcn", "gat", "sage", "fc")))
    assert chained.key != first.key


def test_keys_separate_different_networks() -> None:
    space = nas_bench_graph_space("cora")
    rng = np.random.default_rng(0)
    by_key: dict[str, set] = defaultdict(set)
    for _ in range(300):
        architecture = space.sample(rng)
        by_key[architecture.key].add(architecture)
    # a chain of four different operations has no isomorphic twin
    lonely = space.architecture(_choices("0-1-2-3", ("gcn", "gat", "sage", "fc")))
    assert sum(1 for a in by_key.get(lonely.key, ()) if a != lonely) == 0
    assert len(by_key) > 200


def test_all_skip_is_rejected() -> None:
    space = nas_bench_graph_space("cora")
    with pytest.raises(rlnas.InvalidArchitecture, match="skip"):
        space.architecture(_choices("0-1-2-3", ("skip",) * 4))
    assert "skip" not in space.open_options(_choices("0-1-2-3", ("skip",) * 3))
    rng = np.random.default_rng(0)
    for _ in range(500):
        assert set(space.sample(rng).choices[name] for name in OPS) != {"skip"}


def test_every_key_of_the_cora_table_is_reachable() -> None:
    benchmark = load_benchmark("nbg:cora")
    space = benchmark.space
    keys = set()
    for link in LINKS:
        for ops in itertools.product(operations("cora"), repeat=4):
            if set(ops) != {"skip"}:
                keys.add(space.canonical_key(_choices(link, ops)))
    assert keys == set(benchmark.table)


@pytest.mark.parametrize("dataset", ["cora", "proteins"])
def test_every_sampled_architecture_is_in_the_table(dataset: str) -> None:
    benchmark = load_benchmark(f"nbg:{dataset}")
    rng = np.random.default_rng(0)
    for _ in range(500):
        architecture = benchmark.space.sample(rng)
        metrics = benchmark.evaluate(architecture)
        assert {"validation", "test", "latency", "params"} <= set(metrics)


def test_proteins_uses_its_own_five_operations() -> None:
    proteins = nas_bench_graph_space("proteins")
    cora = nas_bench_graph_space("cora")
    assert proteins.name == "nbg:proteins"
    for name in OPS:
        assert proteins.choices[proteins.names.index(name)].options == operations("proteins")
    assert len(operations("proteins")) == 5
    assert set(operations("proteins")) < set(operations("cora"))
    assert cora.choices[1].options == operations("cora")
    with pytest.raises(rlnas.InvalidArchitecture, match="op0"):
        proteins.architecture(_choices("0-1-2-3", ("gat", "gcn", "gcn", "gcn")))


def test_unknown_benchmark_is_a_user_error() -> None:
    for name in ("nbg:imagenet", "nb201:cifar10", "cora"):
        with pytest.raises(rlnas.UserError, match="unknown benchmark"):
            load_benchmark(name)
