"""Exact resume: a search killed at any point and resumed ends like one that never stopped."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from evaluators import score, toy_space
from interrupted_search import (
    DELAY_S,
    NAME,
    inherited_search,
    scheduled_search,
    weight_sharing_search,
)

import rlnas
from rlnas import cli

HERE = Path(__file__).parent
RLNAS = Path(sys.executable).parent / "rlnas"
BUDGET = 24


CLOCKS = {"estimator_s", "train_time_s", "latency_ms"}
"""Metrics that measure wall-clock time: they differ between any two runs."""


def outcome(trials) -> list[tuple]:
    """What must match between runs: everything but wall-clock times."""
    return [(t.architecture.key, _timeless(t.metrics), t.reward, str(t.status)) for t in trials]


def stored_outcome(store: Path) -> list[tuple]:
    with rlnas.Store(store) as opened:
        trials = opened.trials(opened.experiment(NAME))
    return [(t.key, _timeless(t.metrics), t.reward, t.status) for t in trials]


def _timeless(metrics) -> dict[str, float]:
    return {name: value for name, value in metrics.items() if name not in CLOCKS}


def trials_stored(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return db.execute("SELECT count(*) FROM trials").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def kill_after(
    store: Path, strategy: str, executor: str, workers: int, trials: int, rng, budget: int = BUDGET
) -> int:
    """Run the search in a child process; kill -9 it (and its workers) once ``trials`` are stored
    plus a random fraction of an evaluation. Returns how many trials were stored by then."""
    child = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "interrupted_search.py"),
            str(store),
            strategy,
            executor,
            str(workers),
            str(budget),
        ],
        cwd=HERE,
        start_new_session=True,  # its own process group: the kill reaches worker processes too
    )
    try:
        deadline = time.monotonic() + 120
        while trials_stored(store) < trials and child.poll() is None:
            assert time.monotonic() < deadline, "the search made no progress"
            time.sleep(0.005)
        time.sleep(rng.uniform(0, DELAY_S))
        assert child.poll() is None, "the search ended before it could be killed"
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    return trials_stored(store)


def resume(store: Path, strategy: str, executor: str = "serial", workers: int = 1):
    return rlnas.search(
        toy_space(),
        score,
        strategy,
        budget=BUDGET,
        seed=0,
        store=store,
        name=NAME,
        executor=executor,
        workers=workers,
        resume=True,
    )


KILLS = [("ppo", 1), ("q-learning", 4), ("mcts", 9), ("evolution", 15), ("reinforce", 21)]


@pytest.mark.slow
@pytest.mark.parametrize(("strategy", "trials"), KILLS)
def test_a_serial_search_killed_and_resumed_matches_an_uninterrupted_one(
    strategy: str, trials: int, tmp_path
) -> None:
    uninterrupted = rlnas.search(toy_space(), score, strategy, budget=BUDGET, seed=0)
    store = tmp_path / "runs.db"
    stored = kill_after(store, strategy, "serial", 1, trials, random.Random(trials))
    assert trials <= stored < BUDGET
    resumed = resume(store, strategy)
    assert outcome(resumed.trials) == outcome(uninterrupted.trials)
    assert stored_outcome(store) == outcome(uninterrupted.trials)
    assert resumed.best.architecture == uninterrupted.best.architecture


@pytest.mark.slow
@pytest.mark.parametrize(("strategy", "trials"), [("ppo", 3), ("mcts", 8), ("evolution", 17)])
def test_a_scheduled_serial_search_killed_and_resumed_matches_an_uninterrupted_one(
    strategy: str, trials: int, tmp_path
) -> None:
    """The states of candidates in flight are in the checkpoint: a resume continues them."""
    uninterrupted = scheduled_search(None, strategy, BUDGET)
    assert any(t.pruned for t in uninterrupted.trials)
    store = tmp_path / "runs.db"
    stored = kill_after(store, strategy, "asha", 1, trials, random.Random(trials))
    assert trials <= stored < BUDGET
    resumed = scheduled_search(str(store), strategy, BUDGET)
    assert outcome(resumed.trials) == outcome(uninterrupted.trials)
    assert [t.curve for t in resumed.trials] == [t.curve for t in uninterrupted.trials]
    assert stored_outcome(store) == outcome(uninterrupted.trials)


@pytest.mark.slow
@pytest.mark.parametrize("trials", [4, 9])  # each just before an inherited step
def test_a_progressive_search_with_inheritance_killed_and_resumed_matches_an_uninterrupted_one(
    trials: int, tmp_path
) -> None:
    """The parents' weights are in the store: a resumed search grows from the same ones."""
    budget = 12
    uninterrupted = inherited_search(str(tmp_path / "whole.db"), "q-learning", budget)
    assert any((t.start or "").startswith("inherited") for t in uninterrupted.trials)
    store = tmp_path / "runs.db"
    kill_after(store, "q-learning", "inherit", 1, trials, random.Random(trials), budget)
    assert trials <= trials_stored(store) < budget
    resumed = inherited_search(str(store), "q-learning", budget)
    assert outcome(resumed.trials) == outcome(uninterrupted.trials)
    assert stored_outcome(store) == outcome(uninterrupted.trials)
    lineage = [(t.parent, t.start) for t in uninterrupted.trials]
    assert [(t.parent, t.start) for t in resumed.trials] == lineage


