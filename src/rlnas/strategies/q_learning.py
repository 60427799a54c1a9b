"""Tabular Q-learning over the decision sequence with experience replay (MetaQNN, Baker 2017).

Data: one-shot, each told architecture is an episode, one decision per step, with its (shaped)
reward at the last step only; progressive (MetaQNN's own form), an episode grows a network and
each growth step is rewarded where it is evaluated (``Episodes``). Episodes with news also enter a
replay buffer that keeps their raw rewards.
Update: the episode's transitions are backed up last decision first, each towards
``r_t + discount_t * max_a' Q(s', a')`` (off-policy; the last one towards ``r_t`` alone); then
``replay`` episodes drawn from the buffer are backed up the same way, their rewards re-shaped
under today's statistics. Acting: epsilon-greedy over the open options, epsilon following
MetaQNN's schedule (``EpsilonSchedule``) in the number of distinct architectures told.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import Field

from rlnas.controllers.q_table import EpsilonSchedule, QTable
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import Episode, Episodes, EpisodeSettings
from rlnas.strategies.reward_shaping import RewardShaper, RewardShaping
from rlnas.trial import Trial


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
    the discount applies once per growth step.
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
        self._encoded: dict[Architecture, list[int]] = {}  # a cache: walk -> option indices

    def ask(self, n: int = 1) -> list[Architecture]:
        epsilon = self.schedule(len(self.buffer))
        return self.episodes.ask(n, lambda: self.table.rollout(epsilon, self.rng))

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
        actions = self._encoded.get(episode.walk)
        if actions is None:  # replay backs up the same walks again and again
            actions = self._encoded[episode.walk] = self.episodes.space.encode(episode.walk)
        actions = actions[: episode.length]
        rewards = self.episodes.rewards(episode, shaped)
        discounts = self.episodes.discounts(episode)
        for step in reversed(range(len(actions))):
            state, action = tuple(actions[:step]), actions[step]
            target = rewards[step]
            if step < len(actions) - 1:
                next_value = self.next_value((*state, action), actions[step + 1])
                target += discounts[step] * next_value
            self.table.update(state, action, target, self.learning_rate)

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
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.table.load_state_dict(state["table"])
        self.shaper.load_state_dict(state["shaper"])
        self.buffer = [self.episodes.load_episode(episode) for episode in state["buffer"]]
        self.episodes.load_state_dict(state["episodes"])
