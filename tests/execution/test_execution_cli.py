"""The command line's execution options (workers, executors, timeouts, resume) and their errors."""

from __future__ import annotations

import sys

import pytest
from evaluators import score, toy_space

import rlnas
from rlnas import cli


def run(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    return exit_.value.code or 0, out, err


SEARCH = ["search", "--benchmark", "nbg:cora", "--strategy", "reinforce", "--budget", "12"]


def test_two_worker_processes_from_the_command_line(tmp_path, monkeypatch, capsys) -> None:
    store = str(tmp_path / "runs.db")
    code, out, err = run([*SEARCH, "--workers", "2", "--store", store], monkeypatch, capsys)
    assert code == 0, err
    assert "best of 12 trials" in out
    with rlnas.Store(store) as opened:
        experiment = opened.experiment()
        assert len(opened.trials(experiment)) == 12
        assert experiment.config["settings"]["workers"] == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--executor", "cluster"], "invalid setting 'executor'"),
        (["--executor", "serial", "--trial-timeout", "5"], "cannot time a trial out"),
        (["--address", "auto"], "applies to the ray executor only"),
        (["--workers", "0"], "invalid setting 'workers'"),
        (["--trial-timeout", "0"], "invalid setting 'trial_timeout'"),
    ],
)
def test_bad_execution_settings_are_one_line_errors(
    extra: list[str], message: str, tmp_path, monkeypatch, capsys
) -> None:
    store = tmp_path / "runs.db"
    code, _, err = run([*SEARCH, *extra, "--store", str(store)], monkeypatch, capsys)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not store.exists()


def test_resume_refuses_what_it_cannot_resume(tmp_path, monkeypatch, capsys) -> None:
    store = tmp_path / "runs.db"
    code, _, err = run(["resume", "--store", str(store)], monkeypatch, capsys)
    assert (code, err) == (2, f"error: store {store} does not exist\n")
    rlnas.search(toy_space(), score, "random", budget=3, store=store, name="python")
    code, _, err = run(["resume", "--store", str(store)], monkeypatch, capsys)
    assert code == 2 and "was not started by `rlnas search`" in err


def test_resuming_a_finished_search_changes_nothing(tmp_path, monkeypatch, capsys) -> None:
    store = str(tmp_path / "runs.db")
    assert run([*SEARCH, "--store", store, "--name", "done"], monkeypatch, capsys)[0] == 0
    with rlnas.Store(store) as opened:
        before = opened.trials(opened.experiment("done"))
    code, out, err = run(["resume", "--store", store], monkeypatch, capsys)
    assert code == 0, err
    assert "best of 12 trials" in out
    with rlnas.Store(store) as opened:
        assert opened.trials(opened.experiment("done")) == before
