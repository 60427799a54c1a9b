"""Every registered strategy, and Optuna's TPE as the outside reference, on NAS-Bench-Graph and on
synthetic tables of other shapes (``synthetic_tables.py``: a chain of 8 three-way decisions, a
15-decision NK landscape), so that defaults are not judged on one benchmark only.

For each dataset, strategy and seed one search runs to the largest budget; the smaller budgets
are read off its first queries (a strategy never sees the budget, so that is the same run).
Then the strategies' own cost (ask + tell, evaluation excluded) is timed over 1,000 queries.
Each search's wall time is recorded (at the largest budget). At the target budget, the best RL
strategy is paired against evolution and TPE by seed with a Wilcoxon signed-rank test.
The report (targets, paired tests, tables) is built in ``tabular_report.py``. Its section of
RESULTS.md (between its markers) is replaced; the rest of the file is kept.

    python benchmarks/tabular_strategies.py                 # the full run (see README.md)
    python benchmarks/tabular_strategies.py --quick         # a smoke test, under a minute
    python benchmarks/tabular_strategies.py --overhead-only --strategies mcts,ppo  # cost only

TPE (Bergstra et al., NeurIPS 2011) sees each decision as a categorical parameter. Its budget
counts distinct architectures like ours: a repeat is answered from a cache (Optuna is told the
cached value) and does not count, and a combination the space forbids is told the table's worst
validation value and does not count either.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from results_file import write_section
from rlnas.compare import Comparison, Run, run_contender, score_run, write_outputs
from rlnas.errors import InvalidArchitecture
from rlnas.estimators import TabularBenchmark
from rlnas.execution.process import limit_threads, worker_pool
from rlnas.rewards import Objective
from rlnas.search import evaluate_trial
from rlnas.space.nas_bench_graph import DATASETS
from rlnas.strategies import STRATEGIES, make_strategy
from rlnas.trial import Trial
from synthetic_tables import SYNTHETIC, load
from tabular_report import (
    REPEAT_PROPOSALS,
    REPEAT_STRATEGIES,
    TPE,
    Cost,
    Walls,
    section,
    targets,
)

SECTION = "tabular_strategies"
MAX_REPEATS = 1000
console = Console(stderr=True)


# --- TPE, the outside reference ------------------------------------------------------------------


def tpe_search(
    bench: TabularBenchmark, seed: int, budget: int, proposals: int | None = None
) -> tuple[list[Any], float]:
    """TPE's distinct queries in order (metrics, None if failed) and CPU seconds in Optuna.

    Stops after ``budget`` distinct queries, or after ``proposals`` ask/tell pairs if given.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    worst = min(metrics[bench.metric] for metrics in bench.table.values())
    known: dict[str, float] = {}
    queried: list[Any] = []
    spent = 0.0
    repeats = asked = 0
    while len(queried) < budget and repeats < MAX_REPEATS and asked != proposals:
        asked += 1
        clock = time.process_time()
        trial = study.ask()
        choices = {
            c.name: trial.suggest_categorical(c.name, c.options) for c in bench.space.choices
        }
        spent += time.process_time() - clock
        try:
            key = bench.space.architecture(choices).key
        except InvalidArchitecture:
            key = None
        if key is None or key in known:
            value = worst if key is None else known[key]
            repeats += 1
        else:
            repeats = 0
            metrics = bench.table.get(key)
            value = worst if metrics is None else metrics[bench.metric]
            known[key] = value
            queried.append(metrics)
        clock = time.process_time()
        study.tell(trial, value)
        spent += time.process_time() - clock
    return queried, spent


def run_tpe(benchmark: str, seed: int, budget: int) -> Run:
    bench = load(benchmark)
    queried, _ = tpe_search(bench, seed, budget)
    return score_run(bench, TPE, seed, queried, budget)


