"""A user's benchmark table: one row per architecture, its decisions and metrics as columns.

A CSV (or a JSON list of row objects, pandas' ``to_json(orient="records")``) such as::

    edge_0,edge_1,...,val_acc,test_acc
    conv_3x3,skip,...,91.2,90.8

The searched metric and the report-only test metric are columns named by the caller; without a
given space, the other columns that hold fractional numbers are metrics too and the rest are
decisions, whose options are the values they hold: the space is read from the file, and every
combination of options must have its row (a metric of whole numbers, such as a parameter count,
is named in ``metrics``). Given a space,
its decisions name the decision columns and every other column is a metric. Whatever is wrong
with a table is one ``UserError`` line naming the column or row.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlnas.errors import UserError
from rlnas.estimators.tabular import TabularBenchmark
from rlnas.space import Architecture, Choice, SearchSpace
from rlnas.space.core import Option

PREFIX = "table:"


class TableFileError(UserError):
    """A benchmark table that cannot be read as one row of decisions and metrics each."""


def read_benchmark(
    path: str | Path,
    metric: str | None = None,
    test_metric: str | None = None,
    metrics: Sequence[str] = (),
    space: SearchSpace | None = None,
) -> TabularBenchmark:
    """The benchmark in the table at ``path`` (``table:`` in front is allowed).

    ``metric`` is the searched column (default: ``validation``), ``test_metric`` the column
    that judges the incumbent in ``rlnas compare`` (default: ``test`` if there is one, else the
    searched column); ``metrics`` names other metric columns of whole numbers (constraint costs)
    when the space is read from the file.
    """
    path = Path(str(path).removeprefix(PREFIX))
    rows = _rows(path)
    columns = list(rows[0])
    metric = metric or "validation"
    if test_metric is None:
        test_metric = "test" if "test" in columns and metric != "test" else metric
    named = list(dict.fromkeys([metric, test_metric, *metrics]))
    for name in named:
        if name not in columns:
            raise TableFileError(
                f"{path}: no column {name!r}; its columns are {', '.join(columns)} "
                "(name the searched one with metric, the test one with test_metric)"
            )
    if space is None:
        decisions = [
            column
            for column in columns
            if column not in named and not _fractional(row[column] for row in rows)
        ]
        if not decisions:
            raise TableFileError(f"{path}: every column is a metric; add the decision columns")
    else:
        decisions = list(space.names)
        absent = [name for name in decisions if name not in columns]
        if absent:
            raise TableFileError(
                f"{path}: the space's decision {absent[0]!r} is not a column; its columns are "
                f"{', '.join(columns)}"
            )
    values = [column for column in columns if column not in decisions]
    parsed = [
        ({name: _option(row[name]) for name in decisions}, _numbers(path, number, row, values))
        for number, row in enumerate(rows, start=1)
    ]
    if space is None:
        space = _space_of(decisions, [choices for choices, _ in parsed], path.stem)
    table = _table(path, space, parsed)
    _check_complete(path, space, table)
    return TabularBenchmark(f"{PREFIX}{path}", space, table, metric, test_metric)


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise TableFileError(f"table file {path} does not exist")
    try:
        if path.suffix == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:  # sig: Excel's BOM
                rows: Any = list(csv.DictReader(handle))
        elif path.suffix == ".json":
            rows = json.loads(path.read_text())
        else:
            raise TableFileError(f"{path}: a table is a .csv or .json file")
    except (ValueError, csv.Error, UnicodeDecodeError) as error:
        raise TableFileError(f"{path}: not a readable table ({error})") from None
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise TableFileError(
            f"{path}: a table needs a header and rows (JSON: a list of row objects, as pandas' "
            "to_json(orient='records') writes)"
        )
    columns = list(rows[0])
    for number, row in enumerate(rows, start=1):
        if list(row) != columns or None in row.values():
            raise TableFileError(f"{path}: row {number} does not have the header's columns")
    return rows


def _fractional(values: Iterable[Any]) -> bool:
    """Whether a column holds numbers, one at least not whole: a metric, never a decision."""
    fraction = False
    for value in values:
        number = _option(value)
        if isinstance(number, bool) or not isinstance(number, int | float):
            return False
        fraction = fraction or not float(number).is_integer()
    return fraction


def _option(value: Any) -> Option:
    """A decision's value; CSV text that reads as a whole number or a number is one."""
    if not isinstance(value, str):
        return value
    for kind in (int, float):
        try:
            number = kind(value)
        except ValueError:
            continue
        return number if math.isfinite(number) else value
    return value


def _numbers(path: Path, number: int, row: Mapping[str, Any], names: list[str]) -> dict[str, float]:
    metrics = {}
    for name in names:
        value = row[name]
        try:
            metrics[name] = float(value)
        except (TypeError, ValueError):
            metrics[name] = math.nan
        if isinstance(value, bool) or not math.isfinite(metrics[name]):
            raise TableFileError(
                f"{path}: row {number}, metric column {name!r} holds {value!r}, not a number "
                "(if it is a decision, give the space or leave it out of the metrics)"
            )
    return metrics


def _space_of(decisions: list[str], rows: list[dict[str, Option]], name: str) -> SearchSpace:
    """Each decision column with the values it holds as options, in sorted order."""
    choices = []
    for decision in decisions:
        options = list(dict.fromkeys(row[decision] for row in rows))
        if len({type(option) for option in options}) == 1:
            options.sort()
        choices.append(Choice(decision, options))
    return SearchSpace(choices, name=f"table:{name}")


def _table(
    path: Path, space: SearchSpace, parsed: list[tuple[dict[str, Option], dict[str, float]]]
) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    first: dict[str, int] = {}
    for number, (choices, metrics) in enumerate(parsed, start=1):
        try:
            key = space.architecture(choices).key
        except UserError as error:
            raise TableFileError(f"{path}: row {number} is not in the space: {error}") from None
        if key in table:
            raise TableFileError(
                f"{path}: rows {first[key]} and {number} are the same architecture {choices}; "
                "keep one row per architecture"
            )
        table[key], first[key] = metrics, number
    return table


def _check_complete(path: Path, space: SearchSpace, table: Mapping[str, object]) -> None:
    """Refuse a table that lacks an architecture of its space, naming the first one missing."""
    if not space.rules and not any(c.allowed for c in space.choices) and len(table) == space.size():
        return  # every row is a distinct architecture and there are as many as the space holds
    for architecture in _architectures(space):
        if architecture.key not in table:
            raise TableFileError(
                f"{path}: no row for {dict(architecture.choices)}; the table needs a row for "
                f"every architecture of its space ({len(table)} rows now; a metric column of whole "
                "numbers is read as a decision: name it in metrics, give the space, or drop it)"
            )


def _architectures(space: SearchSpace) -> Iterator[Architecture]:
    """Every architecture of the space, decision by decision (the rules' masks applied)."""

    def extend(made: dict[str, Option]) -> Iterator[dict[str, Option]]:
        if len(made) == len(space):
            yield made
            return
        for option in space.open_options(made):
            yield from extend({**made, space.names[len(made)]: option})

    if space.rules or any(choice.allowed for choice in space.choices):
        yield from (space.architecture(made) for made in extend({}))
        return
    for options in itertools.product(*(choice.options for choice in space.choices)):
        yield space.architecture(dict(zip(space.names, options)))
