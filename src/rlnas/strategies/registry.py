"""One name -> strategy class table that serves the CLI, the Python API and the tests.

Entries are import paths so that a strategy's heavy dependencies (torch) load only when used.
Adding a strategy is one line here.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from importlib import import_module
from typing import Any

from pydantic import Field

from rlnas.errors import UnknownName
from rlnas.settings import Settings
from rlnas.space import SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import EpisodeSettings

STRATEGIES: dict[str, str] = {
    "random": "rlnas.strategies.random_search:RandomSearch",
    "evolution": "rlnas.strategies.evolution:RegularizedEvolution",
    "reinforce": "rlnas.strategies.reinforce:REINFORCE",
    "ppo": "rlnas.strategies.ppo:PPO",
    "actor-critic": "rlnas.strategies.actor_critic:ActorCritic",
    "q-learning": "rlnas.strategies.q_learning:QLearning",
    "sarsa": "rlnas.strategies.sarsa:SARSA",
    "mcts": "rlnas.strategies.mcts:MCTS",
    "dyna-q": "rlnas.strategies.dyna_q:DynaQ",
    "dyna-ppo": "rlnas.strategies.dyna_ppo:DynaPPO",
    "mpc": "rlnas.strategies.mpc:MPC",
    "dp": "rlnas.strategies.dp:DynamicProgramming",
}


class StrategySettings(Settings):
    """Which strategy searches, with its own constructor's keywords."""

    strategy: str = Field("evolution", description="Search strategy (see rlnas list).")
    strategy_option: dict[str, Any] = Field(
        default_factory=dict,
        description="A keyword of the strategy, e.g. learning_rate=0.01 (repeatable; values "
        "are TOML literals).",
    )


def strategy_class(name: str) -> type[Strategy]:
    """The class registered under ``name``."""
    if name not in STRATEGIES:
        raise UnknownName(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    module, _, attribute = STRATEGIES[name].partition(":")
    return getattr(import_module(module), attribute)


def strategy_options(cls: type[Strategy]) -> list[str]:
    """The keywords a strategy class takes, its base classes' (passed on as ``**keywords``) too."""
    names: list[str] = []
    for klass in cls.__mro__:
        if "__init__" not in klass.__dict__ or klass is object:
            continue
        parameters = inspect.signature(klass.__dict__["__init__"]).parameters.values()
        names += [
            parameter.name
            for parameter in parameters
            if parameter.name not in ("self", "space", "seed", "episodes", *names)
            and parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
        ]
        if not any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters):
            break
    return names


def make_strategy(
    name: str,
    space: SearchSpace,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    episodes: EpisodeSettings | None = None,
) -> Strategy:
    """Build the strategy ``name`` for ``space``; ``options`` are its constructor's keywords.

    ``episodes`` (one-shot or progressive, and how steps are rewarded) goes to the strategies
    that learn from episodes (``Strategy.progressive``); the others only search one-shot.
    """
    cls = strategy_class(name)
    keywords = dict(options or {})
    if cls.progressive:
        keywords["episodes"] = episodes
    elif episodes is not None and episodes.progressive:
        raise UnknownName(f"strategy {name!r} has no progressive mode; use it one-shot")
    accepted = strategy_options(cls)
    unknown = sorted(set(options or {}) - set(accepted))
    if unknown:
        raise UnknownName(
            f"strategy {name!r} has no option {', '.join(map(repr, unknown))}; its options are "
            f"{', '.join(accepted) or 'none'}"
        )
    try:
        return cls(space, seed=seed, **keywords)
    except TypeError as error:
        raise UnknownName(
            f"strategy {name!r} does not take these options: {error}; its options are "
            f"{', '.join(accepted) or 'none'}"
        ) from None
