"""Progressive versus one-shot search at an equal number of evaluated architectures.

The space is NAS-Bench-Graph grown node by node (``rlnas.space.nas_bench_graph.GROWTH``): the
first step fixes the link pattern and the first node's operation, each later step gives one more
node an operation, and a node without one yet passes its input through ('skip'). Every network
along an episode is an architecture of the benchmark, so the table holds its true value: the
intermediate evaluations are real, and the budget counts them like any other.

For each dataset, learning strategy and seed, one search runs in each mode to the same budget of
distinct evaluated architectures (intermediate ones included); the incumbent is the best
architecture evaluated by validation, as in ``tabular_strategies.py``. Its section of RESULTS.md
(between its markers) is replaced; the rest of the file is kept.

    python benchmarks/progressive.py              # the full run (see README.md)
    python benchmarks/progressive.py --quick      # a smoke test, under a minute

``--training`` runs the other part instead (``progressive_training.py``, its own section): real
training on digits and mnist1d, progressive growth with inherited weights against progressive
growth from scratch and one-shot search at equal compute.

    python benchmarks/progressive.py --training           # about 25 minutes with 2 workers
    python benchmarks/progressive.py --training --quick   # a smoke test
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

import progressive_training
from results_file import write_section
from rlnas.compare import Contender, compare
from rlnas.execution.process import limit_threads

SECTION = "progressive"
STRATEGIES = ("q-learning", "sarsa", "reinforce", "ppo", "actor-critic", "mcts")
VARIANTS: dict[str, dict] = {
    "one-shot": {},
    "progressive": {"mode": "progressive"},
    "progressive, metric": {"mode": "progressive", "step_reward": "metric"},
    "progressive, discount 0.5": {"mode": "progressive", "discount": 0.5},
}
"""The episodes compared: one-shot; progressive with the default per-step reward (the
improvement over the step before), with the metric itself as the reward of every step, and with
later steps discounted, which credits a decision mostly with the step it belongs to."""
MODES = ("one-shot", "progressive")
"""The two the verdict compares (the default episodes of each mode)."""
REFERENCE = "random"
PROGRESSIVE_OPTIONS = {"q-learning": {"epsilon_length": 50}, "sarsa": {"epsilon_length": 50}}
"""MetaQNN's epsilon schedule counts episodes; ~2 evaluations per episode fit 50 in 100."""
NODES = 4
Result = tuple[float, float, int, float, list[int]]
"""Validation regret, test regret, evaluations, the incumbent's computing nodes, and the
computing nodes of every network evaluated (operations other than 'skip')."""


def contender(strategy: str, variant: str) -> Contender:
    """``strategy`` searching with the episodes of ``variant``, labelled ``strategy/variant``."""
    settings = dict(VARIANTS[variant])
    if settings:
        settings["strategy_option"] = PROGRESSIVE_OPTIONS.get(strategy, {})
    return Contender(f"{strategy}/{variant}", {"strategy": strategy, **settings})


def computing_nodes(choices) -> int:
    return sum(choices[f"op{k}"] != "skip" for k in range(NODES))


def run_all(args: argparse.Namespace) -> dict[tuple[str, str, str], list[Result]]:
    """Every contender on every dataset (``rlnas.compare``); per run: regrets, evaluations used,
    the incumbent's computing nodes and those of every network it evaluated."""
    entries = [contender(s, v) for s in args.strategies for v in VARIANTS]
    entries.append(contender(REFERENCE, "one-shot"))
    results: dict[tuple[str, str, str], list[Result]] = {}
    for dataset in args.datasets:
        comparison = compare(
            f"nbg:{dataset}", entries, args.seeds, args.budget, workers=args.workers
        )
        for run in comparison.runs:
            strategy, variant = run.strategy.split("/")
            assert run.incumbent is not None
            sizes = [computing_nodes(choices) for choices in run.architectures]
            result = (
                run.validation_regret[-1],
                run.test_regret[-1],
                run.queries,
                computing_nodes(run.incumbent),
                sizes,
            )
            results.setdefault((dataset, strategy, variant), []).append(result)
        print(f"nbg:{dataset} done", file=sys.stderr, flush=True)
    return results


def mean_std(values: list[float], scale: float = 100.0) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values) * scale:.2f} ± {spread * scale:.2f}"


