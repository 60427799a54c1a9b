"""Shared by the strategy tests: a toy space with a known best option; the store round trip."""

from __future__ import annotations

import rlnas
from rlnas.space import Architecture, Choice, SearchSpace
from rlnas.store import deserialize_state, serialize_state
from rlnas.trial import Status, Trial

BEST = "a"


def toy_space() -> SearchSpace:
    """Five decisions of four options; option 'a' is best at each, and 'd' is never allowed."""
    return SearchSpace(
        [
            Choice(f"x{i}", ["a", "b", "c", "d"], allowed=lambda made: ["a", "b", "c"])
            for i in range(5)
        ]
    )


def count_best(architecture: Architecture) -> float:
    return float(sum(option == BEST for option in architecture.choices.values()))


def trial_of(number: int, architecture: Architecture, fail: bool = False) -> Trial:
    if fail:
        return Trial(number, architecture, {}, None, Status.FAILED, "boom")
    reward = count_best(architecture)
    return Trial(number, architecture, {"accuracy": reward}, reward)


def run(strategy: rlnas.Strategy, steps: int, start: int = 0) -> list[Architecture]:
    """Ask one, tell its reward, ``steps`` times; every fifth trial fails."""
    asked = []
    for number in range(start, start + steps):
        (architecture,) = strategy.ask(1)
        strategy.tell(architecture, trial_of(number, architecture, fail=number % 5 == 4))
        asked.append(architecture)
    return asked


def round_trip(state: dict) -> dict:
    """What the store does to a checkpoint: saved, then loaded with torch's weights_only."""
    return deserialize_state(serialize_state(state))
