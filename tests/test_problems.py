"""A benchmark or task name becomes the same problem for the CLI and the Gymnasium environment."""

from __future__ import annotations

import numpy as np
import pytest

from rlnas.errors import UserError
from rlnas.problems import ProblemSettings, load_problem


def test_a_benchmark_name_gives_its_table() -> None:
    problem = load_problem(ProblemSettings(benchmark="nbg:cora"))
    architecture = problem.space.sample(np.random.default_rng(0))
    assert problem.objective.metric == "validation"
    assert 0 < problem.evaluate(architecture)["validation"] < 1
    assert problem.context == {"benchmark": "nbg:cora"}


def test_a_task_name_gives_its_model_space_and_training() -> None:
    problem = load_problem(ProblemSettings(task="digits", space="mlp", epochs=2, data_fraction=0.5))
    assert problem.space.name == "mlp"
    assert (problem.objective.metric, problem.objective.direction) == ("accuracy", "maximize")
    assert problem.context["epochs"] == 2 and problem.context["task"] == "digits"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"benchmark": "nbg:cora", "space": "mlp"}, "apply to a task search only"),
        ({"benchmark": "digits"}, "unknown benchmark 'digits'"),
        ({"task": "no-such-task"}, "no-such-task"),
        ({"task": "digits", "benchmark": "nbg:cora"}, "exclusive"),
    ],
)
def test_names_and_options_that_do_not_fit_are_user_errors(settings, message) -> None:
    with pytest.raises(UserError, match=message):
        load_problem(ProblemSettings(**settings))
