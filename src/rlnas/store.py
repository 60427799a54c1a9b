"""SQLite persistence: experiments, their trials, strategy checkpoints and kept weights.

Each trial is written together with the checkpoint taken right after it, in one transaction, so a
crash leaves either both or neither and a resumed search starts from a consistent point. WAL mode
lets a reader (``rlnas show``) look while a search writes. A reader opens the file read-only
(``read_only=True``), so that looking never writes, not even a schema into an empty file. A write
that the disk or the file's permissions refuse is a ``StoreError`` that says which, and that the
search can be resumed once it is fixed. A search that inherits weights (``rlnas.inheriting``)
keeps the trained weights of the networks it can still grow from, and of its best one, as
safetensors files in the ``weights`` table, written in the trial's transaction.
"""

from __future__ import annotations

import io
import json
import os
import socket
import sqlite3
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlnas.errors import StoreError, UserError
from rlnas.space import Architecture
from rlnas.trial import Trial

SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    number INTEGER NOT NULL,
    key TEXT NOT NULL,
    architecture TEXT NOT NULL,
    metrics TEXT NOT NULL,
    reward REAL,
    status TEXT NOT NULL,
    error TEXT,
    started_at REAL NOT NULL,
    duration_s REAL NOT NULL,
    diagnostics TEXT,
    curve TEXT,
    rung INTEGER,
    parent TEXT,
    start TEXT,
    PRIMARY KEY (experiment_id, number)
);
CREATE TABLE IF NOT EXISTS weights (
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    key TEXT NOT NULL,
    weights BLOB NOT NULL,
    PRIMARY KEY (experiment_id, key)
);
CREATE TABLE IF NOT EXISTS runners (
    experiment_id INTEGER PRIMARY KEY REFERENCES experiments(id),
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    process_start TEXT,
    evaluating TEXT,
    deaths TEXT
);
CREATE TABLE IF NOT EXISTS checkpoints (
    experiment_id INTEGER PRIMARY KEY REFERENCES experiments(id),
    trials_done INTEGER NOT NULL,
    state BLOB NOT NULL,
    updated_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Experiment:
    id: int
    name: str
    config: Mapping[str, Any]
    seed: int
    status: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class StoredTrial:
    """A trial as stored: plain data, readable without the space that produced it."""

    number: int
    key: str
    architecture: Mapping[str, Any]
    metrics: Mapping[str, float]
    reward: float | None
    status: str
    error: str | None
    started_at: float
    duration_s: float
    diagnostics: Mapping[str, Any] | None = None
    curve: tuple[float, ...] = ()
    """The searched metric after every epoch (a scheduled search; else empty)."""
    rung: int | None = None
    """The scheduler's rung the trial reached (None: no scheduler)."""
    parent: str | None = None
    """The key of the network it grew from (a search that inherits weights)."""
    start: str | None = None
    """How its training began, where the search inherits weights: ``inherited: <how>`` or
    ``scratch: <why>``."""

    def to_dict(self) -> dict[str, Any]:
        """Plain data; the curve and the rung only where a scheduler ran, the parent and the
        start where the search inherits weights."""
        scheduled = {"curve": list(self.curve), "rung": self.rung} if self.rung is not None else {}
        if self.start is not None:
            scheduled.update(parent=self.parent, start=self.start)
        return {
            "number": self.number,
            "key": self.key,
            "architecture": dict(self.architecture),
            "metrics": dict(self.metrics),
            "reward": self.reward,
            "status": self.status,
            "error": self.error,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            **scheduled,
        }


class StoreWriteError(StoreError):
    """The store refused a write: the disk is full, or the file or its folder is read-only."""


class Store:
    """An experiment store in one SQLite file (created on first use).

    ``read_only``: only read an existing store (what ``show``, ``report`` and ``train-final``
    do); the file is opened with SQLite's ``mode=ro`` and never changed.
    """

    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        if self.path.is_dir():
            raise StoreError(f"store {self.path} is a directory, not a SQLite file")
        if read_only and not self.path.is_file():
            raise StoreError(f"store {self.path} does not exist")
        if not self.path.parent.is_dir():
            raise StoreError(f"the folder of store {self.path} does not exist")
        self._connection = (
            _read_only_connection(self.path)
            if read_only
            else sqlite3.connect(self.path, timeout=30, isolation_level=None)
        )
        try:
            self._open()
        except sqlite3.OperationalError as error:
            self._connection.close()
            raise _write_error(self.path, error) from None
        except sqlite3.DatabaseError as error:
            self._connection.close()
            raise StoreError(f"store {self.path} is not an rlnas SQLite store ({error})") from None
        except StoreError:
            self._connection.close()
            raise

    def _open(self) -> None:
        """Check the file before writing anything to it, then create or upgrade the schema."""
        db = self._connection
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "experiments" not in tables:
            raise StoreError(
                f"store {self.path} is a SQLite file of another program "
                f"(tables: {', '.join(sorted(tables))}); give rlnas a file of its own"
            )
        if self.read_only:
            if not tables:
                raise StoreError(f"store {self.path} holds no experiments (it is an empty file)")
            return
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.executescript(SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(trials)")}
        if "diagnostics" not in columns:  # a store written before diagnostics were kept
            db.execute("ALTER TABLE trials ADD COLUMN diagnostics TEXT")
        added = (("curve", "TEXT"), ("rung", "INTEGER"), ("parent", "TEXT"), ("start", "TEXT"))
        for column, kind in added:  # stores written before schedulers or inheritance
            if column not in columns:
                db.execute(f"ALTER TABLE trials ADD COLUMN {column} {kind}")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of writes: committed whole or rolled back whole."""
        db = self._connection
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as error:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise _write_error(self.path, error) from None

    # --- experiments -----------------------------------------------------------------------------
    def create_experiment(self, name: str, config: Mapping[str, Any], seed: int) -> Experiment:
        now = time.time()
        try:
            with self._transaction() as db:
                db.execute(
                    "INSERT INTO experiments (name, config, seed, status, created_at, updated_at) "
                    "VALUES (?, ?, ?, 'running', ?, ?)",
                    (name, json.dumps(dict(config)), seed, now, now),
                )
                (id_,) = db.execute("SELECT id FROM experiments WHERE name = ?", (name,)).fetchone()
                db.execute(
                    "INSERT OR REPLACE INTO runners VALUES (?, ?, ?, ?, '[]', '{}')",
                    (id_, *_this()),
                )
        except sqlite3.IntegrityError:
            raise UserError(
                f"experiment {name!r} already exists in {self.path}; choose another --name"
            ) from None
        return self.experiment(name)

    def unique_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3``... whichever is not taken yet."""
        taken = {row[0] for row in self._connection.execute("SELECT name FROM experiments")}
        name, suffix = base, 2
        while name in taken:
            name, suffix = f"{base}-{suffix}", suffix + 1
        return name

    def experiment(self, name: str | None = None) -> Experiment:
        """The experiment called ``name``, or the most recent one when no name is given."""
        query = "SELECT * FROM experiments " + (
            "WHERE name = ?" if name is not None else "ORDER BY id DESC LIMIT 1"
        )
        row = self._connection.execute(query, (name,) if name is not None else ()).fetchone()
        if row is None:
            known = ", ".join(e.name for e in self.experiments()) or "none"
            what = f"no experiment {name!r}" if name is not None else "no experiment"
            raise StoreError(f"{what} in {self.path} (experiments: {known})")
        return self._experiment(row)

    def experiments(self) -> list[Experiment]:
        rows = self._connection.execute("SELECT * FROM experiments ORDER BY id").fetchall()
        return [self._experiment(row) for row in rows]

    def _experiment(self, row: tuple) -> Experiment:
        id_, name, config, seed, status, created, updated = row
        config = self._json(config, f"experiment {name!r}", "settings")
        return Experiment(id_, name, config, seed, status, created, updated)

    def update_config(self, experiment: Experiment, config: Mapping[str, Any]) -> Experiment:
        """Replace the experiment's stored configuration (a resume that extends the budget)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE experiments SET config = ?, updated_at = ? WHERE id = ?",
                (json.dumps(dict(config)), time.time(), experiment.id),
            )
        return self.experiment(experiment.name)

    def delete_new_experiment(self, experiment: Experiment) -> None:
        """Remove an experiment that stored nothing yet (its search stopped on a user's mistake
        before its first trial), so that the mistake leaves no experiment behind."""
        with self._transaction() as db:
            stored = db.execute(
                "SELECT COUNT(*) FROM trials WHERE experiment_id = ?", (experiment.id,)
            ).fetchone()[0]
            if stored == 0:
                db.execute("DELETE FROM checkpoints WHERE experiment_id = ?", (experiment.id,))
                db.execute("DELETE FROM weights WHERE experiment_id = ?", (experiment.id,))
                db.execute("DELETE FROM runners WHERE experiment_id = ?", (experiment.id,))
                db.execute("DELETE FROM experiments WHERE id = ?", (experiment.id,))

    def set_status(self, experiment: Experiment, status: str) -> None:
        """``status`` (complete, interrupted) once this process stops running the experiment."""
        with self._transaction() as db:
            db.execute(
                "UPDATE experiments SET status = ?, updated_at = ? WHERE id = ?",
                (status, time.time(), experiment.id),
            )
            db.execute("DELETE FROM runners WHERE experiment_id = ?", (experiment.id,))

    def claim(self, experiment: Experiment) -> dict[str, int]:
        """Mark ``experiment`` as run by this process (a resume). Where the process that ran it
        last died (it is still marked running, and that process is gone): the keys of the
        architectures it was evaluating -> how many runs died evaluating each; else empty.

        A StoreError when another process on this machine runs it now: two runs of one
        experiment would store the same trial numbers.
        """
        with self._transaction() as db:
            (status,) = db.execute(
                "SELECT status FROM experiments WHERE id = ?", (experiment.id,)
            ).fetchone()
            runner = db.execute(
                "SELECT host, pid, process_start, evaluating, deaths FROM runners "
                "WHERE experiment_id = ?",
                (experiment.id,),
            ).fetchone()
            died: dict[str, int] = {}
            if status == "running" and runner is not None:
                if _running_elsewhere(*runner[:3]):
                    raise StoreError(
                        f"experiment {experiment.name!r} in {self.path} is already running "
                        f"(process {runner[1]}); wait for it to finish, or stop it, then resume"
                    )
                where = f"experiment {experiment.name!r}"
                evaluating = self._json(runner[3], where, "evaluating") or []
                deaths = self._json(runner[4], where, "deaths") or {}
                died = {key: deaths.get(key, 0) + 1 for key in evaluating}
            db.execute(
                "INSERT OR REPLACE INTO runners VALUES (?, ?, ?, ?, '[]', ?)",
                (experiment.id, *_this(), json.dumps(died)),
            )
            db.execute(
                "UPDATE experiments SET status = 'running', updated_at = ? WHERE id = ?",
                (time.time(), experiment.id),
            )
        return died

    def evaluating(self, experiment: Experiment, keys: Collection[str]) -> None:
        """Note the architectures this run evaluates now, before it starts them: if the process
        dies, the next ``claim`` finds them (``SearchLoop`` fails one that killed two runs).

        Written without waiting for the disk (SQLite's WAL keeps it when the process dies; only
        a power cut can lose it): 0.02 ms a write, against 4 ms with the wait, per evaluation.
        """
        (synchronous,) = self._connection.execute("PRAGMA synchronous").fetchone()
        self._connection.execute("PRAGMA synchronous=NORMAL")
        try:
            with self._transaction() as db:
                db.execute(
                    "UPDATE runners SET evaluating = ? WHERE experiment_id = ?",
                    (json.dumps(list(keys)), experiment.id),
                )
        finally:
            self._connection.execute(f"PRAGMA synchronous={int(synchronous)}")

    # --- trials and checkpoints ------------------------------------------------------------------
    def record_trial(
        self,
        experiment: Experiment,
        trial: Trial,
        checkpoint: Mapping[str, Any] | None = None,
        diagnostics: Mapping[str, Any] | None = None,
        weights: bytes | None = None,
        kept: Collection[str] | None = None,
    ) -> None:
        """Write a trial and, in the same transaction, the checkpoint taken after it.

        ``diagnostics`` is what the strategy reported of itself after learning from this trial.
        ``weights``: the trained network's (safetensors bytes), kept; ``kept``: the keys whose
        weights stay, the others' are deleted (None: all stay).
        """
        blob = serialize_state(checkpoint) if checkpoint is not None else None
        now = time.time()
        try:
            self._record(experiment, trial, blob, now, diagnostics, weights, kept)
        except sqlite3.IntegrityError as error:
            if "UNIQUE constraint failed: trials" not in str(error):
                raise
            raise StoreError(
                f"experiment {experiment.name!r} in {self.path} is already running in another "
                f"process (it stored trial {trial.number} first); this run stops, nothing is lost"
            ) from None

    def _record(
        self,
        experiment: Experiment,
        trial: Trial,
        blob: bytes | None,
        now: float,
        diagnostics: Mapping[str, Any] | None,
        weights: bytes | None,
        kept: Collection[str] | None,
    ) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO trials (experiment_id, number, key, architecture, metrics, reward, "
                "status, error, started_at, duration_s, diagnostics, curve, rung, parent, start) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    experiment.id,
                    trial.number,
                    trial.architecture.key,
                    trial.architecture.to_json(),
                    json.dumps(dict(trial.metrics)),
                    trial.reward,
                    str(trial.status),
                    trial.error,
                    trial.started_at,
                    trial.duration_s,
                    json.dumps(dict(diagnostics)) if diagnostics else None,
                    json.dumps(list(trial.curve)) if trial.curve else None,
                    trial.rung,
                    trial.parent,
                    trial.start,
                ),
            )
            if weights is not None:
                db.execute(
                    "INSERT OR REPLACE INTO weights VALUES (?, ?, ?)",
                    (experiment.id, trial.architecture.key, weights),
                )
            if kept is not None:
                stored = db.execute(
                    "SELECT key FROM weights WHERE experiment_id = ?", (experiment.id,)
                ).fetchall()
                for (key,) in stored:
                    if key not in kept:
                        db.execute(
                            "DELETE FROM weights WHERE experiment_id = ? AND key = ?",
                            (experiment.id, key),
                        )
            if blob is not None:
                db.execute(
                    "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?)",
                    (experiment.id, trial.number + 1, blob, now),
                )
            db.execute("UPDATE experiments SET updated_at = ? WHERE id = ?", (now, experiment.id))

    def save_checkpoint(
        self, experiment: Experiment, trials_done: int, checkpoint: Mapping[str, Any]
    ) -> None:
        """Write a checkpoint taken between trials (a search paused by its time budget)."""
        blob = serialize_state(checkpoint)
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?)",
                (experiment.id, trials_done, blob, time.time()),
            )

    def trials(self, experiment: Experiment) -> list[StoredTrial]:
        """The experiment's trials in the order they were evaluated."""
        rows = self._connection.execute(
            "SELECT number, key, architecture, metrics, reward, status, error, started_at, "
            f"duration_s, diagnostics, curve, rung, {self._inherited_columns()} FROM trials "
            "WHERE experiment_id = ? ORDER BY number",
            (experiment.id,),
        ).fetchall()
        stored = []
        for n, k, a, m, r, s, e, t, d, g, c, rung, parent, start in rows:
            where = f"experiment {experiment.name!r}, trial {n}"
            loaded = [
                self._json(text, where, column)
                for text, column in ((a, "architecture"), (m, "metrics"), (g, "diagnostics"))
            ]
            curve = tuple(self._json(c or "[]", where, "curve"))
            stored.append(
                StoredTrial(n, k, *loaded[:2], r, s, e, t, d, loaded[2], curve, rung, parent, start)
            )
        return stored

    def _json(self, text: str | None, where: str, column: str) -> Any:
        """A JSON column's value; a damaged one is a StoreError that names where it is."""
        try:
            return json.loads(text or "null")
        except (json.JSONDecodeError, TypeError) as error:
            raise StoreError(
                f"store {self.path} is damaged: the {column} of {where} is not valid JSON "
                f"({error}); restore the file from a backup"
            ) from None

    def weights(self, experiment: Experiment, key: str) -> bytes | None:
        """The kept trained weights (safetensors bytes) of the network ``key``, or None."""
        if "weights" not in self._tables():  # a store written before weights were kept
            return None
        row = self._connection.execute(
            "SELECT weights FROM weights WHERE experiment_id = ? AND key = ?",
            (experiment.id, key),
        ).fetchone()
        return None if row is None else bytes(row[0])

    def _inherited_columns(self) -> str:
        """``parent, start``, or NULLs in a store written before them and opened read-only."""
        columns = {row[1] for row in self._connection.execute("PRAGMA table_info(trials)")}
        return "parent, start" if "start" in columns else "NULL, NULL"

    def _tables(self) -> set[str]:
        rows = self._connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        return {row[0] for row in rows}

    def checkpoint(self, experiment: Experiment) -> tuple[int, dict[str, Any]] | None:
        """The latest checkpoint as (trials done, state), or None when there is none."""
        row = self._connection.execute(
            "SELECT trials_done, state FROM checkpoints WHERE experiment_id = ?", (experiment.id,)
        ).fetchone()
        if row is None:
            return None
        try:
            return row[0], deserialize_state(row[1])
        except Exception as error:  # any decoding failure means the blob is not ours
            raise StoreError(
                f"the checkpoint of {experiment.name!r} is corrupt ({error})"
            ) from None


def _read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that cannot write: ``mode=ro`` while a search has the store open (its WAL
    file is there), else ``immutable=1``, which adds no WAL index beside the file either (so a
    read-only folder works, and reading leaves the folder as it was)."""
    uri = path.resolve().as_uri()
    wal = path.with_name(path.name + "-wal")
    query = "mode=ro" if wal.exists() else "immutable=1"
    return sqlite3.connect(f"{uri}?{query}", uri=True, timeout=30, isolation_level=None)


def _this() -> tuple[str, int, str | None]:
    """This process as the runners table records it: host, pid and when it started."""
    return socket.gethostname(), os.getpid(), _process_start(os.getpid())


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (Linux: ticks since boot), so that a reused pid is not taken
    for the process that ran a search; None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]  # field 22, counted after the command name


def _running_elsewhere(host: str, pid: int, process_start: str | None) -> bool:
    """Whether the process that claimed an experiment still runs, on this machine, and is not
    this one (a process on another machine cannot be asked: it is taken to have stopped)."""
    if host != socket.gethostname() or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    return process_start is None or _process_start(pid) in (None, process_start)


_WRITE_REFUSED = {
    "full": "the disk is full",
    "readonly": "the file or its folder is read-only",
    "read-only": "the file or its folder is read-only",
    "unable to open": "the file or its folder is read-only",
}


def _write_error(path: Path, error: sqlite3.OperationalError) -> StoreError:
    """What a refused write means for the user; locked or busy stores stay errors of their own."""
    text = str(error)
    for fragment, meaning in _WRITE_REFUSED.items():
        if fragment in text:
            return StoreWriteError(
                f"store {path} cannot be written: {meaning} ({text}); free space or make it "
                "writable, then continue with `rlnas resume --store "
                f"{path}` (the trials stored so far are safe)"
            )
    return StoreError(f"store {path}: {text}")


ARCHITECTURE = "__architecture__"
"""Marks an architecture inside a saved checkpoint: its choices in order, and its key."""


def encode_state(value: Any) -> Any:
    """``value`` with every Architecture in it (in dicts, lists, tuples) as plain data.

    Strategies keep architectures in their state as they are; the store alone knows how they
    are saved, so no strategy converts them by hand.
    """
    if isinstance(value, Architecture):
        return {ARCHITECTURE: list(value.choices.items()), "key": value.key}
    if isinstance(value, dict):
        return {key: encode_state(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(encode_state(item) for item in value)
    return value


def decode_state(value: Any) -> Any:
    """The inverse of ``encode_state``."""
    if isinstance(value, dict):
        if ARCHITECTURE in value:
            return Architecture(dict(value[ARCHITECTURE]), value["key"])
        return {key: decode_state(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(decode_state(item) for item in value)
    return value


def serialize_state(state: Mapping[str, Any]) -> bytes:
    """Checkpoints hold tensors, so torch's format; loaded back with ``weights_only`` (no code)."""
    import torch

    buffer = io.BytesIO()
    torch.save(encode_state(dict(state)), buffer)
    return buffer.getvalue()


def deserialize_state(blob: bytes) -> dict[str, Any]:
    import torch

    return decode_state(torch.load(io.BytesIO(blob), weights_only=True))
