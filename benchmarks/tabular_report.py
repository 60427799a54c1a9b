"""The report of ``tabular_strategies.py``: the issue's targets, paired tests and the tables.

Kept apart from the runs so that each file reads in one sitting; the constants the targets are
judged by live here, and the runner imports them.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from rlnas.compare import Run
from seeded_runs import mean_std, wilcoxon_p
from synthetic_tables import FAMILIES, TUNING

TPE, GP, LOCAL = "tpe", "gp", "local-search"
BASELINES = ("random", "evolution")
"""Registered rlnas strategies that are peers, not RL."""
PEERS = (TPE, GP, LOCAL, "evolution")
"""Whom the best rlnas strategy must beat (target a)."""
TARGET_BUDGETS = (50, 100)
WIN_SHARE = 0.8
OVERHEAD_LIMIT_MS = 5.0
OVERHEAD_RUNS = (("syn:cell-1", 300), ("nbg:cora", 1000))
"""Where the overhead is timed: a 6 x 5 cell table (15,625 encodings) to 300 distinct
architectures, NAS-Bench-Graph to 1,000."""
PROGRESSIVE = ("mpc", "dp")
PROGRESSIVE_BUDGET = 100
Searched = tuple[Run, float]
"""A scored search and its CPU seconds."""


@dataclass(frozen=True)
class Results:
    """Everything the run measured."""

    tables: list[str]
    searchers: list[str]
    budgets: list[int]
    runs: dict[tuple[str, str, int], Searched]
    """(table, searcher, seed) -> the search."""
    progressive: dict[tuple[str, str, int], Searched]
    """(table, strategy, seed) -> the strategy's progressive search (budget 100)."""
    overheads: dict[tuple[str, str], tuple[float, int, int]]
    """(strategy, table) -> CPU ms per distinct architecture, distinct count, proposals."""
    overhead_runs: list[tuple[str, int]]
    """Where the overhead was timed: (table, distinct architectures)."""

    def final(self, table: str, name: str, budget: int, source: str = "runs") -> dict[int, Run]:
        """The runs of ``name`` on ``table`` read off at ``budget``, by seed (those reaching it)."""
        runs = self.runs if source == "runs" else self.progressive
        return {
            seed: run.at_budget(budget)
            for (t, n, seed), (run, _) in runs.items()
            if (t, n) == (table, name) and run.budget >= budget
        }

    def rl(self) -> list[str]:
        return [name for name in self.searchers if name not in (*BASELINES, TPE, GP, LOCAL)]

    def tuning(self) -> list[str]:
        """The tuning tables of this run (all of them if it has none)."""
        return [t for t in self.tables if t in TUNING] or list(self.tables)

    def held_out(self) -> list[str]:
        return [t for t in self.tables if t not in TUNING]

    def target_budgets(self) -> list[int]:
        """50 and 100, or the two smallest budgets of a run without them (``--quick``)."""
        return [b for b in TARGET_BUDGETS if b in self.budgets] or self.budgets[:2]

    def progressive_budget(self) -> int:
        return min(PROGRESSIVE_BUDGET, max(self.budgets))

    def main_budget(self) -> int:
        """The budget closest to 100, where the one-budget checks and tests are made."""
        return min(self.budgets, key=lambda b: (abs(b - 100), b))


def regret(runs: dict[int, Run], kind: str = "test", seeds=None) -> float:
    """Mean final regret (``test`` or ``validation``) over ``seeds`` (default: all)."""
    chosen = [run for seed, run in runs.items() if seeds is None or seed in seeds]
    field = "test_regret" if kind == "test" else "validation_regret"
    return statistics.fmean(getattr(run, field)[-1] for run in chosen) if chosen else math.nan


def best_rl(results: Results, budget: int) -> str | None:
    """The RL strategy of lowest validation regret at ``budget``, averaged over the tuning
    tables: chosen where defaults were tuned, then judged everywhere."""
    rl = results.rl()
    if not rl:
        return None

    def tuned(name: str) -> float:
        return statistics.fmean(
            regret(results.final(t, name, budget), "validation") for t in results.tuning()
        )

    return min(rl, key=tuned)


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def _wins(results: Results, best: str, peer: str, budget: int, tables: list[str]) -> list[str]:
    """Tables where ``best`` has the lower mean test regret than ``peer`` (on the peer's seeds)."""
    won = []
    for table in tables:
        theirs = results.final(table, peer, budget)
        if theirs and regret(results.final(table, best, budget), seeds=theirs) < regret(theirs):
            won.append(table)
    return won


