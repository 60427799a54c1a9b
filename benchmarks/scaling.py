"""Evaluations per minute with one and two workers, on worker processes and on Ray.

A real-training task (``digits``, ``chain-cnn``, ``--epochs`` per candidate): the same
``--evaluations`` architectures (random search, one seed, so every configuration trains the same
ones) evaluated through ``rlnas.search`` with each executor and worker count, each measured
``--repeats`` times, interleaved so that a slow patch of the machine hits them all. Each
evaluation trains on one torch thread, as ``rlnas search`` does. Ray is started once beforehand
(as a cluster would be) and its actors start inside the timed search, like the process
executor's workers.
Its section of RESULTS.md (between its markers) is replaced; the rest of the file is kept.

    python benchmarks/scaling.py            # the full run (see README.md)
    python benchmarks/scaling.py --quick    # a smoke test
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
from datetime import UTC, datetime
from pathlib import Path

import ray
import torch

import rlnas
from results_file import write_section
from rlnas.estimators.training import TrainingEvaluator
from rlnas.execution.ray_cluster import start_local_ray
from rlnas.tasks import load_task

SECTION = "scaling"
CONFIGURATIONS = [("serial", 1), ("process", 1), ("process", 2), ("ray", 1), ("ray", 2)]
SPEEDUP_TARGET = 1.3
RAY_OVERHEAD_TARGET = 0.10


def timed_search(executor: str, workers: int, evaluations: int, epochs: int) -> float:
    """Seconds for a search of ``evaluations`` architectures on ``workers`` workers."""
    task = load_task("digits")
    evaluator = TrainingEvaluator(task, "chain-cnn", epochs=epochs, seed=0, threads=1)
    started = time.perf_counter()
    result = rlnas.search(
        evaluator.search_space(),
        evaluator,
        "random",
        metric=task.metric,
        budget=evaluations,
        seed=0,
        workers=workers,
        executor=executor,
    )
    seconds = time.perf_counter() - started
    failed = [trial.error for trial in result.trials if trial.failed]
    assert not failed, f"{executor} x{workers}: {failed[:3]}"
    return seconds


def run_all(args: argparse.Namespace) -> dict[tuple[str, int], list[float]]:
    seconds: dict[tuple[str, int], list[float]] = {config: [] for config in CONFIGURATIONS}
    for repeat in range(args.repeats):
        for executor, workers in CONFIGURATIONS:
            took = timed_search(executor, workers, args.evaluations, args.epochs)
            seconds[executor, workers].append(took)
            print(f"repeat {repeat}: {executor} x{workers}: {took:.1f} s", file=sys.stderr)
    return seconds


def section(args: argparse.Namespace, seconds: dict[tuple[str, int], list[float]]) -> str:
    n = args.evaluations
    per_minute = {config: 60 * n / statistics.median(s) for config, s in seconds.items()}
    per_eval = {config: statistics.median(s) / n for config, s in seconds.items()}
    speedup = {ex: per_minute[ex, 2] / per_minute[ex, 1] for ex in ("process", "ray")}
    overhead = {w: per_eval["ray", w] / per_eval["process", w] - 1 for w in (1, 2)}
    lines = [
        "## Parallel evaluation: process workers and Ray",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python benchmarks/scaling.py "
        f"{shlex.join(sys.argv[1:])}` on {os.cpu_count()} CPUs ({platform.platform()}), Python "
        f"{platform.python_version()}, torch {torch.__version__}, Ray {ray.__version__}.",
        f"`digits`, `chain-cnn`, {args.epochs} epochs per candidate, the same {n} architectures "
        f"(random search, seed 0) per run; median of {args.repeats} runs, each configuration "
        "timed in every round.",
        "",
        "| executor | workers | evaluations / min | seconds / evaluation | runs (s) |",
        "|---|---:|---:|---:|---|",
    ]
    for config in CONFIGURATIONS:
        runs = ", ".join(f"{s:.1f}" for s in seconds[config])
        lines.append(
            f"| {config[0]} | {config[1]} | {per_minute[config]:.1f} | {per_eval[config]:.2f} "
            f"| {runs} |"
        )
    lines += [
        "",
        "Targets:",
        f"- 2 workers >= {SPEEDUP_TARGET}x one worker: process {speedup['process']:.2f}x "
        f"({_verdict(speedup['process'] >= SPEEDUP_TARGET)}), ray {speedup['ray']:.2f}x "
        f"({_verdict(speedup['ray'] >= SPEEDUP_TARGET)}).",
        f"- Ray within {RAY_OVERHEAD_TARGET:.0%} of process per evaluation: "
        + ", ".join(
            f"{w} worker(s) {overhead[w]:+.1%} ({_verdict(overhead[w] <= RAY_OVERHEAD_TARGET)})"
            for w in (1, 2)
        )
        + ".",
    ]
    return "\n".join(lines)


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evaluations", type=int, default=24)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="4 evaluations, 1 epoch, 1 repeat")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.evaluations, args.epochs, args.repeats = 4, 1, 1
        args.out = args.out or Path(tempfile.gettempdir()) / "rlnas-quick" / "RESULTS.md"
    args.out = args.out or Path(__file__).parent / "RESULTS.md"
    with tempfile.TemporaryDirectory(prefix="rlnas-") as scratch:
        start_local_ray(workers=2, temp_dir=Path(scratch) / "ray")
        try:
            seconds = run_all(args)
        finally:
            ray.shutdown()
    write_section(args.out, SECTION, section(args, seconds))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
