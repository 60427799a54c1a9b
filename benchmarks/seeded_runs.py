"""What the real-training benchmarks share: their runs grouped by seed, and the paired test."""

from __future__ import annotations

import statistics
from typing import Protocol, TypeVar

from scipy import stats


class SeededRun(Protocol):
    task: str
    method: str
    seed: int
    test_accuracy: float


RunT = TypeVar("RunT", bound=SeededRun)


def by_seed(runs: list[RunT], task: str, method: str) -> dict[int, RunT]:
    """The runs of ``method`` on ``task``, by seed: what a paired test pairs."""
    return {run.seed: run for run in runs if (run.task, run.method) == (task, method)}


def paired_test(first: dict[int, SeededRun], second: dict[int, SeededRun]) -> str:
    """The Wilcoxon signed-rank test of the test accuracies over the seeds both share."""
    return wilcoxon_p(
        {seed: run.test_accuracy for seed, run in first.items()},
        {seed: run.test_accuracy for seed, run in second.items()},
    )


def wilcoxon_p(first: dict[int, float], second: dict[int, float]) -> str:
    """The two-sided Wilcoxon signed-rank test of two methods' values paired by seed:
    ``n=.., p=..`` over the seeds both share (``-`` when nothing differs)."""
    seeds = sorted(set(first) & set(second))
    differences = [first[s] - second[s] for s in seeds]
    if len(seeds) < 2 or not any(differences):
        return f"n={len(seeds)}, -"
    return f"n={len(seeds)}, p={stats.wilcoxon(differences).pvalue:.3f}"


def mean_std(values: list[float], digits: int = 2, scale: float = 1.0) -> str:
    """``mean ± std`` (the sample's), or ``-`` for no values."""
    if not values:
        return "-"
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values) * scale:.{digits}f} ± {spread * scale:.{digits}f}"