def targets(results: Results) -> str:
    """The issue's targets, each MET / MISSED / NOT CHECKED with the numbers behind it."""
    lines = [
        "'Lower' compares mean test regret of the incumbent chosen by validation; the best rlnas "
        "strategy is chosen per budget by mean validation regret on the tuning tables "
        f"({', '.join(results.tuning())}) and judged on all {len(results.tables)} tables."
    ]
    parts, met = [], True
    for budget in results.target_budgets():
        best = best_rl(results, budget)
        if best is None:
            break
        counts = []
        for peer in [p for p in PEERS if p in results.searchers]:
            reached = [t for t in results.tables if results.final(t, peer, budget)]
            won = _wins(results, best, peer, budget, reached)
            held = [t for t in won if t not in TUNING]
            held_of = [t for t in reached if t not in TUNING]
            met = met and len(won) >= math.ceil(WIN_SHARE * len(reached)) and bool(reached)
            counts.append(f"{peer} {len(won)}/{len(reached)} (held out {len(held)}/{len(held_of)})")
        parts.append(f"budget {budget}: **{best}** lower than {', '.join(counts)}")
    if parts:
        lines.append(
            f"- (a) the best rlnas strategy has lower mean test regret than TPE, GPSampler, local "
            f"search and evolution on >= {WIN_SHARE:.0%} of the tables at budgets "
            f"{' and '.join(map(str, results.target_budgets()))}: "
            f"**{_verdict(met)}** ({'; '.join(parts)})"
        )
    budget = results.main_budget()
    if "random" in results.searchers and results.rl():
        misses = []
        for name in results.rl():
            for table in results.tables:
                ours = regret(results.final(table, name, budget))
                theirs = regret(results.final(table, "random", budget))
                if not ours < theirs:
                    misses.append(f"{name} on {table} {ours:.4f} vs {theirs:.4f}")
        detail = "; ".join(misses) if misses else "no misses"
        lines.append(
            f"- (b) every RL strategy ({len(results.rl())}) has lower mean test regret than random "
            f"on every table ({len(results.tables)}) at budget {budget}: "
            f"**{_verdict(not misses)}** ({len(misses)} misses: {detail})"
        )
    lines.append(progressive_target(results))
    lines.append(overhead_target(results))
    return "\n".join(lines)


def progressive_target(results: Results) -> str:
    tables = sorted({table for table, _, _ in results.progressive})
    names = sorted({name for _, name, _ in results.progressive})
    if not tables or "mcts" not in results.searchers:
        return (
            "- (c) progressive `mpc` or `dp` on NAS-Bench-Graph at least matches one-shot "
            "`mcts`: **NOT CHECKED** (no progressive mpc/dp runs or no mcts in this run)"
        )
    budget = results.progressive_budget()

    def mean_over(name: str, source: str, kind: str) -> float:
        return statistics.fmean(
            regret(results.final(t, name, budget, source), kind) for t in tables
        )

    reference = {kind: mean_over("mcts", "runs", kind) for kind in ("validation", "test")}
    parts, met = [], False
    for name in names:
        ours = {kind: mean_over(name, "progressive", kind) for kind in ("validation", "test")}
        met = met or ours["test"] <= reference["test"]
        parts.append(
            f"progressive {name}: test {ours['test']:.4f}, validation {ours['validation']:.4f}"
        )
    return (
        f"- (c) progressive `mpc` or `dp` on NAS-Bench-Graph grown node by node "
        f"({', '.join(tables)}, budget {budget}) has mean test regret <= one-shot `mcts`'s: "
        f"**{_verdict(met)}** "
        f"({'; '.join(parts)}; one-shot mcts: test {reference['test']:.4f}, validation "
        f"{reference['validation']:.4f})"
    )


