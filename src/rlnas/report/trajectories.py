"""``rlnas export-trajectories``: every stored episode as (state, action, reward) steps.

A trial is one episode of the sequential decision process a controller sees: step t chooses
decision t, given the decisions made before it (the state). The episodes stored now are one-shot:
the reward (the trial's reward) and the costs (duration_s, and params, flops or latency when the
trial reports them) arrive on the last step, and are 0 before it. A failed trial's reward is
empty. One row per step, for offline RL or analysis in pandas / polars. A scheduled search adds
``rung`` and ``epochs`` (how far the candidate trained) to the last step; a pruned trial's
reward is the estimate its strategy was told (``rlnas.schedulers``). A search that inherits
weights adds ``parent`` (the key of the network the trial grew from), ``start`` (inherited or
scratch, and why) and ``epochs`` to the last step.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rlnas.errors import UserError
from rlnas.report.growth import inherited
from rlnas.report.runs import COST_METRICS, Run, load_runs

COLUMNS = (
    "experiment",
    "trial",
    "step",
    "decision",
    "state",
    "action",
    "reward",
    "done",
    "status",
    "duration_s",
)


def trajectory_rows(runs: Sequence[Run]) -> tuple[list[str], list[dict[str, Any]]]:
    """The column names and one row per step of every trial of ``runs``."""
    costs = [c for c in COST_METRICS if any(c in t.metrics for run in runs for t in run.trials)]
    scheduled = any(t.rung is not None for run in runs for t in run.trials)
    grown = any(inherited(run.trials) for run in runs)
    rows = []
    for run in runs:
        for trial in run.trials:
            state: dict[str, Any] = {}
            steps = list(trial.architecture.items())
            for step, (decision, option) in enumerate(steps):
                done = step == len(steps) - 1
                row = {
                    "experiment": run.name,
                    "trial": trial.number,
                    "step": step,
                    "decision": decision,
                    "state": json.dumps(state),
                    "action": str(option),
                    "reward": trial.reward if done else 0.0,
                    "done": done,
                    "status": trial.status,
                    "duration_s": trial.duration_s if done else 0.0,
                }
                for cost in costs:
                    row[cost] = trial.metrics.get(cost) if done else 0.0
                if scheduled:
                    row["rung"] = trial.rung if done else None
                    row["epochs"] = len(trial.curve) if done else None
                if grown:
                    row["parent"] = trial.parent if done else None
                    row["start"] = trial.start if done else None
                    if not scheduled:
                        epochs = trial.metrics.get("epochs")
                        row["epochs"] = int(epochs) if done and epochs is not None else None
                rows.append(row)
                state[decision] = option
    extra = ["rung", "epochs"] if scheduled else []
    if grown:
        extra += ["parent", "start", *([] if scheduled else ["epochs"])]
    return [*COLUMNS, *costs, *extra], rows


def export_trajectories(store: str | Path, output: str | Path, names: Sequence[str] = ()) -> int:
    """Write the steps of the experiments ``names`` (all when empty) to a .csv or .parquet file.

    Returns the number of rows written.
    """
    output = Path(output)
    if output.suffix not in (".csv", ".parquet"):
        raise UserError(f"cannot write {output}: the output must end in .csv or .parquet")
    if not output.parent.is_dir():
        raise UserError(f"the folder of {output} does not exist; create it or choose another -o")
    if output.suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise UserError(
                "writing .parquet needs pyarrow: pip install pyarrow, or write a .csv instead"
            ) from None
    columns, rows = trajectory_rows(load_runs(store, names))
    if output.suffix == ".csv":
        _write_csv(output, columns, rows)
    else:
        _write_parquet(output, columns, rows)
    return len(rows)


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _write_parquet(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {
        "experiment": pa.string(),
        "trial": pa.int64(),
        "step": pa.int64(),
        "decision": pa.string(),
        "state": pa.string(),
        "action": pa.string(),
        "done": pa.bool_(),
        "status": pa.string(),
        "rung": pa.int64(),
        "epochs": pa.int64(),
        "parent": pa.string(),
        "start": pa.string(),
    }
    schema = pa.schema([(name, types.get(name, pa.float64())) for name in columns])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
