"""A user's benchmark table (table:PATH): read, searched and compared; bad tables are one line."""

from __future__ import annotations

import csv
import itertools
import json
import sys
from pathlib import Path

import pytest

from rlnas import SearchConfig, cli, run
from rlnas.compare import compare
from rlnas.errors import UserError
from rlnas.estimators import TabularBenchmark, load_benchmark
from rlnas.space import Choice, SearchSpace

OPS, WIDTHS, DEPTHS = ("conv", "pool", "skip"), (16, 32), (1, 2, 3)
COLUMNS = ["op", "width", "depth", "val_acc", "test_acc"]


def rows() -> list[dict[str, object]]:
    """Every architecture once; conv, 32 wide, 3 deep is best on validation and on test."""
    return [
        {
            "op": op,
            "width": width,
            "depth": depth,
            "val_acc": 50 + 10 * (op == "conv") + width / 10 + depth,
            "test_acc": 49 + 10 * (op == "conv") + width / 10 + depth,
        }
        for op, width, depth in itertools.product(OPS, WIDTHS, DEPTHS)
    ]


def write(path: Path, table: list[dict[str, object]], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(table)
    return path


def test_the_space_is_read_from_the_decision_columns(tmp_path: Path) -> None:
    bench = TabularBenchmark.from_file(
        write(tmp_path / "t.csv", rows()), "val_acc", test_metric="test_acc"
    )
    assert bench.space.names == ("op", "width", "depth")
    assert bench.space.choices[1].options == (16, 32)  # numbers, not text
    assert len(bench.table) == 18 and bench.best() == 66.2 and bench.best("test_acc") == 65.2
    best = bench.space.architecture({"op": "conv", "width": 32, "depth": 3})
    assert bench.evaluate(best) == {"val_acc": 66.2, "test_acc": 65.2}


def test_json_records_and_a_given_space_read_the_same_table(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps([{**row, "params": 1.0} for row in rows()]))
    space = SearchSpace([Choice("op", OPS), Choice("width", WIDTHS), Choice("depth", DEPTHS)])
    bench = TabularBenchmark.from_file(path, "val_acc", test_metric="test_acc", space=space)
    assert bench.space is space and bench.evaluate.metric_names() == (
        "val_acc",
        "test_acc",
        "params",
    )
    by_columns = TabularBenchmark.from_file(path, "val_acc", metrics=["test_acc", "params"])
    assert by_columns.table == bench.table


@pytest.mark.parametrize(
    ("table", "columns", "message"),
    [
        (rows()[:-1], COLUMNS, r"no row for \{'op': 'skip', 'width': 32, 'depth': 3\}"),
        ([*rows(), rows()[4]], COLUMNS, "rows 5 and 19 are the same architecture"),
        ([{**rows()[0], "val_acc": "high"}, *rows()[1:]], COLUMNS, "row 1, metric column"),
        (
            [{k: v for k, v in r.items() if k != "test_acc"} for r in rows()],
            COLUMNS[:-1],
            "no column 'test_acc'",
        ),
    ],
)
def test_a_bad_table_is_one_line(tmp_path: Path, table, columns, message) -> None:
    path = write(tmp_path / "bad.csv", table, columns)
    with pytest.raises(UserError, match=message) as error:
        TabularBenchmark.from_file(path, "val_acc", test_metric="test_acc")
    assert "\n" not in str(error.value)


def test_a_missing_file_or_format_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_benchmark(f"table:{tmp_path / 'none.csv'}")
    (tmp_path / "t.txt").write_text("op,val\n")
    with pytest.raises(UserError, match=r"\.csv or \.json"):
        TabularBenchmark.from_file(tmp_path / "t.txt", "val")


def test_search_and_compare_run_on_the_table(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", rows())
    config = SearchConfig(
        benchmark=f"table:{path}",
        metric="val_acc",
        test_metric="test_acc",
        strategy="mcts",
        budget=18,
        store=str(tmp_path / "runs.db"),
    )
    result = run(config)
    assert result.best is not None and result.best.metrics["val_acc"] == 66.2
    bench = TabularBenchmark.from_file(path, "val_acc", test_metric="test_acc")
    comparison = compare(bench, ["random", "mcts"], seeds=2, budget=18)
    assert all(summary.regret_mean == 0.0 for summary in comparison.results.values())


def test_the_cli_searches_and_compares_a_table(tmp_path, monkeypatch, capsys) -> None:
    path = write(tmp_path / "t.csv", rows())
    monkeypatch.chdir(tmp_path)
    for argv in (
        ["search", "--benchmark", f"table:{path}", "--metric", "val_acc", "--budget", "10"],
        ["report", "--output", "report.html"],
        [
            "compare",
            "--benchmark",
            f"table:{path}",
            "--metric",
            "val_acc",
            "--test-metric",
            "test_acc",
            "--strategies",
            "random,ppo",
            "--seeds",
            "2",
            "--budget",
            "6",
            "--out",
            "out",
            "--json",
        ],
    ):
        monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
        with pytest.raises(SystemExit) as exit_:
            cli.main()
        assert exit_.value.code in (0, None), capsys.readouterr()
    out = capsys.readouterr().out
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # the stored table path is absolute: resume works
    monkeypatch.setattr(sys, "argv", ["rlnas", "resume", "--store", "../runs.db", "--budget", "12"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code in (0, None), capsys.readouterr()
    assert "val_acc" in (tmp_path / "report.html").read_text()
    assert json.loads(out[out.index("{") :])["benchmark"] == f"table:{path}"
    assert "12/12" in capsys.readouterr().err
    monkeypatch.setattr(sys, "argv", ["rlnas", "search", "--benchmark", f"table:{path}"])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2 and "no column 'validation'" in err and "\n" not in err


def test_a_given_space_with_rules_needs_exactly_its_architectures(tmp_path: Path) -> None:
    from rlnas import Rule

    no_deep_pool = Rule(lambda c: not (c["op"] == "pool" and c["depth"] == 3), "no deep pool")
    space = SearchSpace(
        [Choice("op", OPS), Choice("width", WIDTHS), Choice("depth", DEPTHS)], [no_deep_pool]
    )
    allowed = [row for row in rows() if not (row["op"] == "pool" and row["depth"] == 3)]
    path = write(tmp_path / "t.csv", allowed)
    bench = TabularBenchmark.from_file(path, "val_acc", test_metric="test_acc", space=space)
    assert len(bench.table) == 16
    write(path, allowed[1:])
    with pytest.raises(UserError, match=r"no row for \{'op': 'conv', 'width': 16, 'depth': 1\}"):
        TabularBenchmark.from_file(path, "val_acc", test_metric="test_acc", space=space)
    write(path, rows())
    with pytest.raises(UserError, match="is not in the space: decision 'depth': no deep pool"):
        TabularBenchmark.from_file(path, "val_acc", test_metric="test_acc", space=space)
