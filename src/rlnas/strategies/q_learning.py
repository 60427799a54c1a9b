"""Tabular Q-learning over the decision sequence with experience replay (MetaQNN, Baker 2017).

Data: one-shot, each told architecture is an episode, one decision per step, with its (shaped)
reward at the last step only; progressive (MetaQNN's own form), an episode grows a network and
each growth step is rewarded where it is evaluated (``Episodes``). Episodes with news also enter a
replay buffer that keeps their raw rewards.
Update: the episode's transitions are backed up last decision first, each towards
``r_t + discount_t * max_a' Q(s', a')`` (off-policy; the last one towards ``r_t`` alone); then
``replay`` episodes drawn from the buffer are backed up the same way, their rewards re-shaped
under today's statistics. Acting: epsilon-greedy over the open options, epsilon following
MetaQNN's schedule (``EpsilonSchedule``) in the number of distinct architectures told; a walk
proposed before is replaced by its nearest new neighbour, so the settled greedy walk turns into
a local search around it instead of re-querying.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field

from rlnas.controllers.q_table import EpsilonSchedule, QTable, State
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import Episode, Episodes, EpisodeSettings
from rlnas.strategies.neighbours import Decoded, new_neighbour
from rlnas.strategies.reward_shaping import RewardShaper, RewardShaping
from rlnas.trial import Trial

Transition = tuple[State, int, State, int | None]


class QLearning(Strategy):
    """MetaQNN-style Q-learning.

    Defaults were chosen on NAS-Bench-Graph at a budget of 100 (see RESULTS.md). MetaQNN used a
    learning rate of 0.01 over thousands of models and replayed 100 past models per step; with
    ~100 architectures a much larger ``learning_rate`` is needed for Q to move at all (0.3 beat
    0.01, 0.1, 0.5 and 1; replaying 20 beat 0, 50 and 100).
    The episodes' ``discount`` is 1 as in the paper (only the terminal reward counts).
    ``initial_q`` is where every unvisited Q starts: 0.5 is the middle of the ``rank``-shaped
    rewards (MetaQNN: 0.5, the middle of accuracies). ``epsilon_length``, ``explore_fraction``,
    ``final_epsilon`` and ``epsilon_steps`` define the schedule (see ``EpsilonSchedule``); set
    ``epsilon_length`` to the budget: past it the greedy walk mostly repeats known
    architectures. ``replay`` is how many past episodes are replayed after each result.
    ``episodes`` chooses one-shot or progressive episodes (``EpisodeSettings``); progressive,
    the discount applies once per growth step. ``avoid_repeats``: a walk proposed before gives way
    to its nearest new neighbour (one-shot only); it made ``q-learning`` and ``sarsa`` beat
    random search where they trailed it (mean validation regret at a budget of 100, 16 seeds:
    syn:nk15 1.03 and 1.19 against random's 1.34, syn:chain8 0.78 and 0.81 against 1.01,
    nbg:cora 0.0104 and 0.0105 against 0.0119), and cut the CPU spent on told repeats.
    A learning rate of 1 and a shorter random phase (``explore_fraction`` 0.2) were no better;
    a short random phase ending at epsilon 0 (``explore_fraction`` 0.2, ``final_epsilon`` 0,
    ``epsilon_steps`` 2: local search around the greedy walk) helped q-learning on all four
    (12 seeds; syn:chain8 0.58, syn:nk15 0.92, nbg:cora 0.0102, nbg:citeseer 0.0115) but not
    sarsa, which shares these defaults (nbg:cora 0.0117, worse than random's 0.0110).
    """

    name = "q-learning"
    progressive = True

    def __init__(
        self,
        space: SearchSpace,
        seed: int = 0,
        learning_rate: Annotated[
            float, Field(gt=0, le=1, description="Step size of each Q backup.")
        ] = 0.3,
        initial_q: Annotated[
            float, Field(ge=-1e6, le=1e6, description="Where every unvisited Q starts.")
        ] = 0.5,
        epsilon_length: Annotated[
            int, Field(ge=1, le=10**9, description="Architectures the epsilon schedule spans.")
        ] = 100,
        explore_fraction: Annotated[
            float, Field(ge=0, le=1, description="Part of the schedule at epsilon 1.")
        ] = 0.5,
        final_epsilon: Annotated[
            float, Field(ge=0, le=1, description="Epsilon at the end of the schedule.")
        ] = 0.1,
        epsilon_steps: Annotated[
            int, Field(ge=1, le=10**6, description="Steps of the schedule down to the final.")
        ] = 9,
        replay: Annotated[
            int, Field(ge=0, le=100_000, description="Past episodes replayed after each result.")
        ] = 20,
        reward_shaping: RewardShaping = "rank",
        episodes: EpisodeSettings | None = None,
        avoid_repeats: Annotated[
            bool,
            Field(description="Replace a walk proposed before by its nearest new neighbour."),
        ] = True,
    ) -> None:
        super().__init__(space, seed)
        self.learning_rate = learning_rate
        self.replay = replay
        self.schedule = EpsilonSchedule(
            epsilon_length, explore_fraction, final_epsilon, epsilon_steps
        )
        self.episodes = Episodes(space, episodes)
        self.table = QTable(self.episodes.space, initial_q)
        self.shaper = RewardShaper(reward_shaping)
        self.buffer: list[Episode] = []  # episodes with news, in the order told
        self.avoid_repeats = avoid_repeats
        self.proposed: set[str] = set()  # keys of the walks proposed so far
        self._decoded: Decoded = {}  # a cache for the neighbour search
        self._transitions: dict[Architecture, list[Transition]] = {}  # a cache, per walk

    def ask(self, n: int = 1) -> list[Architecture]:
        epsilon = self.schedule(len(self.buffer))
        return self.episodes.ask(n, lambda: self.propose(epsilon))

    def propose(self, epsilon: float) -> Architecture:
        """An epsilon-greedy walk; one proposed before gives way to its nearest new neighbour
        (one-shot only, as in ``PolicySearch``): a repeat teaches nothing, so once the greedy
        walk settles the search becomes a local search around it."""
        walk = self.table.rollout(epsilon, self.rng)
        if self.avoid_repeats and not self.episodes.progressive:
            if walk.key in self.proposed:
                neighbour = new_neighbour(
                    self.episodes.space, walk, self.proposed, self.rng, decoded=self._decoded
                )
                walk = walk if neighbour is None else neighbour
            self.proposed.add(walk.key)
        return walk

    def tell(self, architecture: Architecture, trial: Trial) -> None:
        for episode in self.episodes.tell(architecture, trial, self.shaper):
            self.learn_episode(episode)

    def learn_episode(self, episode: Episode) -> None:
        """Learn from a finished real episode, then replay past ones."""
        if not episode.cached:  # a repeat is learned from again but not replayed twice
            self.buffer.append(episode)
        self.learn(episode, episode.shaped)
        if self.replay and self.buffer:
            size = min(self.replay, len(self.buffer))
            for index in self.rng.choice(len(self.buffer), size, replace=False):
                past = self.buffer[int(index)]
                self.learn(past, self.episodes.reshaped(past, self.shaper))

    def learn(self, episode: Episode, shaped: Sequence[float]) -> None:
        """Back up one episode, last decision first, given its steps' shaped rewards."""
        transitions = self._transitions.get(episode.walk)
        if transitions is None:  # replay backs up the same walks again and again
            transitions = self._transitions[episode.walk] = self.transitions(episode)
        rewards = self.episodes.rewards(episode, shaped)
        discounts = self.episodes.discounts(episode)
        for step in reversed(range(len(transitions))):
            state, action, next_state, next_action = transitions[step]
            target = rewards[step]
            if next_action is not None:
                target += discounts[step] * self.next_value(next_state, next_action)
            self.table.update(state, action, target, self.learning_rate)

    def transitions(self, episode: Episode) -> list[Transition]:
        """(state, action, next state, next action or None at the end) of each decision."""
        actions = self.episodes.space.encode(episode.walk)[: episode.length]
        return [
            (
                tuple(actions[:step]),
                action,
                tuple(actions[: step + 1]),
                actions[step + 1] if step + 1 < len(actions) else None,
            )
            for step, action in enumerate(actions)
        ]

    def next_value(self, next_state: tuple[int, ...], next_action: int) -> float:
        """Q-learning's off-policy target: the best action's value in the next state."""
        return self.table.best_value(next_state)

    def diagnostics(self) -> dict[str, Any]:
        return {
            "epsilon": self.schedule(len(self.buffer)),
            "q_values": self.table.greedy_path_values(),
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "table": self.table.state_dict(),
            "shaper": self.shaper.state_dict(),
            "buffer": [self.episodes.episode_state(episode) for episode in self.buffer],
            "episodes": self.episodes.state_dict(),
            "proposed": sorted(self.proposed),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.table.load_state_dict(state["table"])
        self.shaper.load_state_dict(state["shaper"])
        self.buffer = [self.episodes.load_episode(episode) for episode in state["buffer"]]
        self.episodes.load_state_dict(state["episodes"])
        self.proposed = set(state["proposed"])
