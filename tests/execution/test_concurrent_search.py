"""Searches with several architectures in flight: results come back out of order, nothing breaks."""

from __future__ import annotations

import random

import pytest
from evaluators import Faulty, Sleepy, score, toy_space

import rlnas
from rlnas.execution import Executor, evaluate_trial


class Shuffled(Executor):
    """Holds everything submitted and finishes a random one at each wait: the worst order."""

    name = "shuffled"

    def __init__(self, seed: int) -> None:
        super().__init__(workers=4)
        self.rng = random.Random(seed)
        self.pending: list[rlnas.Architecture] = []
        self.most_in_flight = 0

    def submit(self, architecture: rlnas.Architecture) -> None:
        self.pending.append(architecture)
        self.most_in_flight = max(self.most_in_flight, len(self.pending))

    def wait(self) -> list[rlnas.Trial]:
        architecture = self.pending.pop(self.rng.randrange(len(self.pending)))
        return [evaluate_trial(self.evaluate, architecture, self.objective)]

    @property
    def in_flight(self) -> int:
        return len(self.pending)


@pytest.mark.parametrize("strategy", sorted(rlnas.STRATEGIES))
def test_every_strategy_learns_from_results_in_any_order(strategy: str) -> None:
    executor = Shuffled(seed=1)
    result = rlnas.search(toy_space(), score, strategy, budget=40, seed=0, executor=executor)
    assert executor.most_in_flight == 4
    keys = [trial.architecture.key for trial in result.trials]
    assert len(keys) == len(set(keys)) == 40
    assert [trial.number for trial in result.trials] == list(range(40))
    assert result.best is not None and result.best.reward == max(t.reward for t in result.trials)


@pytest.mark.parametrize("strategy", ["ppo", "evolution"])
def test_two_worker_processes_finish_the_budget(strategy: str, tmp_path) -> None:
    result = rlnas.search(
        toy_space(), Sleepy(0.01), strategy, budget=16, seed=0, workers=2, store=tmp_path / "r.db"
    )
    assert len({trial.architecture.key for trial in result.trials}) == 16
    with rlnas.Store(tmp_path / "r.db") as store:
        stored = store.trials(store.experiment())
    assert [trial.number for trial in stored] == list(range(16))


def test_failures_in_workers_are_data_and_the_search_goes_on() -> None:
    result = rlnas.search(
        toy_space(), Faulty(die_on="d"), "random", budget=16, seed=3, workers=2, trial_timeout=1
    )
    errors = [trial.error or "" for trial in result.trials]
    assert any(error == "RuntimeError: injected failure" for error in errors)
    assert any(error.startswith("timed out") for error in errors)
    assert any(error.startswith("the worker process died") for error in errors)
    assert any(error == "diverged: accuracy is nan" for error in errors)
    assert len(result.trials) == 16
    assert result.best is not None and result.best.architecture.choices["x0"] == "a"
