"""The command line: a benchmark search, reproducible output, and one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlnas import cli

RLNAS = Path(sys.executable).parent / "rlnas"
WALL_CLOCK = ("started_at", "duration_s")


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    """``rlnas ARGV`` through ``cli.main`` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    code = exit_.value.code
    return (0 if code is None else code), out, err


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tmp").mkdir()
    return tmp_path


def _search(store: str, monkeypatch, capsys, *extra: str) -> tuple[int, str, str]:
    argv = ["search", "--benchmark", "nbg:cora", "--strategy", "evolution", "--budget", "200"]
    return run([*argv, "--seed", "0", "--store", store, *extra], monkeypatch, capsys)


def _show(store: str, monkeypatch, capsys) -> list[dict]:
    code, out, err = run(["show", "--store", store, "--json"], monkeypatch, capsys)
    assert code == 0, err
    return json.loads(out)


def test_search_a_benchmark_and_show_it_best_first(in_tmp, monkeypatch, capsys) -> None:
    code, out, err = _search("tmp/runs.db", monkeypatch, capsys)
    assert code == 0, err
    assert "best of 200 trials" in out
    assert (in_tmp / "tmp" / "runs.db").is_file()
    trials = _show("tmp/runs.db", monkeypatch, capsys)
    assert len(trials) == 200
    for item in trials:
        assert {"architecture", "key", "metrics", "status"} <= set(item)
        assert set(item["architecture"]) == {"link", "op0", "op1", "op2", "op3"}
    complete = [t for t in trials if t["status"] == "complete"]
    rewards = [t["reward"] for t in complete]
    assert rewards == sorted(rewards, reverse=True)
    assert trials[0]["metrics"]["validation"] == max(t["metrics"]["validation"] for t in complete)
    assert f"{trials[0]['metrics']['validation']:.6g}" in out
    assert len({t["key"] for t in trials}) == 200


def test_the_same_seed_gives_the_same_trials(in_tmp, monkeypatch, capsys) -> None:
    for store in ("tmp/a.db", "tmp/b.db"):
        code, _, err = _search(store, monkeypatch, capsys)
        assert code == 0, err
    first, second = (_show(store, monkeypatch, capsys) for store in ("tmp/a.db", "tmp/b.db"))

    def without_clock(trials: list[dict]) -> list[dict]:
        return [{k: v for k, v in t.items() if k not in WALL_CLOCK} for t in trials]

    assert without_clock(first) == without_clock(second)
    assert first != second or all(t["duration_s"] == 0 for t in first)


def test_show_top_and_table(in_tmp, monkeypatch, capsys) -> None:
    code, _, err = _search("tmp/runs.db", monkeypatch, capsys, "--name", "mine")
    assert code == 0, err
    code, out, err = run(
        ["show", "--store", "tmp/runs.db", "--json", "--top", "3"], monkeypatch, capsys
    )
    assert code == 0, err
    assert len(json.loads(out)) == 3
    code, out, err = run(["show", "--store", "tmp/runs.db", "--name", "mine"], monkeypatch, capsys)
    assert code == 0, err
    assert "mine" in out and "link=" in out


@pytest.fixture
def existing_store(in_tmp, monkeypatch, capsys) -> Path:
    code, _, err = run(
        [
            "search",
            "--benchmark",
            "nbg:cora",
            "--budget",
            "5",
            "--store",
            "tmp/runs.db",
            "--name",
            "kept",
        ],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    return in_tmp / "tmp" / "runs.db"


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


BAD_INPUT = {
    "unknown-strategy": (["search", "--strategy", "hill-climbing"], "unknown strategy"),
    "unknown-benchmark": (["search", "--benchmark", "nbg:imagenet"], "unknown benchmark"),
    "bad-budget": (["search", "--budget", "0"], "budget"),
    "duplicate-name": (["search", "--budget", "3", "--name", "kept"], "already exists"),
    "malformed-toml": (["search", "--config", "tmp/bad.toml"], "not valid TOML"),
    "unknown-config-key": (["search", "--config", "tmp/extra.toml"], "learning_rate"),
    "missing-config": (["search", "--config", "tmp/none.toml"], "does not exist"),
    "missing-store": (["show", "--store", "tmp/missing.db"], "does not exist"),
    "unknown-experiment": (["show", "--name", "other"], "no experiment 'other'"),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_one_line_and_exit_2(case, existing_store, monkeypatch, capsys) -> None:
    _write(existing_store.parent / "bad.toml", "budget = = 3\n")
    _write(existing_store.parent / "extra.toml", "budget = 3\nlearning_rate = 0.1\n")
    argv, message = BAD_INPUT[case]
    before = existing_store.read_bytes()
    code, out, err = run(
        [*argv, "--store", "tmp/runs.db"] if "--store" not in argv else argv, monkeypatch, capsys
    )
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    assert message in lines[0]
    assert "Traceback" not in err + out
    assert existing_store.read_bytes() == before
    with cli.Store(existing_store) as store:
        assert [e.name for e in store.experiments()] == ["kept"]


@pytest.mark.parametrize(
    "argv",
    [["search", "--budget", "3", "--store", "tmp/notes.db"], ["show", "--store", "tmp/notes.db"]],
    ids=["search", "show"],
)
def test_a_store_that_is_not_sqlite_is_refused_untouched(argv, in_tmp, monkeypatch, capsys):
    notes = _write(in_tmp / "tmp" / "notes.db", "not a database\n" * 100)
    code, _, err = run(argv, monkeypatch, capsys)
    assert code == 2
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert "not an rlnas SQLite store" in err
    assert notes.read_text() == "not a database\n" * 100


def test_the_installed_script_exits_2_without_a_traceback(in_tmp) -> None:
    if not RLNAS.is_file():
        pytest.skip("the rlnas script is not installed next to this Python")
    _write(in_tmp / "tmp" / "notes.db", "not a database\n")
    done = subprocess.run(
        [str(RLNAS), "show", "--store", "tmp/notes.db"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error:")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_list_names_every_strategy(monkeypatch, capsys) -> None:
    code, out, _ = run(["list"], monkeypatch, capsys)
    assert code == 0
    for name in cli.STRATEGIES:
        assert name in out
    assert "nbg:cora" in out
