"""The report and export-trajectories commands: files written, user errors as exit status 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from report_store import EVIL

from rlnas.cli import main


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["rlnas", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    return exit_.value.code


def test_report_writes_the_named_experiments(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "two.html"
    args = ["report", "--store", str(store_path), "--name", EVIL, "--name", "ppo-synthetic"]
    assert _run(monkeypatch, *args, "-o", str(output)) == 0
    html = output.read_text()
    assert "ppo-synthetic" in html and "q-learning &amp;" not in html


def test_export_trajectories_writes_csv(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    output = tmp_path / "steps.csv"
    args = ["export-trajectories", "--store", str(store_path), "--name", "ppo-synthetic"]
    assert _run(monkeypatch, *args, "-o", str(output)) == 0
    assert output.read_text().count("\n") == 1 + 12 * 5
    assert "60 steps written" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["report", "export-trajectories"])
def test_a_missing_store_exits_2_with_one_line(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    missing = tmp_path / "missing.db"
    out = tmp_path / ("r.html" if command == "report" else "t.csv")
    assert _run(monkeypatch, command, "--store", str(missing), "-o", str(out)) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "does not exist" in error
    assert not missing.exists() and not out.exists()


@pytest.mark.parametrize("command", ["report", "export-trajectories"])
def test_an_unknown_name_exits_2_and_lists_the_known_ones(
    command: str, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / ("r.html" if command == "report" else "t.csv")
    args = [command, "--store", str(store_path), "--name", "nope", "-o", str(out)]
    assert _run(monkeypatch, *args) == 2
    error = capsys.readouterr().err
    assert "no experiment 'nope'" in error and "ppo-synthetic" in error
    assert not out.exists()


def test_a_missing_output_folder_exits_2(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "no" / "r.html"
    assert _run(monkeypatch, "report", "--store", str(store_path), "-o", str(out)) == 2
    assert "does not exist" in capsys.readouterr().err
