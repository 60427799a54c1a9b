"""From a name to a search problem: the space, the evaluator, the objective, and what to record.

A benchmark name (``nbg:cora``) gives a look-up table; a task name (``digits``, ``csv:PATH``)
gives a model space trained by ``TrainingEvaluator``. ``rlnas.run`` and ``rlnas.env.make`` both
start here, so a name means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from rlnas.devices import DeviceSettings
from rlnas.errors import UserError
from rlnas.estimators.recipe import TrainingRecipe
from rlnas.estimators.tabular import load_benchmark
from rlnas.evaluator import Evaluator
from rlnas.rewards import Constraint, Objective
from rlnas.settings import Settings
from rlnas.space import SearchSpace

DEFAULT_BENCHMARK = "nbg:cora"


class ProblemSettings(Settings):
    """What is searched: a benchmark's table, or a task's model space and how each is trained."""

    benchmark: str | None = Field(
        None, description="Tabular benchmark, e.g. nbg:cora (the default without a task)."
    )
    task: str | None = Field(
        None, description="Data set to train on: digits, mnist, ..., csv:PATH or npz:PATH."
    )
    space: str | None = Field(
        None,
        description="Model space of the task: chain-cnn, cell-cnn, conv1d, mlp "
        "(default: the one that suits its input shape).",
    )
    target: str | None = Field(None, description="Target column of a csv: task.")
    epochs: int = Field(10, ge=1, description="Training epochs per architecture.")
    data_fraction: float = Field(
        1.0, gt=0, le=1, description="Fraction of the training rows to train on."
    )
    constraint: list[str] = Field(
        default_factory=list,
        description="Cost limit, e.g. params<=20000 or flops<=1e6:soft (repeatable).",
    )
    metric: str | None = Field(
        None, description="Metric to optimize (default: the benchmark's or task's own)."
    )
    direction: Literal["maximize", "minimize"] | None = Field(
        None, description="Maximize or minimize the metric (default: the metric's own)."
    )

    @property
    def searched(self) -> str:
        """The task, or else the benchmark searched."""
        if self.task is not None and self.benchmark is not None:
            raise UserError("task and benchmark are exclusive: search a data set or a table")
        return self.task or self.benchmark or DEFAULT_BENCHMARK

    def constraints(self) -> list[Constraint]:
        return [Constraint.parse(text) for text in self.constraint]


@dataclass(frozen=True)
class Problem:
    """What a search needs; ``context`` is what the store keeps about where it came from."""

    space: SearchSpace
    evaluate: Evaluator
    objective: Objective
    context: Mapping[str, Any]

    @property
    def trains(self) -> bool:
        """Whether the problem trains networks (a task), rather than looking them up."""
        return "task" in self.context


def load_problem(
    settings: ProblemSettings,
    seed: int = 0,
    recipe: TrainingRecipe | None = None,
    devices: DeviceSettings | None = None,
) -> Problem:
    """The problem that ``settings`` describe, its training seeded with ``seed``.

    A task trains with ``recipe`` on ``devices`` (defaults: Adam as ``TrainingRecipe``
    declares it, the best device there is). ``metric`` and ``direction`` default to what the
    benchmark or task reports.
    """
    name = settings.searched
    constraints = settings.constraints()
    if settings.task is None:
        if settings.space is not None or settings.target is not None:
            raise UserError("space and target apply to a task search only")
        bench = load_benchmark(name)
        objective = Objective(
            settings.metric or bench.metric, settings.direction or "maximize", constraints
        )
        return Problem(bench.space, bench.evaluate, objective, {"benchmark": bench.name})

    # Imported here so that torch loads only for a task.
    from rlnas.estimators.training import TrainingEvaluator
    from rlnas.space.models import default_space_name
    from rlnas.tasks import load_task

    task = load_task(name, target=settings.target)
    space_name = settings.space or default_space_name(task.input_shape)
    evaluator = TrainingEvaluator(
        task,
        space_name,
        epochs=settings.epochs,
        data_fraction=settings.data_fraction,
        seed=seed,
        constraints=constraints,
        recipe=recipe,
        devices=devices,
    )
    objective = Objective(
        settings.metric or task.metric, settings.direction or task.direction, constraints
    )
    context = {
        "task": task.name,  # for an image folder, the name records the image size
        "target": settings.target,
        "space": space_name,
        "epochs": evaluator.epochs,
        "data_fraction": evaluator.data_fraction,
        "recipe": evaluator.recipe.model_dump(mode="json"),
    }
    return Problem(evaluator.search_space(), evaluator, objective, context)
