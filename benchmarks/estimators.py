"""Cheap estimators against full training: rank correlation, cost, and the searches they drive.

1. Ranking, per task: ``--architectures`` distinct architectures (seeded sample of the task's
   default space) are trained stand-alone (``TrainingEvaluator``, ``--epochs``), which gives the
   truth and the full-training time. The supernet is trained for ``--supernet-steps`` single-path
   steps and scores each; weight sharing first trains on ``--warmup`` uniformly sampled children
   (what a search before them would have done), then scores each. Kendall tau and Spearman
   against the truth; time of each estimator for all architectures, training included.
2. The predictor (the one ``Screened`` uses) on NAS-Bench-Graph: fit on 50 architectures, Kendall
   tau on ``--held-out`` others, per dataset over ``--predictor-seeds`` seeds.
3. Searches, per task: evolution with full training for ``--budget`` architectures takes T
   CPU seconds; each cheap estimator then searches for T/5 (supernet training included).
Times are CPU seconds of this one-threaded process: on shared CPUs wall time measures the load.
   The best architecture of each is retrained (``train_final``, ``--final-epochs``) and tested.
Its section of RESULTS.md (between its markers) is replaced; the rest of the file is kept.

    python benchmarks/estimators.py            # the full run (see README.md)
    python benchmarks/estimators.py --quick    # a smoke test, about two minutes
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau, spearmanr

import rlnas
from results_file import write_section
from rlnas.estimators import (
    SupernetEvaluator,
    TrainingEvaluator,
    WeightSharingEvaluator,
    load_benchmark,
)
from rlnas.export import train_final
from rlnas.space.models import default_space_name
from rlnas.strategies.screening import Screened, ranking_quality
from rlnas.tasks import load_task

SECTION = "estimators"
SUPERNET_STEPS = {"digits": 250, "mnist1d": 1200}
NBG_DATASETS = ("cora", "citeseer", "pubmed", "cs", "physics", "photo", "computers", "arxiv")
TAU_TARGET, CHEAP_FRACTION, PREDICTOR_TARGET, ACCURACY_GAP, SEARCH_FRACTION = 0.5, 0.1, 0.6, 0.5, 5


class OutOfTime(Exception):
    """The search's time budget is spent."""


def distinct_sample(space: rlnas.SearchSpace, count: int, seed: int) -> list[rlnas.Architecture]:
    rng = np.random.default_rng(seed)
    found: dict[str, rlnas.Architecture] = {}
    while len(found) < count:
        architecture = space.sample(rng)
        found.setdefault(architecture.key, architecture)
    return list(found.values())


def timed(evaluate, architectures: list[rlnas.Architecture]) -> tuple[list[float], float]:
    started = time.process_time()
    scores = [evaluate(a)["accuracy"] for a in architectures]
    return scores, time.process_time() - started


def ranking(task_name: str, args: argparse.Namespace) -> dict:
    """Each estimator's scores of the same architectures, their correlation and CPU time."""
    task = load_task(task_name)
    space_name = default_space_name(task.input_shape)
    full = TrainingEvaluator(task, space_name, epochs=args.epochs)
    architectures = distinct_sample(full.search_space(), args.architectures, seed=0)
    truth, full_s = timed(full, architectures)
    rows = {"full training": (1.0, 1.0, full_s)}
    started = time.process_time()
    supernet = SupernetEvaluator(task, space_name, steps=args.supernet_steps[task_name]).fit()
    scores, evaluate_s = timed(supernet, architectures)
    rows["supernet"] = (*_correlations(scores, truth), time.process_time() - started)
    weight_sharing = WeightSharingEvaluator(task, space_name)
    started = time.process_time()
    for architecture in distinct_sample(full.search_space(), args.warmup, seed=1):
        weight_sharing(architecture)
    scores, _ = timed(weight_sharing, architectures)
    rows["weight sharing"] = (*_correlations(scores, truth), time.process_time() - started)
    return {"space": space_name, "rows": rows, "supernet_eval_s": evaluate_s}


def _correlations(scores: list[float], truth: list[float]) -> tuple[float, float]:
    return float(kendalltau(scores, truth).statistic), float(spearmanr(scores, truth).statistic)


def predictor_taus(args: argparse.Namespace) -> dict[str, list[float]]:
    """Kendall tau of the screening model on held-out NAS-Bench-Graph architectures."""
    taus = {}
    for dataset in args.nbg_datasets:
        bench = load_benchmark(f"nbg:{dataset}")
        taus[dataset] = []
        for seed in range(args.predictor_seeds):
            architectures = distinct_sample(bench.space, 50 + args.held_out, seed)
            values = [bench.table[a.key][bench.metric] for a in architectures]
            taus[dataset].append(ranking_quality(bench.space, architectures, values, 50, seed))
    return taus


