"""A benchmark or task name becomes the same problem for the CLI and the Gymnasium environment."""

from __future__ import annotations

import numpy as np
import pytest

from rlnas.errors import UserError
from rlnas.problems import load_problem


def test_a_benchmark_name_gives_its_table() -> None:
    problem = load_problem("nbg:cora")
    architecture = problem.space.sample(np.random.default_rng(0))
    assert problem.objective.metric == "validation"
    assert 0 < problem.evaluate(architecture)["validation"] < 1
    assert problem.context == {"benchmark": "nbg:cora"}


def test_a_task_name_gives_its_model_space_and_training() -> None:
    problem = load_problem("digits", space="mlp", epochs=2, data_fraction=0.5)
    assert problem.space.name == "mlp"
    assert (problem.objective.metric, problem.objective.direction) == ("accuracy", "maximize")
    assert problem.context["epochs"] == 2 and problem.context["task"] == "digits"


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("nbg:cora", {"space": "mlp"}, "apply to a --task search only"),
        ("digits", {"benchmark": True}, "unknown benchmark 'digits'"),
        ("no-such-task", {}, "no-such-task"),
    ],
)
def test_names_and_options_that_do_not_fit_are_user_errors(name, options, message) -> None:
    with pytest.raises(UserError, match=message):
        load_problem(name, **options)
