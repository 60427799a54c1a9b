"""Data sets and their fixed splits: built-in tasks by name, or the user's own files
(csv:PATH, npz:PATH, npy:PATH, folder:PATH)."""

from __future__ import annotations

from collections.abc import Callable

from rlnas.errors import UnknownName, UserError
from rlnas.tasks import builtin
from rlnas.tasks.files import csv_task, npy_task, npz_task
from rlnas.tasks.images import folder_task
from rlnas.tasks.task import KINDS, Kind, Task, make_task

TASKS: dict[str, Callable[[], Task]] = {
    "digits": builtin.digits,
    "mnist": builtin.mnist,
    "mnist1d": builtin.mnist1d,
    "breast-cancer": builtin.breast_cancer,
    "diabetes": builtin.diabetes,
    "wine": builtin.wine,
}


def load_task(name: str, target: str | None = None, kind: Kind | None = None) -> Task:
    """The task ``name``: a built-in one (see ``TASKS``), ``csv:PATH``, ``npz:PATH``,
    ``npy:PATH`` (``X.npy`` and ``y.npy``, memory-mapped) or ``folder:PATH[@HxW]`` (images).

    ``target`` names the target column of a CSV file (default: the last column); ``kind``
    (classification, binary or regression) overrides what the target's values suggest.
    """
    if kind is not None and kind not in KINDS:
        raise UserError(f"task kind {kind!r} is not one of {', '.join(KINDS)}")
    prefix, _, path = name.partition(":")
    if prefix == "csv" and path:
        return csv_task(path, target, kind)
    if target is not None:
        raise UserError("a target column can be chosen only for a csv:PATH task")
    if prefix == "npz" and path:
        return npz_task(path, kind)
    if prefix == "npy" and path:
        return npy_task(path, kind)
    if prefix == "folder" and path:
        if kind not in (None, "classification"):
            raise UserError(f"an image folder is a classification task; it cannot be {kind}")
        return folder_task(path)
    if name not in TASKS:
        raise UnknownName(
            f"unknown task {name!r}; choose one of {', '.join(TASKS)}, csv:PATH, npz:PATH, "
            "npy:PATH or folder:PATH"
        )
    task = TASKS[name]()
    if kind is not None and kind != task.kind:
        raise UserError(f"task {name} is a {task.kind} task; it cannot be used as {kind}")
    return task


__all__ = ["KINDS", "TASKS", "Kind", "Task", "load_task", "make_task"]
