"""From a name to a search problem: the space, the evaluator, the objective, and what to record.

A benchmark name (``nbg:cora``) gives a look-up table; a task name (``digits``, ``csv:PATH``)
gives a model space trained by ``TrainingEvaluator``. The command line and ``rlnas.env.make``
both start here, so a name means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlnas.errors import UserError
from rlnas.estimators.tabular import BENCHMARK_NAMES, load_benchmark
from rlnas.rewards import Constraint, Direction, Objective
from rlnas.space import SearchSpace

Evaluator = Any  # a callable Architecture -> metrics; TrainingEvaluator for a task


@dataclass(frozen=True)
class Problem:
    """What a search needs; ``context`` is what the store keeps about where it came from."""

    space: SearchSpace
    evaluate: Evaluator
    objective: Objective
    context: Mapping[str, Any]


def load_problem(
    name: str,
    *,
    benchmark: bool | None = None,
    space: str | None = None,
    target: str | None = None,
    epochs: int = 10,
    data_fraction: float = 1.0,
    seed: int = 0,
    constraints: Sequence[Constraint] = (),
    metric: str | None = None,
    direction: Direction | None = None,
) -> Problem:
    """The problem of benchmark or task ``name`` (``benchmark``: which one; default: guessed).

    For a task, ``space`` is its model space (default: the one that suits its input shape),
    ``target`` the target column of a ``csv:`` task, and ``epochs``, ``data_fraction`` and
    ``seed`` the training's fidelity and seed. ``metric`` and ``direction`` default to what the
    benchmark or task reports.
    """
    if benchmark is None:
        benchmark = name in BENCHMARK_NAMES
    if benchmark:
        if space is not None or target is not None:
            raise UserError("--space and --target apply to a --task search only")
        bench = load_benchmark(name)
        objective = Objective(metric or bench.metric, direction or "maximize", list(constraints))
        return Problem(bench.space, bench.evaluate, objective, {"benchmark": bench.name})

    # Imported here so that torch loads only for a task.
    from rlnas.estimators.training import TrainingEvaluator
    from rlnas.space.models import default_space_name
    from rlnas.tasks import load_task

    task = load_task(name, target=target)
    space_name = space or default_space_name(task.input_shape)
    evaluator = TrainingEvaluator(
        task,
        space_name,
        epochs=epochs,
        data_fraction=data_fraction,
        seed=seed,
        constraints=constraints,
    )
    objective = Objective(metric or task.metric, direction or task.direction, list(constraints))
    context = {
        "task": task.name,  # for an image folder, the name records the image size
        "target": target,
        "space": space_name,
        "epochs": evaluator.epochs,
        "data_fraction": evaluator.data_fraction,
        "recipe": evaluator.recipe.model_dump(mode="json"),
    }
    return Problem(evaluator.search_space(), evaluator, objective, context)
