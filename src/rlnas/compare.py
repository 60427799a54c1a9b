"""Compare search strategies on a tabular benchmark over many seeds, judged by the whole table.

Every strategy searches the same benchmark with the same seeds (0..seeds-1). After each distinct
query a run's *incumbent* is the architecture with the best validation value so far (the earlier
one on a tie), and it is scored against the table's optimum:

- validation regret: the table's best validation minus the incumbent's validation;
- test regret: the table's best test value minus the incumbent's test value;
- queries to the top 1 %: the first query whose validation reaches the table's top 1 %.

A strategy never sees the budget, so the first ``b`` queries of a run with a larger budget are
exactly the run with budget ``b``: ``Comparison.at_budget`` reads smaller budgets off one run.
"""

from __future__ import annotations

import csv
import json
import math
import os
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from functools import cached_property
from html import escape
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from rlnas.errors import UnknownName, UserError
from rlnas.estimators import TabularBenchmark, load_benchmark
from rlnas.search import search
from rlnas.strategies import STRATEGIES

TOP_FRACTION = 0.01
"""The share of the table, best by validation, that ``queries_to_top1pct`` waits for."""

RunCallback = Callable[["Run", int, int], None]


@dataclass(frozen=True)
class Run:
    """One strategy's search with one seed, scored after each of its distinct queries."""

    strategy: str
    seed: int
    validation_regret: tuple[float, ...]
    """The incumbent's validation regret after query 1, 2, ..., budget."""
    test_regret: tuple[float, ...]
    """The incumbent's test regret after query 1, 2, ..., budget."""
    queries_to_top: int | None
    """The first query (1-based) in the table's top 1 % by validation; None if none was."""

    @property
    def budget(self) -> int:
        return len(self.validation_regret)

    def at_budget(self, budget: int) -> Run:
        """This run as if it had stopped after ``budget`` queries."""
        if not 1 <= budget <= self.budget:
            raise UserError(f"budget {budget} is outside 1..{self.budget}, the queries of the run")
        reached = self.queries_to_top
        if reached is not None and reached > budget:
            reached = None
        return replace(
            self,
            validation_regret=self.validation_regret[:budget],
            test_regret=self.test_regret[:budget],
            queries_to_top=reached,
        )


def score_run(
    benchmark: TabularBenchmark,
    strategy: str,
    seed: int,
    queried: Sequence[Mapping[str, float] | None],
    budget: int,
) -> Run:
    """Score a run from the metrics of its distinct queries in order (None for a failed one).

    Before the first successful query the incumbent counts as the table's worst. A run that
    stopped before ``budget`` queries keeps its last incumbent for the rest.
    """
    values = list(benchmark.table.values())
    best_validation = benchmark.best(benchmark.metric)
    best_test = benchmark.best(benchmark.test_metric)
    threshold = benchmark.top_fraction_threshold(TOP_FRACTION)
    incumbent_validation = min(m[benchmark.metric] for m in values)
    incumbent_test = min(m[benchmark.test_metric] for m in values)
    validation_regret: list[float] = []
    test_regret: list[float] = []
    queries_to_top = None
    for number, metrics in enumerate(queried[:budget], start=1):
        if metrics is not None and metrics[benchmark.metric] > incumbent_validation:
            incumbent_validation = metrics[benchmark.metric]
            incumbent_test = metrics[benchmark.test_metric]
        if queries_to_top is None and incumbent_validation >= threshold:
            queries_to_top = number
        validation_regret.append(best_validation - incumbent_validation)
        test_regret.append(best_test - incumbent_test)
    missing = budget - len(validation_regret)
    validation_regret += [best_validation - incumbent_validation] * missing
    test_regret += [best_test - incumbent_test] * missing
    return Run(strategy, seed, tuple(validation_regret), tuple(test_regret), queries_to_top)


REPEATS_BEFORE_STOP = 200
"""A run whose strategy proposes only known architectures this many times in a row has converged:
it stops and keeps its incumbent for the rest of the budget (the curves stay flat from there)."""


def run_strategy(benchmark: str | TabularBenchmark, strategy: str, seed: int, budget: int) -> Run:
    """Search ``benchmark`` with ``strategy`` for ``budget`` distinct queries and score the run."""
    bench = load_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    result = search(
        bench.space,
        bench.evaluate,
        strategy,
        metric=bench.metric,
        budget=budget,
        seed=seed,
        max_repeats=REPEATS_BEFORE_STOP,
    )
    queried = [trial.metrics if trial.reward is not None else None for trial in result.trials]
    return score_run(bench, strategy, seed, queried, budget)


