"""Random search: each decision uniform over its open options (Li & Talwalkar, 2019).

The baseline every other strategy must beat.
"""

from __future__ import annotations

from rlnas.space import Architecture
from rlnas.strategies.base import Strategy
from rlnas.trial import Trial


class RandomSearch(Strategy):
    name = "random"

    def ask(self, n: int = 1) -> list[Architecture]:
        return [self.space.sample(self.rng) for _ in range(n)]

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        """Random search learns nothing."""
