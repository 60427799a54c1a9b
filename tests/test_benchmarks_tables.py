"""The benchmark's synthetic tables and its local-search peer: the invariants its report relies on
(deterministic, the sizes they claim, disconnected cells at chance, K = 0 additive), and a tiny
run of the benchmark end to end."""

from __future__ import annotations

import importlib
import itertools
from pathlib import Path

import numpy as np
import pytest

import rlnas

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    """The benchmarks folder's modules (scripts, not a package: imported from their folder)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCHMARKS))
        yield {
            name: importlib.import_module(name)
            for name in ("synthetic_tables", "fidelity_peers", "tabular_strategies")
        }


def test_tables_are_deterministic_and_as_large_as_they_say(bench) -> None:
    tables = bench["synthetic_tables"]
    assert dict(tables.TABLES["syn:chain8"]().table) == dict(tables.TABLES["syn:chain8"]().table)
    assert len(tables.load("syn:chain8").table) == 3**8
    assert len(tables.load("syn:dominant-1").table) == 4**7
    assert tables.load("syn:cell-1").space.size() == 5**6
    for k in range(5):
        assert len(tables.nk(f"nk10-k{k}", 10, k, seed=k).table) == 2**10
    assert set(tables.TUNING) & set(tables.SYNTHETIC) == {"syn:chain8", "syn:nk15"}
    assert {name for names in tables.FAMILIES.values() for name in names} == set(tables.SYNTHETIC)


def test_every_cell_encoding_has_a_row_and_disconnected_cells_score_chance(bench) -> None:
    tables = bench["synthetic_tables"]
    cell = tables.load("syn:noisy-cell")  # noisy validation: chance must still be exact
    above = []
    for operations in itertools.product(tables.CELL_OPS, repeat=6):
        choices = {f"edge{i}{j}": op for (i, j), op in zip(tables.CELL_EDGES, operations)}
        row = cell.table[cell.space.architecture(choices).key]
        if set(tables.live_edges(operations)) == {"none"}:
            assert row == {"validation": tables.CHANCE, "test": tables.CHANCE}
        else:
            above.append(row["test"] > tables.CHANCE)
    assert all(above)
    only_into_node_1 = ("conv3x3", "none", "none", "none", "none", "none")
    assert set(tables.live_edges(only_into_node_1)) == {"none"}


def test_isomorphic_cells_share_a_key(bench) -> None:
    tables = bench["synthetic_tables"]
    # edges: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3; nodes 1 and 2 swapped when not linked
    first = ("conv3x3", "skip", "none", "pool", "conv1x1", "conv3x3")
    swapped = ("skip", "conv3x3", "none", "pool", "conv3x3", "conv1x1")
    assert tables.cell_canonical(first) == tables.cell_canonical(swapped)
    dead_edge = ("conv3x3", "pool", "none", "none", "conv1x1", "none")  # 0->2 leads nowhere
    assert tables.cell_canonical(dead_edge) == tables.cell_canonical(
        ("conv3x3", "none", "none", "none", "conv1x1", "none")
    )
    linked = ("conv3x3", "skip", "conv1x1", "pool", "conv1x1", "conv3x3")
    assert tables.cell_canonical(linked) == linked


def test_nk_with_k_zero_is_additive_and_with_k_two_is_not(bench) -> None:
    tables = bench["synthetic_tables"]

    def residual(k: int) -> float:
        grid, values = tables.nk_values(8, k, np.random.default_rng(k))
        design = np.column_stack([np.ones(len(grid)), grid])
        fit = np.linalg.lstsq(design, values, rcond=None)[0]
        return float(np.abs(design @ fit - values).max())

    assert residual(0) < 1e-12
    assert residual(2) > 1e-3


def test_local_search_climbs_a_single_peak_to_its_top_without_repeats(bench) -> None:
    tables = bench["synthetic_tables"]
    grid, values = tables.nk_values(8, 0, np.random.default_rng(3))
    space = rlnas.SearchSpace([rlnas.Choice(f"bit{i}", [0, 1]) for i in range(8)])
    value = {tuple(row): float(v) for row, v in zip(grid, values)}
    asked: list[str] = []
    strategy = bench["fidelity_peers"].LocalSearch(space, seed=0)
    original_ask = strategy.ask

    def ask(n: int = 1):
        proposals = original_ask(n)
        asked.extend(a.key for a in proposals)
        return proposals

    strategy.ask = ask
    result = rlnas.search(
        space,
        lambda a: {"score": value[tuple(a.choices[f"bit{i}"] for i in range(8))]},
        strategy,
        metric="score",
        budget=40,
    )
    assert result.best.reward == pytest.approx(values.max())
    assert len(asked) == len(set(asked))


def test_a_tiny_run_writes_the_targets(bench, tmp_path: Path, monkeypatch) -> None:
    runner = bench["tabular_strategies"]
    monkeypatch.setattr(runner, "PROGRESSIVE", ("q-learning",))  # stands in for mpc and dp
    out = tmp_path / "RESULTS.md"
    runner.main(
        [
            *("--datasets", "syn:chain8,cora", "--strategies", "random,q-learning,mcts"),
            *("--seeds", "2", "--budgets", "5,10", "--gp-seeds", "1", "--gp-budget", "5"),
            *("--workers", "1", "--no-overhead", "--out", str(out)),
        ]
    )
    text = out.read_text()
    assert "- (a) the best rlnas strategy" in text
    assert "- (b) every RL strategy (2)" in text
    assert "(nbg:cora, budget 10) has mean test regret <= one-shot `mcts`'s: **M" in text
    assert "| nbg:cora | " in text and "progressive q-learning" in text
    assert "### syn:chain8 (tuning)" in text and "### nbg:cora (tuning)" in text
