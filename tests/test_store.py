"""The SQLite store: round trips, atomic writes, and refusing what it cannot hold."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import torch

import rlnas
from rlnas.errors import StoreError
from rlnas.trial import Status, Trial

SPACE = rlnas.SearchSpace([rlnas.Choice("op", ["conv", "pool"]), rlnas.Choice("width", [8, 16])])


def _trial(number: int, reward: float | None = 0.5, **choices) -> Trial:
    architecture = SPACE.architecture({"op": "conv", "width": 8, **choices})
    if reward is None:
        return Trial(number, architecture, {"params": 3.0}, None, Status.FAILED, "OOM", 1.5, 0.25)
    return Trial(number, architecture, {"accuracy": reward}, reward, started_at=2.0, duration_s=0.5)


def test_trials_and_checkpoints_round_trip(tmp_path) -> None:
    path = tmp_path / "runs.db"
    state = {
        "strategy": {
            "rng": np.random.default_rng(7).bit_generator.state,
            "weights": torch.arange(6.0).reshape(2, 3),
            "population": [({"op": "conv", "width": 8}, 0.5)],
        }
    }
    with rlnas.Store(path) as store:
        experiment = store.create_experiment("exp", {"metric": "accuracy", "budget": 2}, seed=3)
        store.record_trial(experiment, _trial(0, 0.75, op="pool"), diagnostics={"epsilon": 0.1})
        store.record_trial(experiment, _trial(1, None, width=16), checkpoint=state)
    with rlnas.Store(path) as store:
        experiment = store.experiment("exp")
        assert (experiment.seed, experiment.status) == (3, "running")
        assert experiment.config == {"metric": "accuracy", "budget": 2}
        first, second = store.trials(experiment)
        assert first.to_dict() == {
            "number": 0,
            "key": SPACE.architecture({"op": "pool", "width": 8}).key,
            "architecture": {"op": "pool", "width": 8},
            "metrics": {"accuracy": 0.75},
            "reward": 0.75,
            "status": "complete",
            "error": None,
            "started_at": 2.0,
            "duration_s": 0.5,
        }
        assert first.diagnostics == {"epsilon": 0.1}
        assert (second.status, second.error, second.reward) == ("failed", "OOM", None)
        assert second.metrics == {"params": 3.0}
        assert SPACE.architecture(second.architecture).key == second.key
        done, loaded = store.checkpoint(experiment)
        assert done == 2
        assert torch.equal(loaded["strategy"]["weights"], state["strategy"]["weights"])
        assert loaded["strategy"]["rng"] == state["strategy"]["rng"]
        assert loaded["strategy"]["population"] == [({"op": "conv", "width": 8}, 0.5)]
        store.set_status(experiment, "complete")
        assert store.experiment().status == "complete"


def test_a_checkpoint_that_cannot_be_serialized_leaves_no_trial(tmp_path) -> None:
    with rlnas.Store(tmp_path / "runs.db") as store:
        experiment = store.create_experiment("exp", {}, seed=0)
        with pytest.raises(Exception):  # noqa: B017 - pickling a lambda, whichever error it is
            store.record_trial(experiment, _trial(0), checkpoint={"model": lambda: None})
        assert store.trials(experiment) == []
        assert store.checkpoint(experiment) is None
        store.record_trial(experiment, _trial(0), checkpoint={"ok": 1})  # the store still works
        assert len(store.trials(experiment)) == 1


def test_a_failure_inside_the_transaction_rolls_the_trial_back(tmp_path) -> None:
    path = tmp_path / "runs.db"
    with rlnas.Store(path) as store:
        experiment = store.create_experiment("exp", {}, seed=0)
        store.record_trial(experiment, _trial(0), checkpoint={"step": 1})
        # the checkpoint write fails after the trial row went in, as a full disk would
        other = sqlite3.connect(path)
        other.execute(
            "CREATE TRIGGER full BEFORE INSERT ON checkpoints BEGIN SELECT RAISE(ABORT, 'disk "
            "full'); END"
        )
        other.close()
        with pytest.raises(sqlite3.DatabaseError, match="disk full"):
            store.record_trial(experiment, _trial(1, width=16), checkpoint={"step": 2})
        assert [t.number for t in store.trials(experiment)] == [0]
        assert store.checkpoint(experiment) == (1, {"step": 1})


def test_a_file_that_is_not_sqlite_raises_store_error_and_is_left_alone(tmp_path) -> None:
    path = tmp_path / "notes.db"
    content = b"these are my notes, not a database\n" * 50
    path.write_bytes(content)
    with pytest.raises(StoreError, match="not an rlnas SQLite store"):
        rlnas.Store(path)
    assert path.read_bytes() == content


def test_a_folder_or_a_missing_folder_raises_store_error(tmp_path) -> None:
    with pytest.raises(StoreError, match="directory"):
        rlnas.Store(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        rlnas.Store(tmp_path / "missing" / "runs.db")


def test_a_duplicate_experiment_name_is_refused_and_changes_nothing(tmp_path) -> None:
    with rlnas.Store(tmp_path / "runs.db") as store:
        experiment = store.create_experiment("exp", {"budget": 5}, seed=1)
        store.record_trial(experiment, _trial(0))
        before = store.experiment("exp")
        with pytest.raises(rlnas.UserError, match="already exists"):
            store.create_experiment("exp", {"budget": 99}, seed=2)
        assert store.experiment("exp") == before
        assert len(store.trials(before)) == 1
        assert [e.name for e in store.experiments()] == ["exp"]
        assert store.unique_name("exp") == "exp-2"


def test_unknown_experiment_names_the_known_ones(tmp_path) -> None:
    with rlnas.Store(tmp_path / "runs.db") as store:
        with pytest.raises(StoreError, match="no experiment"):
            store.experiment()
        store.create_experiment("alpha", {}, seed=0)
        with pytest.raises(StoreError, match="alpha"):
            store.experiment("beta")


def test_a_corrupt_checkpoint_raises_store_error(tmp_path) -> None:
    path = tmp_path / "runs.db"
    with rlnas.Store(path) as store:
        experiment = store.create_experiment("exp", {}, seed=0)
        store.record_trial(experiment, _trial(0), checkpoint={"step": 1})
        other = sqlite3.connect(path)
        with other:
            other.execute("UPDATE checkpoints SET state = ?", (b"garbage",))
        other.close()
        with pytest.raises(StoreError, match="corrupt"):
            store.checkpoint(experiment)


def test_a_reader_sees_trials_while_a_writer_works(tmp_path) -> None:
    path = tmp_path / "runs.db"
    with rlnas.Store(path) as writer:
        writer.create_experiment("exp", {}, seed=0)
    with rlnas.Store(path) as writer, rlnas.Store(path) as reader:
        experiment = writer.experiment("exp")
        for number in range(5):
            writer.record_trial(experiment, _trial(number))
            assert len(reader.trials(reader.experiment("exp"))) == number + 1


def test_a_sqlite_file_of_another_program_is_refused_untouched(tmp_path) -> None:
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    with other:
        other.execute("CREATE TABLE contacts (name TEXT)")
        other.execute("INSERT INTO contacts VALUES ('Ada')")
    other.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="another program"):
        rlnas.Store(path)
    assert path.read_bytes() == before


def test_a_store_without_the_diagnostics_column_is_upgraded(tmp_path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            config TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
            created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE TABLE trials (experiment_id INTEGER NOT NULL REFERENCES experiments(id),
            number INTEGER NOT NULL, key TEXT NOT NULL, architecture TEXT NOT NULL,
            metrics TEXT NOT NULL, reward REAL, status TEXT NOT NULL, error TEXT,
            started_at REAL NOT NULL, duration_s REAL NOT NULL,
            PRIMARY KEY (experiment_id, number));
        INSERT INTO experiments VALUES (1, 'old', '{}', 0, 'complete', 0, 0);
        INSERT INTO trials VALUES (1, 0, 'k', '{"op": "conv", "width": 8}', '{}', 0.5,
            'complete', NULL, 0, 0);
        """
    )
    old.close()
    with rlnas.Store(path) as store:
        experiment = store.experiment("old")
        assert store.trials(experiment)[0].diagnostics is None
        store.record_trial(experiment, _trial(1), diagnostics={"epsilon": 0.5})
        assert store.trials(experiment)[1].diagnostics == {"epsilon": 0.5}


