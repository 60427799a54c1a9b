"""Executors evaluate the same way wherever they run, and turn every fault into a failed trial."""

from __future__ import annotations

import pytest
from evaluators import Faulty, score, toy_space

import rlnas
from rlnas.errors import UserError
from rlnas.execution import make_executor
from rlnas.execution.settings import ExecutionSettings
from rlnas.rewards import Objective

OBJECTIVE = Objective("accuracy")


def architectures(n: int) -> list[rlnas.Architecture]:
    space = toy_space()
    return [space.decode([i % 4, (i // 4) % 4, 0, 1]) for i in range(n)]


def run_all(executor, batch: list[rlnas.Architecture]) -> dict[str, rlnas.Trial]:
    """Submit ``batch`` at once and collect every trial, by architecture key."""
    for architecture in batch:
        executor.submit(architecture)
    finished = {}
    while executor.in_flight:
        for trial in executor.wait():
            finished[trial.architecture.key] = trial
    return finished


@pytest.mark.parametrize("name", ["serial", "process"])
def test_every_executor_gives_the_evaluator_s_metrics(name: str) -> None:
    batch = architectures(6)
    with make_executor(name, workers=2 if name == "process" else 1) as executor:
        executor.start(score, OBJECTIVE)
        finished = run_all(executor, batch)
    assert {key: trial.metrics["accuracy"] for key, trial in finished.items()} == {
        architecture.key: score(architecture)["accuracy"] for architecture in batch
    }
    assert all(trial.reward == trial.metrics["accuracy"] for trial in finished.values())


def test_process_workers_turn_faults_into_failed_trials_and_carry_on() -> None:
    space = toy_space()
    batch = [space.architecture({"x0": x0, "x1": "a", "x2": "a", "x3": "a"}) for x0 in "bcda"]
    batch.append(space.architecture({"x0": "a", "x1": "b", "x2": "a", "x3": "a"}))  # dies
    batch.append(space.architecture({"x0": "a", "x1": "a", "x2": "b", "x3": "a"}))  # after all
    with make_executor("process", workers=2, trial_timeout=3) as executor:
        executor.start(Faulty(die_on="b"), OBJECTIVE)
        finished = run_all(executor, batch)
    errors = [finished[architecture.key].error for architecture in batch]
    assert errors[0] == "RuntimeError: injected failure"
    assert errors[1] == "diverged: accuracy is nan"
    assert errors[2].startswith("timed out after 3 s")
    assert errors[3] is None
    assert errors[4].startswith("the worker process died")
    assert errors[5] is None  # the pool recovered from the timeout and the death


def test_serial_executor_refuses_a_timeout_it_cannot_enforce() -> None:
    with pytest.raises(UserError, match="process"):
        make_executor("serial", trial_timeout=5)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"executor": "cluster"}, "no executor 'cluster'"),
        ({"workers": 0}, "'workers': Input should be greater than or equal to 1"),
        ({"trial_timeout": -1}, "'trial_timeout': Input should be greater than 0"),
    ],
)
def test_bad_executor_settings_are_user_errors(arguments: dict, message: str) -> None:
    """Checked once, as settings; ``make_executor`` trusts them (an unknown name aside)."""
    with pytest.raises(UserError, match=message):
        ExecutionSettings(**arguments)
    with pytest.raises(UserError, match="unknown executor"):
        make_executor("cluster")


def test_the_default_is_serial_for_one_worker_and_process_for_more() -> None:
    assert make_executor(None, workers=1).name == "serial"
    assert make_executor(None, workers=2).name == "process"
    assert make_executor(None, workers=1, trial_timeout=9).name == "process"
