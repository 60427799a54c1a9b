"""Monte Carlo tree search over the decision sequence, leaves valued by a reward model (AlphaX).

Tree: one node per partial architecture (the option indices chosen so far) with a visit count and a
value sum. A simulation descends by UCT, ``Q + c * sqrt(ln N_parent / N_child)``, trying every open
option of a node once before choosing among them, completes the architecture uniformly at random
(rollout), values it, and backs that value up the path. Evaluated leaves, and subtrees with nothing
else left, are closed to simulations, so each one reaches a new leaf, worth what the reward model
plans for it: ``mean + kappa * std`` (optimism under the model's uncertainty). The model is the one
every model-based strategy shares (``RewardModel``; by default its pool, chosen by cross-validation,
on ``ArchitectureFeatures``: one-hot plus what the space declares). Real evaluations are backed up
into the tree with their shaped reward, and the model is refit as they arrive. ``ask`` runs
``simulations`` simulations and proposes the not-yet-evaluated leaf they reached with the best
planned value (Wistuba 2017; AlphaX, Wang et al. 2019). The simulations of one ask are valued
together, with one prediction: each counts its visit at once and adds its value after the last one
(a "virtual loss", as parallel tree search does), because one prediction of the pool's models costs
about what 32 do. Until ``warmup`` architectures are evaluated there is nothing to learn from, and
it proposes random ones. Progressive (``Episodes``), the tree is over the decisions of growing
episodes, a leaf is a whole episode, and its value (backed up and fit by the model) is the episode's
discounted return.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import Field

from rlnas.controllers.regressors import CANDIDATES, RegressorName
from rlnas.controllers.surrogate import ModelKind, RewardModel
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import Episode, Episodes, EpisodeSettings
from rlnas.strategies.options import RefitGrowth
from rlnas.strategies.reward_shaping import RewardShaper, RewardShaping
from rlnas.trial import Trial

Node = tuple[int, ...]


class MCTS(Strategy):
    """Model-based tree search.

    Defaults were chosen on NAS-Bench-Graph at a budget of 100 (see RESULTS.md).
    ``simulations`` per ask (AlphaX ran hundreds per proposal; a few dozen keep ask cheap),
    ``exploration`` is UCT's c (on rank-shaped rewards in [0, 1]), ``kappa`` the weight of the
    model's uncertainty in a leaf's planned value, ``warmup`` the random architectures before the
    model is trusted. The model (``RewardModel``, shared with the other model-based
    strategies): ``model`` its kind. ``pairwise`` (the default; Bayesian, a term per decision
    and per pair) against ``pool`` (the cross-validated regressors on one-hot plus declared
    features), validation regret in units of each table's spread at budgets 50 and 100 on
    NAS-Bench-Graph cora and citeseer and syn:chain8 and syn:nk15 (6 seeds, mean of the 8
    cells): 0.226 against 0.200, level on cora and citeseer (0.169 against 0.172), behind on
    chain8 at 50; at 2.3 against 87 ms of CPU per architecture. The pool's options:
    ``candidates``, the regressors ``SelectedRewardModel`` chooses from by cross-validation,
    ``space_features`` whether the features a space declares join the one-hot encoding.
    ``max_points``: the most recent evaluations the model is fit on. It is refit once the
    evaluations have grown by ``refit_growth`` (a fraction, at least one new evaluation) since
    its last fit: after every one up to 20, every 5th at 100, every 50th at 1,000 (0: after
    every one); 5 % was preferred to rarer refits for the pool on cora and citeseer.
    ``reward_shaping`` is what the model is fit to. ``episodes``: one-shot or progressive
    (``EpisodeSettings``).
    """

    name = "mcts"
    progressive = True

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        simulations: Annotated[
            int, Field(ge=1, le=100_000, description="Tree simulations per ask.")
        ] = 32,
        exploration: Annotated[
            float, Field(ge=0, le=1000, description="UCT's c: the weight of exploring.")
        ] = 0.5,
        kappa: Annotated[
            float, Field(ge=0, le=1000, description="Weight of the model's uncertainty in a leaf.")
        ] = 1.0,
        warmup: Annotated[
            int, Field(ge=1, le=100_000, description="Random architectures before the model.")
        ] = 10,
        model: Annotated[
            ModelKind, Field(description="The reward model: pairwise (Bayesian) or pool.")
        ] = "pairwise",
        candidates: Annotated[
            tuple[RegressorName, ...],
            Field(min_length=1, description="The regressors the reward model is chosen from."),
        ] = CANDIDATES,
        space_features: Annotated[
            bool, Field(description="Add the features the space declares to the one-hot.")
        ] = True,
        max_points: Annotated[
            int, Field(ge=1, le=10**6, description="Most recent evaluations the model is fit on.")
        ] = 200,
        refit_growth: RefitGrowth = 0.05,
        reward_shaping: RewardShaping = "rank",
        episodes: EpisodeSettings | None = None,
    ) -> None:
        super().__init__(space, seed)
        self.simulations = simulations
        self.exploration = exploration
        self.kappa = kappa
        self.warmup = warmup
        self.episodes = Episodes(space, episodes)
        self.model = RewardModel(
            self.episodes.space,
            model,
            candidates=candidates,
            space_features=space_features,
            max_points=max_points,
            refit_growth=refit_growth,
        )
        self.shaper = RewardShaper(reward_shaping)
        self.visits: dict[Node, int] = {}
        self.totals: dict[Node, float] = {}
        self.evaluated: list[Episode] = []  # distinct walks, in the order told
        # nodes with nothing new below: evaluated leaves (or leaves isomorphic to one), and inner
        # nodes whose every open child is exhausted; simulations never enter them
        self.exhausted: set[Node] = set()
        self.told_keys: set[str] = set()
        self.in_flight: set[str] = set()  # walks proposed by the ask under way
        self.last_prediction: float | None = None
        self.last_error: float | None = None
        # caches: pure functions of the space, or of the model since its last fit
        self._open: dict[Node, tuple[int, ...]] = {}
        self._planned: dict[Node, float] = {}

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
        simulated = [found for _ in range(self.simulations) if (found := self._simulate())]
        self._value([leaf for _, leaf in simulated])
        for path, leaf in simulated:
            for node in path:
                self.totals[node] = self.totals.get(node, 0.0) + self._planned[leaf]
        reached = {leaf: self._planned[leaf] for _, leaf in simulated}
        for leaf in sorted(reached, key=reached.__getitem__, reverse=True):
            architecture = self.episodes.space.decode(leaf)
            if architecture.key in self.told_keys:  # an isomorphic encoding was evaluated
                self._exhaust(leaf)
            elif architecture.key not in taken:
                self.last_prediction = reached[leaf]
                return architecture
        return self._random_new(taken)

    def _simulate(self) -> tuple[list[Node], Node] | None:
        """Select by UCT, expand one node, roll out at random, count the visit along the path.

        Exhausted children are skipped, so every simulation ends at a leaf not evaluated yet.
        The path and the leaf are returned; the caller adds the leaf's value once predicted.
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
                    self.totals.get(child, 0.0) / self.visits[child]
                    + self.exploration * math.sqrt(log_parent / self.visits[child])
                ),
            )
            path.append(node)
        leaf = self._rollout(node)
        if leaf is None:
            return None
        for visited in path:
            self.visits[visited] = self.visits.get(visited, 0) + 1
        return path, leaf

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

    def _value(self, leaves: list[Node]) -> None:
        """Plan mean + kappa * std for the leaves not valued since the last refit, in one call."""
        new = list(dict.fromkeys(leaf for leaf in leaves if leaf not in self._planned))
        if new:
            mean, std = self.model.predict(new)
            for leaf, value in zip(new, mean + self.kappa * std):
                self._planned[leaf] = float(value)

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
            space = self.episodes.space
            actions = tuple(int(i) for i in np.flatnonzero(space.open_mask(space.choices_at(node))))
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
            self.model.observe(leaf)
            self._exhaust(leaf)
            self._backup([leaf[:depth] for depth in range(len(leaf) + 1)], value)

    def _refit_if_stale(self) -> None:
        """Fit the model on every evaluation when due, rewards shaped as the shaper sees them
        now; an evaluated leaf is then planned at its own value."""
        targets: list[float] = []

        def shaped() -> list[float]:
            targets.extend(
                self.episodes.returns(episode, self.episodes.reshaped(episode, self.shaper))[0]
                for episode in self.evaluated
            )
            return targets

        if self.model.refit_if_due(shaped, self.rng):
            self._planned = {leaf: float(t) for leaf, t in zip(self.model.rows, targets)}

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
            "tree": [
                (list(node), self.visits[node], self.totals.get(node, 0.0)) for node in self.visits
            ],
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
        self.visits = {tuple(node): int(visits) for node, visits, _ in state["tree"]}
        self.totals = {tuple(node): float(total) for node, _, total in state["tree"]}
        self.evaluated = [self.episodes.load_episode(episode) for episode in state["evaluated"]]
        self.episodes.load_state_dict(state["episodes"])
        self.told_keys = {episode.walk.key for episode in self.evaluated}
        self.exhausted = {tuple(node) for node in state["exhausted"]}
        self._planned = {tuple(leaf): float(value) for leaf, value in state["planned"]}
        self.last_prediction = state["last_prediction"]
        self.last_error = state["last_error"]
