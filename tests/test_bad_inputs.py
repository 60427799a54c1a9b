"""Bad input on the command line: one ``error:`` line, exit status 2, no traceback, and the store
byte for byte as it was; read commands never write, not even into an empty file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rlnas import cli
from rlnas.store import Store


def run(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    code = exit_.value.code
    return (0 if code is None else code), out, err


@pytest.fixture
def kept(tmp_path: Path, monkeypatch, capsys) -> Path:
    """A store holding one small benchmark experiment, 'kept'; the test runs in its folder."""
    monkeypatch.chdir(tmp_path)
    argv = ["search", "--benchmark", "nbg:cora", "--budget", "5", "--store", "runs.db"]
    code, _, err = run([*argv, "--name", "kept"], monkeypatch, capsys)
    assert code == 0, err
    Path("folder").mkdir()
    Path("file.txt").write_text("a file, not a folder\n")
    Path("empty.db").touch()
    np.save("arrays.npz", np.zeros((20, 3)))  # numpy names it arrays.npz.npy
    Path("arrays.npz.npy").rename("arrays.npz")
    rng = np.random.default_rng(0)
    np.savez("images.npz", X=rng.normal(size=(30, 8, 8)), y=np.arange(30) % 3)
    Path("iris.csv").write_text(
        "a,b,label\n" + "".join(f"{i % 7},{i % 3},{i % 2}.0\n" for i in range(40))
    )
    return tmp_path / "runs.db"


TASK = ["search", "--task", "csv:iris.csv", "--epochs", "1", "--budget", "2"]

CASES = {
    # typer's own parsing, in the same one-line form
    "budget-not-a-number": (["search", "--budget", "abc"], "budget"),
    "budget-not-whole": (["search", "--budget", "2.5"], "budget"),
    "misspelt-option": (["search", "--budgt", "3"], "--budgt"),
    "misspelt-command": (["serch"], "serch"),
    "compare-zero-seeds": (["compare", "--seeds", "0", "--out", "cmp"], "seeds"),
    "train-final-zero-epochs": (["train-final", "--epochs", "0", "--out", "final"], "epochs"),
    "show-negative-top": (["show", "--top", "-1"], "top"),
    "show-zero-top": (["show", "--top", "0"], "top"),
    # settings
    "zero-epochs": (["search", "--epochs", "0"], "epochs"),
    "zero-workers": (["search", "--workers", "0"], "workers"),
    "unknown-kind": ([*TASK, "--kind", "ordinal"], "kind"),
    "kind-without-task": (["search", "--kind", "binary"], "task search only"),
    "unknown-strategy": (["search", "--strategy", "hill-climbing"], "unknown strategy"),
    "unknown-strategy-option": (
        ["search", "--strategy", "ppo", "--strategy-option", "lr=0.1"],
        "its options are",
    ),
    "unknown-benchmark": (["search", "--benchmark", "nbg:imagenet"], "unknown benchmark"),
    "bad-budget": (["search", "--budget", "0"], "budget"),
    "duplicate-name": (["search", "--budget", "3", "--name", "kept"], "already exists"),
    "unknown-metric-benchmark": (["search", "--metric", "accuracy"], "validation"),
    "unknown-metric-task": ([*TASK, "--metric", "acc"], "it reports"),
    "unknown-constraint-cost": ([*TASK, "--constraint", "memory<=3"], "constraint"),
    "infeasible-constraint": ([*TASK, "--constraint", "params<=3"], "no architecture"),
    "unknown-space": ([*TASK, "--space", "mlp2"], "unknown search space"),
    "unimportable-space": ([*TASK, "--space", "nosuch.models:Family"], "cannot import"),
    "space-not-a-family": ([*TASK, "--space", "json:dumps"], "model family"),
    "evaluator-without-metric": (
        ["search", "--evaluator", "json:dumps", "--space", "json:dumps"],
        "needs metric",
    ),
    "evaluator-not-importable": (
        ["search", "--evaluator", "nosuch:f", "--space", "x:y", "--metric", "m"],
        "search space",
    ),
    # files
    "config-is-a-folder": (["search", "--config", "folder"], "is a directory"),
    "missing-config": (["search", "--config", "none.toml"], "does not exist"),
    "npy-named-npz": (["search", "--task", "npz:arrays.npz"], "not an NPZ archive"),
    "missing-csv": (["search", "--task", "csv:none.csv"], "does not exist"),
    "compare-out-is-a-file": (["compare", "--out", "file.txt", "--seeds", "1"], "is a file"),
    "train-final-out-is-a-file": (
        ["train-final", "--epochs", "1", "--out", "file.txt"],
        "is a file",
    ),
    "train-final-benchmark": (["train-final", "--epochs", "1", "--out", "final"], "--task"),
    # stores
    "missing-store": (["show", "--store", "missing.db"], "does not exist"),
    "unknown-experiment": (["show", "--name", "other"], "no experiment 'other'"),
    "store-is-a-folder": (["search", "--store", "folder"], "is a directory"),
    "resume-unknown-experiment": (["resume", "--name", "other"], "no experiment 'other'"),
    "resume-fixed-setting": (["resume", "--epochs", "3"], "--epochs"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_is_one_line_exit_2_and_leaves_the_store(case, kept, monkeypatch, capsys):
    argv, message = CASES[case]
    before = kept.read_bytes()
    if "--store" not in argv and argv[0] not in ("serch", "compare"):
        argv = [*argv, "--store", "runs.db"]
    code, out, err = run(argv, monkeypatch, capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error:")
    assert message in lines[0]
    assert "Traceback" not in out + err
    assert kept.read_bytes() == before
    with Store(kept, read_only=True) as store:
        assert [e.name for e in store.experiments()] == ["kept"]


@pytest.mark.parametrize(
    "argv",
    [
        ["show", "--store", "empty.db"],
        ["experiments", "--store", "empty.db"],
        ["train-final", "--store", "empty.db", "--epochs", "1", "--out", "final"],
        ["report", "--store", "empty.db", "-o", "report.html"],
        ["resume", "--store", "empty.db"],
    ],
    ids=["show", "experiments", "train-final", "report", "resume"],
)
def test_read_commands_leave_an_empty_file_empty(argv, kept, monkeypatch, capsys) -> None:
    code, _, err = run(argv, monkeypatch, capsys)
    assert code == 2
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert "no experiments" in err
    assert Path("empty.db").stat().st_size == 0
    assert sorted(p.name for p in Path().glob("empty.db*")) == ["empty.db"]


def test_reading_a_store_changes_no_byte(kept, monkeypatch, capsys) -> None:
    before = kept.read_bytes()
    for argv in (["show"], ["show", "--json"], ["experiments"], ["experiments", "--json"]):
        code, _, err = run([*argv, "--store", "runs.db"], monkeypatch, capsys)
        assert code == 0, err
    assert kept.read_bytes() == before
    assert sorted(p.name for p in Path().glob("runs.db*")) == ["runs.db"]


def test_a_read_only_store_is_named_as_such(kept, monkeypatch, capsys) -> None:
    """As root, chmod does not stop writes: a read-only SQLite connection stands in for it."""
    before = kept.read_bytes()
    connect = sqlite3.connect

    def read_only(path, *args, **keywords):
        uri = f"{Path(path).resolve().as_uri()}?mode=ro"
        return connect(uri, *args, **{**keywords, "uri": True})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", read_only)
        code, out, err = run(["search", "--budget", "2", "--store", "runs.db"], patch, capsys)
    assert code == 2
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1, err
    assert "read-only" in err and "rlnas resume" in err
    assert "Traceback" not in out + err
    assert kept.read_bytes() == before
    code, out, err = run(["show", "--store", "runs.db"], monkeypatch, capsys)
    assert code == 0, err


class _FullDisk:
    """A connection on which storing a trial fails as on a full disk."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, *args):
        if sql.startswith("INSERT INTO trials"):
            raise sqlite3.OperationalError("database or disk is full")
        return self.connection.execute(sql, *args)

    def __getattr__(self, name: str):
        return getattr(self.connection, name)


