"""Look-up-table evaluation: the user's JSON and CSV tables, missing keys, malformed files."""

from __future__ import annotations

import csv
import json
import math

import pytest

import rlnas
from rlnas.estimators import TableEvaluator, load_benchmark

SPACE = rlnas.SearchSpace([rlnas.Choice("op", ["conv", "pool", "skip"]), rlnas.Choice("n", [1, 2])])
TABLE = {
    SPACE.architecture({"op": op, "n": n}).key: {"accuracy": 0.1 * i + 0.05 * n, "params": 10.0 * n}
    for i, op in enumerate(["conv", "pool"])
    for n in (1, 2)
}


def write_json(path, table) -> None:
    path.write_text(json.dumps(table))


def write_csv(path, table) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "accuracy", "params"])
        writer.writerows([key, m["accuracy"], m["params"]] for key, m in table.items())


@pytest.mark.parametrize(("suffix", "write"), [(".json", write_json), (".csv", write_csv)])
def test_a_table_file_evaluates_architectures(tmp_path, suffix, write) -> None:
    path = tmp_path / f"table{suffix}"
    write(path, TABLE)
    evaluator = TableEvaluator.from_file(path)
    architecture = SPACE.architecture({"op": "pool", "n": 2})
    assert evaluator(architecture) == {"accuracy": pytest.approx(0.2), "params": 20.0}
    result = rlnas.search(SPACE, evaluator, strategy="random", budget=6, seed=0)
    assert result.best.architecture == architecture
    failed = {t.architecture.choices["op"] for t in result.trials if t.failed}
    assert failed == {"skip"}  # the keys missing from the table become failed trials
    for trial in result.trials:
        if trial.failed:
            assert "not in the table" in trial.error


def test_a_csv_with_a_byte_order_mark_is_read(tmp_path) -> None:
    path = tmp_path / "table.csv"
    write_csv(path, TABLE)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert set(TableEvaluator.from_file(path).table) == set(TABLE)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.json", None),
        ("table.json", "{not json"),
        ("table.json", "[1, 2]"),
        ("table.json", '{"a": 3}'),
        ("table.json", '{"a": {"accuracy": "high"}}'),
        ("table.json", '{"a": {"accuracy": null}}'),
        ("table.csv", ""),
        ("table.csv", "arch,accuracy\na,0.5\n"),
        ("table.csv", "key,accuracy\na,\n"),
        ("table.csv", "key,accuracy\na\n"),
        ("table.csv", "key,accuracy\na,0.5,extra\n"),
        ("table.csv", "key,accuracy\na,0.5\0\n"),
        ("table.csv", "key,accuracy\n" + "k" * 200_000 + ",0.5\n"),  # over csv's field limit
        ("table.txt", "key,accuracy\na,0.5\n"),
    ],
)
def test_malformed_tables_are_user_errors(tmp_path, name, content) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(rlnas.UserError, match=name):
        TableEvaluator.from_file(path)


def test_a_binary_file_is_a_user_error(tmp_path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(rlnas.UserError):
        TableEvaluator.from_file(path)


def test_the_nas_bench_graph_benchmark_knows_its_best() -> None:
    benchmark = load_benchmark("nbg:cora")
    values = [m["validation"] for m in benchmark.table.values()]
    assert benchmark.best() == max(values)
    threshold = benchmark.top_fraction_threshold(0.01)
    top = math.ceil(0.01 * len(values))
    assert sum(v > threshold for v in values) < top <= sum(v >= threshold for v in values)