def timed_search(benchmark: str, name: str, seed: int, budget: int) -> tuple[Run, float]:
    """One search (``name`` may be TPE) and its wall seconds."""
    started = time.perf_counter()
    if name == TPE:
        run = run_tpe(benchmark, seed, budget)
    else:
        run = run_contender(load(benchmark), name, seed, budget)
    return run, time.perf_counter() - started


# --- overhead ------------------------------------------------------------------------------------


def overhead(strategy: str, benchmark: str, proposals: int) -> tuple[float, int]:
    """CPU ms per proposal spent in ask + tell (in Optuna for TPE), and the distinct count.

    A proposal is one ask/tell pair; repeats are told the cached result, as in ``rlnas.search``.
    """
    bench = load(benchmark)
    if strategy == TPE:
        queried, spent = tpe_search(bench, 0, proposals, proposals=proposals)
        return 1000 * spent / proposals, len(queried)
    searcher = make_strategy(strategy, bench.space, seed=0)
    objective = Objective(bench.metric, "maximize")
    known: dict[str, Trial] = {}
    spent = 0.0
    for _ in range(proposals):
        clock = time.process_time()
        [architecture] = searcher.ask(1)
        spent += time.process_time() - clock
        trial = known.get(architecture.key)
        if trial is None:
            trial = evaluate_trial(bench.evaluate, architecture, objective, number=len(known))
            known[architecture.key] = trial
        else:
            trial = replace(trial, cached=True)
        clock = time.process_time()
        searcher.tell(architecture, trial)
        spent += time.process_time() - clock
    return 1000 * spent / proposals, len(known)


# --- the run -------------------------------------------------------------------------------------


