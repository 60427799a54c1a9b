"""A search to kill: ``python interrupted_search.py STORE STRATEGY EXECUTOR WORKERS BUDGET``.

It starts (or resumes) the experiment "run" on the toy space, each evaluation taking a moment;
with the executor ``weight-sharing`` it is instead a serial weight-sharing search of a small
digits task (``WEIGHT_SHARING``), whose shared weights are part of what a resume restores; with
``asha`` it is a serial search scheduled by ASHA, whose in-flight training states a resume
restores; with ``inherit`` it is a serial progressive search of digits whose steps grow from
their parents' trained weights, which a resume finds in the store.
"""

from __future__ import annotations

import sys

from evaluators import Curves, Sleepy, toy_space

import rlnas

DELAY_S = 0.05
NAME = "run"
WEIGHT_SHARING = {
    "task": "digits",
    "estimator": "weight-sharing",
    "epochs": 1,
    "data_fraction": 0.2,
}


def weight_sharing_search(store: str | None, strategy: str, budget: int) -> rlnas.SearchResult:
    config = rlnas.SearchConfig(
        **WEIGHT_SHARING, strategy=strategy, budget=budget, seed=0, store=store, name=NAME
    )
    return rlnas.run(config, resume=store is not None)


INHERITED = {
    "task": "digits",
    "space": "mlp",
    "mode": "progressive",
    "inherit": True,
    "step_epochs": 1,
    "epochs": 3,
    "data_fraction": 0.3,
}


def inherited_search(store: str | None, strategy: str, budget: int) -> rlnas.SearchResult:
    config = rlnas.SearchConfig(
        **INHERITED, strategy=strategy, budget=budget, seed=0, store=store, name=NAME
    )
    return rlnas.run(config, resume=store is not None)


def scheduled_search(store: str | None, strategy: str, budget: int) -> rlnas.SearchResult:
    return rlnas.search(
        toy_space(),
        Curves(delay=DELAY_S / 9),
        strategy,
        budget=budget,
        seed=0,
        store=store,
        name=NAME,
        scheduler=rlnas.make_scheduler("asha", 9),
        resume=store is not None,
    )


def main(store: str, strategy: str, executor: str, workers: str, budget: str) -> None:
    if executor == "weight-sharing":
        weight_sharing_search(store, strategy, int(budget))
        return
    if executor == "inherit":
        inherited_search(store, strategy, int(budget))
        return
    if executor == "asha":
        scheduled_search(store, strategy, int(budget))
        return
    rlnas.search(
        toy_space(),
        Sleepy(DELAY_S),
        strategy,
        budget=int(budget),
        seed=0,
        store=store,
        name=NAME,
        workers=int(workers),
        executor=executor,
        resume=True,
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
