"""Search with one's own evaluator in two worker processes, from Python.

    PYTHONPATH=examples python examples/own_evaluator.py STORE

Worker processes start by importing this file again (Python's "spawn"), so the code that
starts the search must sit under ``if __name__ == "__main__":``; without that guard each worker
would start a search of its own. The evaluator must be importable (defined at the top level of a
module, not a lambda), because it is sent to the workers.
"""

from __future__ import annotations

import sys

from rlnas_examples.scoring import SPACE, evaluate

import rlnas

if __name__ == "__main__":
    store = sys.argv[1] if len(sys.argv) > 1 else "runs.db"
    result = rlnas.search(
        SPACE, evaluate, strategy="evolution", metric="score", budget=12, workers=2, store=store
    )
    print(result.best.architecture.choices, result.best.metrics)
