"""A scheduled search in the report and the trajectory export: rungs, curves, pruned trials."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

import rlnas
from rlnas.report import export_trajectories, load_runs, render_report
from rlnas.report.curves import learning_curves

SPACE = rlnas.SearchSpace([rlnas.Choice("q", [0.5, 0.9, 0.3, 0.8, 0.95, 0.1])], name="q")


class Known:
    """Curves ``q * (1 - 0.5**epoch)``: the candidate's rank is the same at every epoch."""

    epochs = 9

    def __call__(self, architecture):
        return dict(self.train_to(architecture, 9).metrics)

    def train_to(self, architecture, epochs, state=None):
        q = architecture.choices["q"]
        curve = tuple({"accuracy": q * (1 - 0.5**e)} for e in range(1, epochs + 1))
        return rlnas.Progress(curve[-1], curve, b"")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scheduled") / "runs.db"
    rlnas.search(
        SPACE,
        Known(),
        "random",
        budget=6,
        store=path,
        name="asha",
        scheduler=rlnas.make_scheduler("asha", 9),
    )
    return path


def test_the_report_draws_the_learning_curves_with_pruned_ones_ending_at_their_rung(store):
    (run,) = load_runs(store)
    pruned = [t for t in run.trials if t.status == "pruned"]
    assert pruned and all(len(t.curve) < 9 for t in pruned)
    figure = learning_curves(run)
    assert len(figure.data) == 6
    assert sorted(len(line.x) for line in figure.data) == sorted(len(t.curve) for t in run.trials)
    html = render_report([run])
    assert "Learning curves and rungs: asha" in html
    assert f"{len(pruned)} of 6 candidates stopped early" in html
    assert all(t.status != "pruned" for t in run.best(10))  # estimates never rank as the best


def test_trajectories_export_the_rung_and_epochs_of_each_trial(store, tmp_path):
    output = tmp_path / "steps.csv"
    assert export_trajectories(store, output) == 6  # one decision per trial
    with output.open() as handle:
        rows = list(csv.DictReader(handle))
    assert {row["status"] for row in rows} == {"complete", "pruned"}
    for row in rows:
        assert int(row["epochs"]) == (1, 3, 9)[int(row["rung"])]
        if row["status"] == "complete":
            assert row["epochs"] == "9"
