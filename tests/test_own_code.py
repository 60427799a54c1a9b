"""The user's own code, as the docs describe it: a model family (``examples/rlnas_examples``) and
an evaluator named by import path, searched, resumed, retrained and exported; the examples'
scripts and TOML file run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import rlnas
from rlnas import cli
from rlnas.config import SearchConfig

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FAMILY = "rlnas_examples.models:TinyConvNet"


@pytest.fixture
def own_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(EXAMPLES))  # worker processes inherit the path
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    return (exit_.value.code or 0), out, err


def trials(store: Path, name: str) -> list:
    with rlnas.Store(store, read_only=True) as opened:
        return opened.trials(opened.experiment(name))


def test_a_family_by_import_path_is_searched_resumed_trained_and_exported(
    own_code: Path, monkeypatch, capsys
) -> None:
    search = ["search", "--task", "digits", "--space", FAMILY, "--strategy", "random"]
    code, _, err = run(
        [*search, "--budget", "2", "--epochs", "1", "--store", "runs.db", "--name", "mine"],
        monkeypatch,
        capsys,
    )
    assert code == 0, err
    code, _, err = run(
        ["resume", "--store", "runs.db", "--name", "mine", "--budget", "3"], monkeypatch, capsys
    )
    assert code == 0, err
    assert len(trials(own_code / "runs.db", "mine")) == 3
    with rlnas.Store(own_code / "runs.db", read_only=True) as opened:
        config = opened.experiment("mine").config
    assert config["space"] == FAMILY
    assert config["budget"] == config["settings"]["budget"] == 3  # the extension is recorded
    elsewhere = own_code / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    train = ["train-final", "--store", "../runs.db", "--epochs", "1", "--out", "final"]
    code, _, err = run(train, monkeypatch, capsys)
    assert code == 0, err
    metrics = json.loads((elsewhere / "final" / "metrics.json").read_text())
    assert metrics["space"] == FAMILY and metrics["input"]["shape"] == ["batch", 1, 8, 8]
    assert {path.name for path in (elsewhere / "final").iterdir()} >= {"model.py", "model.onnx"}


@pytest.mark.parametrize(
    "extra",
    [["--estimator", "weight-sharing"], ["--strategy", "q-learning", "--mode", "progressive"]],
    ids=["weight-sharing", "progressive"],
)
def test_a_family_works_with_shared_weights_and_grows(
    extra: list[str], own_code: Path, monkeypatch, capsys
) -> None:
    argv = ["search", "--task", "digits", "--space", FAMILY, "--budget", "3", "--epochs", "1"]
    code, _, err = run([*argv, *extra, "--store", "runs.db", "--name", "x"], monkeypatch, capsys)
    assert code == 0, err
    done = trials(own_code / "runs.db", "x")
    assert len(done) == 3 and all(trial.status == "complete" for trial in done)


def test_a_family_given_as_an_object_is_stored_by_its_import_path(own_code: Path) -> None:
    from rlnas_examples.models import TinyConvNet

    from rlnas.estimators.training import TrainingEvaluator
    from rlnas.tasks import load_task

    evaluator = TrainingEvaluator(load_task("digits"), TinyConvNet(), epochs=1)
    assert evaluator.space == FAMILY  # so it pickles for workers and resumes by name
    result = rlnas.search(evaluator.search_space(), evaluator, budget=2, metric="accuracy")
    assert len(result.trials) == 2 and result.best is not None


def test_an_evaluator_by_import_path_runs_on_two_workers_and_resumes(
    own_code: Path, monkeypatch, capsys
) -> None:
    argv = ["search", "--evaluator", "rlnas_examples.scoring:evaluate"]
    argv += ["--space", "rlnas_examples.scoring:SPACE", "--metric", "score", "--workers", "2"]
    code, _, err = run([*argv, "--budget", "6", "--store", "runs.db"], monkeypatch, capsys)
    assert code == 0, err
    code, out, err = run(["show", "--store", "runs.db", "--json"], monkeypatch, capsys)
    assert code == 0, err
    assert len(json.loads(out)) == 6
    code, _, err = run(["resume", "--store", "runs.db", "--budget", "9"], monkeypatch, capsys)
    assert code == 0, err
    code, out, _ = run(["experiments", "--store", "runs.db", "--json"], monkeypatch, capsys)
    (listed,) = json.loads(out)
    assert (listed["trials"], listed["status"]) == (9, "complete")


def test_the_example_scripts_run(own_code: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES), *sys.path])}
    for script, argument in (("own_model.py", "model"), ("own_evaluator.py", "runs.db")):
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / script), argument],
            capture_output=True,
            text=True,
            env=environment,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    assert (own_code / "model" / "final" / "model.onnx").is_file()


def test_the_example_toml_names_every_setting_and_runs(own_code: Path, monkeypatch) -> None:
    text = (EXAMPLES / "search.toml").read_text()
    for name in SearchConfig.model_fields:
        spelled = name.replace("_", "-")
        assert f"{name} =" in text or f"[{spelled}]" in text, f"search.toml lacks {name}"
    for line in text.splitlines():  # each commented-out setting is valid TOML once uncommented
        if re.match(r"#\s*[\w-]+\s*=", line):
            assert tomllib.loads(line.lstrip("# ")), line
    config = SearchConfig.from_toml(EXAMPLES / "search.toml", store=own_code / "runs.db")
    result = rlnas.run(config)
    assert len(result.trials) == config.budget == 2
