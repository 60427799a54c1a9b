"""One definition of a search: the same settings as flags, in TOML or in Python, one search."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer.main

import rlnas
from rlnas import cli
from rlnas.config import SearchConfig

SEARCHES = {
    "benchmark": {
        "benchmark": "nbg:cora",
        "strategy": "ppo",
        "strategy_option": {"learning_rate": 0.02, "batch_size": 3},
        "budget": 12,
        "seed": 4,
        "direction": "maximize",
    },
    "task": {
        "task": "digits",
        "space": "chain-cnn",
        "epochs": 1,
        "data_fraction": 0.2,
        "constraint": ["params<=20000"],
        "strategy": "q-learning",
        "mode": "progressive",
        "step_cost": 0.01,
        "budget": 4,
        "seed": 2,
    },
}


def flags(settings: dict) -> list[str]:
    """The command-line spelling of ``settings``."""
    argv = []
    for name, value in settings.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, dict):
            for key, item in value.items():
                argv += [flag, f"{key}={item}"]
        elif isinstance(value, list):
            for item in value:
                argv += [flag, str(item)]
        else:
            argv += [flag, str(value)]
    return argv


def toml(settings: dict) -> str:
    """The TOML spelling of ``settings``, keys written like the options (with dashes)."""
    lines, tables = [], []
    for name, value in settings.items():
        key = name.replace("_", "-")
        if isinstance(value, dict):
            tables += [f"[{key}]", *(f"{k} = {v!r}" for k, v in value.items())]
        elif isinstance(value, str):
            lines.append(f'{key} = "{value}"')
        elif isinstance(value, list):
            lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join([*lines, *tables]) + "\n"


def stored(store: Path) -> list[tuple]:
    with rlnas.Store(store) as opened:
        experiment = opened.experiment("same")
        trials = opened.trials(experiment)
        settings = experiment.config["settings"]
    clocks = {"estimator_s", "train_time_s", "latency_ms"}
    return [settings] + [
        (t.key, {k: v for k, v in t.metrics.items() if k not in clocks}, t.reward, t.status)
        for t in trials
    ]


def command_line(argv: list[str], monkeypatch) -> None:
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 0


@pytest.mark.parametrize("kind", SEARCHES)
def test_flags_toml_and_python_run_the_same_search(kind: str, tmp_path, monkeypatch) -> None:
    settings = SEARCHES[kind]
    by_flags, by_toml, by_python = (tmp_path / f"{way}.db" for way in ("flags", "toml", "python"))
    command_line(
        ["search", *flags(settings), "--store", str(by_flags), "--name", "same"], monkeypatch
    )
    config = tmp_path / "search.toml"
    config.write_text(toml(settings))
    command_line(
        ["search", "--config", str(config), "--store", str(by_toml), "--name", "same"], monkeypatch
    )
    rlnas.run(rlnas.SearchConfig(**settings, store=by_python, name="same"))
    assert stored(by_flags) == stored(by_toml) == stored(by_python)
    trials = stored(by_python)[1:]
    # the budget counts trained architectures; those a hard limit rejected first are extra
    assert sum(status != "rejected" for *_, status in trials) == settings["budget"]


def test_every_setting_is_an_option_of_rlnas_search() -> None:
    command = typer.main.get_command(cli.app).commands["search"]
    options = {option for parameter in command.params for option in parameter.opts}
    for name, field in SearchConfig.model_fields.items():
        flag = "--" + name.replace("_", "-")
        assert flag in options, f"setting {name} has no option {flag}"
        assert field.description, f"setting {name} has no help"


def test_options_show_the_settings_defaults_in_help() -> None:
    command = typer.main.get_command(cli.app).commands["search"]
    by_name = {parameter.name: parameter for parameter in command.params}
    assert by_name["budget"].show_default == "200"
    assert by_name["epochs"].show_default == "10"


def test_a_toml_key_that_is_no_setting_names_it(tmp_path) -> None:
    config = tmp_path / "search.toml"
    config.write_text("budget = 3\nlearning-rate = 0.1\n")
    with pytest.raises(rlnas.UserError, match="'learning_rate': there is no such setting"):
        SearchConfig.from_toml(config)


def test_strategy_option_values_are_toml_literals() -> None:
    assert cli.given({"strategy_option": ["lr=0.01", "shaping=rank", "flag=true", "n=3"]}) == {
        "strategy_option": {"lr": 0.01, "shaping": "rank", "flag": True, "n": 3}
    }
    with pytest.raises(rlnas.UserError, match="KEY=VALUE"):
        cli.given({"strategy_option": ["lr"]})


@pytest.mark.parametrize("device", ["cuda:3", "mps"])
def test_a_device_that_is_not_there_is_one_line_before_anything_is_stored(
    device: str, tmp_path, monkeypatch, capsys
) -> None:
    store = tmp_path / "runs.db"
    monkeypatch.setattr(sys, "argv", ["rlnas", "search", "--task", "wine", "--device", device])
    monkeypatch.setattr(sys, "argv", [*sys.argv, "--store", str(store)])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.startswith("error: device") and err.count("\n") == 1 and "not available" in err
    assert not store.exists()
