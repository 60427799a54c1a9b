"""One name -> strategy class table that serves the CLI, the Python API and the tests.

Entries are import paths so that a strategy's heavy dependencies (torch) load only when used.
Adding a strategy is one line here.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from typing import Any

from rlnas.errors import UnknownName
from rlnas.space import SearchSpace
from rlnas.strategies.base import Strategy

STRATEGIES: dict[str, str] = {
    "random": "rlnas.strategies.random_search:RandomSearch",
    "evolution": "rlnas.strategies.evolution:RegularizedEvolution",
    "reinforce": "rlnas.strategies.reinforce:REINFORCE",
    "ppo": "rlnas.strategies.ppo:PPO",
    "actor-critic": "rlnas.strategies.actor_critic:ActorCritic",
    "q-learning": "rlnas.strategies.q_learning:QLearning",
    "sarsa": "rlnas.strategies.sarsa:SARSA",
    "mcts": "rlnas.strategies.mcts:MCTS",
}


def strategy_class(name: str) -> type[Strategy]:
    """The class registered under ``name``."""
    if name not in STRATEGIES:
        raise UnknownName(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    module, _, attribute = STRATEGIES[name].partition(":")
    return getattr(import_module(module), attribute)


def make_strategy(
    name: str, space: SearchSpace, seed: int = 0, options: dict[str, Any] | None = None
) -> Strategy:
    """Build the strategy ``name`` for ``space``; ``options`` are its constructor's keywords."""
    cls = strategy_class(name)
    mode = (options or {}).get("mode", "one-shot")
    if mode != "one-shot" and "mode" not in inspect.signature(cls).parameters:
        raise UnknownName(f"strategy {name!r} has no {mode} mode; use it one-shot")
    try:
        return cls(space, seed=seed, **(options or {}))
    except TypeError as error:
        raise UnknownName(f"strategy {name!r} does not take these options: {error}") from None
