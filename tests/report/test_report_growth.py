"""A search that inherits weights, as the report, the trajectories and ``show`` draw it: chains
of growth from a network trained from scratch to the last one grown from it."""

from __future__ import annotations

import csv
from itertools import pairwise
from pathlib import Path

import pytest

import rlnas
from rlnas.report import export_trajectories, load_runs, render_report
from rlnas.report.growth import chain_text, growth_chains

GROWING = {
    "task": "digits",
    "space": "mlp",
    "strategy": "q-learning",
    "mode": "progressive",
    "inherit": True,
    "epochs": 2,
    "data_fraction": 0.3,
    "budget": 12,
}


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("growth") / "runs.db"
    rlnas.run(rlnas.SearchConfig(**GROWING, store=store, name="grown"))
    return store


def test_every_chain_runs_from_a_network_without_parent_through_its_children(grown) -> None:
    (run,) = load_runs(grown)
    chains = growth_chains(run.trials)
    assert {t.key for chain in chains for t in chain} == {t.key for t in run.trials}
    assert any(len(chain) > 1 for chain in chains)
    for chain in chains:
        assert chain[0].parent is None
        for parent, child in pairwise(chain):
            assert child.parent == parent.key and parent.number < child.number
    longest = max(chains, key=len)
    assert chain_text(longest, "accuracy").count(" -> ") == len(longest) - 1


def test_the_report_lists_the_chains_of_growth(grown) -> None:
    runs = load_runs(grown)
    html = render_report(runs)
    assert "grown: chains of growth" in html
    longest = max(growth_chains(runs[0].trials), key=len)
    assert chain_text(longest, "accuracy").replace(">", "&gt;") in html


def test_trajectories_carry_each_trials_parent_start_and_epochs(grown, tmp_path) -> None:
    output = tmp_path / "steps.csv"
    export_trajectories(grown, output)
    with output.open(newline="") as handle:
        last = [row for row in csv.DictReader(handle) if row["done"] == "True"]
    (run,) = load_runs(grown)
    assert [(row["parent"], row["start"]) for row in last] == [
        (t.parent or "", t.start) for t in run.trials
    ]
    assert [row["epochs"] for row in last] == [str(int(t.metrics["epochs"])) for t in run.trials]
