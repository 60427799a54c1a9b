"""Dynamic programming on a learned reward model, exploring by Thompson sampling.

The reward model factorises along the decision sequence (``PairwiseModel``: a term per
decision and per pair of decisions, Bayesian linear regression), so the best architecture under
one posterior sample is a backward pass over the decisions: value iteration on the
finite-horizon MDP that builds an architecture decision by decision (Bellman 1957; Sutton &
Barto, ch. 4), Viterbi-style where pair terms join neighbouring decisions,
``V_i(o) = u_i[o] + max_o' (p_i[o, o'] + V_{i+1}(o'))``. Each proposal plans on a fresh sample
of the posterior (Thompson sampling; Russo et al., "A tutorial on Thompson sampling", 2018),
which explores where the model is unsure.

Exact where it can be, said where it cannot:
- with ``pairs="adjacent"`` and a space without ``allowed`` or rules, the pass is exact;
- the architecture is read out forwards, each decision taking the open option (the space's
  masks after the options taken so far) of best value ``p_{i-1}[prev, o] + V_i(o)``. Where
  masks or rules bind, the values (computed without them) are optimistic and the read-out is
  a greedy constrained search, no longer exact;
- with ``pairs="all"`` the pass uses the adjacent pairs only, and coordinate ascent under all
  terms (each decision in turn moved to its best open option) finishes the optimisation:
  a constrained local search, not an exact one.
A proposal is never a repeat: if the sample's best was evaluated, the best new one among its
one-decision neighbours and one- and two-decision mutations of the best evaluated
architectures, valued by the same sample, is proposed.

Progressive (``Episodes``), the decisions are those of an episode (its stop decisions
included) and the values are of the episode's return: the same values give the choice at every
step, masks (a stop forces the fill of the later steps) honoured by the read-out.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from rlnas.controllers.pairwise_model import Pairs, Tables
from rlnas.controllers.surrogate import Scorer
from rlnas.space import SearchSpace
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.strategies.model_based import ModelBasedSearch
from rlnas.strategies.neighbours import all_neighbours, mutations
from rlnas.strategies.options import Mutants, Parents, RefitGrowth, Warmup
from rlnas.strategies.reward_shaping import RewardShaping


class DynamicProgramming(ModelBasedSearch):
    """The best architecture of a posterior sample by a backward pass over the decisions.

    Defaults were chosen by validation regret on NAS-Bench-Graph cora and citeseer and the
    synthetic tables syn:chain8 and syn:nk15 at budgets 50 and 100 (6 seeds, regret in units
    of each table's spread, mean over the 8 cells): ``pairs="adjacent"`` 0.19 against 0.25 for
    all pairs (a sample of many uncertain pair terms explores almost at random) and 0.22 for
    ``reward_shaping="normalize"`` with all pairs; ``warmup``, ``parents`` and ``mutants`` were
    not tuned.
    """

    name = "dp"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        pairs: Annotated[
            Pairs,
            Field(description="Pair terms of the model: adjacent (exact pass) or all pairs."),
        ] = "adjacent",
        parents: Parents = 5,
        mutants: Mutants = 64,
        warmup: Warmup = 10,
        refit_growth: RefitGrowth = 0.0,
        reward_shaping: RewardShaping = "rank",
        episodes: EpisodeSettings | None = None,
    ) -> None:
        self.parents = parents
        self.mutants = mutants
        super().__init__(
            space, seed, warmup, reward_shaping, episodes, "pairwise", pairs, refit_growth
        )
        self._tables: Tables | None = None  # the sample of the proposal being planned

    def scorer(self) -> Scorer:
        """One posterior sample; ``plan`` optimises over the same one."""
        self._tables = self.model.tables(self.rng)
        return self._tables.score

    def best_under(self, tables: Tables) -> tuple[int, ...] | None:
        """The best walk (option indices) under one sample's tables: the backward pass, the
        read-out under the masks, coordinate ascent under all terms; None at a dead end."""
        best = self._read_out(tables, self._backward(tables))
        return None if best is None else self._ascend(tables, best)

    def plan(self, scorer: Scorer) -> tuple[np.ndarray, np.ndarray]:
        tables = self._tables
        assert tables is not None, "scorer() draws the sample that plan() optimises"
        found = []
        best = self.best_under(tables)
        if best is not None:
            found += [np.array([best]), all_neighbours(best, self.open.sizes)]
        parents = self.best_rows(self.parents)
        sizes = self.open.sizes
        half = self.mutants // 2
        found += [
            mutations(parents, sizes, changes=1, count=half, rng=self.rng),
            mutations(parents, sizes, changes=2, count=self.mutants - half, rng=self.rng),
        ]
        rows = self.open.repair_all(np.concatenate(found), self.rng)
        rows = np.unique(rows, axis=0)
        return rows, scorer(rows)

    def _backward(self, tables: Tables) -> list[np.ndarray]:
        """``V_i(o)``: the best value of decisions i.. with option o at i (adjacent pairs)."""
        chain = {i: table for (i, j), table in zip(tables.pairs, tables.pair) if j == i + 1}
        values = [np.zeros(0)] * len(tables.unary)
        following = np.zeros(1)
        for i in reversed(range(len(tables.unary))):
            if i + 1 < len(tables.unary):
                link = chain.get(i, np.zeros((len(tables.unary[i]), len(following))))
                values[i] = tables.unary[i] + (link + following[None, :]).max(axis=1)
            else:
                values[i] = tables.unary[i].copy()
            following = values[i]
        return values

    def _read_out(self, tables: Tables, values: list[np.ndarray]) -> tuple[int, ...] | None:
        """Forwards: each decision's open option of best value given the one before it."""
        chain = {i: table for (i, j), table in zip(tables.pairs, tables.pair) if j == i + 1}
        row: tuple[int, ...] = ()
        for i, value in enumerate(values):
            total = value + chain[i - 1][row[-1]] if i > 0 and (i - 1) in chain else value
            total = np.where(self.open.mask(row), total, -np.inf)
            if not np.isfinite(total).any():
                return None
            row = (*row, int(np.argmax(total)))
        return row

    def _ascend(self, tables: Tables, row: tuple[int, ...], sweeps: int = 3) -> tuple[int, ...]:
        """Coordinate ascent under every term: each decision to its best option that keeps the
        row an architecture, until no decision moves (or ``sweeps`` passes)."""
        current = np.array(row)
        for _ in range(sweeps):
            moved = False
            for i, size in enumerate(self.open.sizes):
                options = np.repeat(current[None, :], size, axis=0)
                options[:, i] = np.arange(size)
                order = np.argsort(-tables.score(options), kind="stable")
                for option in order:
                    if option == current[i]:
                        break
                    if self.open.valid(options[option]):
                        current, moved = options[option], True
                        break
            if not moved:
                break
        return tuple(int(i) for i in current)
