"""The learned model of rewards that the Dyna strategies plan with: simulated episodes.

Both ``dyna-q`` and ``dyna-ppo`` learn from far more episodes than the budget pays for by
asking a reward model what an episode would have earned (Sutton 1990, Dyna; Angermueller et al.
ICLR 2020, DyNA-PPO). ``PlanningModel`` holds that model (the shared ``RewardModel``): it is fit on
every distinct architecture evaluated so far, with its reward shaped as the strategy's shaper
sees it now, and ``simulate`` turns walks into ``Episode`` objects whose step rewards are the
model's predictions, ready for the strategy's own update. One-shot, a walk is one architecture;
progressive, every network along the walk (``rlnas.space.growth.points``) is predicted, so a
simulated episode is rewarded step by step like a real one.

Refits follow the model's schedule (``refit_growth``) and planning its quality gate
(``min_quality``, read as ``trusted``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlnas.controllers.surrogate import ModelKind, RewardModel
from rlnas.space import Architecture
from rlnas.space.growth import points
from rlnas.strategies.episodes import Episode, Episodes
from rlnas.strategies.reward_shaping import RewardShaper


class PlanningModel:
    """A reward model of the evaluated architectures, and episodes simulated with it."""

    def __init__(
        self,
        episodes: Episodes,
        refit_growth: float = 0.2,
        min_quality: float = 0.3,
        model: ModelKind = "pool",
    ) -> None:
        self.episodes = episodes
        self.model = RewardModel(
            episodes.grown, model, refit_growth=refit_growth, min_quality=min_quality
        )
        self.architectures: list[Architecture] = []  # distinct evaluated ones, in order told
        self.raw: list[float | None] = []  # their raw rewards, None where the trial failed
        self.keys: set[str] = set()

    @property
    def quality(self) -> float | None:
        """The model's out-of-sample Kendall tau on the evaluations (None before it is known)."""
        return self.model.quality

    @property
    def trusted(self) -> bool:
        """Whether the model passes its quality gate: worth planning with."""
        return self.model.trusted

    def record(self, episode: Episode) -> None:
        """Add the architectures a real episode evaluated (each distinct one once)."""
        if episode.cached:
            return
        for architecture, raw in zip(self._evaluated(episode.walk), episode.raw):
            if architecture.key not in self.keys:
                self.keys.add(architecture.key)
                self.architectures.append(architecture)
                self.raw.append(raw)
                self.model.observe(self.episodes.grown.encode(architecture))

    def refit_if_stale(self, shaper: RewardShaper, rng: np.random.Generator) -> bool:
        """Refit on every evaluation if enough are new; whether it was refit."""

        def targets() -> list[float]:
            failure = shaper.failure_reward()
            return [shaper.transform(failure if raw is None else raw) for raw in self.raw]

        return self.model.refit_if_due(targets, rng)

    def simulate(self, walks: Sequence[Architecture]) -> tuple[list[Episode], np.ndarray]:
        """Episodes of ``walks`` rewarded by the model, and each one's mean predicted std."""
        evaluated = [self._evaluated(walk) for walk in walks]
        flat = [architecture for found in evaluated for architecture in found]
        rows = [self.episodes.grown.encode(architecture) for architecture in flat]
        mean, std = self.model.predict(rows) if flat else (np.zeros(0),) * 2
        episodes, spread, start = [], [], 0
        for walk, found in zip(walks, evaluated):
            values = tuple(float(v) for v in mean[start : start + len(found)])
            spread.append(float(std[start : start + len(found)].mean()) if found else 0.0)
            start += len(found)
            episodes.append(self._episode(walk, values))
        return episodes, np.array(spread)

    def _evaluated(self, walk: Architecture) -> list[Architecture]:
        if not self.episodes.progressive:
            return [walk]
        return [point.architecture for point in points(self.episodes.grown, walk)[0]]

    def _episode(self, walk: Architecture, values: tuple[float, ...]) -> Episode:
        state = {"walk": walk, "raw": list(values), "shaped": list(values), "cached": True}
        return self.episodes.load_episode(state)

    def state_dict(self) -> dict[str, Any]:
        return {
            "architectures": list(self.architectures),
            "raw": list(self.raw),
            "model": self.model.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.architectures = list(state["architectures"])
        self.raw = [None if raw is None else float(raw) for raw in state["raw"]]
        self.keys = {architecture.key for architecture in self.architectures}
        self.model.load_state_dict(state["model"])
