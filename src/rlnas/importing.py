"""Objects named by import path (``package.module:name``): how settings name the user's code.

A TOML file or the command line cannot hold a function, so an evaluator or a search space of the
user's is given as the import path of one; the experiment stores that path, and ``resume``
imports it again (from wherever ``PYTHONPATH`` and the installed packages make it importable).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from rlnas.errors import UnknownName


def import_object(path: str, what: str) -> Any:
    """The object at ``path`` (``package.module:name``, ``name`` may be dotted); ``what`` it is
    for, named in the error when it cannot be imported."""
    module_name, colon, attribute = path.partition(":")
    if not colon or not module_name or not attribute:
        raise UnknownName(f"{what} {path!r} is not an import path; write package.module:name")
    try:
        found: Any = import_module(module_name)
    except ImportError as error:
        raise UnknownName(
            f"{what} {path}: cannot import {module_name} ({error}); make it importable "
            "(install it or add its folder to PYTHONPATH)"
        ) from None
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise UnknownName(f"{what} {path}: {module_name} has no {attribute}") from None
    return found
