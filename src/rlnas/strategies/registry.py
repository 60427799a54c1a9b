"""One name -> strategy class table that serves the CLI, the Python API and the tests.

Entries are import paths so that a strategy's heavy dependencies (torch) load only when used.
Adding a strategy is one line here.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

from pydantic import Field

from rlnas.errors import UnknownName
from rlnas.settings import Settings
from rlnas.space import SearchSpace
from rlnas.strategies.base import Strategy
from rlnas.strategies.episodes import EpisodeSettings
from rlnas.strategies.options import NOT_OPTIONS, listing, options_model, refuse_unknown

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
    """The names of a strategy class's options (``rlnas.strategies.options``)."""
    return list(options_model(cls).model_fields)


def strategy_option_rows(name: str) -> list[tuple[str, str, str, str]]:
    """Each option of the strategy ``name``: (name, type and bounds, default, help)."""
    return listing(strategy_class(name))


def make_strategy(
    name: str,
    space: SearchSpace,
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    episodes: EpisodeSettings | None = None,
) -> Strategy:
    """Build the strategy ``name`` for ``space``; ``options`` are its constructor's keywords,
    checked against their declarations (``rlnas.strategies.options``).

    ``episodes`` (one-shot or progressive, and how steps are rewarded) goes to the strategies
    that learn from episodes (``Strategy.progressive``); the others only search one-shot.
    """
    cls = strategy_class(name)
    keywords = dict(options or {})
    refuse_unknown(cls, name, set(keywords) & set(NOT_OPTIONS))  # passed here, not as options
    if cls.progressive:
        keywords["episodes"] = episodes
    elif episodes is not None and episodes.progressive:
        raise UnknownName(f"strategy {name!r} has no progressive mode; use it one-shot")
    return cls(space, seed=seed, **keywords)  # its constructor checks the options
