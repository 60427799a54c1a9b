"""Running many searches: contenders x seeds on one tabular benchmark, scored by regret.

Every contender (a strategy, with its options and episodes) searches the same benchmark with the
same seeds (0..seeds-1), so differences between contenders are paired by seed. Runs spread over
the process pool of ``rlnas.execution`` when ``workers`` > 1.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import as_completed
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from rlnas.compare.regret import Run, score_run
from rlnas.config import SearchConfig
from rlnas.errors import UnknownName, UserError
from rlnas.estimators import TabularBenchmark, load_benchmark
from rlnas.execution.process import worker_pool
from rlnas.search import search
from rlnas.strategies import STRATEGIES, make_strategy
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.strategies.registry import StrategySettings

RunCallback = Callable[[Run, int, int], None]

REPEATS_BEFORE_STOP = 200
"""A run whose strategy proposes only known architectures this many times in a row has converged:
it stops and keeps its incumbent for the rest of the budget (the curves stay flat from there)."""

CONTENDER_SETTINGS = frozenset({*StrategySettings.model_fields, *EpisodeSettings.model_fields})
"""What a contender may set: its strategy, the strategy's options and its episodes."""


@dataclass(frozen=True)
class Contender:
    """One entry of a comparison: a ``label`` and the search settings it runs with.

    ``settings`` are ``SearchConfig`` settings of the strategy and its episodes (``strategy``,
    ``strategy_option``, ``mode``, ...); ``strategy`` defaults to the label.
    """

    label: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, entry: str | Contender) -> Contender:
        return entry if isinstance(entry, Contender) else cls(entry)

    def config(self) -> SearchConfig:
        """The settings, checked: an unknown strategy or a setting a contender has not."""
        other = sorted(set(self.settings) - CONTENDER_SETTINGS)
        if other:
            raise UserError(
                f"contender {self.label!r}: a contender sets its strategy and episodes, not "
                f"{', '.join(other)}"
            )
        config = SearchConfig(**{"strategy": self.label, **self.settings})
        if config.strategy not in STRATEGIES:
            raise UnknownName(
                f"unknown strategy {config.strategy!r}; choose one of {', '.join(STRATEGIES)}"
            )
        return config


def run_contender(
    benchmark: str | TabularBenchmark, contender: str | Contender, seed: int, budget: int
) -> Run:
    """Search ``benchmark`` as ``contender`` for ``budget`` distinct queries and score the run."""
    bench = load_benchmark(benchmark) if isinstance(benchmark, str) else benchmark
    contender = Contender.of(contender)
    config = contender.config()
    strategy = make_strategy(
        config.strategy,
        bench.space,
        seed=seed,
        options=config.strategy_option,
        episodes=EpisodeSettings.of(config),
    )
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
    architectures = [trial.architecture.choices for trial in result.trials]
    return score_run(bench, contender.label, seed, queried, budget, architectures)


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
    """Runs of several contenders on one benchmark, same seeds, same budget."""

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
    contenders: Sequence[str | Contender],
    seeds: int,
    budget: int,
    *,
    workers: int = 1,
    on_run: RunCallback | None = None,
) -> Comparison:
    """Run every contender with seeds 0..seeds-1 on a tabular benchmark and score the runs.

    ``benchmark`` is a name (``nbg:cora``) or a TabularBenchmark; a contender is a strategy's
    name or a ``Contender`` (a strategy with options or progressive episodes, under a label).
    ``workers`` > 1 spreads the (contender, seed) runs over that many single-threaded
    processes; the numbers are the same for any ``workers``. ``on_run(run, done, total)`` is
    called as each run ends. Every argument is checked before the first run starts. In the
    summaries, a run that never reaches the table's top 1 % counts as ``budget + 1`` queries (not
    inf), so the median stays finite; a median of ``budget + 1`` says more than half missed it.
    """
    entries = tuple(Contender.of(entry) for entry in contenders)
    labels = tuple(entry.label for entry in entries)
    if not entries:
        raise UserError("name at least one strategy to compare")
    for entry in entries:
        entry.config()
    if len(set(labels)) != len(labels):
        raise UserError(f"a strategy is named twice in {', '.join(labels)}")
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
    jobs = [(benchmark, entry, seed, budget) for entry in entries for seed in range(seeds)]
    runs: dict[tuple[str, int], Run] = {}
    for run in _run_all(jobs, workers):
        runs[(run.strategy, run.seed)] = run
        if on_run is not None:
            on_run(run, len(runs), len(jobs))
    ordered = tuple(runs[(label, seed)] for label in labels for seed in range(seeds))
    return Comparison(bench.name, budget, seeds, labels, ordered)


def _run_all(jobs: list[tuple[Any, Contender, int, int]], workers: int) -> Iterator[Run]:
    if workers == 1:
        for job in jobs:
            yield run_contender(*job)
        return
    with worker_pool(workers, threads=1) as pool:
        futures = [pool.schedule(run_contender, args=job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()
