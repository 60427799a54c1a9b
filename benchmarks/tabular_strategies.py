"""Every registered strategy against outside peers on NAS-Bench-Graph and families of synthetic
tables (``synthetic_tables.py``), same seeds, so defaults are judged where they were not tuned.

Peers (``fidelity_peers.py``): Optuna's TPE and GPSampler, each decision a categorical parameter,
and local search (White et al., UAI 2021); random search and regularized evolution are rlnas
strategies. Every searcher runs through ``rlnas.search`` (same loop, cache and budget of distinct
architectures). For each table, searcher and seed one search runs to the largest budget; smaller
budgets are read off its first queries (a strategy never sees the budget, so that is the same
run). GPSampler's cost grows with its trials, so it runs fewer seeds to a smaller budget
(``--gp-seeds``, ``--gp-budget``). Beside the searches: each strategy's overhead (CPU in ask +
tell per distinct architecture over a 300-architecture search of a 6 x 5 cell table and a
1,000-architecture search of NAS-Bench-Graph), and ``mpc`` / ``dp`` in progressive mode on
NAS-Bench-Graph grown node by node. The report (targets, paired tests, tables) is built in
``tabular_report.py``; its section of RESULTS.md (between its markers) is replaced.

    python benchmarks/tabular_strategies.py                 # the full run (see README.md)
    python benchmarks/tabular_strategies.py --quick         # a smoke test, under a minute
    python benchmarks/tabular_strategies.py --overhead-only --strategies mcts,ppo  # cost only
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console

from fidelity_peers import GPStrategy, LocalSearch, TPEStrategy
from results_file import write_section
from rlnas.compare import Comparison, Contender, run_contender, score_run, write_outputs
from rlnas.compare.runs import REPEATS_BEFORE_STOP
from rlnas.execution.process import limit_threads, worker_pool
from rlnas.rewards import Objective
from rlnas.search import evaluate_trial, search
from rlnas.space.nas_bench_graph import DATASETS
from rlnas.strategies import STRATEGIES, Strategy, make_strategy, strategy_class
from rlnas.trial import Trial
from synthetic_tables import SYNTHETIC, load
from tabular_report import (
    GP,
    OVERHEAD_RUNS,
    PROGRESSIVE,
    PROGRESSIVE_BUDGET,
    Results,
    Searched,
    section,
    targets,
)

SECTION = "tabular_strategies"
PEERS: dict[str, type[Strategy]] = {
    TPEStrategy.name: TPEStrategy,
    GP: GPStrategy,
    LocalSearch.name: LocalSearch,
}
PROGRESSIVE_DATASETS = ("nbg:cora", "nbg:citeseer", "nbg:photo")
"""progressive.py's datasets: NAS-Bench-Graph grown node by node."""
console = Console(stderr=True)


def searcher(name: str, benchmark: str, seed: int) -> Strategy:
    """A peer or a registered rlnas strategy with its defaults."""
    space = load(benchmark).space
    return PEERS[name](space, seed) if name in PEERS else make_strategy(name, space, seed=seed)


def run_search(benchmark: str, name: str, seed: int, budget: int) -> Searched:
    """One search, scored, and its CPU seconds (strategy, loop and look-ups)."""
    bench = load(benchmark)
    clock = time.process_time()
    result = search(
        bench.space,
        bench.evaluate,
        searcher(name, benchmark, seed),
        metric=bench.metric,
        budget=budget,
        seed=seed,
        max_repeats=REPEATS_BEFORE_STOP,
    )
    cpu = time.process_time() - clock
    queried = [trial.metrics if trial.reward is not None else None for trial in result.trials]
    return score_run(bench, name, seed, queried, budget), cpu


def run_progressive(benchmark: str, name: str, seed: int, budget: int) -> Searched:
    """``name`` in progressive mode (default episodes), as ``progressive.py`` runs it."""
    clock = time.process_time()
    contender = Contender(f"{name}/progressive", {"strategy": name, "mode": "progressive"})
    run = run_contender(load(benchmark), contender, seed, budget)
    return run, time.process_time() - clock