def overhead_target(results: Results) -> str:
    timed = [name for name in results.rl() + list(BASELINES) if name in results.searchers]
    cells = []
    slow = []
    for name in timed:
        figures = []
        for table, distinct in results.overhead_runs:
            if (name, table) not in results.overheads:
                continue
            ms, found, _ = results.overheads[(name, table)]
            figures.append(f"{ms:.2f}")
            if ms >= OVERHEAD_LIMIT_MS or found < distinct:
                slow.append(name)
        if figures:
            cells.append(f"{name} {' / '.join(figures)}")
    if not cells:
        return "- (d) overhead: **NOT CHECKED** (no overhead runs)"
    where = " / ".join(f"{table} to {distinct}" for table, distinct in results.overhead_runs)
    return (
        f"- (d) every rlnas strategy under {OVERHEAD_LIMIT_MS:g} ms of CPU (ask + tell) per "
        f"distinct architecture on {where} distinct architectures: "
        f"**{_verdict(not slow)}** (ms: {', '.join(cells)})"
    )


def section(results: Results, args: argparse.Namespace, seconds: float, cpu: float) -> str:
    import numpy
    import optuna
    import torch

    load_start, load_end = args.load
    seeds = 1 + max(seed for _, _, seed in results.runs)
    held = results.held_out()
    lines = [
        "## Tabular strategies (NAS-Bench-Graph and synthetic table families)",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {seconds / 60:.1f} min "
        f"({cpu / 60:.1f} CPU min) by",
        f"`{shlex.join(['python', *sys.argv])}`",
        f"on {os.cpu_count()} CPUs ({platform.platform()}), {args.workers} worker(s), Python "
        f"{platform.python_version()}, torch {torch.__version__}, numpy {numpy.__version__}, "
        f"optuna {optuna.__version__}; load average {load_start:.1f} at the start, "
        f"{load_end:.1f} at the end.",
        "",
        f"**Tuning tables** (defaults may have been tuned on them): {', '.join(results.tuning())}."
        f" **Held out** (never used for tuning): {', '.join(held) or 'none'}. Synthetic "
        "families (`benchmarks/synthetic_tables.py`): "
        + "; ".join(f"{family}: {', '.join(names)}" for family, names in FAMILIES.items())
        + ".",
        "",
        " ".join(
            [
                "Regret = the table's best minus the incumbent's value (the incumbent is the best",
                "queried architecture by validation); test regret is that incumbent's. Queries to",
                "top 1 % is the median over seeds of the first distinct query in the table's top",
                "1 % by validation ('> B': more than half the runs missed it).",
                f"{seeds} seeds (0..{seeds - 1}) for every searcher except Optuna's GPSampler:",
                f"{args.gp_seeds} seed(s) to budget {args.gp_budget}, since its cost grows with",
                "its trials; it is compared on its own seeds. TPE and GPSampler are Optuna's",
                "samplers (defaults, seeded, each decision categorical); local search is White et",
                "al.'s",
                "(2021): the first better one-decision neighbour, a random restart at a local",
                "optimum, no query twice. CPU ms per architecture is a search's CPU time",
                "(strategy, loop, look-ups) per distinct architecture at its largest budget.",
            ]
        ),
        "",
        "### Targets",
        "",
        targets(results),
        "",
        *ranking(results),
        *paired_tests(results),
        *overhead_table(results),
        *progressive_table(results),
    ]
    for table in results.tables:
        lines += table_section(results, table)
    return "\n".join(lines).rstrip()


def ranking(results: Results) -> list[str]:
    """Mean validation regret of each RL strategy on the tuning tables: how "best" was chosen."""
    budgets = results.target_budgets()
    lines = [
        "### The choice of the best rlnas strategy (mean validation regret on the tuning tables)",
        "",
        "| strategy | " + " | ".join(f"budget {b}" for b in budgets) + " |",
        "|---|" + "---:|" * len(budgets),
    ]
    for name in results.rl():
        cells = [
            statistics.fmean(
                regret(results.final(t, name, b), "validation") for t in results.tuning()
            )
            for b in budgets
        ]
        lines.append(f"| {name} | " + " | ".join(f"{c:.4f}" for c in cells) + " |")
    return [*lines, ""]


