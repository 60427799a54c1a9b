"""``rlnas search --task``: trains, stores what train-final needs, fails in one line."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from rlnas.cli import app
from rlnas.errors import UnknownName, UserError
from rlnas.store import Store


def test_task_search_stores_its_settings(tmp_path) -> None:
    store = tmp_path / "runs.db"
    args = ["search", "--task", "digits", "--space", "chain-cnn", "--strategy", "evolution"]
    args += ["--budget", "3", "--epochs", "1", "--data-fraction", "0.2", "--store", str(store)]
    args += ["--constraint", "params<=20000", "--name", "cnn"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    with Store(store) as opened:
        experiment = opened.experiment("cnn")
        trials = opened.trials(experiment)
    config = experiment.config
    assert (config["task"], config["space"], config["epochs"]) == ("digits", "chain-cnn", 1)
    assert config["data_fraction"] == 0.2 and config["constraints"] == ["params<=20000"]
    assert (config["metric"], config["direction"]) == ("accuracy", "maximize")
    # the budget counts trained architectures; those the params limit rejected first are extra
    assert sum(trial.status != "rejected" for trial in trials) == 3
    rejected = [trial for trial in trials if trial.status == "rejected"]
    assert all("params<=20000" in trial.error for trial in rejected)


def test_regression_task_minimizes_mse_with_the_default_space(tmp_path) -> None:
    args = ["search", "--task", "diabetes", "--budget", "2", "--epochs", "1"]
    result = CliRunner().invoke(app, [*args, "--store", str(tmp_path / "r.db"), "--name", "d"])
    assert result.exit_code == 0, result.output
    with Store(tmp_path / "r.db") as opened:
        config = opened.experiment("d").config
    assert (config["space"], config["metric"], config["direction"]) == ("mlp", "mse", "minimize")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--task", "digits", "--benchmark", "nbg:cora"], UserError),
        (["--task", "cifar"], UnknownName),
        (["--task", "digits", "--space", "resnet"], UnknownName),
        (["--task", "digits", "--constraint", "params<20"], UserError),
        (["--benchmark", "nbg:cora", "--space", "mlp"], UserError),
    ],
)
def test_bad_task_options_are_user_errors(tmp_path, args, error) -> None:
    result = CliRunner().invoke(app, ["search", *args, "--store", str(tmp_path / "x.db")])
    assert isinstance(result.exception, error)
    assert not (tmp_path / "x.db").exists()


def test_exclusive_options_print_one_line_and_exit_2() -> None:
    code = "from rlnas.cli import main; main()"
    args = ["search", "--task", "digits", "--benchmark", "nbg:cora"]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "exclusive" in done.stderr


def test_the_readme_main_command_runs_at_a_tiny_budget(tmp_path, monkeypatch) -> None:
    """The README's main job, its rlnas commands as written but with budget and epochs cut."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    main_job = next(line for line in readme.splitlines() if line.startswith("python3 -m venv"))
    commands = [shlex.split(part)[1:] for part in main_job.split(" && ") if "rlnas " in part]
    assert [command[0] for command in commands] == ["search", "train-final"]
    tiny = {"--budget": "2", "--epochs": "1"}
    monkeypatch.chdir(tmp_path)
    for command in commands:
        command = [tiny.get(before, value) for before, value in zip(["", *command], command)]
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output
    with Store(tmp_path / "runs.db") as opened:
        assert opened.experiment().config["task"] == "digits"
    report = json.loads((tmp_path / "final" / "metrics.json").read_text())
    assert report["input"]["shape"] == ["batch", 1, 8, 8]

    # The exported model reads raw pixels (0-16), not the search's standardized features.
    from sklearn.datasets import load_digits

    from rlnas.tasks import load_task

    task = load_task("digits")
    pixels = torch.as_tensor(load_digits().data, dtype=torch.float32).reshape(-1, 1, 8, 8)
    namespace: dict = {}
    exec((tmp_path / "final" / "model.py").read_text(), namespace)
    model = namespace["load"](tmp_path / "final" / "model.safetensors")
    with torch.no_grad():
        predictions = model(pixels[task.indices["test"]]).argmax(dim=-1)
    accuracy = float((predictions == task.y_test).float().mean())
    assert accuracy == pytest.approx(report["test"]["accuracy"])
