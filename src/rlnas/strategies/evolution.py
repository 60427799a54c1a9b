"""Regularized (aging) evolution (Real et al., AAAI 2019).

A population of the most recent ``population_size`` evaluated architectures. Each child mutates one
decision of the best of ``tournament_size`` members drawn at random, and the *oldest* member dies,
which keeps the search from resting on one lucky early architecture.
"""

from __future__ import annotations

from collections import deque
from typing import Annotated

from pydantic import Field

from rlnas.space import Architecture, Option, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.options import StrategyOptionError
from rlnas.trial import Trial


class RegularizedEvolution(Strategy):
    """Defaults: population 20 and tournament 5, the common setting on tabular benchmarks."""

    name = "evolution"
    saved = (*Strategy.saved, "population")

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        population_size: Annotated[
            int, Field(ge=1, le=100_000, description="The most recent evaluations kept.")
        ] = 20,
        tournament_size: Annotated[
            int,
            Field(
                ge=1, le=100_000, description="Members drawn for a tournament; its best mutates."
            ),
        ] = 5,
    ) -> None:
        super().__init__(space, seed)
        if tournament_size > population_size:
            raise StrategyOptionError(
                f"strategy 'evolution': option tournament_size must be <= population_size "
                f"({population_size}) (got {tournament_size})"
            )
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.population: deque[tuple[Architecture, float]] = deque()

    def ask(self, n: int = 1) -> list[Architecture]:
        return [self._propose() for _ in range(n)]

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        if trial.reward is None:  # a failed architecture never becomes a parent
            return
        self.population.append((architecture, trial.reward))
        if len(self.population) > self.population_size:
            self.population.popleft()

    def _propose(self) -> Architecture:
        if len(self.population) < self.population_size:
            return self.space.sample(self.rng)
        members = self.rng.choice(len(self.population), self.tournament_size, replace=False)
        parent = max((self.population[int(i)] for i in members), key=lambda member: member[1])[0]
        return self.mutate(parent)

    def mutate(self, parent: Architecture) -> Architecture:
        """Change one decision to another open option; later decisions stay unless now forbidden."""
        names = self.space.names
        mutable = []
        for position in range(len(names)):
            earlier = {n: parent.choices[n] for n in names[:position]}
            if len(self.space.open_options(earlier)) > 1:
                mutable.append(position)
        if not mutable:
            return parent
        position = mutable[int(self.rng.integers(len(mutable)))]
        made: dict[str, Option] = {n: parent.choices[n] for n in names[:position]}
        current = _typed(parent.choices[names[position]])
        others = [o for o in self.space.open_options(made) if _typed(o) != current]
        made[names[position]] = others[int(self.rng.integers(len(others)))]
        for name in names[position + 1 :]:
            open_ = self.space.open_options(made)
            if not open_:  # the change leaves no way to finish: try another mutation
                return self.mutate(parent)
            keep = parent.choices[name]
            if _typed(keep) in map(_typed, open_):
                made[name] = keep
            else:
                made[name] = open_[int(self.rng.integers(len(open_)))]
        return self.space.architecture(made)


def _typed(option: Option) -> tuple[type, Option]:
    """Options compare with their type: 1, 1.0 and True are three different options."""
    return (type(option), option)