def test_a_store_from_before_schedulers_keeps_its_trials_and_gains_curves_and_rungs(
    tmp_path,
) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            config TEXT NOT NULL, seed INTEGER NOT NULL, status TEXT NOT NULL,
            created_at REAL NOT NULL, updated_at REAL NOT NULL);
        CREATE TABLE trials (experiment_id INTEGER NOT NULL REFERENCES experiments(id),
            number INTEGER NOT NULL, key TEXT NOT NULL, architecture TEXT NOT NULL,
            metrics TEXT NOT NULL, reward REAL, status TEXT NOT NULL, error TEXT,
            started_at REAL NOT NULL, duration_s REAL NOT NULL, diagnostics TEXT,
            PRIMARY KEY (experiment_id, number));
        INSERT INTO experiments VALUES (1, 'old', '{}', 0, 'complete', 0, 0);
        INSERT INTO trials VALUES (1, 0, 'k', '{"op": "conv", "width": 8}', '{}', 0.5,
            'complete', NULL, 0, 0, NULL);
        """
    )
    old.close()
    pruned = Trial(
        1,
        SPACE.architecture({"op": "pool", "width": 8}),
        {"accuracy": 0.25},
        0.4,
        Status.PRUNED,
        curve=(0.1, 0.25),
        rung=1,
    )
    with rlnas.Store(path) as store:
        experiment = store.experiment("old")
        store.record_trial(experiment, pruned)
        first, second = store.trials(experiment)
    assert (first.curve, first.rung) == ((), None)
    assert "curve" not in first.to_dict()
    assert (second.status, second.curve, second.rung) == ("pruned", (0.1, 0.25), 1)
    assert second.to_dict()["curve"] == [0.1, 0.25]
    assert rlnas.trial.best_trial([first, second]) is first  # a pruned reward is an estimate
