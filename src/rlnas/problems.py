"""From a name to a search problem: the space, the evaluator, the objective, and what to record.

A benchmark name (``nbg:cora``) gives a look-up table; a task name (``digits``, ``csv:PATH``)
gives a model space (built-in, or the user's family by import path) trained by
``TrainingEvaluator``; an ``evaluator`` import path gives the user's own evaluator over the
SearchSpace that ``space`` names. ``rlnas.run`` and ``rlnas.env.make`` both
start here, so a name means the same thing everywhere.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, ValidationInfo, field_validator

from rlnas.devices import DeviceSettings
from rlnas.errors import UserError
from rlnas.estimators.recipe import EPOCHS, TrainingRecipe
from rlnas.estimators.table_file import PREFIX as TABLE
from rlnas.estimators.table_file import read_benchmark
from rlnas.estimators.tabular import BENCHMARKS, load_benchmark
from rlnas.evaluator import Evaluator, EvaluatorError
from rlnas.importing import call_user_code, import_object
from rlnas.rewards import Constraint, Objective
from rlnas.settings import Settings
from rlnas.space import SearchSpace
from rlnas.tasks import Kind, absolute_task_name
from rlnas.tasks.split import split_record

DEFAULT_BENCHMARK = "nbg:cora"


class ProblemSettings(Settings):
    """What is searched: a benchmark's table, or a task's model space and how each is trained."""

    benchmark: str | None = Field(
        None,
        description="Tabular benchmark (the default without a task: "
        f"{DEFAULT_BENCHMARK}): " + "; ".join(family.help for family in BENCHMARKS.values()),
    )
    task: str | None = Field(
        None,
        description="Data set to train on: digits, mnist, ..., csv:PATH (the target is the last "
        "column unless target names it), npz:PATH (arrays X and y), npy:PATH or folder:PATH.",
    )
    space: str | None = Field(
        None,
        description="Model space of the task: chain-cnn, cell-cnn, nb201-cell, conv1d, mlp, or "
        "your own family as package.module:Name (default: the one that suits the input shape); "
        "with an evaluator, the import path of its SearchSpace.",
    )
    target: str | None = Field(
        None, description="Target column of a csv: task (default: the last column)."
    )
    kind: Kind | None = Field(
        None,
        description="What the task predicts: classification, binary or regression (default: "
        "inferred from the target's values).",
    )
    evaluator: str | None = Field(
        None,
        description="Your own evaluator as package.module:name (Architecture -> metrics), "
        "searching the SearchSpace that space names; needs metric.",
    )
    epochs: int = Field(EPOCHS, ge=1, description="Training epochs per architecture.")
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
    test_metric: str | None = Field(
        None,
        description="A table: benchmark's report-only column that judges the incumbent "
        "(default: its test column, else the searched one).",
    )
    direction: Literal["maximize", "minimize"] | None = Field(
        None, description="Maximize or minimize the metric (default: the metric's own)."
    )

    @property
    def searched(self) -> str:
        """The task, or else the benchmark (or the user's evaluator) searched."""
        if self.task is not None and self.benchmark is not None:
            raise UserError("task and benchmark are exclusive: search a data set or a table")
        if self.evaluator is not None:
            return self.space or "your evaluator's space"
        return self.task or self.benchmark or DEFAULT_BENCHMARK

    @field_validator("space", "evaluator", mode="before")
    @classmethod
    def _code_by_import_path(cls, value: Any, info: ValidationInfo) -> Any:
        """A model family, a SearchSpace or an evaluator given as the object itself is recorded
        by its import path, so that the search resumes and ``train-final`` finds it again."""
        if value is None or isinstance(value, str):
            return value
        return import_path_of(value, "the evaluator" if info.field_name == "evaluator" else "")

    def with_absolute_paths(self) -> Self:
        """These settings with the task's or the table's file path made absolute, so that a
        stored experiment finds its data from any folder (``train-final`` and ``resume``
        elsewhere)."""
        if self.benchmark is not None and self.benchmark.startswith(TABLE):
            return self.replaced(
                benchmark=TABLE + str(Path(self.benchmark[len(TABLE) :]).absolute())
            )
        if self.task is None:
            return self
        return self.replaced(task=absolute_task_name(self.task))

    def constraints(self) -> list[Constraint]:
        return [Constraint.parse(text) for text in self.constraint]


def import_path_of(code: Any, what: str = "") -> str:
    """The ``package.module:name`` that imports ``code`` again (a class, a function, or an
    object kept at the top level of a module, such as a SearchSpace constant); a model family's
    instance is named by its class (``portable_space``)."""
    candidates = []
    if isinstance(code, type | types.FunctionType):
        candidates.append(f"{code.__module__}:{code.__qualname__}")
    else:
        candidates += [  # an object kept at a module's top level, e.g. SPACE = SearchSpace(...)
            f"{name}:{attribute}"
            for name, module in list(sys.modules.items())
            if name != "__main__" and module is not None and not name.startswith(("_", "rlnas."))
            for attribute, held in list(vars(module).items())
            if held is code
        ]
    for path in candidates:
        with suppress(UserError):
            if import_object(path, "code") is code:
                return path
    if not isinstance(code, SearchSpace) and not what:  # a model family: by its class
        from rlnas.space.models import portable_space

        portable = portable_space(code)
        if isinstance(portable, str):
            return portable
    raise UserError(
        f"{what or 'the space'} {code!r} cannot be imported again by path; define it at the top "
        "level of a module (not in a function or in __main__), or give its import path as "
        "package.module:name"
    )


@dataclass(frozen=True)
class Problem:
    """What a search needs; ``context`` is what the store keeps about where it came from."""

    space: SearchSpace
    evaluate: Evaluator
    objective: Objective
    context: Mapping[str, Any]
    description: str | None = None
    """One line on what is searched (a task's target, kind, metric, shapes and rows)."""

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
    if settings.evaluator is not None:
        return _user_problem(settings, constraints)
    if settings.task is None:
        if settings.space is not None or settings.target is not None or settings.kind is not None:
            raise UserError("space, target and kind apply to a task search only")
        if name.startswith(TABLE):  # a user's table: the settings name its metric columns
            costs = [constraint.cost for constraint in constraints]
            bench = read_benchmark(name, settings.metric, settings.test_metric, costs)
        else:
            bench = load_benchmark(name)
        objective = Objective(
            settings.metric or bench.metric, settings.direction or "maximize", constraints
        )
        return Problem(bench.space, bench.evaluate, objective, {"benchmark": bench.name})

    # Imported here so that torch loads only for a task.
    from rlnas.estimators.feasibility import check_feasible
    from rlnas.estimators.training import TrainingEvaluator
    from rlnas.space.models import default_space_name
    from rlnas.tasks import load_task

    task = load_task(name, target=settings.target, kind=settings.kind)
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
        "kind": task.kind,
        "space": space_name,
        "epochs": evaluator.epochs,
        "data_fraction": evaluator.data_fraction,
        "recipe": evaluator.recipe.model_dump(mode="json"),
        "split": split_record(task.indices),  # the rule and a hash of each split's rows
    }
    space = evaluator.search_space()
    check_feasible(task, evaluator.space, space, constraints, seed)
    if space.name != space_name:  # a user's family: its SearchSpace is stored by its import path
        space = replace(space, name=space_name)
    return Problem(space, evaluator, objective, context, task.describe())


