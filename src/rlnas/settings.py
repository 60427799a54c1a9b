"""The base of every group of settings: declared once, checked once, one line when wrong.

A group (the episodes of a learning strategy, the training recipe, the executor's resources) is a
frozen pydantic model that lives beside the code that reads it, with each field's type, default,
bounds and one-line help. ``rlnas.SearchConfig`` inherits every group, so the command line, TOML
files and Python share one definition of each setting; the code that needs a group receives it
whole (``EpisodeSettings.of(config)``), never as loose scalars.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, ValidationError

from rlnas.errors import UserError


class SettingError(UserError):
    """A setting has the wrong type or lies outside its bounds."""


class Settings(BaseModel):
    """A frozen group of settings; a bad value raises ``SettingError`` naming the setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

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


def describe(error: ValidationError) -> str:
    """One line for the first problem pydantic found: which setting, and what is wrong."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "settings"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "there is no such setting"
    return f"invalid setting {where!r}: {message} (got {first.get('input')!r})"
