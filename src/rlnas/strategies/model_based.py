"""What the planners on a learned reward model (``mpc``, ``dp``) share: the bookkeeping.

A planner fits the shared ``RewardModel`` on every distinct evaluation (shaped by its
``RewardShaper``), and at each proposal asks its subclass to ``plan``: rows of candidate option
indices, each valued by one draw of the acquisition. ``ModelBasedSearch`` proposes the best
candidate that is an architecture of the space and not evaluated or in flight (never a repeat:
a repeat teaches nothing and the user pays for it), else a random new one. Until ``warmup``
architectures are evaluated it proposes random ones. Progressive (``Episodes``), the rows are
walks of the episode space and a walk's value is its episode's discounted return.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from rlnas.controllers.pairwise_model import Pairs
from rlnas.controllers.surrogate import ModelKind, RewardModel, Scorer
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import Episode, Episodes, EpisodeSettings
from rlnas.strategies.neighbours import OpenOptions
from rlnas.strategies.reward_shaping import RewardShaper, ShapingMode
from rlnas.trial import Trial


class ModelBasedSearch(Strategy):
    """Propose the best new candidate of ``plan`` under the shared reward model.

    ``model``, ``pairs`` and ``refit_growth`` make the ``RewardModel`` (of the walks'
    space); ``warmup``, ``reward_shaping`` and ``episodes`` as the module says.
    """

    progressive = True

    def __init__(
        self,
        space: SearchSpace,
        seed: int,
        warmup: int,
        reward_shaping: ShapingMode,
        episodes: EpisodeSettings | None,
        model: ModelKind,
        pairs: Pairs,
        refit_growth: float,
    ) -> None:
        super().__init__(space, seed)
        self.episodes = Episodes(space, episodes)
        self.model = RewardModel(self.episodes.space, model, pairs, refit_growth=refit_growth)
        self.warmup = warmup
        self.shaper = RewardShaper(reward_shaping)
        self.open = OpenOptions(self.episodes.space)
        self.evaluated: list[Episode] = []  # distinct walks, in the order told
        self.taken_rows: set[tuple[int, ...]] = set()  # evaluated and in-flight walks
        self.taken_keys: set[str] = set()
        self.told_keys: set[str] = set()
        self.told_returns: list[float | None] = []  # each evaluated walk's raw return, None: failed
        self.last_prediction: float | None = None
        self.last_error: float | None = None
        self.plans = 0  # proposals that came from a plan (not warm-up, not the random fallback)

    @abstractmethod
    def plan(self, scorer: Scorer) -> tuple[np.ndarray, np.ndarray]:
        """Candidate walks (rows of option indices) and their values under ``scorer``."""

    @abstractmethod
    def scorer(self) -> Scorer:
        """One draw of the acquisition the candidates of this proposal are valued by."""

    # --- acting ----------------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Architecture]:
        self.taken_rows = set(self.model.rows)
        self.taken_keys = set(self.told_keys)
        return self.episodes.ask(n, self._propose)

    def _propose(self) -> Architecture:
        walk = None
        if len(self.evaluated) >= self.warmup:
            self.model.refit_if_due(self._targets, self.rng)
            scorer = self.scorer()
            rows, values = self.plan(scorer)
            walk = self._best_new(rows, values)
        if walk is None:
            walk = self._random_new()
        else:
            self.plans += 1
        self.taken_rows.add(tuple(self.episodes.space.encode(walk)))
        self.taken_keys.add(walk.key)
        return walk

    def _best_new(self, rows: np.ndarray, values: np.ndarray) -> Architecture | None:
        """The best-valued row that is a new architecture of the space; None if there is none."""
        for position in np.argsort(-values, kind="stable"):
            row = tuple(int(i) for i in rows[position])
            if row in self.taken_rows or not self.open.valid(row):
                continue
            walk = self.episodes.space.decode(row)
            if walk.key in self.taken_keys:  # an isomorphic encoding was taken
                self.taken_rows.add(row)
                continue
            self.last_prediction = float(self.model.predict([row])[0][0])
            return walk
        return None

    def _random_new(self, tries: int = 100) -> Architecture:
        """A uniformly random architecture not taken yet (a repeat only if none is found)."""
        for _ in range(tries):
            walk = self.episodes.space.sample(self.rng)
            if walk.key not in self.taken_keys:
                return walk
        return walk

    def best_rows(self, count: int) -> np.ndarray:
        """The option indices of the ``count`` best evaluated walks (by their current target)."""
        values = np.array([-np.inf if r is None else r for r in self.told_returns])
        order = np.argsort(-values, kind="stable")[:count]
        return np.array(self.model.rows, dtype=int)[order]

    # --- learning --------------------------------------------------------------------------------
    def tell(self, architecture: Architecture, trial: Trial) -> None:
        for episode in self.episodes.tell(architecture, trial, self.shaper):
            if episode.walk.key in self.told_keys:  # a repeat carries no news
                continue
            if self.last_prediction is not None and None not in episode.raw:
                reward = self.episodes.returns(episode)[0]
                self.last_error = abs(self.last_prediction - reward)
            self.evaluated.append(episode)
            self.told_keys.add(episode.walk.key)
            raw = [r for r in episode.raw if r is not None]
            failed = len(raw) < len(episode.raw)
            self.told_returns.append(None if failed else self.episodes.returns(episode, raw)[0])
            self.model.observe(self.episodes.space.encode(episode.walk))

    def _targets(self) -> list[float]:
        """Each evaluated walk's return, its rewards shaped under today's statistics."""
        if not self.episodes.progressive:  # one reward, at the last decision
            failure = self.shaper.failure_reward()
            factor = self.episodes.discount ** (len(self.episodes.space) - 1)
            return [
                factor * self.shaper.transform(failure if e.raw[0] is None else e.raw[0])
                for e in self.evaluated
            ]
        return [
            self.episodes.returns(episode, self.episodes.reshaped(episode, self.shaper))[0]
            for episode in self.evaluated
        ]

    def diagnostics(self) -> dict[str, Any]:
        found: dict[str, Any] = {"plans": self.plans}
        if self.model.quality is not None:
            found["model_quality"] = self.model.quality
        if self.last_prediction is not None:
            found["predicted"] = self.last_prediction
        if self.last_error is not None:
            found["model_error"] = self.last_error
        return found

    # --- persistence -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "shaper": self.shaper.state_dict(),
            "model": self.model.state_dict(),
            "evaluated": [self.episodes.episode_state(episode) for episode in self.evaluated],
            "episodes": self.episodes.state_dict(),
            "told_returns": list(self.told_returns),
            "last_prediction": self.last_prediction,
            "last_error": self.last_error,
            "plans": self.plans,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.shaper.load_state_dict(state["shaper"])
        self.model.load_state_dict(state["model"])
        self.evaluated = [self.episodes.load_episode(episode) for episode in state["evaluated"]]
        self.episodes.load_state_dict(state["episodes"])
        self.told_keys = {episode.walk.key for episode in self.evaluated}
        self.told_returns = list(state["told_returns"])
        self.last_prediction = state["last_prediction"]
        self.last_error = state["last_error"]
        self.plans = int(state["plans"])