@pytest.mark.slow
@pytest.mark.parametrize("trials", [2, 5])
def test_a_weight_sharing_search_killed_and_resumed_matches_an_uninterrupted_one(
    trials: int, tmp_path
) -> None:
    """The shared weights are saved with every checkpoint: a resume continues their training."""
    budget = 8
    uninterrupted = weight_sharing_search(str(tmp_path / "whole.db"), "reinforce", budget)
    store = tmp_path / "runs.db"
    kill_after(store, "reinforce", "weight-sharing", 1, trials, random.Random(trials), budget)
    assert trials <= trials_stored(store) < budget
    resumed = weight_sharing_search(str(store), "reinforce", budget)
    assert outcome(resumed.trials) == outcome(uninterrupted.trials)
    assert stored_outcome(store) == outcome(uninterrupted.trials)


@pytest.mark.slow
@pytest.mark.parametrize("trials", [1, 5, 9, 14, 20])
def test_a_process_search_killed_and_resumed_keeps_its_trials_and_ends(
    trials: int, tmp_path
) -> None:
    store = tmp_path / "runs.db"
    stored = kill_after(store, "ppo", "process", 2, trials, random.Random(trials))
    before = stored_outcome(store)
    assert trials <= stored == len(before) < BUDGET
    resumed = resume(store, "ppo", "process", 2)
    after = stored_outcome(store)
    assert after[: len(before)] == before  # nothing finished is lost or changed
    assert len(after) == len({key for key, *_ in after}) == BUDGET
    assert outcome(resumed.trials) == after
    with rlnas.Store(store) as opened:
        assert opened.experiment(NAME).status == "complete"


def test_interrupted_in_process_every_strategy_resumes_exactly(tmp_path) -> None:
    for strategy in sorted(rlnas.STRATEGIES):
        uninterrupted = rlnas.search(toy_space(), score, strategy, budget=BUDGET, seed=0)
        store = tmp_path / f"{strategy}.db"
        calls = 0

        def stops_at_ten(architecture):
            nonlocal calls
            calls += 1
            if calls > 10:
                raise KeyboardInterrupt
            return score(architecture)

        with pytest.raises(KeyboardInterrupt):
            rlnas.search(toy_space(), stops_at_ten, strategy, budget=BUDGET, store=store, name=NAME)
        resumed = resume(store, strategy)
        assert outcome(resumed.trials) == outcome(uninterrupted.trials), strategy


