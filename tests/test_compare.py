"""``rlnas.compare`` and ``rlnas compare``: regrets against the whole table, files, JSON."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rlnas import Choice, SearchSpace
from rlnas.cli import app
from rlnas.compare import Comparison, Run, compare, score_run, write_outputs
from rlnas.errors import UnknownName, UserError
from rlnas.estimators import TabularBenchmark
from rlnas.strategies import STRATEGIES


def tiny_benchmark() -> TabularBenchmark:
    """Nine architectures; validation grows with a and b, but the best one tests poorly."""
    space = SearchSpace([Choice("a", [0, 1, 2]), Choice("b", [0, 1, 2])], name="tiny")
    table = {}
    for a in range(3):
        for b in range(3):
            validation = (3 * a + b) / 10
            test = 0.1 if (a, b) == (2, 2) else validation
            table[space.architecture({"a": a, "b": b}).key] = {
                "validation": validation,
                "test": test,
            }
    return TabularBenchmark("tiny", space, table)


def metrics(bench: TabularBenchmark, a: int, b: int) -> dict[str, float]:
    return dict(bench.table[bench.space.architecture({"a": a, "b": b}).key])


def test_a_run_is_scored_by_its_incumbent_after_each_query() -> None:
    bench = tiny_benchmark()
    queried = [metrics(bench, 0, 1), None, metrics(bench, 2, 1), metrics(bench, 1, 0)]
    run = score_run(bench, "random", 0, queried, budget=6)
    # best validation 0.8, best test 0.7 (at a=2, b=1); a failed query changes nothing
    assert run.validation_regret == pytest.approx([0.7, 0.7, 0.1, 0.1, 0.1, 0.1])
    assert run.test_regret == pytest.approx([0.6, 0.6, 0.0, 0.0, 0.0, 0.0])
    assert run.queries_to_top is None  # the top 1 % of nine is the best one alone
    found = score_run(bench, "random", 0, [*queried, metrics(bench, 2, 2)], budget=5)
    assert found.validation_regret[-1] == 0.0 and found.queries_to_top == 5
    assert found.test_regret[-1] == pytest.approx(0.6)  # the best by validation tests at 0.1


def test_a_run_that_misses_the_top_counts_as_budget_plus_one() -> None:
    never = Run("random", 0, (0.2, 0.1), (0.2, 0.1), None)
    early = Run("random", 1, (0.0, 0.0), (0.0, 0.0), 1)
    third = Run("random", 2, (0.2, 0.2), (0.1, 0.1), None)
    result = Comparison("tiny", 2, 3, ("random",), (never, early, third)).results["random"]
    assert result.queries_to_top1pct == 3.0
    assert result.regret_mean == pytest.approx(0.1)
    assert result.curve == pytest.approx((0.4 / 3, 0.1))


@pytest.mark.parametrize("strategy", ["random", "evolution"])
def test_regret_is_zero_once_every_architecture_was_queried(strategy: str) -> None:
    result = compare(tiny_benchmark(), [strategy], seeds=3, budget=9).results[strategy]
    assert result.regret_mean == 0.0 and result.regret_std == 0.0
    assert result.test_regret_mean == pytest.approx(0.6)
    assert result.queries_to_top1pct <= 9
    assert all(a >= b >= 0 for a, b in zip(result.curve, result.curve[1:]))


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_every_registered_strategy_has_nonnegative_falling_regret(strategy: str) -> None:
    result = compare(tiny_benchmark(), [strategy], seeds=1, budget=4).results[strategy]
    assert result.regret_mean >= 0 and result.test_regret_mean >= 0
    assert all(a >= b >= 0 for a, b in zip(result.curve, result.curve[1:]))


def test_json_has_exactly_the_documented_schema() -> None:
    comparison = compare(tiny_benchmark(), ["random", "evolution"], seeds=2, budget=3)
    data = json.loads(json.dumps(comparison.to_json()))
    assert set(data) == {"benchmark", "budget", "seeds", "results"}
    assert (data["benchmark"], data["budget"], data["seeds"]) == ("tiny", 3, 2)
    assert list(data["results"]) == ["random", "evolution"]
    numbers = {"regret_mean", "regret_std", "test_regret_mean", "test_regret_std"}
    for result in data["results"].values():
        assert set(result) == {*numbers, "queries_to_top1pct"}
        assert all(isinstance(value, float) for value in result.values())


def test_a_smaller_budget_is_the_prefix_of_a_larger_one() -> None:
    strategies = ["random", "evolution"]
    long = compare("nbg:cora", strategies, seeds=2, budget=30)
    assert long.at_budget(12) == compare("nbg:cora", strategies, seeds=2, budget=12)


def test_workers_do_not_change_the_results() -> None:
    strategies = ["random", "evolution"]
    serial = compare("nbg:cora", strategies, seeds=3, budget=25, workers=1)
    parallel = compare("nbg:cora", strategies, seeds=3, budget=25, workers=2)
    assert serial == parallel and serial.to_json() == parallel.to_json()


def test_outputs_are_written(tmp_path) -> None:
    comparison = compare(tiny_benchmark(), ["random", "evolution"], seeds=2, budget=5)
    files = write_outputs(comparison, tmp_path / "out")
    assert [path.name for path in files] == [
        "summary.csv",
        "curves.csv",
        "curves.html",
        "comparison.json",
    ]
    with files[0].open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["strategy"] for row in rows] == ["random", "evolution"]
    assert float(rows[0]["regret_mean"]) == comparison.results["random"].regret_mean
    with files[1].open() as handle:
        curves = list(csv.reader(handle))
    assert curves[0] == ["query", "random", "evolution"] and len(curves) == 6
    page = files[2].read_text()
    assert "<svg" in page and page.count("<polyline") == 2 and "http" not in page.split("<svg")[0]
    assert json.loads(files[3].read_text()) == comparison.to_json()


def test_cli_writes_files_and_prints_a_table(tmp_path) -> None:
    args = ["compare", "--strategies", "random,evolution", "--seeds", "2", "--budget", "5"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "random" in result.stdout and "validation regret" in result.stdout
    assert (tmp_path / "out" / "summary.csv").is_file()
    assert (tmp_path / "out" / "curves.html").is_file()


def test_cli_json_prints_only_json(tmp_path) -> None:
    args = ["compare", "--strategies", "random", "--seeds", "2", "--budget", "5", "--json"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["benchmark"] == "nbg:cora" and list(data["results"]) == ["random"]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--strategies", "random,nope"], UnknownName),
        (["--benchmark", "nbg:mars"], UnknownName),
        (["--strategies", "random,random"], UserError),
        (["--strategies", ","], UserError),
    ],
)
def test_bad_arguments_fail_before_any_work(tmp_path, args, error) -> None:
    result = CliRunner().invoke(app, ["compare", *args, "--out", str(tmp_path / "out")])
    assert isinstance(result.exception, error)
    assert not (tmp_path / "out").exists()


def test_unknown_strategy_prints_one_line_and_exits_2(tmp_path) -> None:
    code = "from rlnas.cli import main; main()"
    args = ["compare", "--strategies", "random,nope", "--out", str(tmp_path / "out")]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "nope" in done.stderr
