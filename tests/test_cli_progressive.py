"""``rlnas search --mode progressive``: the strategy grows networks; the budget counts each step."""

from __future__ import annotations

import sys

import pytest

import rlnas
from rlnas import cli

SEARCH = ["rlnas", "search", "--benchmark", "nbg:cora", "--budget", "20", "--mode", "progressive"]


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    return exit_.value.code or 0


def test_search_in_progressive_mode_stores_grown_networks(tmp_path, monkeypatch) -> None:
    store = tmp_path / "runs.db"
    argv = [*SEARCH, "--strategy", "q-learning", "--store", str(store), "--name", "grow"]
    assert run(argv, monkeypatch) == 0
    with rlnas.Store(store) as opened:
        trials = opened.trials(opened.experiment("grow"))
    assert len(trials) == 20
    # a network still growing has nodes that only pass their input on
    assert any(trial.architecture["op3"] == "skip" for trial in trials)


def test_a_strategy_without_progressive_mode_is_refused_in_one_line(
    tmp_path, monkeypatch, capsys
) -> None:
    argv = [*SEARCH, "--strategy", "random", "--store", str(tmp_path / "runs.db")]
    assert run(argv, monkeypatch) == 2
    assert "has no progressive mode" in capsys.readouterr().err