def _user_problem(settings: ProblemSettings, constraints: list[Constraint]) -> Problem:
    """The user's evaluator (by import path) over the SearchSpace that ``space`` names."""
    if settings.task is not None or settings.benchmark is not None:
        raise UserError("an evaluator scores its own space: give it no task or benchmark")
    if settings.target is not None or settings.kind is not None:
        raise UserError("target and kind apply to a task search only")
    if settings.space is None:
        raise UserError(
            "a search with your own evaluator needs space: the import path of its SearchSpace "
            "(package.module:SPACE, or a function that returns one)"
        )
    if settings.metric is None:
        raise UserError(
            "a search with your own evaluator needs metric: the name of the metric it returns "
            "that the search optimizes"
        )
    space = import_object(settings.space, "search space")
    if not isinstance(space, SearchSpace) and callable(space):
        space = call_user_code(settings.space, "search space", space)
    if not isinstance(space, SearchSpace):
        raise UserError(
            f"search space {settings.space} is a {type(space).__name__}, not an rlnas.SearchSpace "
            "(or a function that returns one)"
        )
    evaluate = import_object(settings.evaluator, "evaluator")
    if isinstance(evaluate, type):
        evaluate = call_user_code(settings.evaluator, "evaluator", evaluate)
    if not callable(evaluate):
        raise EvaluatorError(f"evaluator {settings.evaluator} is not callable")
    objective = Objective(settings.metric, settings.direction or "maximize", constraints)
    context = {"evaluator": settings.evaluator, "space": settings.space}
    return Problem(replace(space, name=settings.space), evaluate, objective, context)
