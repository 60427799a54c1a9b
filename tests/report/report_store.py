"""The store the report tests share: a real search plus synthetic controller diagnostics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rlnas.estimators import load_benchmark
from rlnas.search import search
from rlnas.space import Architecture, Choice, SearchSpace
from rlnas.store import Store
from rlnas.trial import Status, Trial

EVIL = "<script>alert(1)</script>"
"""An experiment name that must show as text, never run."""
EXPECTED_PLOTS = 2 + 6 + 2 + 2
"""Trajectory and wall time; ppo-synthetic's six diagnostics; the chain run's Q-values and ε;
Pareto fronts for params and latency (the NAS-Bench-Graph table reports both)."""
CHAIN_DECISIONS = {"layer<1>": ["conv&3", "<i>pool</i>"], "width 'w'": [8, 16, 32]}
"""A generic space whose decision and option names all need escaping."""


def _entropy(probabilities: list[float]) -> float:
    return -sum(p * math.log(p) for p in probabilities if p > 0)


def _diagnostics_run(store: Store, space: SearchSpace, evaluate, rng: np.random.Generator) -> None:
    """A policy-gradient-like run over 12 trials whose strategy reports every diagnostic."""
    experiment = store.create_experiment(
        "ppo-synthetic",
        {"space": space.name, "strategy": "ppo", "metric": "validation", "direction": "maximize"},
        seed=0,
    )
    for number in range(12):
        architecture = space.sample(rng)
        metrics = dict(evaluate(architecture))
        probabilities = {
            choice.name: rng.dirichlet(np.full(len(choice.options), 12.0 / (number + 1))).tolist()
            for choice in space.choices
        }
        diagnostics = {
            "entropy": {name: _entropy(p) for name, p in probabilities.items()},
            "probabilities": probabilities,
            "q_values": {name: [2 * x for x in p] for name, p in probabilities.items()},
            "baseline": 0.7 + 0.01 * number,
            "value": 0.72 + 0.008 * number,
            "predicted": metrics["validation"] - 0.01,
            "epsilon": max(0.05, 1 - number / 6),
            "model_error": 0.1 / (number + 1),
        }
        trial = Trial(number, architecture, metrics, metrics["validation"], started_at=number)
        store.record_trial(experiment, trial, diagnostics=diagnostics)
    store.set_status(experiment, "complete")


def _chain_run(store: Store) -> None:
    """A value-based run on a generic space with hostile names, and one failed trial."""
    space = SearchSpace([Choice(name, options) for name, options in CHAIN_DECISIONS.items()])
    experiment = store.create_experiment(
        "q-learning & <b>friends</b>",
        {"space": space.name, "strategy": "q-learning", "metric": "accuracy"},
        seed=0,
    )
    for number in range(6):
        choices = {
            "layer<1>": CHAIN_DECISIONS["layer<1>"][number % 2],
            "width 'w'": 8 << number % 3,
        }
        architecture: Architecture = space.architecture(choices)
        failed = number == 3
        trial = Trial(
            number,
            architecture,
            {} if failed else {"accuracy": 0.5 + 0.05 * number},
            None if failed else 0.5 + 0.05 * number,
            Status.FAILED if failed else Status.COMPLETE,
            "ValueError: <boom>" if failed else None,
            started_at=100.0 + number,
            duration_s=0.5,
        )
        diagnostics = {
            "q_values": {"layer<1>": [0.1 * number, 0.2], "width 'w'": [0.3, 0.1, 0.0]},
            "epsilon": 1.0 / (number + 1),
        }
        store.record_trial(experiment, trial, diagnostics=diagnostics)


def build_store(path: Path) -> Path:
    """runs.db: a real evolution search named EVIL, ppo-synthetic, and the chain run."""
    benchmark = load_benchmark("nbg:cora")
    search(
        benchmark.space,
        benchmark.evaluate,
        strategy="evolution",
        metric="validation",
        budget=30,
        seed=0,
        store=path,
        name=EVIL,
    )
    with Store(path) as store:
        _diagnostics_run(store, benchmark.space, benchmark.evaluate, np.random.default_rng(0))
        _chain_run(store)
    return path
