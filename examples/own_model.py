"""Search one's own model family from Python, resume the search, retrain the best and export it.

    PYTHONPATH=examples python examples/own_model.py OUT_FOLDER

The same from the command line:

    PYTHONPATH=examples rlnas search --task digits --space rlnas_examples.models:TinyConvNet \
        --budget 4 --epochs 1 --store runs.db --name mine
    PYTHONPATH=examples rlnas resume --store runs.db --name mine --budget 6
    PYTHONPATH=examples rlnas train-final --store runs.db --epochs 2 --out final/
"""

from __future__ import annotations

import sys
from pathlib import Path

import rlnas
from rlnas.export import train_final


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    store = out / "runs.db"
    config = rlnas.SearchConfig(
        task="digits",
        space="rlnas_examples.models:TinyConvNet",
        strategy="random",
        budget=3,
        epochs=1,
        store=store,
        name="mine",
    )
    first = rlnas.run(config)
    print(f"searched {len(first.trials)} architectures")
    more = rlnas.resume(store, "mine", budget=4)  # a larger budget extends a finished search
    print(f"resumed to {len(more.trials)} architectures; best {more.best.metrics['accuracy']:.3f}")
    final = train_final(store, name="mine", epochs=1, out_dir=out / "final")
    print(f"test accuracy {final.test_metrics['accuracy']:.3f}; files in {out / 'final'}")


if __name__ == "__main__":  # needed where workers start processes: they import this file
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "own-model"))
