"""rlnas's strategy through ``RLSampler`` against Optuna's own TPE, both driven by Optuna.

What a user gains by switching the sampler of an Optuna study: each NAS-Bench-Graph dataset is
an Optuna objective that suggests every decision of the space as a categorical parameter and
looks the architecture up in the table (a combination the space forbids scores the table's
worst validation value). ``study.optimize`` runs ``--trials`` trials with
``RLSampler(strategy, seed=s)`` and with ``TPESampler(seed=s)`` for the same seeds; a repeated
architecture is a trial like any other, as it is for an Optuna user. Reported per dataset: mean
± std validation regret of the incumbent (the best trial by validation) and its test regret,
the Wilcoxon signed-rank test of the final validation regrets paired by seed, and the mean
wall seconds of one study. Its section of RESULTS.md (between its markers) is replaced.

    python benchmarks/integrations.py              # the full run (see README.md)
    python benchmarks/integrations.py --quick      # a smoke test, about a minute
"""

from __future__ import annotations

import argparse
import platform
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, as_completed
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scipy import stats

from results_file import write_section
from rlnas.compare import score_run
from rlnas.errors import InvalidArchitecture
from rlnas.estimators import TabularBenchmark, load_benchmark
from rlnas.execution.process import limit_threads, worker_pool
from rlnas.space.nas_bench_graph import DATASETS
from rlnas.strategies import STRATEGIES
from seeded_runs import mean_std

SECTION = "integrations"
TPE = "tpe"


def study(bench: TabularBenchmark, sampler_name: str, seed: int, trials: int) -> list[Any]:
    """One Optuna study on the table: each trial's metrics, in order (None where forbidden)."""
    import optuna

    from rlnas.integrations.optuna import RLSampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sampler_name == TPE:
        sampler: optuna.samplers.BaseSampler = optuna.samplers.TPESampler(seed=seed)
    else:
        sampler = RLSampler(sampler_name, seed=seed)
    worst = min(metrics[bench.metric] for metrics in bench.table.values())
    queried: list[Any] = []

    def objective(trial: optuna.Trial) -> float:
        choices = {
            c.name: trial.suggest_categorical(c.name, c.options) for c in bench.space.choices
        }
        try:
            metrics = bench.table.get(bench.space.architecture(choices).key)
        except InvalidArchitecture:
            metrics = None
        queried.append(metrics)
        return worst if metrics is None else metrics[bench.metric]

    optuna.create_study(direction="maximize", sampler=sampler).optimize(objective, trials)
    return queried


def run_one(benchmark: str, sampler_name: str, seed: int, trials: int) -> dict[str, Any]:
    """One study, scored: final validation and test regret, wall seconds."""
    bench = load_benchmark(benchmark)
    started = time.perf_counter()
    queried = study(bench, sampler_name, seed, trials)
    seconds = time.perf_counter() - started
    run = score_run(bench, sampler_name, seed, queried, trials)
    return {
        "validation": run.validation_regret[-1],
        "test": run.test_regret[-1],
        "seconds": seconds,
        "distinct": len({id(m) for m in queried if m is not None}),
    }


def execute(jobs: list[tuple[Any, ...]], workers: int) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if workers == 1:
        for job in jobs:
            yield job, run_one(*job)
        return
    with worker_pool(workers, threads=1) as pool:
        futures: dict[Future, Any] = {pool.schedule(run_one, args=job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def report(done: dict[tuple[Any, ...], Any], args: argparse.Namespace, seconds: float) -> str:
    names = (args.strategy, TPE)
    label = f"RLSampler({args.strategy!r})"
    lines = [
        f"## rlnas through Optuna: `{label}` against Optuna's TPE",
        "",
        f"`{shlex.join(['python', 'benchmarks/integrations.py', *sys.argv[1:]])}`, "
        f"{datetime.now(UTC):%Y-%m-%d}, {platform.processor() or platform.machine()}, "
        f"{args.workers} worker(s), {seconds / 60:.1f} min. Each dataset is an Optuna objective "
        "(every decision a categorical parameter, the table's validation value returned); "
        f"{args.trials} trials per study, seeds 0..{args.seeds - 1} shared by both samplers. "
        "Regrets are of the incumbent (best validation so far) after the last trial, mean ± std "
        "over seeds; p: Wilcoxon signed-rank on the final validation regrets paired by seed "
        "(two-sided); wins: seeds where RLSampler's regret is lower / higher.",
        "",
        f"| dataset | {label} validation regret | TPE validation regret | {label} test "
        "regret | TPE test regret | wins (RL / TPE) | p | distinct archs (RL / TPE) | s per "
        "study (RL / TPE) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    better = 0
    for benchmark in args.benchmarks:
        runs = {n: [done[(benchmark, n, s, args.trials)] for s in range(args.seeds)] for n in names}
        rl, tpe = ([r["validation"] for r in runs[n]] for n in names)
        differences = [a - b for a, b in zip(rl, tpe)]
        p = stats.wilcoxon(differences).pvalue if any(differences) and len(rl) > 1 else None
        better += statistics.fmean(rl) < statistics.fmean(tpe)
        cells = [
            mean_std(rl, 4),
            mean_std(tpe, 4),
            *(mean_std([r["test"] for r in runs[n]], 4) for n in names),
            f"{sum(d < 0 for d in differences)} / {sum(d > 0 for d in differences)}",
            "-" if p is None else f"{p:.3f}",
            " / ".join(f"{statistics.fmean(r['distinct'] for r in runs[n]):.0f}" for n in names),
            " / ".join(f"{statistics.fmean(r['seconds'] for r in runs[n]):.1f}" for n in names),
        ]
        lines.append(f"| {benchmark} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"{label} has the lower mean validation regret on {better} of {len(args.benchmarks)} "
        "datasets.",
    ]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated")
    parser.add_argument("--strategy", default="mcts", help="the rlnas strategy RLSampler runs")
    parser.add_argument("--trials", type=int, default=100, help="trials per study")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="processes (one thread each)")
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke testing")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets, args.trials, args.seeds = "cora,citeseer", 20, 2
        args.out = args.out or Path(tempfile.gettempdir()) / "rlnas-quick" / "RESULTS.md"
    args.out = args.out or Path(__file__).parent / "RESULTS.md"
    args.datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = [name for name in args.datasets if name not in DATASETS]
    if unknown or not args.datasets:
        parser.error(f"unknown dataset {unknown}; choose from {', '.join(DATASETS)}")
    if args.strategy not in STRATEGIES:
        parser.error(f"unknown strategy {args.strategy!r}; choose from {', '.join(STRATEGIES)}")
    if min(args.trials, args.seeds, args.workers) < 1:
        parser.error("--trials, --seeds and --workers must be at least 1")
    args.benchmarks = [f"nbg:{name}" for name in args.datasets]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    limit_threads(1)
    jobs = [
        (benchmark, name, seed, args.trials)
        for seed in range(args.seeds)
        for benchmark in args.benchmarks
        for name in (args.strategy, TPE)
    ]
    started = time.perf_counter()
    done: dict[tuple[Any, ...], Any] = {}
    for job, result in execute(jobs, args.workers):
        done[job] = result
        elapsed = time.perf_counter() - started
        print(f"{len(done)}/{len(jobs)} studies, {elapsed / 60:.1f} min", file=sys.stderr)
    seconds = time.perf_counter() - started
    write_section(args.out, SECTION, report(done, args, seconds))
    print(f"{args.out} written in {seconds / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
