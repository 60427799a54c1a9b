"""A model-based RL strategy against random search, evolution and TPE with real training.

For each task (digits: chain-cnn, mnist1d: conv1d), seed and method: a search that trains every
candidate (``TrainingEvaluator``, ``--epochs`` per candidate, ``--budget`` distinct architectures,
through ``rlnas.search``), then ``train_final`` of the best one (``--final-epochs`` on training +
validation rows) and its accuracy on the test rows, which the search never saw. The methods are
``--strategy`` (a model-based one: mcts, dyna-ppo or dyna-q), ``random``, ``evolution``
(regularized evolution) and Optuna's TPE (``fidelity_peers.TPEStrategy``); all get the same
evaluator, budget and seeds, and ``--strategy`` is paired against each of the others by seed with
a Wilcoxon signed-rank test. Before the searches, typical digits CNNs (sampled from ``chain-cnn``)
are each trained and scored for 10 epochs on one thread, and timed. Its section of RESULTS.md
(between its markers) is rewritten after every finished search; the rest of the file is kept.

    python benchmarks/training_search.py            # the full run (see README.md)
    python benchmarks/training_search.py --quick    # a smoke test, a minute or two
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

import rlnas
from fidelity_peers import TPEStrategy
from results_file import write_section
from rlnas.estimators.training import TrainingEvaluator
from rlnas.execution.process import limit_threads, worker_pool
from rlnas.export import train_final
from rlnas.space.models import default_space_name
from rlnas.tasks import load_task
from seeded_runs import by_seed, mean_std, paired_test

SECTION = "training_search"
MODEL_BASED = ("mcts", "dyna-ppo", "dyna-q")
PEERS = ("random", "evolution", TPEStrategy.name)
TIMED_EPOCHS = 10
TIMED_LIMIT_S = 2.0


@dataclass(frozen=True)
class Timing:
    """One timed 10-epoch evaluation."""

    wall_s: float
    cpu_s: float
    params: int


@dataclass(frozen=True)
class Run:
    """One search and the final training of its best architecture."""

    task: str
    space: str
    method: str
    seed: int
    validation_accuracy: float  # the best architecture's, as the search scored it
    test_accuracy: float  # of the retrained best architecture
    search_s: float
    search_cpu_s: float  # the worker's CPU time: no time spent waiting for the CPU
    evaluated: int  # distinct architectures trained (failed ones included)
    failed: int
    final_s: float


def search_and_train(
    task_name: str, method: str, seed: int, args: argparse.Namespace, directory: Path
) -> Run:
    """Search ``task_name`` with ``method``, then train the best architecture and test it."""
    torch.set_num_threads(1)
    task = load_task(task_name)
    space_name = default_space_name(task.input_shape)
    evaluator = TrainingEvaluator(task, space_name, epochs=args.epochs, seed=seed)
    space = evaluator.search_space()
    strategy = TPEStrategy(space, seed) if method == TPEStrategy.name else method
    store = directory / f"{task_name}-{method}-{seed}.db"
    started, cpu_started = time.perf_counter(), time.process_time()
    result = rlnas.search(
        space,
        evaluator,
        strategy=strategy,
        metric=task.metric,
        direction=task.direction,
        budget=args.budget,
        seed=seed,
        store=store,
        config={"task": task_name, "space": space_name, "epochs": args.epochs},
    )
    search_s = time.perf_counter() - started
    search_cpu_s = time.process_time() - cpu_started
    started = time.perf_counter()
    final = train_final(store, epochs=args.final_epochs, out_dir=directory / store.stem)
    final_s = time.perf_counter() - started
    evaluated = [trial for trial in result.trials if not trial.cached]
    return Run(
        task=task_name,
        space=space_name,
        method=method,
        seed=seed,
        validation_accuracy=result.best.metrics["accuracy"],
        test_accuracy=final.test_metrics["accuracy"],
        search_s=search_s,
        search_cpu_s=search_cpu_s,
        evaluated=len(evaluated),
        failed=sum(trial.failed for trial in evaluated),
        final_s=final_s,
    )


def time_digits_cnns(count: int) -> list[Timing]:
    """Wall and CPU seconds of training and scoring ``count`` sampled digits CNNs for 10 epochs.

    The seconds cover everything the search pays per candidate: building, counting FLOPs,
    training, validating each epoch and measuring latency. On one thread the CPU time leaves
    out the time spent waiting while other work held the CPU.
    """
    torch.set_num_threads(1)
    evaluator = TrainingEvaluator(load_task("digits"), "chain-cnn", epochs=TIMED_EPOCHS, seed=0)
    space = evaluator.search_space()
    rng = np.random.default_rng(0)
    timings = []
    for _ in range(count):
        architecture = space.sample(rng)
        started, cpu_started = time.perf_counter(), time.process_time()
        metrics = evaluator(architecture)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        timings.append(Timing(wall, cpu, int(metrics["params"])))
    return timings


# --- the report ----------------------------------------------------------------------------------


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def _mean(group: dict[int, Run]) -> float:
    return statistics.fmean(run.test_accuracy for run in group.values())


def targets(runs: list[Run], timings: list[Timing], args: argparse.Namespace) -> list[str]:
    """The issue's target against each peer, and the older timing one, MET or MISSED with the
    numbers behind them."""
    lines = []
    for peer in PEERS:
        details, met = [], True
        for task in args.tasks:
            ours, theirs = by_seed(runs, task, args.strategy), by_seed(runs, task, peer)
            if not ours or not theirs:
                met = False
                details.append(f"{task}: not run")
                continue
            met &= _mean(ours) >= _mean(theirs)
            details.append(
                f"{task}: {_mean(ours):.4f} vs {_mean(theirs):.4f}, {paired_test(ours, theirs)}"
            )
        lines.append(
            f"- {args.strategy}'s mean final test accuracy at least {peer}'s on every task: "
            f"**{_verdict(met)}** ({'; '.join(details)})"
        )
    typical = statistics.median(timing.wall_s for timing in timings)
    typical_cpu = statistics.median(timing.cpu_s for timing in timings)
    lines.append(
        f"- a {TIMED_EPOCHS}-epoch digits CNN evaluated in under {TIMED_LIMIT_S:g} s (median "
        f"of {len(timings)} sampled chain-cnn architectures, wall time): "
        f"**{_verdict(typical < TIMED_LIMIT_S)}** ({typical:.2f} s; CPU time {typical_cpu:.2f} s)"
    )
    return lines


def section(
    runs: list[Run], timings: list[Timing], args: argparse.Namespace, seconds: float
) -> str:
    methods = [args.strategy, *PEERS]
    spaces = ", ".join(sorted({f"{run.task}: {run.space}" for run in runs}))
    seeds = sorted({run.seed for run in runs})
    lines = [
        f"## Search with real training ({', '.join(args.tasks)})",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min by",
        f"`{shlex.join(['python', *sys.argv])}`",
        f"on {os.cpu_count()} CPUs ({platform.platform()}), {args.workers} worker(s) of one "
        f"thread each, Python {platform.python_version()}, torch {torch.__version__}, numpy "
        f"{np.__version__}. Other work may have shared the CPUs, which can only slow the times: "
        f"the 1-minute load average was {args.load_before:.1f} at the start and "
        f"{os.getloadavg()[0]:.1f} at the end.",
        "",
        *(
            []
            if len(runs) == args.planned
            else [
                f"**Partial run: {len(runs)} of {args.planned} searches finished** (seeds "
                f"{', '.join(map(str, seeds))}; the last may lack some methods).",
                "",
            ]
        ),
        f"Each search trains {args.budget} distinct architectures of the task's default space "
        f"({spaces}) for {args.epochs} epoch(s) each with the same `TrainingEvaluator` and keeps "
        "the best by validation accuracy; train-final retrains it for "
        f"{args.final_epochs} epochs on training + validation rows and scores the test rows. "
        f"Methods: {args.strategy} (model-based RL), random search, regularized evolution "
        "(`evolution`) and Optuna's TPE (seeded `TPESampler`, each decision a categorical "
        "parameter, a combination the space forbids told accuracy 0; no pruner), all through "
        f"`rlnas.search`. {args.seeds} seeds (0-{args.seeds - 1}), the same for every method. "
        f"p: paired Wilcoxon signed-rank test of the final test accuracies (by seed) of "
        f"{args.strategy} against the method. Search time is wall time; the search's CPU time "
        "shows how much of it was spent waiting for the CPU.",
        "",
        "### Targets",
        "",
        *targets(runs, timings, args),
        "",
        "### Final test accuracy and cost (mean ± std over seeds)",
        "",
        f"| task | method | final test accuracy | vs {args.strategy} | chosen architecture's "
        "validation accuracy | search wall (s) | search CPU (s) | failed | train-final (s) |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for task in args.tasks:
        ours = by_seed(runs, task, args.strategy)
        for method in methods:
            group = by_seed(runs, task, method)
            done = list(group.values())
            versus = "-" if method == args.strategy else paired_test(ours, group)
            lines.append(
                f"| {task} | {method} | {mean_std([r.test_accuracy for r in done], 4)} "
                f"| {versus} | {mean_std([r.validation_accuracy for r in done], 4)} "
                f"| {mean_std([r.search_s for r in done], 1)} "
                f"| {mean_std([r.search_cpu_s for r in done], 1)} "
                f"| {sum(r.failed for r in done)} "
                f"| {mean_std([r.final_s for r in done], 1)} |"
            )
    lines += [
        "",
        "### Final test accuracy per seed",
        "",
        "| task | method | " + " | ".join(f"seed {seed}" for seed in seeds) + " |",
        "|---|---|" + "---:|" * len(seeds),
    ]
    for task in args.tasks:
        for method in methods:
            group = by_seed(runs, task, method)
            cells = " | ".join(
                f"{group[seed].test_accuracy:.4f}" if seed in group else "-" for seed in seeds
            )
            lines.append(f"| {task} | {method} | {cells} |")
    lines += [
        "",
        f"### {TIMED_EPOCHS}-epoch digits CNN evaluations",
        "",
        "Build, FLOP count, 10 epochs of training with validation, latency measurement; one "
        "thread, before the searches start. CPU time leaves out time spent waiting for a busy CPU.",
        "",
        "| architecture | parameters | wall time (s) | CPU time (s) |",
        "|---:|---:|---:|---:|",
        *(
            f"| {number} | {timing.params} | {timing.wall_s:.2f} | {timing.cpu_s:.2f} |"
            for number, timing in enumerate(timings)
        ),
    ]
    return "\n".join(lines)


# --- command line --------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="digits,mnist1d", help="comma-separated")
    parser.add_argument("--strategy", default="mcts", choices=MODEL_BASED, help="model-based RL")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=40, help="distinct architectures")
    parser.add_argument("--epochs", type=int, default=3, help="per searched architecture")
    parser.add_argument("--final-epochs", type=int, default=15)
    parser.add_argument("--timed", type=int, default=5, help="digits CNNs timed for 10 epochs")
    parser.add_argument("--workers", type=int, default=2, help="processes (one thread each)")
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke testing")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.budget, args.epochs, args.final_epochs, args.timed = 1, 4, 1, 1, 1
        args.out = args.out or Path(tempfile.gettempdir()) / "rlnas-quick" / "RESULTS.md"
    args.out = args.out or Path(__file__).parent / "RESULTS.md"
    args.tasks = [name.strip() for name in args.tasks.split(",") if name.strip()]
    numbers = (args.seeds, args.budget, args.epochs, args.final_epochs, args.timed, args.workers)
    if not args.tasks or min(numbers) < 1:
        parser.error("name a task; seeds, budget, epochs, timed and workers must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    args.load_before = os.getloadavg()[0]
    limit_threads(1)
    started = time.perf_counter()
    timings = time_digits_cnns(args.timed)
    jobs = [
        (task, method, seed)
        for seed in range(args.seeds)
        for task in args.tasks
        for method in (args.strategy, *PEERS)
    ]
    args.planned = len(jobs)
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="rlnas-training-search-") as directory,
        worker_pool(args.workers, threads=1) as pool,
    ):
        futures = [
            pool.schedule(search_and_train, args=(*job, args, Path(directory))) for job in jobs
        ]
        for number, future in enumerate(futures, start=1):
            run = future.result()
            runs.append(run)
            print(
                f"[{number}/{len(jobs)}] {run.task} {run.method} seed {run.seed}: "
                f"test accuracy {run.test_accuracy:.4f}, search {run.search_s:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            seconds = time.perf_counter() - started
            write_section(args.out, SECTION, section(runs, timings, args, seconds))
    print("\n".join(targets(runs, timings, args)), file=sys.stderr)
    print(f"{args.out} written in {(time.perf_counter() - started) / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