def test_a_full_disk_stops_the_search_resumably(kept, monkeypatch, capsys) -> None:
    connect = sqlite3.connect
    argv = ["search", "--benchmark", "nbg:cora", "--budget", "4", "--store", "runs.db"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sqlite3, "connect", lambda *a, **k: _FullDisk(connect(*a, **k)))
        code, out, err = run([*argv, "--name", "full"], patch, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith("error:") and "disk is full" in lines[-1], err
    assert "rlnas resume --store runs.db" in lines[-1]
    assert "Traceback" not in out + err
    with Store(kept, read_only=True) as store:
        experiment = store.experiment("full")
        assert experiment.status == "interrupted"
        assert store.trials(experiment) == []
    code, out, err = run(["resume", "--store", "runs.db", "--name", "full"], monkeypatch, capsys)
    assert code == 0, err
    with Store(kept, read_only=True) as store:
        assert len(store.trials(store.experiment("full"))) == 4


@pytest.mark.parametrize("name", ["[/x]", "[red]x[/red]"])
def test_user_strings_are_printed_literally(name, kept, monkeypatch, capsys) -> None:
    argv = ["search", "--benchmark", "nbg:cora", "--budget", "2", "--store", "runs.db"]
    code, out, err = run([*argv, "--name", name], monkeypatch, capsys)
    assert code == 0, err
    assert f"experiment {name}" in out + err
    for command in (["show", "--name", name], ["experiments"]):
        code, out, err = run([*command, "--store", "runs.db"], monkeypatch, capsys)
        assert code == 0, err
        assert name in out


def test_the_task_is_stated_when_the_search_starts(kept, monkeypatch, capsys) -> None:
    code, _, err = run([*TASK, "--kind", "binary", "--store", "runs.db"], monkeypatch, capsys)
    assert code == 0, err
    stated = next(line for line in err.splitlines() if line.startswith("task "))
    assert f"csv:{Path('iris.csv').absolute()}" in stated
    for part in ("target 'label'", "binary", "metric roc_auc", "input (2,)", "24/8/8"):
        assert part in stated
    with Store(kept, read_only=True) as store:
        settings = store.experiment().config["settings"]
    assert settings["task"] == f"csv:{Path('iris.csv').absolute()}"
    assert settings["kind"] == "binary"


def test_an_npz_of_two_dimensional_rows_is_one_channel_images(kept) -> None:
    from rlnas.tasks import load_task

    task = load_task("npz:images.npz")
    assert task.input_shape == (1, 8, 8)


def test_ctrl_c_says_how_to_resume(kept, monkeypatch, capsys) -> None:
    argv = ["search", "--evaluator", "misuse_evaluators:interrupts", "--metric", "score"]
    argv += ["--space", "rlnas_examples.scoring:SPACE", "--store", "runs.db", "--name", "cut"]
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "examples"))
    code, out, err = run(argv, monkeypatch, capsys)
    assert code == 130
    assert err.strip().splitlines()[-1].startswith("error: interrupted")
    assert "rlnas resume --store runs.db --name cut" in err
    assert "Traceback" not in out + err
    with Store(kept, read_only=True) as store:
        assert store.experiment("cut").status == "interrupted"


