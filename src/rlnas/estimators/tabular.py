"""Look-up-table evaluation: NAS-Bench-Graph and a user's own table of architecture key -> metrics.

A table answers in microseconds, so whole searches run in seconds and strategies can be compared
over many seeds (``rlnas compare``).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rlnas.errors import UnknownName, UserError
from rlnas.space import Architecture, SearchSpace
from rlnas.space.nas_bench_graph import DATASETS, nas_bench_graph_space

Metrics = Mapping[str, float]


class TableEvaluator:
    """Evaluate an architecture by looking its ``key`` up in a table of metrics."""

    def __init__(self, table: Mapping[str, Metrics]) -> None:
        self.table = table

    def metric_names(self) -> tuple[str, ...]:
        """The metrics of the table's rows (``rlnas.evaluator.ReportsMetrics``)."""
        return tuple(dict.fromkeys(name for row in self.table.values() for name in row))

    def __call__(self, architecture: Architecture) -> Metrics:
        try:
            return self.table[architecture.key]
        except KeyError:
            raise KeyError(f"architecture {architecture.key} is not in the table") from None

    @classmethod
    def from_file(cls, path: str | Path) -> TableEvaluator:
        """Read a table: JSON ``{key: {metric: value}}`` or CSV with a ``key`` column."""
        return cls(read_table(Path(path)))


def read_table(path: Path) -> dict[str, dict[str, float]]:
    """Parse a JSON or CSV look-up table; a malformed file raises UserError naming the problem."""
    if not path.is_file():
        raise UserError(f"table file {path} does not exist")
    try:
        if path.suffix == ".json":
            raw = json.loads(path.read_text())
            if not isinstance(raw, dict):
                raise UserError(f"{path}: a JSON table maps architecture keys to metric objects")
            rows = raw.items()
        elif path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:  # sig: Excel's BOM
                records = list(csv.DictReader(handle))
            if not records or "key" not in records[0]:
                raise UserError(f"{path}: a CSV table needs a header with a 'key' column")
            rows = [(r.pop("key"), r) for r in records]
        else:
            raise UserError(f"{path}: a table is a .json or .csv file")
        return {str(key): {m: float(v) for m, v in metrics.items()} for key, metrics in rows}
    except (ValueError, TypeError, AttributeError, csv.Error) as error:
        raise UserError(f"{path}: not a table of numeric metrics ({error})") from None


@dataclass(frozen=True)
class TabularBenchmark:
    """A space with its full table of results: what a search sees and what it is judged by."""

    name: str
    space: SearchSpace
    table: Mapping[str, Metrics]
    metric: str = "validation"
    test_metric: str = "test"

    @classmethod
    def from_file(
        cls, path: str | Path, metric: str | None = None, **columns: object
    ) -> TabularBenchmark:
        """A user's table of decisions and metrics (``rlnas.estimators.table_file``)."""
        from rlnas.estimators.table_file import read_benchmark

        return read_benchmark(path, metric, **columns)  # type: ignore[arg-type]

    @property
    def evaluate(self) -> TableEvaluator:
        return TableEvaluator(self.table)

    def best(self, metric: str | None = None) -> float:
        """The best value of ``metric`` (default: the searched one) over the whole table."""
        return max(metrics[metric or self.metric] for metrics in self.table.values())

    def top_fraction_threshold(self, fraction: float) -> float:
        """The searched metric's value that only the best ``fraction`` of the table reaches."""
        values = sorted((m[self.metric] for m in self.table.values()), reverse=True)
        return values[max(0, math.ceil(fraction * len(values)) - 1)]


@cache
def _nas_bench_graph_table(dataset: str) -> dict[str, dict[str, float]]:
    from nas_bench_graph import light_read

    return {
        str(key): {
            "validation": float(entry["valid_perf"]),
            "test": float(entry["perf"]),
            "latency": float(entry["latency"]),
            "params": float(entry["para"]),
        }
        for key, entry in light_read(dataset).items()
    }


def _nas_bench_graph(dataset: str) -> TabularBenchmark:
    """``nbg:<dataset>``: NAS-Bench-Graph's table of one of its nine datasets."""
    if dataset not in DATASETS:
        raise UnknownName(
            f"unknown benchmark 'nbg:{dataset}'; choose one of "
            + ", ".join(f"nbg:{name}" for name in DATASETS)
        )
    space = nas_bench_graph_space(dataset)
    return TabularBenchmark(f"nbg:{dataset}", space, _nas_bench_graph_table(dataset))


def _user_table(path: str) -> TabularBenchmark:
    """``table:PATH``: a user's CSV or JSON of decision and metric columns."""
    from rlnas.estimators.table_file import read_benchmark

    return read_benchmark(path)


@dataclass(frozen=True)
class BenchmarkFamily:
    """An entry of the table: benchmarks named ``PREFIX:REST``, and how one is loaded."""

    help: str
    load: Callable[[str], TabularBenchmark]
    """The benchmark named by what follows the prefix (a dataset, a file's path)."""
    names: tuple[str, ...] = ()
    """The whole names it offers, where it can list them (``rlnas list``)."""


BENCHMARKS: dict[str, BenchmarkFamily] = {
    "nbg": BenchmarkFamily(
        "NAS-Bench-Graph (Qin et al., NeurIPS 2022), nbg:<dataset>",
        _nas_bench_graph,
        tuple(f"nbg:{dataset}" for dataset in DATASETS),
    ),
    "table": BenchmarkFamily(
        "a user's table, table:PATH (a CSV or JSON of decision and metric columns)", _user_table
    ),
}
"""Prefix -> family of tabular benchmarks: the one table that names, the list and the checks
read. Adding a benchmark is its loader's file and one line here."""

BENCHMARK_NAMES = tuple(name for family in BENCHMARKS.values() for name in family.names)


def is_benchmark(name: str) -> bool:
    """Whether ``name`` is written as a benchmark (a registered ``PREFIX:``), loaded or not."""
    prefix, colon, _ = name.partition(":")
    return bool(colon) and prefix in BENCHMARKS


def load_benchmark(name: str) -> TabularBenchmark:
    """A tabular benchmark by name, ``PREFIX:REST`` with a prefix of ``BENCHMARKS``."""
    prefix, _, rest = name.partition(":")
    if not is_benchmark(name):
        prefixes = ", ".join(f"{prefix}:" for prefix in BENCHMARKS)
        raise UnknownName(
            f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARK_NAMES)} "
            f"(benchmarks are named {prefixes}...)"
        )
    return BENCHMARKS[prefix].load(rest)
