"""A strategy's options, read from its constructor: each keyword's type, bounds, default and help.

A strategy declares an option once, as an annotated keyword of its constructor::

    learning_rate: Annotated[float, Field(gt=0, le=1, description="Adam's step size")] = 0.01

``options_model(cls)`` turns the keywords of the constructors along the class's MRO (a subclass
passes the rest on as ``**keywords``) into a pydantic model, so one declaration gives the check
(``check_options``: a wrong type or a value out of bounds is one line naming the strategy, the
option and what it may be), the listing of ``rlnas list --strategy NAME`` and the help.
Numbers must be finite everywhere (no inf, no nan).
"""

from __future__ import annotations

import functools
import inspect
import math
import sys
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from rlnas.errors import UserError

NOT_OPTIONS = ("self", "space", "seed", "episodes")
"""Constructor parameters that are not options: the space, the seed and the episode settings
reach a strategy from the search itself."""


RefitGrowth = Annotated[
    float,
    Field(
        ge=0,
        le=100,
        description="Refit the reward model once the evaluations grew by this fraction (0: each).",
    ),
]
"""The ``refit_growth`` option of the strategies that plan with the shared reward model."""

Warmup = Annotated[
    int, Field(ge=1, le=100_000, description="Random architectures before the model plans.")
]
"""The ``warmup`` option of the strategies that plan with the shared reward model."""

Parents = Annotated[
    int, Field(ge=1, le=10_000, description="Best evaluated architectures that are mutated.")
]
Mutants = Annotated[
    int, Field(ge=0, le=100_000, description="Random one- and two-decision mutations per proposal.")
]
"""The mutation options of the planners (``mpc``, ``dp``): candidates near the best so far."""


class StrategyOptionError(UserError):
    """A strategy option that does not exist, has the wrong type or lies outside its bounds."""


def option_parameters(cls: type) -> list[inspect.Parameter]:
    """The keywords ``cls`` takes, its base classes' (passed on as ``**keywords``) too.

    A keyword is an option if it has a default; the first class along the MRO that declares it
    wins (a subclass may declare its own default).
    """
    found: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__ or klass is object:
            continue
        init = inspect.unwrap(klass.__dict__["__init__"])
        parameters = inspect.signature(init).parameters.values()
        for parameter in parameters:
            if (
                parameter.name in NOT_OPTIONS
                or parameter.name in found
                or parameter.default is parameter.empty
                or parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
            ):
                continue
            found[parameter.name] = parameter.replace(annotation=_resolved(init, parameter))
        if not any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters):
            break
    return list(found.values())


def _resolved(init: Any, parameter: inspect.Parameter) -> Any:
    """The annotation of one option, evaluated where the constructor was written (the other
    parameters' may name types imported only for type checking)."""
    annotation = parameter.annotation
    if annotation is parameter.empty:
        return Any
    if isinstance(annotation, str):
        namespace = sys.modules[init.__module__].__dict__
        annotation = eval(annotation, namespace)  # as typing.get_type_hints evaluates it
    return annotation


@functools.cache
def options_model(cls: type) -> type[BaseModel]:
    """The pydantic model of ``cls``'s options, derived from its constructors' declarations."""
    fields: dict[str, Any] = {
        parameter.name: (parameter.annotation, parameter.default)
        for parameter in option_parameters(cls)
    }
    config = ConfigDict(extra="forbid", allow_inf_nan=False, arbitrary_types_allowed=True)
    return create_model(f"{cls.__name__}Options", __config__=config, **fields)


