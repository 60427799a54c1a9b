"""export-trajectories: one row per decision, terminal reward and costs, CSV and parquet."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from report_store import EVIL

from rlnas.errors import UserError
from rlnas.report import export_trajectories, load_runs


def test_csv_has_one_row_per_decision_and_the_reward_on_the_last_step(
    store_path: Path, tmp_path: Path
) -> None:
    output = tmp_path / "steps.csv"
    written = export_trajectories(store_path, output, names=[EVIL])
    with output.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        columns = reader.fieldnames
    (run,) = load_runs(store_path, [EVIL])
    assert written == len(rows) == 5 * len(run.trials)
    assert columns == [
        "experiment", "trial", "step", "decision", "state", "action", "reward", "done",
        "status", "duration_s", "params", "latency",
    ]  # fmt: skip
    for trial in run.trials:
        steps = [row for row in rows if row["trial"] == str(trial.number)]
        assert [row["decision"] for row in steps] == ["link", "op0", "op1", "op2", "op3"]
        assert [row["action"] for row in steps] == [str(v) for v in trial.architecture.values()]
        assert json.loads(steps[-1]["state"]) == {
            k: v for k, v in trial.architecture.items() if k != "op3"
        }
        assert json.loads(steps[0]["state"]) == {}
        assert [row["done"] for row in steps] == ["False"] * 4 + ["True"]
        assert [float(row["reward"]) for row in steps] == [0.0] * 4 + [trial.reward]
        assert float(steps[-1]["params"]) == trial.metrics["params"]
        assert float(steps[-1]["duration_s"]) == trial.duration_s
        assert {row["experiment"] for row in steps} == {EVIL}


def test_a_failed_trial_ends_with_an_empty_reward(store_path: Path, tmp_path: Path) -> None:
    output = tmp_path / "steps.csv"
    export_trajectories(store_path, output, names=["q-learning & <b>friends</b>"])
    with output.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    failed = [row for row in rows if row["status"] == "failed"]
    assert [row["reward"] for row in failed] == ["0.0", ""]


def test_all_experiments_are_exported_when_no_name_is_given(
    store_path: Path, tmp_path: Path
) -> None:
    output = tmp_path / "all.csv"
    export_trajectories(store_path, output)
    with output.open(newline="") as handle:
        names = {row["experiment"] for row in csv.DictReader(handle)}
    assert names == {EVIL, "ppo-synthetic", "q-learning & <b>friends</b>"}


def test_parquet_holds_the_same_rows(store_path: Path, tmp_path: Path) -> None:
    parquet = pytest.importorskip("pyarrow.parquet")
    written = export_trajectories(store_path, tmp_path / "steps.parquet")
    table = parquet.read_table(tmp_path / "steps.parquet")
    assert table.num_rows == written
    assert str(table.schema.field("reward").type) == "double"
    assert table.column("done").to_pylist().count(True) == sum(
        len(run.trials) for run in load_runs(store_path)
    )


def test_parquet_without_pyarrow_is_a_user_error(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails
    with pytest.raises(UserError, match=r"pip install pyarrow, or write a \.csv"):
        export_trajectories(store_path, tmp_path / "steps.parquet")


def test_other_suffixes_are_refused(store_path: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"\.csv or \.parquet"):
        export_trajectories(store_path, tmp_path / "steps.json")
