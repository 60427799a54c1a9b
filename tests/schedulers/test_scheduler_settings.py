"""Scheduler settings: the rungs they give, and one-line errors before anything is stored."""

from __future__ import annotations

import sys

import pytest

import rlnas
from rlnas import cli
from rlnas.schedulers import bracket_sizes, rungs


@pytest.mark.parametrize(
    ("epochs", "min_epochs", "eta", "expected"),
    [
        (9, 1, 3, (1, 3, 9)),
        (10, 1, 3, (1, 3, 9, 10)),
        (9, 2, 2, (2, 4, 8, 9)),
        (9, 1, 1.5, (1, 2, 3, 5, 8, 9)),  # rounded, each rung once
        (4, 4, 3, (4,)),
    ],
)
def test_rungs_lie_at_min_epochs_times_powers_of_eta_up_to_the_epochs(
    epochs, min_epochs, eta, expected
) -> None:
    assert rungs(epochs, min_epochs, eta) == expected
    assert rlnas.make_scheduler("asha", epochs, min_epochs, eta).rungs == expected


def test_hyperbands_brackets_follow_its_algorithm() -> None:
    assert bracket_sizes(3, 3) == [9, 5, 3]  # Li et al. (2018), R = 9, eta = 3
    assert bracket_sizes(5, 3) == [81, 34, 15, 8, 5]  # their table 1, R = 81


def run_cli(argv: list[str], monkeypatch, capsys) -> tuple[int, str, str]:
    """``rlnas ARGV`` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    return exit_.value.code, out, err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--task", "digits", "--scheduler", "asha", "--eta", "1"], "'eta': Input should be"),
        (["--task", "digits", "--scheduler", "asha", "--eta", "0.5"], "'eta': Input should be"),
        (
            ["--task", "digits", "--scheduler", "hyperband", "--epochs", "3", "--min-epochs", "4"],
            "min_epochs (4) exceeds the epochs per candidate (3)",
        ),
        (["--task", "digits", "--scheduler", "fastest"], "'scheduler': no scheduler 'fastest'"),
        (["--benchmark", "nbg:cora", "--scheduler", "asha"], "it needs a task"),
        (
            ["--task", "digits", "--scheduler", "asha", "--estimator", "supernet"],
            "not supernet",
        ),
        (["--task", "digits", "--time-budget", "0"], "'time_budget'"),
        (["--task", "digits", "--epoch-budget", "0"], "'epoch_budget'"),
    ],
)
def test_a_bad_scheduler_setting_is_one_line_exit_2_and_nothing_is_stored(
    options, message, tmp_path, monkeypatch, capsys
) -> None:
    store = tmp_path / "runs.db"
    code, _, err = run_cli(["search", *options, "--store", str(store)], monkeypatch, capsys)
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not store.exists()


def test_a_scheduled_search_from_the_command_line_shows_its_pruned_trials(
    tmp_path, monkeypatch, capsys
) -> None:
    store = str(tmp_path / "runs.db")
    search = ["search", "--task", "digits", "--space", "mlp", "--data-fraction", "0.2"]
    search += ["--epochs", "3", "--scheduler", "asha", "--budget", "6", "--strategy", "random"]
    code, _, err = run_cli([*search, "--store", store, "--name", "cut"], monkeypatch, capsys)
    assert code in (0, None), err
    _, out, _ = run_cli(["show", "--store", store], monkeypatch, capsys)
    assert "pruned" in out and "rung" in out and "(1 ep.)" in out


def test_a_time_budget_ends_a_cli_search_cleanly_and_rlnas_resume_finishes_it(
    tmp_path, monkeypatch, capsys, loop_clock
) -> None:
    store = str(tmp_path / "runs.db")
    search = ["search", "--task", "digits", "--space", "mlp", "--data-fraction", "0.2"]
    search += ["--epochs", "3", "--scheduler", "asha", "--budget", "40", "--strategy", "ppo"]
    code, _, err = run_cli(
        [*search, "--time-budget", "0.03", "--store", store, "--name", "timed"], monkeypatch, capsys
    )
    assert code in (0, None), err
    with rlnas.Store(store) as opened:
        experiment = opened.experiment("timed")
        stopped = len(opened.trials(experiment))
        assert experiment.status == "interrupted"
    assert 0 < stopped < 40
    code, _, err = run_cli(["resume", "--store", store, "--name", "timed"], monkeypatch, capsys)
    assert code in (0, None), err
    with rlnas.Store(store) as opened:
        experiment = opened.experiment("timed")
        trials = opened.trials(experiment)
        assert experiment.status == "complete"
    assert len(trials) == len({trial.key for trial in trials}) == 40


def test_a_stopped_candidates_reward_raw_shifted_or_mapped_onto_the_last_rung() -> None:
    from rlnas.schedulers import comparable_reward

    rung = [0.2, 0.4, 0.6, 0.8]  # values at the candidate's rung so far, its own 0.4 included
    pairs = [(0.6, 0.9), (0.8, 0.95)]  # (at this rung, at the last) of candidates that did both
    assert comparable_reward("raw", 0.4, rung, pairs) == 0.4
    assert comparable_reward("shift", 0.4, rung, pairs) == pytest.approx(0.4 + 0.225)
    # 0.4 lies at quantile 0.375 of its rung: the last rung's value at that quantile
    assert comparable_reward("quantile", 0.4, rung, pairs) == pytest.approx(0.9 + 0.375 * 0.05)
    for how in ("shift", "quantile"):  # nobody reached the last rung yet: the raw value
        assert comparable_reward(how, 0.4, rung, []) == 0.4
