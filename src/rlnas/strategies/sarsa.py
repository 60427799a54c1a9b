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

    def next_value(self, next_state: tuple[int, ...], next_action: int) -> float:
        """SARSA's on-policy target: the value of the action the episode actually took next."""
        return self.table.value(next_state, next_action)