# --- issue 22, item 5: data files, import paths, the store and the report ---------------------

USER_CODE = {
    "raises_at_import": "raise RuntimeError('no GPU here')\n",
    "syntax_error": "def broken(:\n",
    "families": """
import torch
from rlnas import Choice, SearchSpace


class RaisesInInit:
    def __init__(self):
        raise ValueError("bad default")


class SpaceRaises:
    def space(self, input_shape):
        raise KeyError("width")

    def build(self, architecture, input_shape, n_outputs):
        raise AssertionError("never built")


class WrongOutputs:
    def space(self, input_shape):
        return SearchSpace([Choice("width", [4, 8])])

    def build(self, architecture, input_shape, n_outputs):
        return torch.nn.Linear(input_shape[0], n_outputs + 1)


class Evaluator:
    def __init__(self):
        raise OSError("no licence")


def space_raises():
    raise RuntimeError("space unavailable")


SPACE = SearchSpace([Choice("x", ["a", "b", "c"])], name="toy")
""",
}

_OWN = ["--space", "rlnas_examples.scoring:SPACE", "--metric", "score"]
_OWN_EVALUATOR = ["search", "--evaluator", "rlnas_examples.scoring:evaluate", "--metric", "score"]

IMPORT_CASES = {
    "space-module-raises": ([*TASK, "--space", "raises_at_import:Family"], "RuntimeError"),
    "space-syntax-error": ([*TASK, "--space", "syntax_error:Family"], "SyntaxError"),
    "space-class-raises-in-init": ([*TASK, "--space", "families:RaisesInInit"], "bad default"),
    "space-method-raises": ([*TASK, "--space", "families:SpaceRaises"], "KeyError"),
    "space-colon": ([*TASK, "--space", ":"], "not an import path"),
    "space-wrong-outputs": ([*TASK, "--space", "families:WrongOutputs"], "not (2, 1)"),
    "evaluator-module-raises": (
        ["search", "--evaluator", "raises_at_import:f", *_OWN],
        "RuntimeError: no GPU here",
    ),
    "evaluator-syntax-error": (["search", "--evaluator", "syntax_error:f", *_OWN], "SyntaxError"),
    "evaluator-class-raises-in-init": (
        ["search", "--evaluator", "families:Evaluator", *_OWN],
        "OSError: no licence",
    ),
    "evaluator-colon": (["search", "--evaluator", ":", *_OWN], "not an import path"),
    "evaluator-space-function-raises": (
        [*_OWN_EVALUATOR, "--space", "families:space_raises"],
        "space unavailable",
    ),
    "evaluator-space-colon": ([*_OWN_EVALUATOR, "--space", ":"], "not an import path"),
}


