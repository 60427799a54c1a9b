"""Successive halving, asynchronous (ASHA) and in Hyperband's brackets.

ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020): at every
rung a candidate trains on when it is among the best ``1 / eta`` of the candidates that reached
that rung so far, itself included, and stops otherwise. It needs no synchronization, so any
number of workers (processes, Ray actors) keep busy. Hyperband (Li et al., JMLR 2018) hedges
against a ``min_epochs`` too small to tell candidates apart: each candidate joins one of several
brackets, bracket ``b`` starting at rung ``b``, and competes within its bracket only; brackets get
candidates in the proportions of Hyperband's Algorithm 1, handed out in turn, so the brackets
fill together as in Optuna's ``HyperbandPruner``.
"""

from __future__ import annotations

import math
from typing import Any

from rlnas.schedulers.base import PrunedReward, Scheduler, bracket_sizes


class SuccessiveHalving(Scheduler):
    """ASHA: one bracket starting at the first rung."""

    name = "asha"

    def continues(self, key: str, rung: int, reward: float) -> bool:
        rivals = self.at_rung(rung, self.bracket_members(key))
        better = sum(other > reward for other in rivals)
        return better < math.ceil((len(rivals) + 1) / self.eta)

    def bracket_members(self, key: str) -> set[str] | None:
        """The candidates ``key`` competes with (None: all)."""
        return None


class Hyperband(SuccessiveHalving):
    """Asynchronous Hyperband: brackets of successive halving from each rung."""

    name = "hyperband"

    def __init__(
        self,
        epochs: int,
        min_epochs: int = 1,
        eta: float = 3.0,
        pruned_reward: PrunedReward = "shift",
    ) -> None:
        super().__init__(epochs, min_epochs, eta, pruned_reward)
        self.sizes = bracket_sizes(len(self.rungs), eta)
        self.brackets: dict[str, int] = {}
        self.started = [0] * len(self.sizes)

    def start(self, key: str) -> int:
        """The bracket furthest behind its share takes the candidate (the first on a tie)."""
        bracket = min(range(len(self.sizes)), key=lambda b: self.started[b] / self.sizes[b])
        self.started[bracket] += 1
        self.brackets[key] = bracket
        super().start(key)
        return self.rungs[bracket]

    def bracket_members(self, key: str) -> set[str] | None:
        bracket = self.brackets[key]
        return {other for other, b in self.brackets.items() if b == bracket}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "brackets": dict(self.brackets), "started": self.started}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.brackets = dict(state["brackets"])
        self.started = list(state["started"])