def search(task_name: str, estimator: str, seconds: float | None, args, directory: Path) -> dict:
    """Evolution with ``estimator`` (for ``seconds``, else for ``--budget`` architectures)."""
    task = load_task(task_name)
    space_name = default_space_name(task.input_shape)
    full = TrainingEvaluator(task, space_name, epochs=args.epochs)
    started = time.process_time()
    strategy = rlnas.make_strategy("evolution", full.search_space(), seed=0)
    evaluate = full
    if estimator == "supernet":
        evaluate = SupernetEvaluator(task, space_name, steps=args.supernet_steps[task_name]).fit()
    elif estimator == "weight sharing":
        evaluate = WeightSharingEvaluator(task, space_name)
    elif estimator == "predictor":
        strategy = Screened(strategy, pool=50, top_k=5, warmup=5)

    def on_trial(trial, done: int, budget: int) -> None:
        if seconds is not None and time.process_time() - started > seconds:
            raise OutOfTime

    store = directory / f"{task_name}-{estimator.replace(' ', '-')}.db"
    config = {"task": task_name, "space": space_name, "estimator": estimator}
    with contextlib.suppress(OutOfTime):
        rlnas.search(
            full.search_space(),
            evaluate,
            strategy=strategy,
            budget=args.budget if seconds is None else 100_000,
            store=store,
            config=config,
            on_trial=on_trial,
        )
    search_s = time.process_time() - started
    with rlnas.Store(store) as opened:
        evaluated = len(opened.trials(opened.experiment()))
    final = train_final(store, epochs=args.final_epochs, out_dir=directory / store.stem)
    return {"search_s": search_s, "evaluated": evaluated, "test": final.test_metrics["accuracy"]}


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def targets(rankings: dict, taus: dict, searches: dict) -> str:
    lines = []
    for task_name, result in rankings.items():
        full_s = result["rows"]["full training"][2]
        cheap = [
            f"{name} tau {tau:.3f} at {seconds / full_s:.3f} of full training's time"
            for name, (tau, _, seconds) in result["rows"].items()
            if name != "full training"
        ]
        met = any(
            tau >= TAU_TARGET and seconds <= CHEAP_FRACTION * full_s
            for name, (tau, _, seconds) in result["rows"].items()
            if name != "full training"
        )
        lines.append(
            f"- (a) {task_name}: weight sharing or supernet Kendall tau >= {TAU_TARGET} at <= "
            f"{CHEAP_FRACTION:g} of full training's time: **{_verdict(met)}** "
            f"({'; '.join(cheap)})"
        )
    mean_tau = float(np.mean([t for values in taus.values() for t in values]))
    lines.append(
        f"- (b) predictor Kendall tau >= {PREDICTOR_TARGET} after 50 points on NAS-Bench-Graph "
        f"(mean over datasets and seeds): **{_verdict(mean_tau >= PREDICTOR_TARGET)}** "
        f"({mean_tau:.3f})"
    )
    for task_name, runs in searches.items():
        full = runs["full training"]["test"]
        gaps = {name: 100 * (full - run["test"]) for name, run in runs.items()}
        best = min((gap, name) for name, gap in gaps.items() if name != "full training")
        lines.append(
            f"- (c) {task_name}: a cheap-estimator search within {ACCURACY_GAP} points of full "
            f"training's final test accuracy at 1/{SEARCH_FRACTION} of its time: "
            f"**{_verdict(best[0] <= ACCURACY_GAP)}** (best: {best[1]}, {abs(best[0]):.2f} "
            f"points {'below' if best[0] > 0 else 'above'} full training)"
        )
    return "\n".join(lines)


