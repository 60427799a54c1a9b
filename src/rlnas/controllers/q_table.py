"""A tabular Q function over partial architectures and MetaQNN's epsilon schedule.

MetaQNN (Baker et al., ICLR 2017) searches layer by layer: the *state* is the network built so far
and the *action* the next layer. Here the state is the tuple of decisions made so far and the
action the next decision's option, both as indices into the decisions' full option lists (indices,
not options, because ``1`` and ``True`` are one key to a Python dict). Actions are chosen
epsilon-greedily among the options the space leaves open (``SearchSpace.open_mask``), so a
forbidden option is never proposed. The update rules live in the strategies that use the table
(``strategies/q_learning.py``, ``strategies/sarsa.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rlnas.errors import UserError
from rlnas.space import Architecture, SearchSpace

State = tuple[int, ...]
"""Option indices of the decisions made so far, in decision order."""


@dataclass(frozen=True)
class EpsilonSchedule:
    """MetaQNN's schedule: epsilon 1.0 first, then stepping down to ``final`` and staying there.

    For the first ``explore_fraction`` of ``length`` told architectures every action is random
    (MetaQNN spent most of its models at 1.0); the rest of ``length`` is split into ``steps``
    equal stretches whose epsilon falls by equal steps from 1.0 to ``final`` (``steps=9`` and
    ``final=0.1`` give 0.9, 0.8, ..., 0.1 as in the paper). After ``length`` it stays at ``final``.
    """

    length: int = 100
    explore_fraction: float = 0.5
    final: float = 0.1
    steps: int = 9

    def __post_init__(self) -> None:
        if self.length < 1 or self.steps < 1:
            raise ValueError("the epsilon schedule needs length >= 1 and steps >= 1")
        if not 0.0 <= self.explore_fraction <= 1.0 or not 0.0 <= self.final <= 1.0:
            raise ValueError("explore_fraction and final epsilon must lie in [0, 1]")

    def __call__(self, told: int) -> float:
        """Epsilon after ``told`` distinct architectures have been told."""
        explore = self.explore_fraction * self.length
        if told < explore:
            return 1.0
        remaining = self.length - explore
        if remaining <= 0:
            return self.final
        level = min(int((told - explore) / remaining * self.steps), self.steps - 1)
        return 1.0 - (1.0 - self.final) * (level + 1) / self.steps


class QTable:
    """Q(state, action) for every partial architecture visited; unvisited pairs read ``initial``.

    ``initial`` should sit near the typical (shaped) reward: optimistic values make the greedy
    policy try every option once, pessimistic ones make it cling to the first it saw.
    """

    def __init__(self, space: SearchSpace, initial: float = 0.5) -> None:
        self.space = space
        self.size = len(space)
        self.initial = initial
        self.values: dict[tuple[State, int], float] = {}
        self._open: dict[State, tuple[int, ...]] = {}  # a pure function of the space: a cache

    def open_actions(self, state: State) -> tuple[int, ...]:
        """Indices of the next decision's options that the space leaves open after ``state``."""
        actions = self._open.get(state)
        if actions is None:
            open_mask = self.space.open_mask(self.space.choices_at(state))
            actions = tuple(int(i) for i in np.flatnonzero(open_mask))
            self._open[state] = actions
        return actions

    def value(self, state: State, action: int) -> float:
        return self.values.get((state, action), self.initial)

    def best_value(self, state: State) -> float:
        """max over open actions of Q(state, action); 0 past the last decision (terminal)."""
        if len(state) == self.size:
            return 0.0
        actions = self.open_actions(state)
        if not actions:  # a dead end is worth nothing
            return 0.0
        get, initial = self.values.get, self.initial  # the replay's innermost loop
        return max([get((state, action), initial) for action in actions])

    def update(self, state: State, action: int, target: float, learning_rate: float) -> None:
        """Move Q(state, action) a ``learning_rate`` step towards ``target``."""
        key = (state, action)
        current = self.values.get(key, self.initial)
        self.values[key] = current + learning_rate * (target - current)

    def greedy_action(self, state: State, rng: np.random.Generator) -> int | None:
        """The open action of highest Q; ties broken at random. None at a dead end."""
        actions = self.open_actions(state)
        if not actions:
            return None
        values = [self.value(state, action) for action in actions]
        best = max(values)
        tied = [a for a, v in zip(actions, values) if v == best]
        return tied[int(rng.integers(len(tied)))] if len(tied) > 1 else tied[0]

    def act(self, state: State, epsilon: float, rng: np.random.Generator) -> int | None:
        """Epsilon-greedy: a uniformly random open action with probability ``epsilon``."""
        if rng.random() < epsilon:
            actions = self.open_actions(state)
            return actions[int(rng.integers(len(actions)))] if actions else None
        return self.greedy_action(state, rng)

    def rollout(
        self, epsilon: float, rng: np.random.Generator, max_tries: int = 100
    ) -> Architecture:
        """Build one architecture decision by decision, epsilon-greedily; restart at a dead end."""
        for _ in range(max_tries):
            state: State = ()
            while len(state) < len(self.space):
                action = self.act(state, epsilon, rng)
                if action is None:
                    break
                state = (*state, action)
            else:
                return self.space.decode(state)
        raise UserError(
            f"the epsilon-greedy walk met a dead end in every try in space {self.space.name!r}: "
            "its rules leave (almost) nothing open; loosen them"
        )

    def greedy_path_values(self) -> dict[str, list[float | None]]:
        """Q of every option (None where closed) at each decision along the greedy path.

        Ties go to the first option, so that reading the table never draws from an RNG.
        """
        values: dict[str, list[float | None]] = {}
        state: State = ()
        for choice in self.space.choices:
            open_ = set(self.open_actions(state))
            values[choice.name] = [
                self.value(state, i) if i in open_ else None for i in range(len(choice.options))
            ]
            if not open_:
                break
            action = max(sorted(open_), key=lambda a: self.value(state, a))
            state = (*state, action)
        return values

    def state_dict(self) -> dict[str, Any]:
        entries = [(list(state), action, value) for (state, action), value in self.values.items()]
        return {"initial": self.initial, "entries": entries}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.initial = float(state["initial"])
        self.values = {
            (tuple(int(i) for i in s), int(action)): float(value)
            for s, action, value in state["entries"]
        }