@pytest.mark.parametrize("case", IMPORT_CASES, ids=list(IMPORT_CASES))
def test_user_code_that_fails_is_one_line_naming_the_path(case, kept, monkeypatch, capsys):
    argv, message = IMPORT_CASES[case]
    for module, text in USER_CODE.items():
        Path(f"{module}.py").write_text(text)
    monkeypatch.syspath_prepend(str(kept.parent))
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "examples"))
    line = _refused(argv, message, kept, monkeypatch, capsys)
    flag = "--evaluator" if case.startswith("evaluator") and "space" not in case else "--space"
    assert argv[argv.index(flag) + 1] in line  # the message names the path


def _refused(argv, message, kept, monkeypatch, capsys, readable: bool = True) -> str:
    """Run ``argv`` against the kept store: one error line holding ``message``, exit 2, no
    traceback, the store unchanged; the error line."""
    before = kept.read_bytes()
    if "--store" not in argv:
        argv = [*argv, "--store", "runs.db"]
    code, out, err = run(argv, monkeypatch, capsys)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert message in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert kept.read_bytes() == before
    if readable:
        with Store(kept, read_only=True) as store:
            assert [e.name for e in store.experiments()] == ["kept"]
    return lines[0]


def _images(folder: Path, size: int = 8) -> Path:
    """Two classes of six small gray PNGs."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("cats", "dogs"):
        (folder / label).mkdir(parents=True)
        for i in range(6):
            pixels = (rng.random((size, size)) * 255).astype("uint8")
            Image.fromarray(pixels).save(folder / label / f"{i}.png")
    return folder


def _truncated(folder: Path) -> str:
    png = _images(folder) / "cats" / "0.png"
    png.write_bytes(png.read_bytes()[:-40])  # the end of its pixel data is gone
    return f"folder:{folder}"


def _npy(folder: Path, X: np.ndarray | None, y: np.ndarray) -> str:
    folder.mkdir()
    if X is None:  # an .npz archive saved under the name X.npy
        np.savez(folder / "X.npz", X=np.zeros((30, 3)), y=y)
        (folder / "X.npz").rename(folder / "X.npy")
    else:
        np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y)
    return f"npy:{folder}"


_CLASSES = np.arange(30) % 3
DATA_CASES = {
    "truncated-png": (_truncated, "cannot be read"),
    "decompression-bomb": (lambda f: f"folder:{_images(f, size=40)}", "too large to decode"),
    "resize-20000": (lambda f: f"folder:{_images(f)}@20000x20000", "3,052 MiB each"),
    "resize-100000": (lambda f: f"folder:{_images(f)}@100000x100000", "76,294 MiB each"),
    "npy-x-is-npz": (lambda f: _npy(f, None, _CLASSES), "NPZ archive"),
    "zero-features": (lambda f: _npy(f, np.zeros((30, 0)), _CLASSES), "no features"),
    "values-near-1e300": (
        lambda f: _npy(f, np.arange(90.0).reshape(30, 3) * 1e299, _CLASSES),
        "too large to standardize",
    ),
    "datetime-target": (
        lambda f: _npy(f, np.ones((30, 2)), np.arange(30).astype("datetime64[D]")),
        "dates",
    ),
}


@pytest.mark.parametrize("case", DATA_CASES, ids=list(DATA_CASES))
def test_bad_data_files_are_one_line(case, kept, monkeypatch, capsys) -> None:
    """Each refused before anything is allocated or stored (the 100000x100000 images would need
    76 GiB each; a data set of 1e300s would standardize to all zeros)."""
    from PIL import Image

    make, message = DATA_CASES[case]
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 40 * 40 // 3)  # the bomb: 40x40 > twice it
    task = make(kept.parent / "data")
    argv = ["search", "--task", task, "--epochs", "1", "--budget", "2", "--space", "mlp"]
    if task.startswith("folder:"):
        argv = argv[:-2]
    _refused(argv, message, kept, monkeypatch, capsys)


def test_a_report_into_a_folder_is_one_line(kept, monkeypatch, capsys) -> None:
    line = _refused(["report", "-o", "folder"], "is a folder", kept, monkeypatch, capsys)
    assert "-o folder" in line


@pytest.mark.parametrize("column", ["metrics", "architecture", "config"])
@pytest.mark.parametrize("command", ["show", "resume"])
def test_a_damaged_store_names_what_is_damaged(column, command, kept, monkeypatch, capsys):
    with sqlite3.connect(kept) as db:
        if column == "config":
            db.execute("UPDATE experiments SET config = '{\"budget\": 5,'")
        else:
            db.execute(f"UPDATE trials SET {column} = '[broken' WHERE number = 3")
    db.close()
    readable = column != "config"
    line = _refused([command], "is damaged", kept, monkeypatch, capsys, readable)
    assert str(kept.name) in line and "experiment 'kept'" in line
    if column != "config":
        assert "trial 3" in line and column in line


def test_telling_an_architecture_of_another_space_names_the_argument() -> None:
    from rlnas import Choice, SearchSpace, Trial
    from rlnas.strategies import make_strategy
    from rlnas.strategies.base import StrategyMisuse

    ours = SearchSpace([Choice("x", ["a", "b"])], name="ours")
    theirs = SearchSpace([Choice("y", ["a", "b"])], name="theirs")
    strategy = make_strategy("random", ours, seed=0)
    other = theirs.architecture({"y": "a"})
    with pytest.raises(StrategyMisuse, match=r"tell\(architecture, trial\).*'ours'"):
        strategy.tell(other, Trial(0, other, {"score": 1.0}, 1.0))


DYING = """
import os
import time