def section(rankings, taus, searches, args, seconds: float) -> str:
    lines = [
        "## Estimators: weight sharing, supernet and predictor against full training",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min by",
        f"`{shlex.join(['python', *sys.argv])}`",
        f"on {os.cpu_count()} shared CPUs, one torch thread ({platform.platform()}), Python "
        f"{platform.python_version()}, torch {torch.__version__}.",
        "",
        f"Full training: {args.epochs} epochs (Adam, batch 64). Weight sharing: 10 minibatches "
        f"per call after {args.warmup} warm-up calls on random children. Supernet steps: "
        + ", ".join(f"{t} {args.supernet_steps[t]}" for t in args.tasks)
        + f". {args.architectures} architectures per task, one seed. Times are CPU seconds of "
        "the one-threaded process (the CPUs are shared, so wall time would measure the "
        "neighbours); they include the supernet's training and the warm-up.",
        "",
        "### Targets",
        "",
        targets(rankings, taus, searches),
    ]
    for task_name, result in rankings.items():
        full_s = result["rows"]["full training"][2]
        lines += [
            "",
            f"### Ranking on {task_name} ({result['space']}, {args.architectures} architectures)",
            "",
            "| estimator | Kendall tau | Spearman | CPU s | fraction of full training |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {name} | {tau:.3f} | {rho:.3f} | {s:.1f} | {s / full_s:.3f} |"
                for name, (tau, rho, s) in result["rows"].items()
            ),
            "",
            f"The trained supernet scores all {args.architectures} in "
            f"{result['supernet_eval_s']:.1f} s; trained once, it is reused by later searches.",
        ]
    lines += [
        "",
        f"### Predictor on NAS-Bench-Graph (50 training points, {args.held_out} held out, "
        f"{args.predictor_seeds} seeds)",
        "",
        "| dataset | Kendall tau (mean ± std) |",
        "|---|---:|",
        *(f"| {d} | {np.mean(t):.3f} ± {np.std(t):.3f} |" for d, t in taus.items()),
    ]
    for task_name, runs in searches.items():
        lines += [
            "",
            f"### Search on {task_name} (evolution, seed 0; final training "
            f"{args.final_epochs} epochs, test rows)",
            "",
            "| estimator | search CPU s | architectures evaluated | final test accuracy |",
            "|---|---:|---:|---:|",
            *(
                f"| {name} | {r['search_s']:.0f} | {r['evaluated']} | {r['test']:.4f} |"
                for name, r in runs.items()
            ),
        ]
    return "\n".join(lines)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", default="digits,mnist1d", help="comma-separated")
    parser.add_argument("--architectures", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=10, help="full training per architecture")
    parser.add_argument("--warmup", type=int, default=20, help="weight sharing's warm-up calls")
    parser.add_argument("--budget", type=int, default=15, help="full-training search")
    parser.add_argument("--final-epochs", type=int, default=20)
    parser.add_argument("--nbg-datasets", default=",".join(NBG_DATASETS), help="comma-separated")
    parser.add_argument("--predictor-seeds", type=int, default=3)
    parser.add_argument("--held-out", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke testing")
    parser.add_argument("--out", type=Path, help="markdown file (default benchmarks/RESULTS.md)")
    args = parser.parse_args(argv)
    args.supernet_steps = dict(SUPERNET_STEPS)
    if args.quick:
        args.tasks, args.architectures, args.epochs, args.warmup = "digits", 6, 2, 4
        args.budget, args.final_epochs, args.nbg_datasets = 4, 2, "cora"
        args.predictor_seeds, args.held_out = 1, 50
        args.supernet_steps = {"digits": 50}
        args.out = args.out or Path(tempfile.gettempdir()) / "rlnas-quick" / "RESULTS.md"
    args.out = args.out or Path(__file__).parent / "RESULTS.md"
    args.tasks = [name.strip() for name in args.tasks.split(",") if name.strip()]
    args.nbg_datasets = [name.strip() for name in args.nbg_datasets.split(",") if name.strip()]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    torch.set_num_threads(1)
    started = time.perf_counter()
    rankings = {}
    for task_name in args.tasks:
        rankings[task_name] = ranking(task_name, args)
        print(f"ranking on {task_name}: {rankings[task_name]['rows']}", flush=True)
    taus = predictor_taus(args)
    print(f"predictor: {taus}", flush=True)
    searches: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        for task_name in args.tasks:
            full = search(task_name, "full training", None, args, Path(folder))
            searches[task_name] = {"full training": full}
            for estimator in ("weight sharing", "supernet", "predictor"):
                seconds = full["search_s"] / SEARCH_FRACTION
                run = search(task_name, estimator, seconds, args, Path(folder))
                searches[task_name][estimator] = run
            print(f"searches on {task_name}: {searches[task_name]}", flush=True)
    seconds = time.perf_counter() - started
    write_section(args.out, SECTION, section(rankings, taus, searches, args, seconds))
    print(targets(rankings, taus, searches))
    print(f"{args.out} written in {seconds / 60:.1f} min")


if __name__ == "__main__":
    main()
