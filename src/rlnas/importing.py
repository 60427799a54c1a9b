"""Objects named by import path (``package.module:name``): how settings name the user's code.

A TOML file or the command line cannot hold a function, so an evaluator or a search space of the
user's is given as the import path of one; the experiment stores that path, and ``resume``
imports it again (from wherever ``PYTHONPATH`` and the installed packages make it importable).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from rlnas.errors import UnknownName, UserError, one_line


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
    except Exception as error:  # the user's module ran and failed: a SyntaxError, any raise
        raise UserError(
            f"{what} {path}: importing {module_name} failed ({one_line(error)}); fix the module"
        ) from None
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise UnknownName(f"{what} {path}: {module_name} has no {attribute}") from None
    return found


def call_user_code(path: str, what: str, function: Any, *arguments: Any) -> Any:
    """``function(*arguments)``, where ``function`` is the user's code named by ``path`` (a class
    made, a function that returns a space): what it raises becomes one line naming the path."""
    try:
        return function(*arguments)
    except Exception as error:  # the user's code may raise anything
        raise UserError(f"{what} {path}: calling it failed ({one_line(error)}); fix it") from None
