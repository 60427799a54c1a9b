"""RL against random search with real training: the final model's test accuracy, and the cost.

For each task, strategy and seed: a search that trains every candidate (``TrainingEvaluator``,
``--epochs`` per candidate, ``--budget`` distinct architectures, through ``rlnas.search``), then
``train_final`` of the best one (``--final-epochs`` on training + validation rows) and its
accuracy on the test rows, which the search never saw. Both strategies get the same budget, the
same training settings and the same seeds. Before the searches, typical digits CNNs (sampled
from ``chain-cnn``) are each trained and scored for 10 epochs on one thread, and timed.
Its section of RESULTS.md (between its markers) is replaced; the rest of the file is kept.

    python benchmarks/training_search.py            # the full run (see README.md)
    python benchmarks/training_search.py --quick    # a smoke test, about a minute
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
from results_file import write_section
from rlnas.estimators.training import TrainingEvaluator
from rlnas.execution.process import limit_threads, worker_pool
from rlnas.export import train_final
from rlnas.space.models import default_space_name
from rlnas.tasks import load_task

SECTION = "training_search"
RL_STRATEGY = "ppo"
BASELINE = "random"
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
    strategy: str
    seed: int
    validation_accuracy: float  # the best architecture's, as the search scored it
    test_accuracy: float  # of the retrained best architecture
    search_s: float
    search_cpu_s: float  # the worker's CPU time: no time spent waiting for the CPU
    evaluated: int  # distinct architectures trained (failed ones included)
    failed: int
    final_s: float

    @property
    def per_minute(self) -> float:
        return 60 * self.evaluated / self.search_s


def search_and_train(
    task_name: str, strategy: str, seed: int, args: argparse.Namespace, directory: Path
) -> Run:
    """Search ``task_name`` with ``strategy``, then train the best architecture and test it."""
    torch.set_num_threads(1)
    task = load_task(task_name)
    space = default_space_name(task.input_shape)
    evaluator = TrainingEvaluator(task, space, epochs=args.epochs, seed=seed)
    store = directory / f"{task_name}-{strategy}-{seed}.db"
    started, cpu_started = time.perf_counter(), time.process_time()
    result = rlnas.search(
        evaluator.search_space(),
        evaluator,
        strategy=strategy,
        metric=task.metric,
        direction=task.direction,
        budget=args.budget,
        seed=seed,
        store=store,
        config={"task": task_name, "space": space, "epochs": args.epochs},
    )
    search_s = time.perf_counter() - started
    search_cpu_s = time.process_time() - cpu_started
    started = time.perf_counter()
    final = train_final(store, epochs=args.final_epochs, out_dir=directory / store.stem)
    final_s = time.perf_counter() - started
    evaluated = [trial for trial in result.trials if not trial.cached]
    return Run(
        task=task_name,
        space=space,
        strategy=strategy,
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


def run_all(args: argparse.Namespace, directory: Path) -> list[Run]:
    """Every (task, strategy, seed) run, seed-major so that a partial log covers both strategies."""
    jobs = [
        (task, strategy, seed)
        for seed in range(args.seeds)
        for task in args.tasks
        for strategy in (RL_STRATEGY, BASELINE)
    ]
    runs = []
    with worker_pool(args.workers, threads=1) as pool:
        futures = [pool.schedule(search_and_train, args=(*job, args, directory)) for job in jobs]
        for number, future in enumerate(futures, start=1):
            run = future.result()
            runs.append(run)
            print(
                f"[{number}/{len(jobs)}] {run.task} {run.strategy} seed {run.seed}: "
                f"test accuracy {run.test_accuracy:.4f}, search {run.search_s:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return runs


# --- the report ----------------------------------------------------------------------------------


def _mean_std(values: list[float], digits: int) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {std:.{digits}f}"


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def targets(runs: list[Run], timings: list[Timing], tasks: list[str]) -> str:
    """The issue's two targets, each MET or MISSED with the numbers behind it."""
    means = {
        (task, strategy): statistics.fmean(
            run.test_accuracy for run in runs if (run.task, run.strategy) == (task, strategy)
        )
        for task in tasks
        for strategy in (RL_STRATEGY, BASELINE)
    }
    beats = all(means[(task, RL_STRATEGY)] > means[(task, BASELINE)] for task in tasks)
    detail = "; ".join(
        f"{task}: {means[(task, RL_STRATEGY)]:.4f} vs {means[(task, BASELINE)]:.4f}"
        for task in tasks
    )
    typical = statistics.median(timing.wall_s for timing in timings)
    typical_cpu = statistics.median(timing.cpu_s for timing in timings)
    fast = _verdict(typical < TIMED_LIMIT_S)
    return "\n".join(
        [
            f"- {RL_STRATEGY}'s mean final test accuracy above {BASELINE} search's mean on every "
            f"task: **{_verdict(beats)}** ({detail})",
            f"- a {TIMED_EPOCHS}-epoch digits CNN evaluated in under {TIMED_LIMIT_S:g} s (median "
            f"of {len(timings)} sampled chain-cnn architectures, wall time): **{fast}** "
            f"({typical:.2f} s; CPU time {typical_cpu:.2f} s)",
        ]
    )