@dataclass(frozen=True)
class StrategySummary:
    """One strategy's numbers over all seeds; std is the sample standard deviation (0 for one)."""

    regret_mean: float
    regret_std: float
    test_regret_mean: float
    test_regret_std: float
    queries_to_top1pct: float
    """Median over seeds; a run that never reaches the top 1 % counts as budget + 1, so a median
    of budget + 1 means more than half of the runs missed it (the number stays finite)."""
    curve: tuple[float, ...]
    """Mean validation regret of the incumbent after query 1..budget."""


@dataclass(frozen=True)
class Comparison:
    """Runs of several strategies on one benchmark, same seeds, same budget."""

    benchmark: str
    budget: int
    seeds: int
    strategies: tuple[str, ...]
    runs: tuple[Run, ...]

    @cached_property
    def results(self) -> dict[str, StrategySummary]:
        """Summary per strategy, in the order the strategies were given."""
        return {name: self._summary(name) for name in self.strategies}

    def _summary(self, strategy: str) -> StrategySummary:
        runs = [run for run in self.runs if run.strategy == strategy]
        final = np.array([run.validation_regret[self.budget - 1] for run in runs])
        test = np.array([run.test_regret[self.budget - 1] for run in runs])
        reached = [run.queries_to_top or self.budget + 1 for run in runs]
        curve = np.mean([run.validation_regret[: self.budget] for run in runs], axis=0)
        return StrategySummary(
            regret_mean=float(final.mean()),
            regret_std=_std(final),
            test_regret_mean=float(test.mean()),
            test_regret_std=_std(test),
            queries_to_top1pct=float(np.median(reached)),
            curve=tuple(float(value) for value in curve),
        )

    def at_budget(self, budget: int) -> Comparison:
        """The same comparison read off after the first ``budget`` queries of every run."""
        runs = tuple(run.at_budget(budget) for run in self.runs)
        return replace(self, budget=budget, runs=runs)

    def to_json(self) -> dict[str, Any]:
        """``{"benchmark", "budget", "seeds", "results": {strategy: {numbers}}}``."""
        results = {
            name: {
                "regret_mean": summary.regret_mean,
                "regret_std": summary.regret_std,
                "test_regret_mean": summary.test_regret_mean,
                "test_regret_std": summary.test_regret_std,
                "queries_to_top1pct": summary.queries_to_top1pct,
            }
            for name, summary in self.results.items()
        }
        return {
            "benchmark": self.benchmark,
            "budget": self.budget,
            "seeds": self.seeds,
            "results": results,
        }


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def compare(
    benchmark: str | TabularBenchmark,
    strategies: Sequence[str],
    seeds: int,
    budget: int,
    *,
    workers: int = 1,
    on_run: RunCallback | None = None,
) -> Comparison:
    """Run every strategy with seeds 0..seeds-1 on a tabular benchmark and score the runs.

    ``benchmark`` is a name (``nbg:cora``) or a TabularBenchmark. ``workers`` > 1 spreads the
    (strategy, seed) runs over a process pool of that many single-threaded processes; the numbers
    are the same for any ``workers``. ``on_run(run, done, total)`` is called as each run ends.
    Every argument is checked before the first run starts. In the summaries, a run that never
    reaches the table's top 1 % counts as ``budget + 1`` queries (not inf), so the median stays
    finite; a median of ``budget + 1`` says more than half of the runs missed it.
    """
    strategies = tuple(strategies)
    if not strategies:
        raise UserError("name at least one strategy to compare")
    for name in strategies:
        if name not in STRATEGIES:
            raise UnknownName(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    if len(set(strategies)) != len(strategies):
        raise UserError(f"a strategy is named twice in {', '.join(strategies)}")
    for what, value in (("seeds", seeds), ("budget", budget), ("workers", workers)):
        if value < 1:
            raise UserError(f"{what} must be at least 1, got {value}")
    bench = load_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    if workers > 1 and not isinstance(benchmark, str):
        try:
            pickle.dumps(bench)
        except Exception as error:
            raise UserError(
                f"workers > 1 needs a benchmark name or a picklable TabularBenchmark ({error})"
            ) from None
    jobs = [(benchmark, name, seed, budget) for name in strategies for seed in range(seeds)]
    runs: dict[tuple[str, int], Run] = {}
    for run in _run_all(jobs, workers):
        runs[(run.strategy, run.seed)] = run
        if on_run is not None:
            on_run(run, len(runs), len(jobs))
    ordered = tuple(runs[(name, seed)] for name in strategies for seed in range(seeds))
    return Comparison(bench.name, budget, seeds, strategies, ordered)


def _run_all(jobs: list[tuple[Any, str, int, int]], workers: int) -> Iterator[Run]:
    if workers == 1:
        for job in jobs:
            yield run_strategy(*job)
        return
    with worker_pool(workers) as pool:
        for future in as_completed([pool.submit(run_strategy, *job) for job in jobs]):
            yield future.result()


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of fresh (spawned) processes that each compute on one thread.

    One thread per process keeps ``workers`` processes on ``workers`` cores instead of
    oversubscribing them with each library's own thread pool.
    """
    return ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_one_thread)


def _one_thread() -> None:
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = "1"


# --- outputs -------------------------------------------------------------------------------------


def write_outputs(comparison: Comparison, out_dir: str | Path) -> list[Path]:
    """Write summary.csv, curves.csv, curves.html (an inline SVG chart) and comparison.json."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = comparison.results
    summary = out / "summary.csv"
    with summary.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["strategy", *_NUMBERS, "seeds", "budget"])
        for name, numbers in comparison.to_json()["results"].items():
            row = [numbers[key] for key in _NUMBERS]
            writer.writerow([name, *row, comparison.seeds, comparison.budget])
    curves = out / "curves.csv"
    with curves.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["query", *results])
        for query in range(comparison.budget):
            writer.writerow([query + 1, *(s.curve[query] for s in results.values())])
    chart = out / "curves.html"
    chart.write_text(curves_html(comparison))
    as_json = out / "comparison.json"
    as_json.write_text(json.dumps(comparison.to_json(), indent=1) + "\n")
    return [summary, curves, chart, as_json]


