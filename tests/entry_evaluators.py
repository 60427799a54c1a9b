"""Importable by name from the command line: evaluators that return no mapping of metrics, and a
toy estimator registered the way the architecture doc says an estimator is added."""

from __future__ import annotations

from typing import Any

from rlnas import Architecture


def returns_none(architecture: Architecture) -> None:
    return None


def returns_text(architecture: Architecture) -> str:
    return "0.5"


def returns_a_float(architecture: Architecture) -> float:
    return 0.5


def returns_a_list(architecture: Architecture) -> list[float]:
    return [0.5]


class CountingEstimator:
    """Scores a child without training it: more options chosen further down the list, more
    accuracy. ``for_search`` is how the registry builds an estimator for a task search."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.scored = 0

    @classmethod
    def for_search(cls, training: Any, settings: Any) -> CountingEstimator:
        return cls(training.task.metric)

    def __call__(self, architecture: Architecture) -> dict[str, float]:
        self.scored += 1
        choices = architecture.choices
        return {self.metric: sum(len(str(option)) for option in choices.values()) / 100}
