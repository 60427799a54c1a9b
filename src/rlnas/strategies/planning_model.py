"""The learned model of rewards that the Dyna strategies plan with: simulated episodes.

Both ``dyna-q`` and ``dyna-ppo`` learn from far more episodes than the budget pays for by
asking a reward model what an episode would have earned (Sutton 1990, Dyna; Angermueller et al.
ICLR 2020, DyNA-PPO). ``PlanningModel`` holds that model (``SelectedRewardModel``): it is fit on
every distinct architecture evaluated so far, with its reward shaped as the strategy's shaper
sees it now, and ``simulate`` turns walks into ``Episode`` objects whose step rewards are the
model's predictions, ready for the strategy's own update. One-shot, a walk is one architecture;
progressive, every network along the walk (``rlnas.space.growth.points``) is predicted, so a
simulated episode is rewarded step by step like a real one.

Refits follow a schedule: once the evaluations have grown by ``refit_growth`` (a fraction, and at
least one new point), so a long search refits ever more rarely.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from rlnas.controllers.features import ArchitectureFeatures
from rlnas.controllers.model_selection import SelectedRewardModel
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
        model: SelectedRewardModel | None = None,
        features: ArchitectureFeatures | None = None,
    ) -> None:
        if refit_growth < 0:
            raise ValueError("refit_growth must be at least 0")
        self.episodes = episodes
        self.refit_growth = refit_growth
        self.model = model or SelectedRewardModel()
        self.features = features or ArchitectureFeatures(episodes.grown)
        self.architectures: list[Architecture] = []  # distinct evaluated ones, in order told
        self.raw: list[float | None] = []  # their raw rewards, None where the trial failed
        self.keys: set[str] = set()
        self.fitted_on = 0

    @property
    def quality(self) -> float | None:
        """The model's cross-validated Kendall tau on the evaluations (None before selection)."""
        return self.model.quality

    def record(self, episode: Episode) -> None:
        """Add the architectures a real episode evaluated (each distinct one once)."""
        if episode.cached:
            return
        for architecture, raw in zip(self._evaluated(episode.walk), episode.raw):
            if architecture.key not in self.keys:
                self.keys.add(architecture.key)
                self.architectures.append(architecture)
                self.raw.append(raw)

    def refit_if_stale(self, shaper: RewardShaper, rng: np.random.Generator) -> bool:
        """Refit on every evaluation if enough are new; whether it was refit."""
        new = len(self.raw) - self.fitted_on
        if not self.raw or new < max(1, self.refit_growth * self.fitted_on):
            return False
        failure = shaper.failure_reward()
        targets = [shaper.transform(failure if raw is None else raw) for raw in self.raw]
        self.model.fit(self.features(self.architectures), np.array(targets), rng)
        self.fitted_on = len(self.raw)
        return True

    def simulate(self, walks: Sequence[Architecture]) -> tuple[list[Episode], np.ndarray]:
        """Episodes of ``walks`` rewarded by the model, and each one's mean predicted std."""
        evaluated = [self._evaluated(walk) for walk in walks]
        flat = [architecture for found in evaluated for architecture in found]
        mean, std = self.model.predict(self.features(flat)) if flat else (np.zeros(0),) * 2
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
            "fitted_on": self.fitted_on,
            "model": self.model.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.architectures = list(state["architectures"])
        self.raw = [None if raw is None else float(raw) for raw in state["raw"]]
        self.keys = {architecture.key for architecture in self.architectures}
        self.fitted_on = int(state["fitted_on"])
        self.model.load_state_dict(state["model"])