def overhead(name: str, benchmark: str, distinct: int) -> tuple[float, int, int]:
    """CPU ms in ask + tell per distinct architecture until ``distinct`` are found (at most 20
    proposals per architecture); the distinct count and the proposals. Repeats are told the
    cached result, as in ``rlnas.search``."""
    bench = load(benchmark)
    strategy = searcher(name, benchmark, 0)
    objective = Objective(bench.metric, "maximize")
    known: dict[str, Trial] = {}
    spent, proposals = 0.0, 0
    while len(known) < distinct and proposals < 20 * distinct:
        proposals += 1
        clock = time.process_time()
        [architecture] = strategy.ask(1)
        spent += time.process_time() - clock
        trial = known.get(architecture.key)
        if trial is None:
            trial = evaluate_trial(bench.evaluate, architecture, objective, number=len(known))
            known[architecture.key] = trial
        else:
            trial = replace(trial, cached=True)
        clock = time.process_time()
        strategy.tell(architecture, trial)
        spent += time.process_time() - clock
    return 1000 * spent / max(1, len(known)), len(known), proposals


# --- the run -------------------------------------------------------------------------------------


def jobs_of(args: argparse.Namespace) -> list[tuple[tuple[Any, ...], Any, tuple[Any, ...]]]:
    """(key, function, arguments) of every search, seed-major so that cheap and costly searches
    mix; GPSampler's few searches and the overhead runs, each worth many searches, are spread
    evenly through the rest, so the time-left estimate holds from the start."""
    jobs, heavy = [], []
    top = max(args.budgets)
    for seed in range(args.seeds):
        for table in args.benchmarks:
            for name in args.searchers:
                if name == GP:
                    if seed < args.gp_seeds:
                        arguments = (table, name, seed, min(top, args.gp_budget))
                        heavy.append((("run", table, name, seed), run_search, arguments))
                    continue
                jobs.append((("run", table, name, seed), run_search, (table, name, seed, top)))
            if table in args.progressive:
                for name in args.progressive_strategies:
                    arguments = (table, name, seed, min(top, PROGRESSIVE_BUDGET))
                    jobs.append((("progressive", table, name, seed), run_progressive, arguments))
    for table, distinct in args.overhead:
        for name in args.searchers:
            if name != GP:
                heavy.append((("overhead", name, table), overhead, (name, table, distinct)))
    every = (len(jobs) + len(heavy)) / max(1, len(heavy))
    for number, job in enumerate(heavy):
        jobs.insert(int(number * every), job)
    return jobs


