"""The interface every search strategy implements: ask for architectures, tell their results.

Like Optuna's samplers, a strategy never calls the evaluator: ``rlnas.search`` (or the user) owns
the loop. ``ask`` may be called several times before the matching ``tell`` calls, and results may
come back in any order, so a strategy keys whatever it remembers of a proposal by architecture.
"""

from __future__ import annotations

import functools
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from rlnas.errors import UserError
from rlnas.space import Architecture, SearchSpace
from rlnas.trial import Trial

if TYPE_CHECKING:
    from rlnas.strategies.episodes import Episodes


class StrategyMisuse(UserError):
    """``ask``, ``tell`` or ``load_state_dict`` was called with what it cannot take."""


class Strategy(ABC):
    """Base class of search strategies; subclasses hold one algorithm each, top to bottom.

    Every subclass's ``ask``, ``tell`` and ``load_state_dict`` check their arguments first
    (``__init_subclass__``), so a caller's mistake is a ``StrategyMisuse`` that says what to pass,
    in every strategy alike, and no strategy checks them itself.
    """

    def __init_subclass__(cls, **keywords: Any) -> None:
        super().__init_subclass__(**keywords)
        for method, check in (
            ("ask", _checked_ask),
            ("tell", _checked_tell),
            ("load_state_dict", _checked_load),
        ):
            if method in cls.__dict__ and not getattr(cls.__dict__[method], "__checked__", False):
                setattr(cls, method, check(cls.__dict__[method]))

    name: ClassVar[str]
    progressive: ClassVar[bool] = False
    """Whether the strategy learns from episodes and so also searches progressively: it then
    takes ``episodes=EpisodeSettings(...)`` (``rlnas.strategies.episodes``)."""
    episodes: Episodes | None = None
    """A learning strategy's episodes (one-shot or progressive); None for the others."""

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        self.space = space
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def ask(self, n: int = 1) -> list[Architecture]:
        """Propose ``n`` architectures to evaluate next (repeats are allowed and cost nothing)."""

    @abstractmethod
    def tell(self, architecture: Architecture, trial: Trial) -> None:
        """Learn from the result of evaluating ``architecture``."""

    def diagnostics(self) -> dict[str, Any]:
        """What the controller believes now, for reports; JSON-serializable, stored per trial.

        Every key is optional; reports draw the ones present:
        ``entropy`` {decision: nats}, ``probabilities`` {decision: [p per option]} (along the
        greedy path), ``q_values`` {decision: [q per option]} (greedy path), ``baseline`` and
        ``value`` (floats), ``epsilon`` (float), ``model_error`` (|predicted - true| reward of the
        latest evaluation) and ``predicted`` (float); model-based strategies add
        ``model_quality`` (the reward model's cross-validated Kendall tau on the evaluations so
        far), ``model_rounds`` (DyNA-PPO: model-rewarded rounds after the latest real batch, 0
        when the model was not good enough) and ``planned`` (Dyna-Q: simulated episodes backed
        up so far). Strategies that learn nothing return {}.
        """
        return {}

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this strategy stands (RNG included)."""
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned; the strategy then continues identically."""
        self.rng.bit_generator.state = state["rng"]


def _checked_ask(ask: Callable[..., list[Architecture]]) -> Callable[..., list[Architecture]]:
    @functools.wraps(ask)
    def checked(self: Strategy, n: int = 1, *args: Any, **keywords: Any) -> list[Architecture]:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise StrategyMisuse(
                f"ask(n) takes how many architectures to propose (n >= 0); got {n!r}"
            )
        return ask(self, int(n), *args, **keywords)

    checked.__checked__ = True  # type: ignore[attr-defined]
    return checked


def _checked_tell(tell: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(tell)
    def checked(self: Strategy, architecture: Any, trial: Any, *args: Any, **keywords: Any) -> None:
        if not isinstance(architecture, Architecture):
            raise StrategyMisuse(
                "tell(architecture, trial) takes an Architecture that ask() returned, got a "
                f"{type(architecture).__name__}"
            )
        if tuple(architecture.choices) != self.space.names:
            raise StrategyMisuse(
                "tell(architecture, trial): the architecture's decisions "
                f"{list(architecture.choices)} are not those of the strategy's space "
                f"{self.space.name!r} {list(self.space.names)}; tell it what its ask() returned"
            )
        if not isinstance(trial, Trial):
            raise StrategyMisuse(
                "tell(architecture, trial) takes an rlnas.Trial (e.g. Trial(0, architecture, "
                f"metrics, reward)), got a {type(trial).__name__}"
            )
        tell(self, architecture, trial, *args, **keywords)

    checked.__checked__ = True  # type: ignore[attr-defined]
    return checked


def _checked_load(load: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(load)
    def checked(self: Strategy, state: Any, *args: Any, **keywords: Any) -> None:
        if not isinstance(state, Mapping):
            raise StrategyMisuse(
                f"load_state_dict takes what state_dict() returned, got a {type(state).__name__}"
            )
        try:
            load(self, state, *args, **keywords)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
            raise StrategyMisuse(
                f"this state does not fit strategy {self.name!r} with these options "
                f"({type(error).__name__}: {error}); load what its state_dict() returned"
            ) from None

    checked.__checked__ = True  # type: ignore[attr-defined]
    return checked


Strategy.load_state_dict = _checked_load(Strategy.load_state_dict)  # type: ignore[method-assign]
