"""Monte Carlo tree search over the decision sequence, leaves valued by a reward model (AlphaX).

Tree: one node per partial architecture (the option indices chosen so far) with a visit count and
a value sum. A simulation descends by UCT, ``Q + c * sqrt(ln N_parent / N_child)``, trying every
open option of a node once before choosing among them, completes the architecture uniformly at
random (rollout), values it, and backs that value up the path. Evaluated leaves, and subtrees with
nothing else left, are closed to simulations, so each one reaches a new leaf, worth what the reward
model plans for it: ``mean + kappa * std`` (optimism under the ensemble's uncertainty). Real
evaluations are backed up into the tree with their shaped reward, and the model
(``EnsembleRewardModel``) is refit as they arrive.
``ask`` runs ``simulations`` simulations and proposes the not-yet-evaluated leaf they reached with
the best planned value (Wistuba 2017; AlphaX, Wang et al. 2019). Until ``warmup`` architectures
are evaluated there is nothing to learn from, and it proposes random ones.
Progressive (``Episodes``), the tree is over the decisions of growing episodes, a leaf is a whole
episode, and its value (backed up and fit by the model) is the episode's discounted return.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from rlnas.controllers.reward_model import EnsembleRewardModel
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import Episode, Episodes, EpisodeSettings
from rlnas.strategies.reward_shaping import RewardShaper, ShapingMode
from rlnas.trial import Trial

Node = tuple[int, ...]


class MCTS(Strategy):
    """Model-based tree search.

    Defaults were chosen on NAS-Bench-Graph at a budget of 100 (see RESULTS.md).
    ``simulations`` per ask (AlphaX ran hundreds per proposal; a few dozen keep ask cheap),
    ``exploration`` is UCT's c (on rank-shaped rewards in [0, 1]), ``kappa`` the weight of the
    model's uncertainty in a leaf's planned value, ``warmup`` the random architectures before the
    model is trusted. ``members``, ``lengthscale``, ``ridge`` and ``max_points`` configure the
    reward model (see ``EnsembleRewardModel``). The model is refit once the evaluations have grown
    by ``refit_growth`` (a fraction, at least one new evaluation) since its last fit: after every
    one up to 50, every 2nd at 100, every 20th at 1,000, which keeps ask cheap in long runs
    (0: after every one).
    ``reward_shaping`` is what the model is fit to. ``episodes``: one-shot or progressive
    (``EpisodeSettings``).
    """

    name = "mcts"
    progressive = True

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        simulations: int = 32,
        exploration: float = 0.5,
        kappa: float = 1.0,
        warmup: int = 10,
        members: int = 5,
        lengthscale: float = 1.0,
        ridge: float = 0.1,
        max_points: int = 256,
        refit_growth: float = 0.02,
        reward_shaping: ShapingMode = "rank",
        episodes: EpisodeSettings | None = None,
    ) -> None:
        super().__init__(space, seed)
        if simulations < 1 or warmup < 1:
            raise ValueError("simulations and warmup must be at least 1")
        if refit_growth < 0:
            raise ValueError("refit_growth must be at least 0")
        self.simulations = simulations
        self.exploration = exploration
        self.kappa = kappa
        self.warmup = warmup
        self.refit_growth = refit_growth
        self.episodes = Episodes(space, episodes)
        self.model = EnsembleRewardModel(members, lengthscale, ridge, max_points)
        self.shaper = RewardShaper(reward_shaping)
        self.visits: dict[Node, int] = {}
        self.totals: dict[Node, float] = {}
        self.evaluated: list[Episode] = []  # distinct walks, in the order told
        self.leaves: list[Node] = []  # the option indices of each evaluated walk
        # nodes with nothing new below: evaluated leaves (or leaves isomorphic to one), and inner
        # nodes whose every open child is exhausted; simulations never enter them
        self.exhausted: set[Node] = set()
        self.told_keys: set[str] = set()
        self.in_flight: set[str] = set()  # walks proposed by the ask under way
        self.model_size = 0  # how many evaluations the model was last fit on
        self.last_prediction: float | None = None
        self.last_error: float | None = None
        # caches: pure functions of the space, or of the model since its last fit
        self._open: dict[Node, tuple[int, ...]] = {}
        self._planned: dict[Node, float] = {}
        sizes = [len(choice.options) for choice in self.episodes.space.choices]
        self._feature_offsets = np.cumsum([0, *sizes[:-1]])
        self._feature_size = sum(sizes)

    # --- acting ----------------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[Architecture]:
        self.in_flight = set()
        return self.episodes.ask(n, self._propose)

    def _propose(self) -> Architecture:
        taken = self.told_keys | self.in_flight
        warming_up = len(self.evaluated) < self.warmup
        walk = self._random_new(taken) if warming_up else self._plan(taken)
        self.in_flight.add(walk.key)
        return walk

    def _plan(self, taken: set[str]) -> Architecture:
        """Run the simulations; the best new leaf they reached, else a random new architecture."""
        self._refit_if_stale()
        reached: dict[Node, float] = {}
        for _ in range(self.simulations):
            leaf = self._simulate()
            if leaf is not None:
                reached[leaf] = self._planned[leaf]
        for leaf in sorted(reached, key=reached.__getitem__, reverse=True):
            architecture = self.episodes.space.decode(leaf)
            if architecture.key in self.told_keys:  # an isomorphic encoding was evaluated
                self._exhaust(leaf)
            elif architecture.key not in taken:
                self.last_prediction = reached[leaf]
                return architecture
        return self._random_new(taken)

    def _simulate(self) -> Node | None:
        """Select by UCT, expand one node, roll out at random, back the leaf's value up.

        Exhausted children are skipped, so every simulation ends at a leaf not evaluated yet.
        """
        node: Node = ()
        path = [node]
        while len(node) < len(self.episodes.space):
            actions = self._new_actions(node)
            if not actions:
                return None
            fresh = [a for a in actions if (*node, a) not in self.visits]
            if fresh:  # expansion: a child never visited, then leave the tree
                node = (*node, fresh[int(self.rng.integers(len(fresh)))])
                path.append(node)
                break
            log_parent = math.log(self.visits[node])
            node = max(
                ((*node, a) for a in actions),
                key=lambda child: (
                    self.totals[child] / self.visits[child]
                    + self.exploration * math.sqrt(log_parent / self.visits[child])
                ),
            )
            path.append(node)
        leaf = self._rollout(node)
        if leaf is None:
            return None
        self._backup(path, self._planned_value(leaf))
        return leaf

    def _rollout(self, node: Node) -> Node | None:
        while len(node) < len(self.episodes.space):
            actions = self._new_actions(node)
            if not actions:
                return None
            node = (*node, actions[int(self.rng.integers(len(actions)))])
        return node

    def _backup(self, path: list[Node], value: float) -> None:
        for node in path:
            self.visits[node] = self.visits.get(node, 0) + 1
            self.totals[node] = self.totals.get(node, 0.0) + value

    def _planned_value(self, leaf: Node) -> float:
        """mean + kappa * std of the model's prediction; cached until the next refit."""
        value = self._planned.get(leaf)
        if value is None:
            mean, std = self.model.predict(self._features([leaf]))
            value = self._planned[leaf] = float(mean[0] + self.kappa * std[0])
        return value

    def _random_new(self, taken: set[str], tries: int = 100) -> Architecture:
        """A uniformly random architecture not evaluated yet (a repeat only if none is found)."""
        for _ in range(tries):
            architecture = self.episodes.space.sample(self.rng)
            if architecture.key not in taken:
                return architecture
        return architecture

    def _new_actions(self, node: Node) -> list[int]:
        """Open actions at ``node`` whose subtree still holds an unevaluated leaf."""
        actions = [a for a in self._open_actions(node) if (*node, a) not in self.exhausted]
        if not actions:
            self._exhaust(node)  # a dead end of the space, or fully evaluated
        return actions

    def _exhaust(self, node: Node) -> None:
        """Mark ``node`` exhausted, and each ancestor whose open children all are."""
        self.exhausted.add(node)
        while node:
            node = node[:-1]
            if any((*node, a) not in self.exhausted for a in self._open_actions(node)):
                return
            self.exhausted.add(node)

    def _open_actions(self, node: Node) -> tuple[int, ...]:
        actions = self._open.get(node)
        if actions is None:
            earlier = {c.name: c.options[i] for c, i in zip(self.episodes.space.choices, node)}
            actions = tuple(int(i) for i in np.flatnonzero(self.episodes.space.open_mask(earlier)))
            self._open[node] = actions
        return actions

    # --- learning --------------------------------------------------------------------------------
    def tell(self, architecture: Architecture, trial: Trial) -> None:
        for episode in self.episodes.tell(architecture, trial, self.shaper):
            if episode.walk.key in self.told_keys:  # a repeat carries no news
                continue
            value = self.episodes.returns(episode)[0]
            if self.last_prediction is not None and None not in episode.raw:
                self.last_error = abs(self.last_prediction - value)
            self.evaluated.append(episode)
            self.told_keys.add(episode.walk.key)
            leaf = tuple(self.episodes.space.encode(episode.walk))
            self.leaves.append(leaf)
            self._exhaust(leaf)
            self._backup([leaf[:depth] for depth in range(len(leaf) + 1)], value)

    def _refit_if_stale(self) -> None:
        """Fit the model on every evaluation, rewards shaped as the shaper sees them now."""
        new = len(self.evaluated) - self.model_size
        if new < max(1, self.refit_growth * self.model_size):
            return
        features = self._features(self.leaves)
        targets = np.array(
            [
                self.episodes.returns(episode, self.episodes.reshaped(episode, self.shaper))[0]
                for episode in self.evaluated
            ]
        )
        self.model.fit(features, targets, self.rng)
        self.model_size = len(self.evaluated)
        self._planned = {leaf: float(t) for leaf, t in zip(self.leaves, targets)}

    def _features(self, leaves: list[Node]) -> np.ndarray:
        """``SearchSpace.one_hot`` of each leaf, built straight from its option indices."""
        features = np.zeros((len(leaves), self._feature_size))
        rows = np.repeat(np.arange(len(leaves)), len(self._feature_offsets))
        features[rows, (np.asarray(leaves) + self._feature_offsets).ravel()] = 1.0
        return features

    def diagnostics(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
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
            "model_size": self.model_size,
            "tree": [(list(node), self.visits[node], self.totals[node]) for node in self.visits],
            "evaluated": [self.episodes.episode_state(episode) for episode in self.evaluated],
            "episodes": self.episodes.state_dict(),
            "exhausted": [list(node) for node in self.exhausted],
            "planned": [(list(leaf), value) for leaf, value in self._planned.items()],
            "last_prediction": self.last_prediction,
            "last_error": self.last_error,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.shaper.load_state_dict(state["shaper"])
        self.model.load_state_dict(state["model"])
        self.model_size = int(state["model_size"])
        self.visits = {tuple(node): int(visits) for node, visits, _ in state["tree"]}
        self.totals = {tuple(node): float(total) for node, _, total in state["tree"]}
        self.evaluated = [self.episodes.load_episode(episode) for episode in state["evaluated"]]
        self.episodes.load_state_dict(state["episodes"])
        self.told_keys = {episode.walk.key for episode in self.evaluated}
        self.leaves = [tuple(self.episodes.space.encode(e.walk)) for e in self.evaluated]
        self.exhausted = {tuple(node) for node in state["exhausted"]}
        self._planned = {tuple(leaf): float(value) for leaf, value in state["planned"]}
        self.last_prediction = state["last_prediction"]
        self.last_error = state["last_error"]