def check_options(cls: type, label: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` checked against ``cls``'s declarations, as the declared types (``4.0`` for
    an ``int`` option is 4); a ``StrategyOptionError`` naming the first wrong one."""
    refuse_unknown(cls, label, options)
    model = options_model(cls)
    try:
        checked = model.model_validate(dict(options))
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0])
        given = options[name]
        field = model.model_fields[name]
        out_of_bounds = first["type"] in _BOUND_ERRORS and len(first["loc"]) == 1
        allowed = _bounds(field.metadata) if out_of_bounds else describe(field)
        raise StrategyOptionError(
            f"strategy {label!r}: option {name} must be {allowed} (got {given!r})"
        ) from None
    return {name: getattr(checked, name) for name in options}


_BOUND_ERRORS = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def refuse_unknown(cls: type, label: str, names: Iterable[str]) -> None:
    """A ``StrategyOptionError`` listing ``cls``'s options if any of ``names`` is not one."""
    known = options_model(cls).model_fields
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise StrategyOptionError(
            f"strategy {label!r} has no option {', '.join(map(repr, unknown))}; its options are "
            f"{', '.join(known) or 'none'}"
        )


def describe(field: FieldInfo) -> str:
    """What an option may be, in words: its kind and its bounds (``a number > 0``)."""
    annotation, optional = field.annotation, False
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        others = [kind for kind in typing.get_args(annotation) if kind is not type(None)]
        optional = len(others) < len(typing.get_args(annotation))
        annotation, optional = (others[0], optional) if len(others) == 1 else (annotation, False)
    kind, bounds = _kind(annotation), _bounds(field.metadata)
    described = f"{kind} {bounds}" if bounds else kind
    return f"{described}, or none" if optional else described


def _kind(annotation: Any) -> str:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        kind, bounds = _kind(arguments[0]), _bounds(arguments[1:])
        return f"{kind} {bounds}" if bounds else kind
    if origin in (types.UnionType, typing.Union):
        return ", or ".join(_kind(argument) for argument in arguments)
    if origin is Literal:
        return "one of " + ", ".join(repr(argument) for argument in arguments)
    if origin in (tuple, list, Sequence) or annotation in (tuple, list):
        if arguments and typing.get_origin(arguments[0]) is Literal:
            return "a list of " + ", ".join(map(repr, typing.get_args(arguments[0])))
        return "a list of " + (_kind(arguments[0]) if arguments else "values")
    return {
        bool: "true or false",
        int: "a whole number",
        float: "a finite number",
        str: "a text",
        type(None): "none",
    }.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _bounds(metadata: Sequence[Any]) -> str:
    """``> 0``, ``in [0, 1]``, ``at least 1 long``: the bounds that ``metadata`` declares."""
    low = high = None
    parts = []
    for item in metadata:
        for constraint in _constraints(item):
            if isinstance(constraint, annotated_types.Gt | annotated_types.Ge):
                low = constraint
            elif isinstance(constraint, annotated_types.Lt | annotated_types.Le):
                high = constraint
            elif isinstance(constraint, annotated_types.MinLen):
                parts.append(f"(at least {constraint.min_length})")
    if low is not None and high is not None:
        opening = "(" if isinstance(low, annotated_types.Gt) else "["
        closing = ")" if isinstance(high, annotated_types.Lt) else "]"
        start = low.gt if isinstance(low, annotated_types.Gt) else low.ge
        end = high.lt if isinstance(high, annotated_types.Lt) else high.le
        parts.insert(0, f"in {opening}{_number(start)}, {_number(end)}{closing}")
    elif low is not None:
        gt = isinstance(low, annotated_types.Gt)
        parts.insert(0, f"> {_number(low.gt)}" if gt else f">= {_number(low.ge)}")
    elif high is not None:
        lt = isinstance(high, annotated_types.Lt)
        parts.insert(0, f"< {_number(high.lt)}" if lt else f"<= {_number(high.le)}")
    return " ".join(parts)


def _constraints(item: Any) -> list[Any]:
    if isinstance(item, FieldInfo):
        return list(item.metadata)
    return [item]


def listing(cls: type) -> list[tuple[str, str, str, str]]:
    """Each option of ``cls`` as (name, what it may be, default, help), for ``rlnas list``."""
    rows = []
    for name, field in options_model(cls).model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, bool):
            shown = str(default).lower()  # as TOML writes it
        elif isinstance(default, float) and math.isfinite(default):
            shown = f"{default:g}"
        elif isinstance(default, tuple | list):
            shown = ",".join(map(str, default))
        else:
            shown = str(default)
        rows.append((name, describe(field), shown, field.description or ""))
    return rows
