"""Formatting for the standalone source: calls wrapped at 100 characters, module paths read as
indexing (``self.network[0].body``) instead of fx's ``getattr`` chains, imports grouped as isort
would group them. Nothing here knows torch: it works on text and Python's ``ast``."""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable

LINE_LENGTH = 100


def wrapped_call(text: str, column: int) -> list[str]:
    """``text`` (a call) as lines that fit in ``LINE_LENGTH`` when its first line starts at
    ``column`` and a comma or bracket follows it: as it is, else its arguments on one indented
    line, else one per line."""
    if column + len(text) < LINE_LENGTH:
        return [text]
    call = ast.parse(text, mode="eval").body
    if not isinstance(call, ast.Call):
        return [text]
    function = ast.unparse(call.func)
    arguments = [ast.unparse(argument) for argument in call.args]
    arguments += [
        f"{keyword.arg}={ast.unparse(keyword.value)}"
        if keyword.arg
        else f"**{ast.unparse(keyword.value)}"
        for keyword in call.keywords
    ]
    inner = " " * (column + 4)
    together = ", ".join(arguments)
    if len(inner) + len(together) <= LINE_LENGTH:
        return [f"{function}(", inner + together, " " * column + ")"]
    return [f"{function}(", *(f"{inner}{argument}," for argument in arguments), " " * column + ")"]


def readable_forward(source: str, accessor: Callable[[str], str]) -> str:
    """fx's ``forward`` as a method (indented by 4): each module or tensor reached from ``self``
    written by ``accessor(dotted path)``, and fx's ``x = y = None`` clean-ups left out."""
    function = next(node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef))
    function.returns = None
    rewritten = _Paths(accessor)
    body = [rewritten.visit(statement) for statement in function.body if not _clears(statement)]
    arguments = ast.unparse(function.args)
    lines = [f"    def {function.name}({arguments}):"]
    for statement in body:
        lines += _statement_lines(ast.unparse(ast.fix_missing_locations(statement)), 8)
    return "\n".join(lines)


def _clears(statement: ast.stmt) -> bool:
    """fx's ``a = b = None``: it frees tensors early, which a reader does not need."""
    return (
        isinstance(statement, ast.Assign)
        and isinstance(statement.value, ast.Constant)
        and statement.value.value is None
        and all(isinstance(target, ast.Name) for target in statement.targets)
    )


def _statement_lines(text: str, column: int) -> list[str]:
    """One statement at ``column``, its call wrapped when the line is too long."""
    if column + len(text) <= LINE_LENGTH:
        return [" " * column + text]
    statement = ast.parse(text).body[0]
    if isinstance(statement, ast.Assign | ast.Return) and isinstance(statement.value, ast.Call):
        lead = text[: len(text) - len(ast.unparse(statement.value))]
        call = wrapped_call(ast.unparse(statement.value), column)
        return [" " * column + lead + call[0], *call[1:]]
    return [" " * column + text]


class _Paths(ast.NodeTransformer):
    """Replaces ``getattr(getattr(self.network, "0").body, "1")`` by the accessor's text."""

    def __init__(self, accessor: Callable[[str], str]) -> None:
        self.accessor = accessor

    def visit(self, node: ast.AST) -> ast.AST:
        path = _path(node)
        if path is not None and path != "":
            return ast.parse(self.accessor(path), mode="eval").body
        return super().visit(node)


def _path(node: ast.AST) -> str | None:
    """The dotted path of a chain of attributes and ``getattr``s on ``self``, else None."""
    if isinstance(node, ast.Name):
        return "" if node.id == "self" else None
    if isinstance(node, ast.Attribute):
        parent, name = _path(node.value), node.attr
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "getattr"
        and len(node.args) == 2
        and not node.keywords
        and isinstance(node.args[1], ast.Constant)
        and isinstance(node.args[1].value, str)
    ):
        parent, name = _path(node.args[0]), node.args[1].value
    else:
        return None
    if parent is None:
        return None
    return f"{parent}.{name}" if parent else name


def import_block(statements: set[str]) -> list[str]:
    """Import statements grouped and ordered as isort (ruff's ``I``) wants them: the standard
    library, a blank line, the others; ``import x`` before ``from x import y``. Statements
    that are not imports (``inf = float('inf')``) come after every import."""
    imports = [statement for statement in statements if statement.startswith(("import ", "from "))]
    constants = sorted(statements - set(imports))
    standard = [statement for statement in imports if _top_level(statement) in _STANDARD]
    others = [statement for statement in imports if statement not in standard]
    block = _ordered(standard)
    if block:
        block.append("")
    return block + _ordered(others) + constants


_STANDARD = sys.stdlib_module_names


def _top_level(statement: str) -> str:
    return statement.split()[1].split(".")[0]


def _ordered(imports: list[str]) -> list[str]:
    plain = sorted(statement for statement in imports if statement.startswith("import "))
    from_imports = sorted(
        (statement for statement in imports if statement.startswith("from ")),
        key=lambda statement: (statement.split()[1], statement),
    )
    return plain + from_imports
