"""A search to kill: ``python interrupted_search.py STORE STRATEGY EXECUTOR WORKERS BUDGET``.

It starts (or resumes) the experiment "run" on the toy space, each evaluation taking a moment.
"""

from __future__ import annotations

import sys

from evaluators import Sleepy, toy_space

import rlnas

DELAY_S = 0.05
NAME = "run"


def main(store: str, strategy: str, executor: str, workers: str, budget: str) -> None:
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