def paired_tests(results: Results) -> list[str]:
    """Per table, the best RL strategy against each peer at budget 100: test regret, Wilcoxon."""
    budget = results.main_budget()
    best = best_rl(results, budget)
    peers = [p for p in ("random", *PEERS) if p in results.searchers]
    if best is None or not peers:
        return []
    lines = [
        f"### Paired tests: {best} (best rlnas) against each peer, budget {budget}",
        "",
        "Mean test regret, and the Wilcoxon signed-rank test (two-sided) of the final test regret",
        "paired by seed (GPSampler: on its seeds). Tuning tables are marked *.",
        "",
        f"| table | {best} | " + " | ".join(f"{p} | p" for p in peers) + " |",
        "|---|---:|" + "---:|---:|" * len(peers),
    ]
    for table in results.tables:
        ours = results.final(table, best, budget)
        cells = [f"{regret(ours):.4f}"]
        for peer in peers:
            theirs = results.final(table, peer, budget)
            first = {s: r.test_regret[-1] for s, r in ours.items() if s in theirs}
            second = {s: r.test_regret[-1] for s, r in theirs.items()}
            cells += [f"{regret(theirs):.4f}", wilcoxon_p(first, second)] if theirs else ["-", "-"]
        mark = "*" if table in TUNING else ""
        lines.append(f"| {table}{mark} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def overhead_table(results: Results) -> list[str]:
    if not results.overheads:
        return []
    runs = results.overhead_runs
    names = [n for n in results.searchers if any((n, t) in results.overheads for t, _ in runs)]
    lines = [
        "### Overhead: CPU ms in ask + tell per distinct architecture (evaluation excluded)",
        "",
        "Proposals until the distinct count is reached (at most 20 per architecture); a repeat is",
        "told the cached result. GPSampler is left out (see its CPU column in the tables).",
        "",
        "| strategy | " + " | ".join(f"{t} to {d}: ms (proposals)" for t, d in runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for name in names:
        cells = []
        for table, _ in runs:
            ms, distinct, proposals = results.overheads.get((name, table), (math.nan, 0, 0))
            cells.append(f"{ms:.3f} ({proposals}, {distinct} distinct)")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def progressive_table(results: Results) -> list[str]:
    if not results.progressive:
        return []
    budget = results.progressive_budget()
    tables = sorted({table for table, _, _ in results.progressive})
    names = sorted({name for _, name, _ in results.progressive})
    lines = [
        f"### Progressive mode on NAS-Bench-Graph grown node by node, budget {budget}",
        "",
        "Test regret (validation regret) mean ± std; one-shot `mcts` is the same run as above.",
        "",
        "| table | one-shot mcts | " + " | ".join(f"progressive {n}" for n in names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for table in tables:
        cells = []
        for name, source in [("mcts", "runs"), *((n, "progressive") for n in names)]:
            runs = results.final(table, name, budget, source).values()
            test = mean_std([r.test_regret[-1] for r in runs], 4)
            validation = mean_std([r.validation_regret[-1] for r in runs], 4)
            cells.append(f"{test} ({validation})")
        lines.append(f"| {table} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def table_section(results: Results, table: str) -> list[str]:
    budgets = results.budgets
    top = max(budgets)
    kind = "tuning" if table in TUNING else "held out"
    lines = [
        f"### {table} ({kind})",
        "",
        "| searcher | "
        + " | ".join(f"validation regret {b}" for b in budgets)
        + " | "
        + " | ".join(f"test regret {b}" for b in budgets)
        + f" | queries to top 1 % ({top}) | CPU ms per architecture |",
        "|---|" + "---:|" * (2 * len(budgets) + 2),
    ]
    for name in results.searchers:
        cells = []
        for field in ("validation_regret", "test_regret"):
            for budget in budgets:
                runs = results.final(table, name, budget).values()
                cells.append(mean_std([getattr(r, field)[-1] for r in runs], 4))
        searched = [value for (t, n, _), value in results.runs.items() if (t, n) == (table, name)]
        reach = max(run.budget for run, _ in searched) if searched else top
        reached = [run.queries_to_top or reach + 1 for run, _ in searched]
        middle = statistics.median(reached) if reached else math.nan
        cells.append(f"> {reach}" if middle > reach else f"{middle:g}")
        cpu = [1000 * seconds / max(1, run.queries or 1) for run, seconds in searched]
        cells.append(f"{statistics.fmean(cpu):.2f}" if cpu else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]
