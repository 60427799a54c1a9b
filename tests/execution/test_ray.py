"""A Ray run with two local workers: faults become failed trials, and a search finishes on it."""

from __future__ import annotations

import pytest
from evaluators import Faulty, score, toy_space
from test_executors import run_all

import rlnas
from rlnas.execution import make_executor
from rlnas.execution.ray_cluster import LONGEST_TEMP_DIR, _short_temp_dir, start_local_ray

pytestmark = pytest.mark.slow  # starting Ray takes several seconds


def test_ray_workers_survive_faults_and_serve_a_search(tmp_path) -> None:
    ray = pytest.importorskip("ray")
    space = toy_space()
    faulty = [space.architecture({"x0": x0, "x1": "a", "x2": "a", "x3": "a"}) for x0 in "bcd"]
    faulty.append(space.architecture({"x0": "a", "x1": "b", "x2": "a", "x3": "a"}))  # dies
    temp_dir = tmp_path / "runs.ray"
    # one Ray instance for both parts: executors leave a Ray that they did not start running
    start_local_ray(workers=2, temp_dir=temp_dir)
    try:
        with make_executor("ray", workers=2, trial_timeout=3) as executor:
            executor.start(Faulty(die_on="b"), rlnas.Objective("accuracy"))
            errors = [trial.error for trial in run_all(executor, faulty).values()]
        result = rlnas.search(space, score, "ppo", budget=12, workers=2, executor="ray")
        assert ray.is_initialized()
    finally:
        ray.shutdown()
    assert sorted(error.split(" ")[0] for error in errors) == [
        "RuntimeError:",
        "diverged:",
        "the",
        "timed",
    ]
    assert any("Ray worker died" in error for error in errors)
    assert len(result.trials) == 12
    assert (temp_dir / "session_latest").exists()  # Ray's files are reachable beside the run


def test_a_temp_dir_too_long_for_ray_s_sockets_is_linked_to_a_short_one(tmp_path) -> None:
    wanted = tmp_path / ("x" * LONGEST_TEMP_DIR) / "runs.ray"
    short = _short_temp_dir(wanted)
    assert len(str(short)) <= LONGEST_TEMP_DIR + 20
    assert wanted.resolve() == short.resolve()
    assert _short_temp_dir(wanted) == short  # a resumed run finds the same folder