def execute(jobs: list[Any], workers: int) -> Iterator[tuple[Any, Any]]:
    """Each job's key and result as it finishes, with progress lines and the time left."""
    started = time.perf_counter()
    step = max(1, len(jobs) // 40)
    for done, (key, value) in enumerate(_results(jobs, workers), start=1):
        yield key, value
        if done % step == 0 or done == len(jobs):
            elapsed = time.perf_counter() - started
            left = elapsed / done * (len(jobs) - done)
            console.print(
                f"{done}/{len(jobs)} jobs in {elapsed / 60:.1f} min, ~{left / 60:.1f} min left",
                highlight=False,
            )


def _results(jobs: list[Any], workers: int) -> Iterator[tuple[Any, Any]]:
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


def run_all(args: argparse.Namespace) -> Results:
    jobs = jobs_of(args)
    console.print(f"{len(jobs)} jobs on {args.workers} worker(s)", highlight=False)
    done = dict(execute(jobs, args.workers))
    runs = {key[1:]: value for key, value in done.items() if key[0] == "run"}
    progressive = {key[1:]: value for key, value in done.items() if key[0] == "progressive"}
    overheads = {key[1:]: value for key, value in done.items() if key[0] == "overhead"}
    return Results(
        args.benchmarks, args.searchers, args.budgets, runs, progressive, overheads, args.overhead
    )


# --- command line --------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    everything = ",".join([*DATASETS, *SYNTHETIC])
    parser.add_argument(
        "--datasets", default=everything, help=f"comma-separated tables (default {everything})"
    )
    parser.add_argument("--budgets", default="50,100,200", help="comma-separated")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="rlnas strategies")
    parser.add_argument("--peers", default=",".join(PEERS), help="comma-separated")
    parser.add_argument("--gp-seeds", type=int, default=3, help="seeds of GPSampler (slow)")
    parser.add_argument("--gp-budget", type=int, default=100, help="GPSampler's largest budget")
    parser.add_argument("--workers", type=int, default=2, help="processes (one thread each)")
    parser.add_argument(
        "--no-overhead", dest="timed", action="store_false", help="skip the overhead runs"
    )
    parser.add_argument(
        "--no-progressive",
        dest="grow",
        action="store_false",
        help="skip mpc and dp in progressive mode",
    )
    parser.add_argument(
        "--overhead-only",
        action="store_true",
        help="only time each strategy's ask + tell (see OVERHEAD_RUNS); print, write nothing",
    )
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke testing")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    parser.add_argument("--raw", type=Path, help="also write CSV tables and charts here")
    args = parser.parse_args(argv)
    args.overhead = list(OVERHEAD_RUNS)
    if args.quick:
        args.datasets, args.budgets, args.seeds = "cora,syn:chain8,syn:cell-1", "10,20", 2
        args.gp_seeds, args.gp_budget = 1, 20
        args.overhead = [(table, 30) for table, _ in OVERHEAD_RUNS]
        args.out = args.out or Path(tempfile.gettempdir()) / "rlnas-quick" / "RESULTS.md"
    args.out = args.out or Path(__file__).parent / "RESULTS.md"
    names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    args.strategies = [name.strip() for name in args.strategies.split(",") if name.strip()]
    peers = [name.strip() for name in args.peers.split(",") if name.strip()]
    try:
        args.budgets = sorted({int(budget) for budget in args.budgets.split(",")})
    except ValueError:
        parser.error(f"--budgets takes integers, got {args.budgets!r}")
    args.benchmarks = [
        name if name.startswith(("syn:", "nbg:")) else f"nbg:{name}" for name in names
    ]
    known = {*(f"nbg:{d}" for d in DATASETS), *SYNTHETIC}
    for name in args.benchmarks:
        if name not in known:
            parser.error(f"unknown table {name!r}; choose from {', '.join(sorted(known))}")
    for name in args.strategies:
        if name not in STRATEGIES:
            parser.error(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    for name in peers:
        if name not in PEERS:
            parser.error(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
    if not args.benchmarks or not args.strategies or min(args.budgets) < 1:
        parser.error("name at least one table and strategy, and budgets of at least 1")
    if min(args.seeds, args.workers, args.gp_seeds, args.gp_budget) < 1:
        parser.error("--seeds, --workers, --gp-seeds and --gp-budget must be at least 1")
    args.searchers = [*args.strategies, *peers]
    args.progressive_strategies = [
        name for name in PROGRESSIVE if name in args.strategies and strategy_class(name).progressive
    ]
    args.progressive = [t for t in PROGRESSIVE_DATASETS if t in args.benchmarks and args.grow]
    if not args.timed:
        args.overhead = []
    return args


def overhead_only(args: argparse.Namespace) -> None:
    """Each strategy's overhead, printed: the cost check alone, minutes instead of the full run."""
    jobs = [
        ((name, table), overhead, (name, table, distinct))
        for table, distinct in args.overhead
        for name in args.searchers
        if name != GP
    ]
    console.print("CPU ms in ask + tell per distinct architecture")
    for (name, table), (ms, distinct, proposals) in _results(jobs, args.workers):
        console.print(
            f"{table:<12} {name:<14} {ms:8.3f} ms  ({distinct} distinct in {proposals} proposals)",
            highlight=False,
        )


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    # measure every strategy on one thread, in the pool's workers and in a serial run alike
    limit_threads(1)
    if args.overhead_only:
        overhead_only(args)
        return
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    results = run_all(args)
    args.load = (load_start, os.getloadavg()[0])
    seconds = time.perf_counter() - started
    cpu_seconds = sum(
        usage.ru_utime + usage.ru_stime
        for usage in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    write_section(args.out, SECTION, section(results, args, seconds, cpu_seconds))
    if args.raw is not None:
        write_raw(results, args.raw)
    console.print(targets(results), markup=False, highlight=False, soft_wrap=True)
    console.print(f"{args.out} written in {seconds / 60:.1f} min ({cpu_seconds / 60:.1f} CPU min)")


def write_raw(results: Results, folder: Path) -> None:
    """``rlnas compare``'s outputs per table and budget, for the searchers with every seed."""
    names = tuple(name for name in results.searchers if name != GP)
    seeds = 1 + max(seed for _, _, seed in results.runs)
    top = max(results.budgets)
    for table in results.tables:
        runs = tuple(
            results.runs[(table, name, seed)][0] for name in names for seed in range(seeds)
        )
        full = Comparison(table, top, seeds, names, runs)
        for budget in results.budgets:
            write_outputs(full.at_budget(budget), folder / f"{table.replace(':', '-')}-{budget}")


if __name__ == "__main__":
    main()
