"""Errors a user can cause. The CLI prints their message on one line and exits 2."""


class UserError(Exception):
    """Something the user gave (config, space, data, name) is wrong; the message says the fix."""


class InvalidArchitecture(UserError):
    """An architecture breaks its space: an unknown decision, a forbidden option or a rule."""


class UnknownName(UserError):
    """A strategy, benchmark, task or experiment name that rlnas does not know."""


class StoreError(UserError):
    """The experiment store cannot be opened or does not hold what was asked for."""


def one_line(error: BaseException) -> str:
    """An exception raised by the user's code, as one line: its type and its first line."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
