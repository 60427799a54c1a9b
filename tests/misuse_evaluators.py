"""Evaluators that are wrong on purpose, importable by name so that worker processes load them."""

from __future__ import annotations

from rlnas import Architecture


def returns_text(architecture: Architecture) -> str:
    """Returns a string where a mapping of metrics belongs."""
    return "0.5"


def interrupts(architecture: Architecture) -> dict[str, float]:
    """As if the user pressed Ctrl-C during the first evaluation."""
    raise KeyboardInterrupt
