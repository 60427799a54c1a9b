"""Data sets and their fixed splits: built-in tasks by name, or the user's own files
(csv:PATH, npz:PATH, npy:PATH, folder:PATH).

The names load nothing: the tasks, and torch with them, are imported when a task is loaded, so
that ``rlnas list`` and the settings stay quick.
"""

from __future__ import annotations

from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from rlnas.errors import UnknownName, UserError

if TYPE_CHECKING:
    from rlnas.tasks.task import Task

Kind = Literal["classification", "binary", "regression"]
KINDS: tuple[Kind, ...] = ("classification", "binary", "regression")

TASKS: dict[str, str] = {
    "digits": "rlnas.tasks.builtin:digits",
    "mnist": "rlnas.tasks.builtin:mnist",
    "mnist1d": "rlnas.tasks.builtin:mnist1d",
    "breast-cancer": "rlnas.tasks.builtin:breast_cancer",
    "diabetes": "rlnas.tasks.builtin:diabetes",
    "wine": "rlnas.tasks.builtin:wine",
}
"""Name -> the function (an import path) that builds each built-in task."""

FILE_PREFIXES = ("csv", "npz", "npy", "folder")
"""Task names that read the user's files: ``PREFIX:PATH``."""


def absolute_task_name(name: str) -> str:
    """``name`` with its file path made absolute (``csv:iris.csv`` -> ``csv:/home/.../iris.csv``),
    so that a stored experiment finds its data from any folder; other names unchanged."""
    prefix, _, rest = name.partition(":")
    if prefix not in FILE_PREFIXES or not rest:
        return name
    path, at, size = rest.rpartition("@") if prefix == "folder" and "@" in rest else (rest, "", "")
    return f"{prefix}:{Path(path).expanduser().absolute()}{at}{size}"


def load_task(name: str, target: str | None = None, kind: Kind | None = None) -> Task:
    """The task ``name``: a built-in one (see ``TASKS``), ``csv:PATH``, ``npz:PATH``,
    ``npy:PATH`` (``X.npy`` and ``y.npy``, memory-mapped) or ``folder:PATH[@HxW]`` (images).

    ``target`` names the target column of a CSV file (default: the last column); ``kind``
    (classification, binary or regression) overrides what the target's values suggest.
    """
    from rlnas.tasks.files import csv_task, npy_task, npz_task
    from rlnas.tasks.images import folder_task

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
        if kind == "regression":
            raise UserError(
                "an image folder's subfolders are class labels; it cannot be regression"
            )
        return folder_task(path, kind=kind)
    if name not in TASKS:
        raise UnknownName(
            f"unknown task {name!r}; choose one of {', '.join(TASKS)}, csv:PATH, npz:PATH, "
            "npy:PATH or folder:PATH"
        )
    module, _, function = TASKS[name].partition(":")
    task = getattr(import_module(module), function)()
    if kind is not None and kind != task.kind:
        raise UserError(f"task {name} is a {task.kind} task; it cannot be used as {kind}")
    return task


def __getattr__(name: str) -> Any:
    """``Task`` and ``make_task`` load with torch, when first asked for."""
    if name in ("Task", "make_task"):
        return getattr(import_module("rlnas.tasks.task"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FILE_PREFIXES",
    "KINDS",
    "TASKS",
    "Kind",
    "Task",
    "absolute_task_name",
    "load_task",
    "make_task",
]
