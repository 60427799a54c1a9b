"""Performance prediction: screen many proposals with a surrogate, evaluate only the best few.

``Screened`` wraps any strategy. Each round it draws ``pool`` proposals from the inner strategy,
predicts their reward with the reward model fit on the architectures truly evaluated so far (the
shared ``RewardModel``, its pool on ``ArchitectureFeatures``, which MCTS and the Dyna strategies
plan with; BANANAS, White et al. AAAI 2021; PNAS, Liu et al. ECCV 2018, rank their candidates the
same way) and queues the ``top_k`` most promising new ones; ``ask`` hands them out, so the search's
budget counts only true evaluations. Until ``warmup`` architectures are evaluated there is nothing
to fit, and proposals pass straight through.

The inner strategy drew the whole pool and expects a result for each sample. The ones not chosen
are told at once with their *predicted* reward, marked ``cached`` and ``extra["estimated"]``:
a policy then still learns from them (Dyna-style, on the model's word), while strategies that
keep reward statistics (baselines, rank shaping, replay) skip cached trials, so predictions never
pass for measurements. A candidate evaluated before is told its real reward instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from rlnas.controllers.surrogate import RewardModel
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.options import RefitGrowth, StrategyOptionError
from rlnas.trial import Status, Trial

ESTIMATED = {"estimated": True}
"""``Trial.extra`` of a result told from the model's prediction, not from an evaluation."""
FAILED = "failed when it was evaluated before"


class Screened(Strategy):
    """Propose the ``top_k`` of every ``pool`` proposals of ``inner`` by predicted reward.

    ``warmup``: true evaluations before screening starts. ``refit_growth``: the model is refit
    once the evaluations have grown by this fraction (and by at least one), which bounds what a
    long search spends on refits; the pool is cross-validated again when they have doubled
    (``RewardModel``). The strategy keeps the inner strategy's name, so a stored
    experiment names the strategy that searched; its config says it was screened.
    """

    def __init__(
        self,
        inner: Strategy,
        pool: Annotated[
            int, Field(ge=1, le=100_000, description="Proposals drawn and ranked per round.")
        ] = 50,
        top_k: Annotated[
            int, Field(ge=1, le=100_000, description="The best-ranked of them evaluated.")
        ] = 5,
        warmup: Annotated[
            int, Field(ge=1, le=100_000, description="Evaluations before the model ranks.")
        ] = 10,
        refit_growth: RefitGrowth = 0.1,
    ) -> None:
        super().__init__(inner.space, inner.seed)
        if top_k > pool:
            raise StrategyOptionError(f"screening: top_k must be <= pool ({pool}) (got {top_k})")
        self.inner = inner
        self.name = inner.name
        self.pool = pool
        self.top_k = top_k
        self.warmup = warmup
        self.refit_growth = refit_growth
        self.model = RewardModel(inner.space, "pool", refit_growth=refit_growth)
        self.rewards: dict[str, float | None] = {}  # true reward by key, failures as None
        self.targets: list[float] = []  # of each true evaluation with a reward, as observed
        self.queue: list[Architecture] = []

    def ask(self, n: int = 1) -> list[Architecture]:
        if len(self.rewards) < self.warmup and not self.queue:
            return self.inner.ask(n)
        proposed = []
        while len(proposed) < n:
            if not self.queue:
                self.queue = self._screen()
            proposed.append(self.queue.pop(0))
        return proposed

    def _screen(self) -> list[Architecture]:
        """One round: draw the pool, tell the inner strategy about the rest, keep the top k."""
        candidates = self.inner.ask(self.pool)
        predicted = self.predict(candidates)
        # new architectures first, best predicted first; a known one only if nothing new is left
        order = sorted(
            range(len(candidates)),
            key=lambda i: (candidates[i].key in self.rewards, -predicted[i], i),
        )
        chosen: dict[str, int] = {}
        for i in order:
            if len(chosen) < self.top_k and candidates[i].key not in chosen:
                chosen[candidates[i].key] = i
        for i, architecture in enumerate(candidates):
            if chosen.get(architecture.key) != i:
                self.inner.tell(architecture, self._stand_in(architecture, predicted[i]))
        return [candidates[i] for i in sorted(chosen.values())]

    def predict(self, architectures: Sequence[Architecture]) -> np.ndarray:
        """The model's mean predicted reward of each architecture (refit if new results came)."""
        self.model.refit_if_due(lambda: self.targets, self.rng)
        return self.model.predict([self.space.encode(a) for a in architectures])[0]

    def _stand_in(self, architecture: Architecture, predicted: float) -> Trial:
        """The result told for a sample not evaluated: its true one if known, else predicted."""
        metrics = {"predicted_reward": float(predicted)}
        if architecture.key not in self.rewards:
            return Trial(-1, architecture, metrics, float(predicted), cached=True, extra=ESTIMATED)
        reward = self.rewards[architecture.key]
        status, error = (Status.COMPLETE, None) if reward is not None else (Status.FAILED, FAILED)
        return Trial(-1, architecture, {}, reward, status, error, cached=True)

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        if not trial.cached and architecture.key not in self.rewards:
            self.rewards[architecture.key] = trial.reward
            if trial.reward is not None:
                self.model.observe(self.space.encode(architecture))
                self.targets.append(trial.reward)
        self.inner.tell(architecture, trial)

    def diagnostics(self) -> dict[str, Any]:
        return self.inner.diagnostics()

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "inner": self.inner.state_dict(),
            "model": self.model.state_dict(),
            "rewards": dict(self.rewards),
            "targets": list(self.targets),
            "queue": list(self.queue),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.inner.load_state_dict(state["inner"])
        self.model.load_state_dict(state["model"])
        self.rewards = dict(state["rewards"])
        self.targets = list(state["targets"])
        self.queue = list(state["queue"])


def ranking_quality(
    space: SearchSpace,
    architectures: Sequence[Architecture],
    values: Sequence[float],
    train_size: int = 50,
    seed: int = 0,
) -> float:
    """Kendall tau between the predicted and true values of held-out architectures.

    The model (as ``Screened`` uses it) is fit on the first ``train_size`` architectures and
    ranks the rest: how well screening can tell good proposals from bad after so many points.
    """
    from scipy.stats import kendalltau

    rows = [space.encode(architecture) for architecture in architectures]
    targets = np.asarray(values, dtype=float)
    model = RewardModel(space, "pool")
    for row in rows[:train_size]:
        model.observe(row)
    model.refit_if_due(lambda: targets[:train_size], np.random.default_rng(seed))
    predicted = model.predict(rows[train_size:])[0]
    return float(kendalltau(predicted, targets[train_size:]).statistic)