def section(
    runs: list[Run], timings: list[Timing], args: argparse.Namespace, seconds: float
) -> str:
    spaces = ", ".join(sorted({f"{run.task}: {run.space}" for run in runs}))
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
        f"Each search trains {args.budget} distinct architectures of the task's default space "
        f"({spaces}) for {args.epochs} epoch(s) each and keeps the best "
        "by validation accuracy; train-final retrains it for "
        f"{args.final_epochs} epochs on training + validation rows and scores the test rows. "
        f"{args.seeds} seeds (0-{args.seeds - 1}), the same for both strategies. Search time is "
        "wall time, and architectures per minute (distinct ones trained) are per wall minute; "
        "the search's CPU time shows how much of the wall time was spent waiting for the CPU.",
        "",
        "### Targets",
        "",
        targets(runs, timings, args.tasks),
        "",
        "### Final test accuracy and cost (mean ± std over seeds)",
        "",
        "| task | strategy | final test accuracy | best validation accuracy | search time (s) | "
        "search CPU time (s) | architectures / min | failed | train-final (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for task in args.tasks:
        for strategy in (RL_STRATEGY, BASELINE):
            group = [run for run in runs if (run.task, run.strategy) == (task, strategy)]
            lines.append(
                f"| {task} | {strategy} "
                f"| {_mean_std([run.test_accuracy for run in group], 4)} "
                f"| {_mean_std([run.validation_accuracy for run in group], 4)} "
                f"| {_mean_std([run.search_s for run in group], 1)} "
                f"| {_mean_std([run.search_cpu_s for run in group], 1)} "
                f"| {_mean_std([run.per_minute for run in group], 1)} "
                f"| {sum(run.failed for run in group)} "
                f"| {_mean_std([run.final_s for run in group], 1)} |"
            )
    seeds = range(args.seeds)
    lines += [
        "",
        "### Final test accuracy per seed",
        "",
        "| task | strategy | " + " | ".join(f"seed {seed}" for seed in seeds) + " |",
        "|---|---|" + "---:|" * args.seeds,
    ]
    for run_group in _by_task_and_strategy(runs, args.tasks):
        first = run_group[0]
        accuracies = " | ".join(f"{run.test_accuracy:.4f}" for run in run_group)
        lines.append(f"| {first.task} | {first.strategy} | {accuracies} |")
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


def _by_task_and_strategy(runs: list[Run], tasks: list[str]) -> list[list[Run]]:
    return [
        sorted((r for r in runs if (r.task, r.strategy) == (task, strategy)), key=lambda r: r.seed)
        for task in tasks
        for strategy in (RL_STRATEGY, BASELINE)
    ]


# --- command line --------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="digits,mnist1d", help="comma-separated")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=20, help="distinct architectures")
    parser.add_argument("--epochs", type=int, default=3, help="per searched architecture")
    parser.add_argument("--final-epochs", type=int, default=15)
    parser.add_argument("--timed", type=int, default=5, help="digits CNNs timed for 10 epochs")
    parser.add_argument("--workers", type=int, default=2, help="processes (one thread each)")
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke testing")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.budget, args.epochs, args.final_epochs, args.timed = 2, 2, 1, 1, 1
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
    with tempfile.TemporaryDirectory(prefix="rlnas-training-search-") as directory:
        runs = run_all(args, Path(directory))
    seconds = time.perf_counter() - started
    write_section(args.out, SECTION, section(runs, timings, args, seconds))
    print(targets(runs, timings, args.tasks), file=sys.stderr)
    print(f"{args.out} written in {seconds / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
