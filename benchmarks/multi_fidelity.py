"""Multi-fidelity search at equal compute: rlnas's schedulers against Optuna's pruners.

For each task (digits: chain-cnn, mnist1d: conv1d), seed and method, one search of candidates
trained up to ``--epochs`` (9) each, all with the same ``TrainingEvaluator`` (the same trainer,
recipe and seed) and the same compute: ``--compute`` training epochs in all (default 180, what
the unscheduled search needs to train 20 candidates fully). Methods: rlnas ``ppo`` (or
``--strategy``) with ``asha``, with ``hyperband`` and without a scheduler, ``random`` with
``asha`` (``rlnas.run`` with ``epoch_budget``), and Optuna's TPE with ``HyperbandPruner`` and
with ``MedianPruner`` (an objective that trains epoch by epoch through ``train_to`` and reports
the validation accuracy after each). Each search's best fully trained candidate is retrained by
``train_final`` (``--final-epochs``) and scored on the test rows.

``--measure-rewards`` also measures how a stopped candidate's reward is best made comparable
(``rlnas.schedulers.comparable_reward``): fully trained curves of ``--curves`` sampled
candidates per task, replayed through ASHA in many orders.

    python benchmarks/multi_fidelity.py --quick    # a smoke test, a few minutes
    python benchmarks/multi_fidelity.py            # the full run (see README.md)
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
from scipy import stats

import rlnas
from fidelity_peers import Searched, optuna_search
from results_file import write_section
from rlnas.execution.process import limit_threads, worker_pool
from rlnas.export import train_final
from rlnas.schedulers import make_scheduler
from seeded_runs import by_seed, mean_std, paired_test

SECTION = "multi_fidelity"
REWARDS_SECTION = "multi_fidelity_rewards"
PEERS = ("tpe+hyperband", "tpe+median")


@dataclass(frozen=True)
class Run:
    """One search and its retrained best candidate."""

    task: str
    method: str
    seed: int
    test_accuracy: float
    started: int
    fully_trained: int
    epochs: int  # training epochs spent
    search_s: float
    cpu_s: float


def methods(strategy: str) -> list[str]:
    return [f"{strategy}+asha", f"{strategy}+hyperband", f"{strategy}+none", "random+asha", *PEERS]


def rlnas_search(task: str, method: str, seed: int, args: argparse.Namespace, store: Path):
    strategy, scheduler = method.split("+")
    config = rlnas.SearchConfig(
        task=task,
        epochs=args.epochs,
        strategy=strategy,
        scheduler=scheduler,
        budget=10_000,
        epoch_budget=args.compute,
        seed=seed,
        store=store,
        name="run",
    )
    result = rlnas.run(config)
    trials = [t for t in result.trials if not t.cached]
    return Searched(
        started=len(trials),
        fully_trained=sum(
            t.metrics.get("epochs") == args.epochs for t in trials if not t.pruned and not t.failed
        ),
        epochs=sum(int(t.metrics.get("epochs", args.epochs)) for t in trials),
    )


def search_and_test(task: str, method: str, seed: int, args: argparse.Namespace, folder: Path):
    """One search, then train-final of its best candidate on the test rows."""
    torch.set_num_threads(1)
    store = folder / f"{task}-{method}-{seed}.db"
    started, cpu = time.perf_counter(), time.process_time()
    if method in PEERS:
        searched = optuna_search(task, method, seed, args.epochs, args.compute, store)
    else:
        searched = rlnas_search(task, method, seed, args, store)
    search_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
    final = train_final(store, epochs=args.final_epochs, out_dir=folder / store.stem)
    return Run(
        task,
        method,
        seed,
        final.test_metrics["accuracy"],
        searched.started,
        searched.fully_trained,
        searched.epochs,
        search_s,
        cpu_s,
    )


# --- how to reward a stopped candidate -----------------------------------------------------------


def full_curves(task_name: str, count: int, epochs: int) -> list[list[float]]:
    """Best-so-far validation accuracy after each epoch of ``count`` sampled candidates."""
    from rlnas.estimators.training import TrainingEvaluator
    from rlnas.space.models import default_space_name
    from rlnas.tasks import load_task

    torch.set_num_threads(1)
    task = load_task(task_name)
    evaluator = TrainingEvaluator(task, default_space_name(task.input_shape), epochs=epochs)
    space, rng = evaluator.search_space(), np.random.default_rng(0)
    curves = []
    for _ in range(count):
        try:
            progress = evaluator.train_to(space.sample(rng), epochs)
        except Exception:  # a candidate that cannot train is no curve
            continue
        curves.append(list(np.maximum.accumulate([p["accuracy"] for p in progress.curve])))
    return curves


def replay(curves: list[list[float]], epochs: int, orders: int) -> dict[str, tuple[float, float]]:
    """Each way of rewarding a stopped candidate: mean Kendall tau between the rewards ASHA's
    candidates are told and their true final accuracy, and the mean absolute error, over
    ``orders`` random orders of the candidates."""
    ways = ("raw", "shift", "quantile")
    taus: dict[str, list[float]] = {way: [] for way in ways}
    errors: dict[str, list[float]] = {way: [] for way in ways}
    rng = np.random.default_rng(0)
    for _ in range(orders):
        schedulers = {way: make_scheduler("asha", epochs, pruned_reward=way) for way in ways}
        told: dict[str, list[float]] = {way: [] for way in ways}
        truth = []
        for index in rng.permutation(len(curves)):
            truth.append(curves[index][-1])
            for way, scheduler in schedulers.items():
                key = str(index)
                reached = scheduler.start(key)
                while (
                    then := scheduler.report(key, reached, curves[index][reached - 1])
                ) is not None:
                    reached = then
                full = reached == epochs
                told[way].append(curves[index][-1] if full else scheduler.estimate(key))
        for way in ways:
            taus[way].append(stats.kendalltau(told[way], truth).statistic)
            errors[way].append(float(np.mean(np.abs(np.array(told[way]) - truth))))
    return {way: (float(np.nanmean(taus[way])), float(np.mean(errors[way]))) for way in ways}


# --- the report ----------------------------------------------------------------------------------


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def _mean(group: dict[int, Run], what: str = "test_accuracy") -> float:
    return statistics.fmean(getattr(run, what) for run in group.values())


def targets(runs: list[Run], tasks: list[str], strategy: str) -> list[str]:
    lines = []
    for scheduled in (f"{strategy}+asha", f"{strategy}+hyperband"):
        details, met = [], True
        for task in tasks:
            ours = by_seed(runs, task, scheduled)
            peers = {peer: by_seed(runs, task, peer) for peer in PEERS}
            if not ours or not all(peers.values()):
                met = False
                details.append(f"{task}: not run")
                continue
            best_peer = max(PEERS, key=lambda peer: _mean(peers[peer]))
            met &= _mean(ours) >= _mean(peers[best_peer])
            details.append(
                f"{task}: {_mean(ours):.4f} vs {best_peer} {_mean(peers[best_peer]):.4f}"
            )
        lines.append(
            f"- {scheduled} at least matches every peer's mean final test accuracy on every task: "
            f"**{_verdict(met)}** ({'; '.join(details)})"
        )
    details, met = [], True
    for task in tasks:
        scheduled, plain = (
            by_seed(runs, task, f"{strategy}+asha"),
            by_seed(runs, task, f"{strategy}+none"),
        )
        if not scheduled or not plain:
            met = False
            continue
        ratio = _mean(scheduled, "started") / _mean(plain, "started")
        met &= ratio >= 2
        details.append(
            f"{task}: {ratio:.2f}x ({_mean(scheduled, 'started'):.1f} vs "
            f"{_mean(plain, 'started'):.1f} candidates)"
        )
    lines.append(
        f"- {strategy}+asha starts at least 2x the candidates of {strategy}+none at equal "
        f"compute: **{_verdict(met)}** ({'; '.join(details)})"
    )
    return lines


def _header(args: argparse.Namespace, seconds: float) -> str:
    return (
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min by "
        f"`{shlex.join(['python', *sys.argv])}` on {os.cpu_count()} CPUs "
        f"({platform.platform()}), {args.workers} worker(s) of one thread, torch "
        f"{torch.__version__}; the 1-minute load average was {args.load_before:.1f} at the start "
        f"and {os.getloadavg()[0]:.1f} at the end (other work shared the CPUs)."
    )


def section(runs: list[Run], args: argparse.Namespace, seconds: float, done: bool) -> str:
    seeds = sorted({run.seed for run in runs})
    lines = [
        f"## Multi-fidelity search at equal compute ({', '.join(args.tasks)})",
        "",
        _header(args, seconds),
        "",
        *(
            []
            if done
            else [
                f"**Partial run: {len(runs)} of {args.planned} searches finished** (seeds "
                f"{', '.join(map(str, seeds))}; the last may lack some methods).",
                "",
            ]
        ),
        f"Every search trains candidates of the task's default space for up to {args.epochs} "
        f"epochs with the same `TrainingEvaluator` and spends {args.compute} training epochs in "
        f"all (the unscheduled search: {args.compute // args.epochs} candidates fully). The best "
        f"fully trained candidate is retrained by `train_final` for {args.final_epochs} epochs "
        "on training + validation rows and scored on the test rows. rlnas searches run through "
        "`rlnas.run` (rungs at 1, 3, 9 epochs: `min_epochs` 1, `eta` 3); Optuna's TPE "
        "(seeded) reports the validation accuracy after each epoch to `HyperbandPruner` "
        f"(min_resource 1, max_resource {args.epochs}, reduction_factor 3) or `MedianPruner` "
        "(its defaults). p: paired Wilcoxon signed-rank test (by seed) against the best peer.",
        "",
        "### Targets",
        "",
        *targets(runs, args.tasks, args.strategy),
        "",
        "### Final test accuracy and compute (mean ± std over seeds)",
        "",
        "| task | method | final test accuracy | vs best peer | candidates started | fully "
        "trained | epochs spent | search wall (s) | search CPU (s) |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for task in args.tasks:
        peers = {peer: by_seed(runs, task, peer) for peer in PEERS}
        best_peer = max((p for p in PEERS if peers[p]), key=lambda p: _mean(peers[p]), default=None)
        for method in methods(args.strategy):
            group = list(by_seed(runs, task, method).values())
            versus = (
                "-"
                if best_peer is None or method == best_peer
                else (f"{best_peer}: {paired_test(by_seed(runs, task, method), peers[best_peer])}")
            )
            lines.append(
                f"| {task} | {method} | {mean_std([r.test_accuracy for r in group], 4)} "
                f"| {versus} | {mean_std([r.started for r in group], 1)} "
                f"| {mean_std([r.fully_trained for r in group], 1)} "
                f"| {mean_std([r.epochs for r in group], 0)} "
                f"| {mean_std([r.search_s for r in group], 0)} "
                f"| {mean_std([r.cpu_s for r in group], 0)} |"
            )
    return "\n".join(lines)


def rewards_section(rewards, args: argparse.Namespace, seconds: float) -> str:
    return "\n".join(
        [
            "## Multi-fidelity: the reward of a stopped candidate (`pruned_reward`)",
            "",
            _header(args, seconds),
            "",
            f"{args.curves} sampled candidates per task (the default space, seed 0) trained fully "
            f"({args.epochs} epochs); their best-so-far validation curves replayed through ASHA "
            f"(rungs 1, 3, 9) in {args.orders} random orders. Per way of rewarding a stopped "
            "candidate: the mean Kendall tau between the rewards all candidates are told and "
            "their true final validation accuracy, and the mean absolute error.",
            "",
            "| task | way | Kendall tau | mean absolute error |",
            "|---|---|---:|---:|",
            *(
                f"| {task} | {way} | {tau:.3f} | {error:.4f} |"
                for task, table in rewards.items()
                for way, (tau, error) in table.items()
            ),
        ]
    )


# --- command line --------------------------------------------------------------------------------


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="digits,mnist1d", help="comma-separated")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--strategy", default="ppo", help="rlnas's learning strategy")
    parser.add_argument("--epochs", type=int, default=9, help="per candidate, at most")
    parser.add_argument("--compute", type=int, default=180, help="training epochs per search")
    parser.add_argument("--final-epochs", type=int, default=9)
    parser.add_argument("--measure-rewards", action="store_true")
    parser.add_argument("--curves", type=int, default=40, help="candidates per task (rewards)")
    parser.add_argument("--orders", type=int, default=200, help="replays (rewards)")
    parser.add_argument("--workers", type=int, default=2, help="processes (one thread each)")
    parser.add_argument("--quick", action="store_true", help="a small run for smoke testing")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.compute, args.final_epochs, args.curves, args.orders = 1, 36, 2, 8, 20
        args.out = args.out or Path(tempfile.gettempdir()) / "rlnas-quick" / "RESULTS.md"
    args.out = args.out or Path(__file__).parent / "RESULTS.md"
    args.tasks = [name.strip() for name in args.tasks.split(",") if name.strip()]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    args.load_before = os.getloadavg()[0]
    limit_threads(1)
    started = time.perf_counter()
    jobs = [
        (t, m, s) for s in range(args.seeds) for t in args.tasks for m in methods(args.strategy)
    ]
    args.planned = len(jobs)
    runs: list[Run] = []
    rewards: dict[str, dict[str, tuple[float, float]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="rlnas-multi-fidelity-") as folder,
        worker_pool(args.workers, threads=1) as pool,
    ):
        curves = {
            task: pool.schedule(full_curves, args=(task, args.curves, args.epochs))
            for task in (args.tasks if args.measure_rewards else [])
        }
        futures = [pool.schedule(search_and_test, args=(*job, args, Path(folder))) for job in jobs]
        for task, future in curves.items():
            rewards[task] = replay(future.result(), args.epochs, args.orders)
            print(f"rewards on {task}: {rewards[task]}", file=sys.stderr, flush=True)
        if rewards:
            seconds = time.perf_counter() - started
            write_section(args.out, REWARDS_SECTION, rewards_section(rewards, args, seconds))
        for number, future in enumerate(futures, start=1):
            run = future.result()
            runs.append(run)
            print(
                f"[{number}/{len(jobs)}] {run.task} {run.method} seed {run.seed}: test "
                f"{run.test_accuracy:.4f}, {run.started} started, {run.epochs} epochs, "
                f"{run.search_s:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            done = number == len(jobs)
            seconds = time.perf_counter() - started
            write_section(args.out, SECTION, section(runs, args, seconds, done))
    if jobs:
        print("\n".join(targets(runs, args.tasks, args.strategy)), file=sys.stderr)
    print(f"{args.out} written in {(time.perf_counter() - started) / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