from rlnas import Choice, SearchSpace

SPACE = SearchSpace([Choice("x", ["a", "b"])], name="dying")


def dies_on_a(architecture):
    if architecture.choices["x"] == "a":
        os._exit(1)  # no exception, no cleanup: as a crash in native code
    return {"score": 1.0}


def slow(architecture):
    time.sleep(1.0)
    return {"score": 1.0 if architecture.choices["x"] == "b" else 0.5}
"""


def _rlnas(argv: list[str], folder: Path) -> subprocess.Popen:
    """``rlnas argv`` in its own process, run in ``folder`` (which holds dying.py)."""
    source = Path(__file__).resolve().parent.parent / "src"
    environment = {**os.environ, "PYTHONPATH": f"{source}{os.pathsep}{folder}"}
    command = [sys.executable, "-c", "from rlnas.cli import main; main()", *argv]
    return subprocess.Popen(command, cwd=folder, env=environment, stderr=subprocess.PIPE)


_DYING = ["--space", "dying:SPACE", "--metric", "score", "--store", "runs.db"]


def test_a_candidate_that_kills_the_search_twice_is_a_failed_trial(kept, monkeypatch, capsys):
    Path("dying.py").write_text(DYING)
    search = ["search", "--evaluator", "dying:dies_on_a", *_DYING, "--budget", "2"]
    for argv in ([*search, "--name", "dies"], ["resume", "--store", "runs.db", "--name", "dies"]):
        process = _rlnas(argv, kept.parent)
        assert process.wait(timeout=120) == 1, process.stderr.read().decode()
    monkeypatch.syspath_prepend(str(kept.parent))
    code, _, err = run(["resume", "--store", "runs.db", "--name", "dies"], monkeypatch, capsys)
    assert code == 0, err
    with Store(kept, read_only=True) as store:
        trials = {t.architecture["x"]: t for t in store.trials(store.experiment("dies"))}
        assert store.experiment("dies").status == "complete"
    assert trials["a"].status == "failed"
    assert "the search process died while evaluating it (2 times)" in trials["a"].error
    assert trials["b"].status == "complete"


def test_a_second_run_of_a_running_experiment_is_one_line(kept, monkeypatch, capsys) -> None:
    Path("dying.py").write_text(DYING)
    argv = ["search", "--evaluator", "dying:slow", *_DYING, "--budget", "3", "--name", "busy"]
    first = _rlnas(argv, kept.parent)
    try:
        for _ in range(600):  # until the first has created the experiment
            with Store(kept, read_only=True) as store:
                if "busy" in {e.name for e in store.experiments()}:
                    break
            time.sleep(0.1)
        monkeypatch.syspath_prepend(str(kept.parent))
        again = ["resume", "--store", "runs.db", "--name", "busy"]
        code, out, err = run(again, monkeypatch, capsys)
        assert first.poll() is None, "the first run ended before the second started"
        assert code == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), err
        assert "'busy'" in lines[0] and "already running" in lines[0]
        assert "Traceback" not in out + err
        assert first.wait(timeout=120) == 0, first.stderr.read().decode()
    finally:
        first.kill()
    with Store(kept, read_only=True) as store:
        experiment = store.experiment("busy")
        assert experiment.status == "complete"
        assert len(store.trials(experiment)) == 2  # both architectures, none lost or doubled
