"""Tabular SARSA over the decision sequence with experience replay (on-policy Q-learning).

Everything but the target is MetaQNN's Q-learning (``strategies/q_learning.py``): the same table,
epsilon schedule, replay buffer and reward shaping. The target of a transition is the value of the
action actually taken next, ``discount * Q(s', a')``, instead of the best one; for a replayed
episode the next action is the one stored in it. The last decision is still backed up towards the
terminal reward (Rummery & Niranjan, 1994; Sutton & Barto, ch. 6.4).
"""

from __future__ import annotations

from rlnas.strategies.q_learning import QLearning


class SARSA(QLearning):
    """On-policy variant of ``QLearning``; same hyper-parameters and defaults (see there)."""

    name = "sarsa"

    def learn(self, actions: list[int], reward: float) -> None:
        """Back up one episode, last decision first: to the reward, then to Q of the next action."""
        for step in reversed(range(len(actions))):
            state, action = tuple(actions[:step]), actions[step]
            if step == len(actions) - 1:
                target = reward
            else:
                target = self.discount * self.table.value((*state, action), actions[step + 1])
            self.table.update(state, action, target, self.learning_rate)
