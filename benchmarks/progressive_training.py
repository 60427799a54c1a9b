"""Progressive growth with real training: inherited weights against training every step anew.

For each task (digits: chain-cnn, mnist1d: conv1d), seed and method, one ``q-learning`` search
(MetaQNN's strategy, which grows networks) with the same compute: ``--compute`` training epochs
in all (``epoch_budget``). Methods: progressive with inheritance (a grown step starts from its
parent's trained weights and trains ``--step-epochs``; the first step of an episode trains
``--epochs`` from scratch), progressive training every step from scratch for ``--epochs``, and
one-shot (whole networks, ``--epochs`` each). Each search's best is retrained from scratch by
``train_final`` (``--final-epochs`` on training + validation rows) and tested; the inheriting
search's best is also fine-tuned from its inherited weights (``train-final --from-inherited``).

The cost of an inherited step: for up to ``--sample`` inherited children per inheriting search,
the same child is trained from scratch epoch by epoch until its validation accuracy reaches the
inherited child's (or for ``--epochs``); its training seconds and epochs are compared with the
inherited step's. Run by ``benchmarks/progressive.py --training`` (its own RESULTS.md section).
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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch

import rlnas
from results_file import write_section
from rlnas.estimators.training import TrainingEvaluator
from rlnas.execution.process import limit_threads, worker_pool
from rlnas.export import train_final
from rlnas.tasks import load_task
from seeded_runs import by_seed, mean_std, paired_test

SECTION = "progressive_training"
SPACES = {"digits": "chain-cnn", "mnist1d": "conv1d"}
STRATEGY = "q-learning"
INHERIT, SCRATCH, ONE_SHOT = "progressive+inherit", "progressive", "one-shot"
METHODS = {
    INHERIT: {"mode": "progressive", "inherit": True},
    SCRATCH: {"mode": "progressive"},
    ONE_SHOT: {"mode": "one-shot"},
}


@dataclass(frozen=True)
class StepCost:
    """An inherited child against the same child trained from scratch to its accuracy."""

    inherited_s: float
    inherited_epochs: int
    scratch_s: float
    scratch_epochs: int
    reached: bool


@dataclass(frozen=True)
class Run:
    task: str
    method: str
    seed: int
    test_accuracy: float
    evaluated: int
    inherited: int
    cpu_s: float
    fine_tuned_accuracy: float | None = None
    steps: tuple[StepCost, ...] = field(default_factory=tuple)
    starts: tuple[str, ...] = ()
    """How each evaluated network's training began (the inheriting search's)."""


def search_and_test(task: str, method: str, seed: int, args: argparse.Namespace, folder: Path):
    """One search at the equal compute, train-final of its best, and for the inheriting search
    the cost of its inherited steps."""
    torch.set_num_threads(1)
    store = folder / f"{task}-{method}-{seed}.db".replace("+", "-")
    config = rlnas.SearchConfig(
        task=task,
        space=SPACES[task],
        epochs=args.epochs,
        step_epochs=args.step_epochs,
        strategy=STRATEGY,
        strategy_option={"epsilon_length": max(1, args.compute // args.epochs)},
        budget=10_000,
        epoch_budget=args.compute,
        seed=seed,
        store=store,
        name="run",
        **METHODS[method],
    )
    cpu = time.process_time()
    result = rlnas.run(config)
    cpu_s = time.process_time() - cpu
    trials = [t for t in result.trials if not t.cached and not t.failed]
    inherited = [t for t in trials if (t.start or "").startswith("inherited")]
    out = folder / store.stem
    final = train_final(store, epochs=args.final_epochs, out_dir=out / "scratch")
    fine_tuned, steps = None, ()
    if method == INHERIT:
        tuned = train_final(
            store, epochs=args.final_epochs, out_dir=out / "tuned", from_inherited=True
        )
        fine_tuned = tuned.test_metrics["accuracy"]
        steps = tuple(step_cost(task, seed, t, args) for t in inherited[: args.sample])
    return Run(
        task,
        method,
        seed,
        final.test_metrics["accuracy"],
        len(trials),
        len(inherited),
        cpu_s,
        fine_tuned,
        steps,
        tuple(t.start or "" for t in trials) if method == INHERIT else (),
    )


def step_cost(task: str, seed: int, trial: rlnas.Trial, args: argparse.Namespace) -> StepCost:
    """Train ``trial``'s network from scratch, epoch by epoch, until it reaches the accuracy
    its inherited training reached (with the search's trainer and seed)."""
    evaluator = TrainingEvaluator(load_task(task), SPACES[task], epochs=args.epochs, seed=seed)
    target, state, seconds = trial.metrics["accuracy"], None, 0.0
    for epoch in range(1, args.epochs + 1):
        progress = evaluator.train_to(trial.architecture, epoch, state)
        state, seconds = progress.state, seconds + progress.metrics["train_time_s"]
        if progress.metrics["accuracy"] >= target:
            break
    return StepCost(
        trial.metrics["train_time_s"],
        int(trial.metrics["epochs"]),
        seconds,
        epoch,
        progress.metrics["accuracy"] >= target,
    )


# --- the report ----------------------------------------------------------------------------------


def step_ratio(runs: list[Run], task: str | None = None) -> tuple[float, float, int, int] | None:
    """Inherited steps' training seconds and epochs over those from scratch to the same
    accuracy (sums over the sample), the sample's size and how many scratch trainings reached it."""
    steps = [s for r in runs if task in (None, r.task) for s in r.steps]
    if not steps:
        return None
    seconds = sum(s.inherited_s for s in steps) / max(1e-9, sum(s.scratch_s for s in steps))
    epochs = sum(s.inherited_epochs for s in steps) / sum(s.scratch_epochs for s in steps)
    return seconds, epochs, len(steps), sum(s.reached for s in steps)


def targets(runs: list[Run], tasks: list[str], max_epochs: int) -> list[str]:
    lines = []
    ratio = step_ratio(runs)
    if ratio is None:
        lines.append("(a) an inherited step costs at most 1/3 of training from scratch: no sample.")
    else:
        seconds, ratio_epochs, count, reached = ratio
        verdict = "MET" if seconds <= 1 / 3 else "MISSED"
        lines.append(
            f"(a) an inherited step costs at most 1/3 of training the same network from scratch "
            f"to the same validation accuracy: {verdict}: {seconds:.2f} of the training seconds "
            f"({ratio_epochs:.2f} of the epochs) over {count} inherited children ({reached} "
            f"reached by scratch training within {max_epochs} epochs; the others count all "
            f"{max_epochs}, which favours scratch)."
        )
    for task in tasks:
        inherit, one_shot = by_seed(runs, task, INHERIT), by_seed(runs, task, ONE_SHOT)
        if not inherit or not one_shot:
            continue
        a = statistics.fmean(r.test_accuracy for r in inherit.values())
        b = statistics.fmean(r.test_accuracy for r in one_shot.values())
        verdict = "MET" if a >= b else "MISSED"
        lines.append(
            f"(b) {task}: progressive+inherit mean final test accuracy >= one-shot's: {verdict}: "
            f"{100 * a:.2f} % vs {100 * b:.2f} % (Wilcoxon {paired_test(inherit, one_shot)})."
        )
    return lines


def section(runs: list[Run], args: argparse.Namespace, seconds: float, done: bool) -> str:
    status = "" if done else f" (partial: {len(runs)} of {args.planned} searches)"
    lines = [
        "## Progressive growth with inherited weights (real training)" + status,
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min by",
        f"`{shlex.join(['python', *sys.argv])}`",
        f"on {os.cpu_count()} CPUs ({platform.platform()}), {args.workers} worker process(es) "
        f"of one thread, Python {platform.python_version()}, torch {torch.__version__}.",
        "",
        f"Every search: `{STRATEGY}` with {args.compute} training epochs in all (`epoch_budget`), "
        f"{args.epochs} epochs per network trained from scratch, {args.step_epochs} per inherited "
        f"step; its best retrained from scratch for {args.final_epochs} epochs on training + "
        "validation rows and tested (`train_final`); the inheriting search's best also fine-"
        "tuned from its inherited weights (`--from-inherited`). Mean ± std over "
        f"{args.seeds} seeds; networks evaluated are distinct ones; CPU seconds are the search's "
        "(process time) per evaluated network. Wilcoxon: paired by seed, final test accuracy.",
        "",
        *targets(runs, args.tasks, args.epochs),
        "",
        "| task | method | final test acc. (%) | fine-tuned (%) | networks | inherited | "
        "CPU s / network | Wilcoxon vs inherit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in args.tasks:
        inherit = by_seed(runs, task, INHERIT)
        for method in METHODS:
            group = list(by_seed(runs, task, method).values())
            if not group:
                continue
            tuned = [r.fine_tuned_accuracy for r in group if r.fine_tuned_accuracy is not None]
            versus = "" if method == INHERIT else paired_test(by_seed(runs, task, method), inherit)
            per_network = [r.cpu_s / max(1, r.evaluated) for r in group]
            lines.append(
                f"| {task} | {method} | {mean_std([r.test_accuracy for r in group], scale=100)} | "
                f"{mean_std(tuned, scale=100) if tuned else ''} | "
                f"{mean_std([r.evaluated for r in group], digits=1)} | "
                f"{mean_std([r.inherited for r in group], digits=1)} | "
                f"{mean_std(per_network)} | {versus} |"
            )
    lines += ["", "How the inheriting searches' networks started training, per task:", ""]
    for task in args.tasks:
        starts = [start for r in by_seed(runs, task, INHERIT).values() for start in r.starts]
        counts = sorted(((starts.count(s), s) for s in set(starts)), reverse=True)
        lines.append(f"- {task}: " + "; ".join(f"{n}× {start}" for n, start in counts))
    lines += ["", "Inherited step against the same child from scratch, per task:", ""]
    for task in args.tasks:
        ratio = step_ratio(runs, task)
        if ratio is not None:
            seconds_ratio, epochs, count, reached = ratio
            lines.append(
                f"- {task}: {count} children, training seconds {seconds_ratio:.2f} and epochs "
                f"{epochs:.2f} of scratch's; scratch reached the inherited accuracy for {reached}."
            )
    return "\n".join(lines).rstrip()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the real-training part (``progressive.py --training``)."""
    parser.add_argument("--tasks", default="digits,mnist1d", help="training: comma-separated")
    parser.add_argument("--epochs", type=int, default=6, help="training: from scratch")
    parser.add_argument("--step-epochs", type=int, default=1, help="training: inherited step")
    parser.add_argument("--compute", type=int, default=60, help="training: epochs per search")
    parser.add_argument("--final-epochs", type=int, default=6, help="training: train_final")
    parser.add_argument("--sample", type=int, default=3, help="training: children measured")


def quick(args: argparse.Namespace) -> None:
    args.seeds, args.compute, args.epochs, args.final_epochs, args.sample = 1, 12, 3, 2, 2


def main(args: argparse.Namespace) -> None:
    """Run every (task, method, seed) on the worker pool; write the section as runs arrive."""
    if isinstance(args.tasks, str):
        args.tasks = [name.strip() for name in args.tasks.split(",") if name.strip()]
    limit_threads(1)
    started = time.perf_counter()
    jobs = [(t, m, s) for s in range(args.seeds) for t in args.tasks for m in METHODS]
    args.planned = len(jobs)
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="rlnas-progressive-training-") as folder,
        worker_pool(args.workers, threads=1) as pool,
    ):
        futures = [pool.schedule(search_and_test, args=(*job, args, Path(folder))) for job in jobs]
        for number, future in enumerate(futures, start=1):
            run = future.result()
            runs.append(run)
            print(
                f"[{number}/{len(jobs)}] {run.task} {run.method} seed {run.seed}: test "
                f"{run.test_accuracy:.4f}, {run.evaluated} networks ({run.inherited} inherited), "
                f"{run.cpu_s:.1f} CPU s",
                file=sys.stderr,
                flush=True,
            )
            seconds = time.perf_counter() - started
            write_section(args.out, SECTION, section(runs, args, seconds, number == len(jobs)))
    print("\n".join(targets(runs, args.tasks, args.epochs)), file=sys.stderr)
    seconds = time.perf_counter() - started
    print(f"{args.out} written in {seconds / 60:.1f} min", file=sys.stderr)
