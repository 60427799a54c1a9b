"""The entry path's bad inputs: each one ``error:`` line and exit status 2 on the command line,
a ``UserError`` naming the argument in Python, and nothing stored."""

from __future__ import annotations

import math
import socket
import sys
from pathlib import Path

import pytest

import rlnas
from rlnas import Choice, SearchSpace, UserError, cli
from rlnas.estimators.registry import ESTIMATORS, Estimator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_cli(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    out, err = capsys.readouterr()
    return (0 if exit_.value.code is None else exit_.value.code), out, err


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_error_line(code: int, out: str, err: str, message: str) -> None:
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert message in lines[0], err
    assert "Traceback" not in out + err


TOMLS = {
    "both-spellings": ("trial-timeout = 5\ntrial_timeout = 6\n", "trial_timeout twice"),
    "budget-true": ("budget = true\n", "'budget': write a whole number, not true/false"),
    "budget-text": ('budget = "3"\n', "'budget': write a whole number, not text"),
    "nan-step-cost": ("mode = 'progressive'\nstep_cost = nan\n", "'step_cost'"),
    "inherit-with-shared-weights": (
        "task = 'digits'\nmode = 'progressive'\ninherit = true\nestimator = 'weight-sharing'\n",
        "inherit grows a network from its parent's trained weights",
    ),
}

CASES = {
    "negative-seed": (["--seed", "-1"], "'seed': Input should be greater than or equal to 0"),
    "huge-seed": (["--seed", "1180591620717411303424"], "'seed': Input should be less than"),
    "infinite-eta": (["--task", "digits", "--scheduler", "asha", "--eta", "inf"], "'eta'"),
    "nan-step-cost": (["--mode", "progressive", "--step-cost", "nan"], "'step_cost'"),
    "empty-name": (["--name", ""], "'name'"),
    "unknown-estimator": (["--task", "digits", "--estimator", "oracle"], "choose one of full"),
    "estimator-without-task": (["--estimator", "supernet"], "it needs a task"),
    "other-estimator-s-setting": (["--task", "digits", "--top-k", "3"], "predictor estimator"),
    "epoch-budget-on-a-table": (["--epoch-budget", "5"], "an epoch budget"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_search_option_is_one_line_and_stores_nothing(
    case, tmp_path, monkeypatch, capsys
) -> None:
    options, message = CASES[case]
    store = tmp_path / "runs.db"
    code, out, err = run_cli(["search", *options, "--store", str(store)], monkeypatch, capsys)
    assert_one_error_line(code, out, err, message)
    assert not store.exists()


@pytest.mark.parametrize("case", TOMLS, ids=list(TOMLS))
def test_a_bad_config_file_is_one_line_and_stores_nothing(
    case, tmp_path, monkeypatch, capsys
) -> None:
    text, message = TOMLS[case]
    config = tmp_path / "search.toml"
    config.write_text(text)
    store = tmp_path / "runs.db"
    argv = ["search", "--config", str(config), "--store", str(store)]
    code, out, err = run_cli(argv, monkeypatch, capsys)
    assert_one_error_line(code, out, err, message)
    assert not store.exists()


def test_an_unreachable_ray_cluster_is_one_line_and_writes_no_experiment(
    tmp_path, monkeypatch, capsys
) -> None:
    store = tmp_path / "runs.db"
    address = f"127.0.0.1:{closed_port()}"
    argv = ["search", "--budget", "2", "--executor", "ray", "--address", address]
    code, out, err = run_cli([*argv, "--store", str(store)], monkeypatch, capsys)
    assert_one_error_line(code, out, err, f"cannot reach the Ray cluster at {address}")
    assert not store.exists()


@pytest.mark.parametrize("evaluator", ["returns_none", "returns_text", "returns_a_float"])
def test_an_evaluator_that_returns_no_metrics_leaves_no_experiment(
    evaluator, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.chdir(tmp_path)
    kept = ["search", "--budget", "3", "--store", "runs.db", "--name", "kept"]
    assert run_cli(kept, monkeypatch, capsys)[0] == 0
    argv = ["search", "--evaluator", f"entry_evaluators:{evaluator}", "--metric", "score"]
    argv += ["--space", "rlnas_examples.scoring:SPACE", "--store", "runs.db"]
    code, out, err = run_cli(argv, monkeypatch, capsys)
    assert code == 2, err
    assert err.strip().splitlines()[-1].startswith("error:") and "not a mapping" in err
    assert "Traceback" not in out + err
    with rlnas.Store("runs.db", read_only=True) as store:
        assert [experiment.name for experiment in store.experiments()] == ["kept"]


SPACE = SearchSpace([Choice("a", [1, 2, 3]), Choice("b", ["x", "y"])])


def score(architecture: rlnas.Architecture) -> dict[str, float]:
    return {"accuracy": architecture.choices["a"] / 3}


PYTHON = {
    "negative-seed": (dict(seed=-1), "'seed'"),
    "huge-seed": (dict(seed=2**70), "'seed'"),
    "seed-as-text": (dict(seed="1"), "'seed'"),
    "strategy-a-number": (dict(strategy=123), "strategy must be a registered name"),
    "store-a-number": (dict(store=123), "store must be the path"),
    "timeout-as-text": (dict(trial_timeout="5"), "'trial_timeout'"),
    "nan-time-budget": (dict(time_budget=math.nan), "'time_budget'"),
    "infinite-time-budget": (dict(time_budget=math.inf), "'time_budget'"),
    "name-a-number": (dict(name=123), "'name'"),
    "empty-name": (dict(name=""), "'name'"),
    "metric-a-number": (dict(metric=3), "metric must be the name of a metric"),
    "direction-misspelt": (dict(direction="maximise"), "direction must be"),
    "budget-true": (dict(budget=True), "'budget'"),
    "returns-a-list": (dict(evaluate=lambda architecture: [0.5]), "not a mapping"),
}


@pytest.mark.parametrize("case", PYTHON, ids=list(PYTHON))
def test_a_bad_python_argument_is_a_user_error_naming_it(case, tmp_path) -> None:
    changes, message = PYTHON[case]
    arguments = {"evaluate": score, "budget": 3, "store": tmp_path / "s.db", **changes}
    with pytest.raises(UserError, match=message) as raised:
        rlnas.search(SPACE, arguments.pop("evaluate"), **arguments)
    assert "\n" not in str(raised.value)
    stored = tmp_path / "s.db"
    if stored.exists():  # the evaluator's mistake shows at its first call: no experiment stays
        with rlnas.Store(stored) as store:
            assert store.experiments() == []


def test_run_takes_a_search_config_not_a_dict(tmp_path) -> None:
    with pytest.raises(UserError, match="config must be an rlnas"):
        rlnas.run({"budget": 3})  # type: ignore[arg-type]


def test_an_estimator_added_by_one_table_line_runs_a_search(tmp_path, monkeypatch) -> None:
    """The architecture doc's recipe: its file (``entry_evaluators.py`` here) and one line."""
    entry = Estimator("counts options", builds="entry_evaluators:CountingEstimator")
    monkeypatch.setitem(ESTIMATORS, "counting", entry)
    config = rlnas.SearchConfig(
        task="digits",
        space="mlp",
        estimator="counting",
        data_fraction=0.1,
        budget=4,
        strategy="random",
        store=tmp_path / "runs.db",
        name="counted",
    )
    result = rlnas.run(config)
    assert len(result.trials) == 4 and all(not trial.failed for trial in result.trials)
    with rlnas.Store(tmp_path / "runs.db") as store:
        assert store.experiment("counted").config["estimator"] == "counting"
    with pytest.raises(UserError, match="stops training early"):  # it declares no epochs
        rlnas.SearchConfig(task="digits", estimator="counting", scheduler="asha")


def test_a_benchmark_family_added_by_one_table_line_is_searched(tmp_path, monkeypatch) -> None:
    """A prefix entry (as ``nbg:`` is, and ``table:`` will be) names a family of benchmarks."""
    from rlnas.estimators.tabular import BENCHMARKS, BenchmarkFamily, TabularBenchmark

    def load(size: str) -> TabularBenchmark:
        space = SearchSpace([Choice("width", list(range(int(size))))])
        table = {space.architecture({"width": w}).key: {"validation": w} for w in range(int(size))}
        return TabularBenchmark(f"toy:{size}", space, table)

    monkeypatch.setitem(BENCHMARKS, "toy", BenchmarkFamily("a toy table, toy:<size>", load))
    config = rlnas.SearchConfig(benchmark="toy:4", budget=4, store=tmp_path / "runs.db")
    result = rlnas.run(config)
    assert result.best is not None and result.best.metrics["validation"] == 3
    with pytest.raises(UserError, match="benchmarks are named nbg:, table:, toy:"):
        rlnas.run(rlnas.SearchConfig(benchmark="toys:4", store=None))


def test_a_search_config_takes_the_objects_and_records_their_import_paths(
    tmp_path, monkeypatch
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    from rlnas_examples import models, scoring

    config = rlnas.SearchConfig(
        space=scoring.SPACE, evaluator=scoring.evaluate, metric="score", budget=3, store=None
    )
    assert (config.space, config.evaluator) == (
        "rlnas_examples.scoring:SPACE",
        "rlnas_examples.scoring:evaluate",
    )
    assert rlnas.run(config).best is not None
    family = rlnas.SearchConfig(task="digits", space=models.TinyConvNet, store=None)
    assert family.space == "rlnas_examples.models:TinyConvNet"
    with pytest.raises(UserError, match="cannot be imported again by path"):
        rlnas.SearchConfig(space=scoring.SPACE, evaluator=lambda a: {}, metric="score")


def test_a_python_search_with_the_full_training_resumes_like_a_cli_one(tmp_path) -> None:
    from rlnas.estimators.training import TrainingEvaluator
    from rlnas.tasks import load_task

    training = TrainingEvaluator(load_task("digits"), "mlp", epochs=1, data_fraction=0.1)
    store = tmp_path / "runs.db"
    first = rlnas.search(
        training.search_space(), training, "random", budget=2, store=store, name="py"
    )
    with rlnas.Store(store) as opened:
        config = opened.experiment("py").config
    assert config["task"] == "digits" and config["space"] == "mlp"  # what train-final reads
    resumed = rlnas.resume(store, "py", budget=3)  # extended, as `rlnas resume --budget 3`
    assert len(resumed.trials) == 3
    assert [t.architecture for t in resumed.trials[:2]] == [t.architecture for t in first.trials]