def test_resuming_with_other_settings_is_refused_and_changes_nothing(tmp_path) -> None:
    store = tmp_path / "runs.db"
    rlnas.search(toy_space(), score, "ppo", budget=5, seed=0, store=store, name=NAME)
    before = stored_outcome(store)
    with pytest.raises(rlnas.UserError, match="strategy 'ppo', not 'random'"):
        resume(store, "random")
    with pytest.raises(rlnas.UserError, match="same seed"):
        rlnas.search(
            toy_space(), score, "ppo", budget=9, seed=1, store=store, name=NAME, resume=True
        )
    assert stored_outcome(store) == before


def test_rlnas_resume_continues_an_interrupted_cli_search(tmp_path, monkeypatch, capsys) -> None:
    from rlnas.estimators.tabular import TableEvaluator

    lookup = TableEvaluator.__call__
    calls = 0

    def interrupted(self, architecture):
        nonlocal calls
        calls += 1
        if calls > 7:
            raise KeyboardInterrupt
        return lookup(self, architecture)

    store = str(tmp_path / "runs.db")
    search = ["search", "--benchmark", "nbg:cora", "--strategy", "ppo", "--budget", "20"]
    monkeypatch.setattr(TableEvaluator, "__call__", interrupted)
    monkeypatch.setattr(sys, "argv", ["rlnas", *search, "--store", store, "--name", "cut"])
    with pytest.raises(SystemExit) as interrupted_exit:
        cli.main()
    assert interrupted_exit.value.code == 130  # what typer makes of Ctrl-C
    monkeypatch.setattr(TableEvaluator, "__call__", lookup)

    def invoke(argv: list[str]) -> None:
        monkeypatch.setattr(sys, "argv", ["rlnas", *argv])
        with pytest.raises(SystemExit) as exit_:
            cli.main()
        assert exit_.value.code in (0, None), capsys.readouterr().err

    invoke(["resume", "--store", store, "--name", "cut"])
    invoke([*search, "--store", store, "--name", "whole"])
    with rlnas.Store(store) as opened:
        cut, whole = (opened.trials(opened.experiment(name)) for name in ("cut", "whole"))
        assert opened.experiment("cut").status == "complete"
    assert [(t.key, t.metrics) for t in cut] == [(t.key, t.metrics) for t in whole]
    assert len(cut) == 20


@pytest.mark.slow
def test_two_processes_write_one_store_without_harm(tmp_path) -> None:
    store = tmp_path / "runs.db"
    children = [
        subprocess.Popen(
            [
                RLNAS,
                "search",
                "--benchmark",
                "nbg:cora",
                "--strategy",
                strategy,
                "--budget",
                "60",
                "--store",
                str(store),
                "--name",
                strategy,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for strategy in ("random", "evolution")
    ]
    for child in children:
        assert child.wait(timeout=300) == 0, child.stderr.read().decode()
    with rlnas.Store(store) as opened:
        assert [len(opened.trials(opened.experiment(n))) for n in ("random", "evolution")] == [
            60,
            60,
        ]
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("damage", [b"not a checkpoint", None])
def test_a_damaged_checkpoint_is_a_user_error_and_the_store_is_kept(damage, tmp_path) -> None:
    store = tmp_path / "runs.db"
    rlnas.search(toy_space(), score, "ppo", budget=5, seed=0, store=store, name=NAME)
    before = stored_outcome(store)
    with sqlite3.connect(store) as db:
        if damage is None:  # a valid blob, but not what ppo saved
            rlnas.search(toy_space(), score, "q-learning", budget=2, store=store, name="other")
            (damage,) = db.execute(
                "SELECT state FROM checkpoints ORDER BY experiment_id DESC"
            ).fetchone()
        db.execute("UPDATE checkpoints SET state = ? WHERE experiment_id = 1", (damage,))
    with pytest.raises(rlnas.UserError, match="checkpoint of 'run'"):
        rlnas.search(
            toy_space(), score, "ppo", budget=9, seed=0, store=store, name=NAME, resume=True
        )
    assert stored_outcome(store) == before
