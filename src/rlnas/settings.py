"""The base of every group of settings: declared once, checked once, one line when wrong.

A group (the episodes of a learning strategy, the training recipe, the executor's resources) is a
frozen pydantic model that lives beside the code that reads it, with each field's type, default,
bounds and one-line help. ``rlnas.SearchConfig`` inherits every group, so the command line, TOML
files and Python share one definition of each setting; the code that needs a group receives it
whole (``EpisodeSettings.of(config)``), never as loose scalars.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

from rlnas.errors import UserError


class SettingError(UserError):
    """A setting has the wrong type or lies outside its bounds."""


class Settings(BaseModel):
    """A frozen group of settings; a bad value raises ``SettingError`` naming the setting."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """A count or a size is written as a number: ``true`` or ``"5"`` is a mistake, not 1 or 5
        (pydantic's lax mode would take both)."""
        if info.field_name is None or not isinstance(value, bool | str):
            return value
        kinds = _plain_kinds(cls.model_fields[info.field_name].annotation)
        if not kinds & {int, float} or type(value) in kinds or (str in kinds or Path in kinds):
            return value
        number = "a whole number" if float not in kinds else "a number"
        written = "true/false" if isinstance(value, bool) else "text"
        raise ValueError(f"write {number}, not {written}")

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise SettingError(describe(error)) from None

    @classmethod
    def of(cls, settings: Settings) -> Self:
        """This group's part of a larger group of settings (a ``SearchConfig``)."""
        return cls(**{name: getattr(settings, name) for name in cls.model_fields})

    def replaced(self, **changes: Any) -> Self:
        """A copy with ``changes``, checked like a new value."""
        return type(self)(**{**dict(self), **changes})


def _plain_kinds(annotation: Any) -> set[Any]:
    """The types a field's annotation admits, ``X | None`` and ``Annotated`` unwrapped; a
    ``Literal`` counts as the types of its values."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        return set().union(*(_plain_kinds(kind) for kind in typing.get_args(annotation)))
    if origin is typing.Annotated:
        return _plain_kinds(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return {type(value) for value in typing.get_args(annotation)}
    return {origin or annotation}


def describe(error: ValidationError) -> str:
    """One line for the first problem pydantic found: which setting, and what is wrong."""
    first = error.errors()[0]
    if not first["loc"]:  # a fact between settings (a model validator): its words say which
        return str(first.get("ctx", {}).get("error", first["msg"]))
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "there is no such setting"
    elif first["type"] == "value_error":  # our own validators' words, without pydantic's prefix
        message = str(first["ctx"]["error"])
    return f"invalid setting {where!r}: {message} (got {first.get('input')!r})"