def table(dataset: str, results: dict[tuple[str, str, str], list[Result]]) -> list[str]:
    lines = [
        f"#### nbg:{dataset}",
        "",
        "| strategy | episodes | validation regret (%) | test regret (%) | evaluations | "
        "nodes | budget on 1 / 2 / 3 / 4-node networks (%) |",
        "|---|---|---|---|---|---|---|",
    ]
    for (data, strategy, mode), runs in results.items():
        if data != dataset:
            continue
        validation, test, evaluations, nodes, sizes = zip(*runs)
        evaluated = [size for run in sizes for size in run]
        shares = " / ".join(
            f"{100 * evaluated.count(k) / len(evaluated):.0f}" for k in range(1, NODES + 1)
        )
        lines.append(
            f"| {strategy} | {mode} | {mean_std(list(validation))} | {mean_std(list(test))} | "
            f"{statistics.mean(evaluations):.0f} | {statistics.mean(nodes):.1f} | {shares} |"
        )
    return [*lines, ""]


def verdict(results: dict[tuple[str, str, str], list[Result]], args: argparse.Namespace) -> str:
    """Per strategy: on how many datasets progressive mode had the lower mean regret; and, per
    episode variant, its mean validation regret over every strategy and dataset."""
    lines = []
    for variant in VARIANTS:
        regrets = [
            r[0] for s in args.strategies for d in args.datasets for r in results[(d, s, variant)]
        ]
        lines.append(
            f"Mean validation regret with {variant} episodes, over every learning strategy and "
            f"dataset: {100 * statistics.mean(regrets):.2f} %."
        )
    for column, regret in ((0, "validation"), (1, "test")):
        parts = []
        for strategy in args.strategies:
            wins = sum(
                statistics.mean(r[column] for r in results[(d, strategy, "progressive")])
                < statistics.mean(r[column] for r in results[(d, strategy, "one-shot")])
                for d in args.datasets
            )
            parts.append(f"{strategy} {wins}/{len(args.datasets)}")
        lines.append(f"Progressive had the lower mean {regret} regret on: {', '.join(parts)}.")
    return "\n".join(lines)


def section(results, args: argparse.Namespace, seconds: float) -> str:
    import torch

    lines = [
        "## Progressive versus one-shot mode (NAS-Bench-Graph grown node by node)",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min by",
        f"`{shlex.join(['python', *sys.argv])}`",
        f"on {os.cpu_count()} CPUs ({platform.platform()}), {args.workers} worker(s), Python "
        f"{platform.python_version()}, torch {torch.__version__}.",
        "",
        f"Each search evaluates {args.budget} distinct architectures; a progressive search counts "
        "every network along its episodes (a node not grown yet is 'skip', and the table holds "
        f"such networks too). Mean ± std over {args.seeds} seeds of the incumbent's validation "
        "and test regret (the table's best minus the incumbent's, in accuracy points), the "
        "evaluations used (fewer than the budget if a search stopped after proposing only known "
        "architectures), the incumbent's computing nodes (operations other than skip, of 4) and "
        "how the budget was spent: the share of evaluated networks with 1, 2, 3 or 4 computing "
        "nodes. Episodes: one-shot; progressive with the default per-step reward (improvement "
        "over the step before, step cost 0, discount 1); progressive with each step rewarded by "
        "its metric; progressive with a discount of 0.5 per step. q-learning and sarsa grow with "
        "epsilon_length 50 (their schedule counts episodes). `random` is one-shot random search, "
        "for reference.",
        "",
        verdict(results, args),
        "",
    ]
    for dataset in args.datasets:
        lines += table(dataset, results)
    return "\n".join(lines).rstrip()


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="cora,citeseer,photo")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("RESULTS.md"))
    parser.add_argument("--quick", action="store_true", help="2 seeds, budget 30, cora only")
    parser.add_argument(
        "--training", action="store_true", help="the real-training part (inherited weights)"
    )
    progressive_training.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick and args.training:
        progressive_training.quick(args)
        if args.out == parser.get_default("out"):
            args.out = Path(tempfile.gettempdir()) / "RESULTS-progressive-training-quick.md"
    elif args.quick:
        args.datasets, args.seeds, args.budget = "cora", 2, 30
        args.out = Path(tempfile.gettempdir()) / "RESULTS-progressive-quick.md"
    args.datasets = args.datasets.split(",")
    args.strategies = args.strategies.split(",")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.training:
        progressive_training.main(args)
        return
    limit_threads(1)
    started = time.perf_counter()
    results = run_all(args)
    seconds = time.perf_counter() - started
    text = section(results, args, seconds)
    write_section(args.out, SECTION, text)
    print(text)
    print(f"{args.out} written in {seconds / 60:.1f} min", file=sys.stderr)


if __name__ == "__main__":
    main()