_NUMBERS = (
    "regret_mean",
    "regret_std",
    "test_regret_mean",
    "test_regret_std",
    "queries_to_top1pct",
)
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_COLORS += ("#bcbd22", "#17becf")


def curves_html(comparison: Comparison) -> str:
    """A self-contained HTML page: the anytime regret curves as an inline SVG line chart."""
    title = (
        f"Mean validation regret of the incumbent on {comparison.benchmark} "
        f"({comparison.seeds} seeds)"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<title>{escape(title)}</title></head>\n<body style="font-family: sans-serif">\n'
        f'<h1 style="font-size: 1.1em">{escape(title)}</h1>\n'
        f"{_svg_chart({k: s.curve for k, s in comparison.results.items()})}\n</body></html>\n"
    )


def _svg_chart(curves: Mapping[str, Sequence[float]], width: int = 760, height: int = 420) -> str:
    left, right, top, bottom = 64, 150, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    budget = max(len(curve) for curve in curves.values())
    y_max = max((max(curve) for curve in curves.values()), default=0.0) or 1.0
    y_ticks = _ticks(y_max)
    if y_ticks[-1] < y_max:
        y_ticks.append(2 * y_ticks[-1] - y_ticks[-2] if len(y_ticks) > 1 else y_max)
    y_top = y_ticks[-1]

    def x(query: float) -> float:
        return left + plot_w * (query - 1) / max(budget - 1, 1)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_top)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-size="12">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" '
        'stroke="#888"/>',
    ]
    for tick in y_ticks:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#ddd"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick:.3g}</text>'
        )
    for tick in _ticks(budget, start=1):
        parts.append(
            f'<text x="{x(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{tick:g}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">distinct queries'
        f'</text><text transform="translate(14 {top + plot_h / 2}) rotate(-90)" '
        'text-anchor="middle">validation regret</text>'
    )
    for index, (name, curve) in enumerate(curves.items()):
        color = _COLORS[index % len(_COLORS)]
        points = " ".join(f"{x(q):.1f},{y(v):.1f}" for q, v in enumerate(curve, start=1))
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="1.8" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        legend_y = top + 14 + 18 * index
        parts.append(
            f'<line x1="{left + plot_w + 12}" x2="{left + plot_w + 36}" y1="{legend_y - 4}" '
            f'y2="{legend_y - 4}" stroke="{color}" stroke-width="3"/>'
            f'<text x="{left + plot_w + 42}" y="{legend_y}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _ticks(high: float, start: float = 0.0, count: int = 5) -> list[float]:
    """About ``count`` round tick values from ``start`` up to ``high``."""
    span = max(high - start, 1e-12)
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(start / step) * step
    ticks = [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]
    return ticks or [start]