def run_all(
    args: argparse.Namespace,
) -> tuple[dict[tuple[str, int], Comparison], dict[str, Cost], Walls]:
    """Comparisons per (benchmark, budget), overhead per strategy and wall time per search."""
    benchmarks = args.benchmarks
    top = max(args.budgets)
    names = [*args.strategies, TPE]
    jobs: list[tuple[tuple[Any, ...], Callable[..., Any], tuple[Any, ...]]] = []
    # seed-major order mixes cheap and costly searches, so the time-left estimate holds early
    for seed in range(args.seeds):
        for benchmark in benchmarks:
            for name in names:
                jobs.append(
                    (("run", benchmark, name, seed), timed_search, (benchmark, name, seed, top))
                )
    for name in names:
        jobs.append((("overhead", name), overhead, (name, benchmarks[0], args.overhead_queries)))
    done: dict[tuple[Any, ...], Any] = {}
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task(f"{len(jobs)} searches on {args.workers} workers", total=len(jobs))
        started = time.perf_counter()
        for key, value in _execute(jobs, args.workers):
            done[key] = value
            progress.advance(task)
            if not console.is_terminal and len(done) % max(1, len(jobs) // 20) == 0:
                elapsed = time.perf_counter() - started
                left = elapsed / len(done) * (len(jobs) - len(done))
                console.print(
                    f"{len(done)}/{len(jobs)} in {elapsed / 60:.1f} min, ~{left / 60:.0f} min left"
                )
    comparisons = {}
    walls = {
        (benchmark, n): statistics.fmean(
            done[("run", benchmark, n, s)][1] for s in range(args.seeds)
        )
        for benchmark in benchmarks
        for n in names
    }
    for benchmark in benchmarks:
        runs = tuple(done[("run", benchmark, n, s)][0] for n in names for s in range(args.seeds))
        full = Comparison(benchmark, top, args.seeds, tuple(names), runs)
        for budget in args.budgets:
            comparisons[(benchmark, budget)] = full.at_budget(budget)
    costs = {name: done[("overhead", name)] for name in names}
    return comparisons, costs, walls


def _execute(jobs: list[Any], workers: int):
    if workers == 1:
        for key, function, arguments in jobs:
            yield key, function(*arguments)
        return
    with worker_pool(workers, threads=1) as pool:
        futures: dict[Future, Any] = {
            pool.schedule(function, args=arguments): key for key, function, arguments in jobs
        }
        for future in as_completed(futures):
            yield futures[future], future.result()


# --- command line --------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--datasets",
        default=",".join([*DATASETS, *SYNTHETIC]),
        help="comma-separated NAS-Bench-Graph datasets and synthetic tables (syn:chain8, syn:nk15)",
    )
    parser.add_argument("--budgets", default="50,100,200", help="comma-separated")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated")
    parser.add_argument("--workers", type=int, default=2, help="processes (one thread each)")
    parser.add_argument("--overhead-queries", type=int, default=1000)
    parser.add_argument(
        "--overhead-only",
        action="store_true",
        help="only time each strategy's ask + tell on the first dataset; print, write nothing",
    )
    parser.add_argument(
        "--no-repeats", dest="repeats", action="store_false", help="skip the repeats check"
    )
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke testing")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    parser.add_argument("--raw", type=Path, help="also write CSV tables and charts here")
    args = parser.parse_args(argv)
    if args.quick:
        args.datasets, args.budgets, args.seeds = "cora,proteins,syn:chain8", "10,20", 2
        args.repeats = False
        args.overhead_queries = 50
        args.out = args.out or Path(tempfile.gettempdir()) / "rlnas-quick" / "RESULTS.md"
    args.out = args.out or Path(__file__).parent / "RESULTS.md"
    args.datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    args.strategies = [name.strip() for name in args.strategies.split(",") if name.strip()]
    try:
        args.budgets = sorted({int(budget) for budget in args.budgets.split(",")})
    except ValueError:
        parser.error(f"--budgets takes integers, got {args.budgets!r}")
    for name in args.datasets:
        if name not in (*DATASETS, *SYNTHETIC):
            choices = ", ".join([*DATASETS, *SYNTHETIC])
            parser.error(f"unknown dataset {name!r}; choose from {choices}")
    args.benchmarks = [name if name in SYNTHETIC else f"nbg:{name}" for name in args.datasets]
    for name in args.strategies:
        if name not in STRATEGIES:
            parser.error(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    if not args.datasets or not args.strategies or min(args.budgets) < 1:
        parser.error("name at least one dataset and strategy, and budgets of at least 1")
    if args.seeds < 1 or args.workers < 1 or args.overhead_queries < 1:
        parser.error("--seeds, --workers and --overhead-queries must be at least 1")
    return args


def overhead_only(args: argparse.Namespace) -> None:
    """Each strategy's overhead on the first benchmark, printed: the cost check alone, minutes
    instead of the full run's hours."""
    names = [*args.strategies, TPE]
    jobs = [(name, overhead, (name, args.benchmarks[0], args.overhead_queries)) for name in names]
    console.print(f"CPU ms per proposal in ask + tell, {args.overhead_queries} proposals")
    for name, (ms, distinct) in _execute(jobs, args.workers):
        console.print(f"{name:<14} {ms:8.3f} ms  ({distinct} distinct)", highlight=False)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    # measure every strategy on one thread, in the pool's workers and in a serial run alike
    limit_threads(1)
    if args.overhead_only:
        overhead_only(args)
        return
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    comparisons, costs, walls = run_all(args)
    repeats = {
        name: overhead(name, "syn:chain8", REPEAT_PROPOSALS)
        for name in REPEAT_STRATEGIES
        if name in args.strategies and args.repeats
    }
    args.load = (load_start, os.getloadavg()[0])
    seconds = time.perf_counter() - started
    cpu_seconds = sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    text = section(comparisons, costs, repeats, walls, args, seconds, cpu_seconds)
    write_section(args.out, SECTION, text)
    if args.raw is not None:
        for (benchmark, budget), comparison in comparisons.items():
            write_outputs(comparison, args.raw / f"{benchmark.replace(':', '-')}-{budget}")
    console.print(
        targets(comparisons, costs, repeats), markup=False, highlight=False, soft_wrap=True
    )
    console.print(f"{args.out} written in {seconds / 60:.1f} min ({cpu_seconds / 60:.1f} CPU min)")


if __name__ == "__main__":
    main()
