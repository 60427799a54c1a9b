"""A strategy driven from outside the search loop: told results by another tool, asked for more.

Optuna and Ray Tune evaluate every trial they start, a repeat included, while rlnas's own loop
answers a repeat from its cache. ``Proposals`` keeps that cache, so a strategy proposing a known
architecture is told the known result (marked cached) and asked again, as in ``rlnas.search``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rlnas.space import Architecture, Choice, SearchSpace
from rlnas.strategies import make_strategy
from rlnas.trial import Status, Trial

MAX_REPEATS = 100
"""Known proposals in a row after which the repeat itself is handed out (a converged strategy)."""


class Proposals:
    """One strategy over ``space``, its results so far and the known architectures' trials."""

    def __init__(
        self, strategy: str, space: SearchSpace, seed: int, options: Mapping[str, Any]
    ) -> None:
        self.space = space
        self.strategy = make_strategy(strategy, space, seed=seed, options=options)
        self.known: dict[str, Trial] = {}
        self.told = 0

    def propose(self) -> Architecture:
        """The strategy's next architecture not yet known (or a repeat after ``MAX_REPEATS``)."""
        for _ in range(MAX_REPEATS):
            (architecture,) = self.strategy.ask(1)
            known = self.known.get(architecture.key)
            if known is None:
                return architecture
            self.strategy.tell(architecture, replace(known, cached=True))
        return architecture

    def tell(self, choices: Mapping[str, Any], reward: float | None, status: Status) -> None:
        """Tell the strategy one finished evaluation; ``reward`` is None for a failure."""
        architecture = self.space.architecture(choices)
        metrics = {} if reward is None else {"reward": reward}
        trial = Trial(self.told, architecture, metrics, reward, status)
        self.told += 1
        self.known.setdefault(architecture.key, trial)
        self.strategy.tell(architecture, trial)


def check_strategy(strategy: str, seed: int, options: Mapping[str, Any]) -> None:
    """Refuse an unknown strategy or options it does not take now, before any trial runs."""
    make_strategy(strategy, SearchSpace([Choice("check", (0, 1))]), seed=seed, options=options)
