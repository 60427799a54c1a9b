"""The interface every search strategy implements: ask for architectures, tell their results.

Like Optuna's samplers, a strategy never calls the evaluator: ``rlnas.search`` (or the user) owns
the loop. ``ask`` may be called several times before the matching ``tell`` calls, and results may
come back in any order, so a strategy keys whatever it remembers of a proposal by architecture.
Each hook's docstring says when ``rlnas.search``'s loop (``rlnas.search_loop``) calls it.
"""

from __future__ import annotations

import functools
import inspect
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from rlnas.errors import UserError
from rlnas.space import Architecture, SearchSpace
from rlnas.strategies.options import NOT_OPTIONS, check_options, refuse_unknown
from rlnas.strategies.saved_state import SavedState
from rlnas.trial import Trial

if TYPE_CHECKING:
    from rlnas.strategies.episodes import Episodes


class StrategyMisuse(UserError):
    """A strategy was built, asked, told or loaded with what it cannot take."""


class Strategy(SavedState, ABC):
    """Base class of search strategies; subclasses hold one algorithm each, top to bottom.

    Every subclass's constructor, ``ask``, ``tell`` and ``load_state_dict`` check their
    arguments first (``__init_subclass__``), so a caller's mistake is a ``UserError`` that says
    what to pass, in every strategy alike, and no strategy checks them itself. A constructor's
    options are checked against their declarations (``rlnas.strategies.options``: the
    annotated keywords of the constructors along the MRO) once, by the outermost constructor,
    which then receives them as the declared types.
    """

    def __init_subclass__(cls, **keywords: Any) -> None:
        super().__init_subclass__(**keywords)
        for method, check in (
            ("__init__", _checked_init),
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
    saved: ClassVar[tuple[str, ...]] = ("rng",)
    """The attributes ``state_dict`` saves (``SavedState``); a subclass extends the tuple, e.g.
    ``saved = (*Strategy.saved, "population")``, or writes the two methods where saving does
    real work."""

    def __init__(self, space: SearchSpace, seed: int = 0) -> None:
        self.space = space
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def ask(self, n: int = 1) -> list[Architecture]:
        """Propose ``n`` architectures to evaluate next (repeats are allowed and cost nothing).

        The search loop calls ``ask(1)`` only, once per proposal, whenever a worker is free and
        budget is left: a serial search asks only when nothing is in flight, a search with
        ``workers`` > 1 asks again before the earlier proposals are told. A proposal already
        evaluated is not evaluated again but told at once from the cache; one still in flight
        makes the loop wait for results before it asks again. A wrapper (``Screened``) may ask
        for more at once. After a resume, the architectures that were in flight are evaluated
        again without being asked.
        """

    @abstractmethod
    def tell(self, architecture: Architecture, trial: Trial) -> None:
        """Learn from the result of evaluating ``architecture``.

        The loop tells every proposal exactly once: a new one when its evaluation settles, in
        the order evaluations finish, which with several workers is not the order asked; with a
        scheduler, once, at its last rung or when stopped (``trial.pruned``, with an estimated
        reward). A repeat is told too, with ``trial.cached`` set and the stored trial's
        result: at once when it was evaluated before, right after the original's tell when it
        was still in flight. A failed or rejected trial is told with ``trial.reward`` None.
        """

    def diagnostics(self) -> dict[str, Any]:
        """What the controller believes now, for reports; JSON-serializable, stored per trial.

        The loop calls it after each new trial is told (and its repeats in flight), when the
        search has a store, and stores the result with that trial; not after cache-hit tells.
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
        """Everything needed to continue exactly where this strategy stands (RNG included).

        A search with a store takes it after every new trial is told (and its repeats in
        flight), before ``diagnostics``, and stores it with that trial in one transaction; and
        once more when a time budget pauses the search. It must hold only what the store saves
        with torch's ``weights_only`` loading: plain Python values, tensors and
        ``Architecture`` objects (which the store converts), never an architecture as a dict
        key. By default the attributes named in ``saved``.
        """
        return super().state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned; the strategy then continues identically.

        The loop calls it once, on resume, on a strategy newly built with the same space, seed
        and options, before any ``ask``; then it evaluates again what was in flight.
        """
        super().load_state_dict(state)


def _checked_init(init: Callable[..., None]) -> Callable[..., None]:
    signature = inspect.signature(init)

    @functools.wraps(init)
    def checked(self: Strategy, *args: Any, **keywords: Any) -> None:
        cls = type(self)
        if cls.__init__ is checked:  # the outermost constructor checks, once
            args, keywords = _checked_arguments(cls, signature, (self, *args), keywords)
        init(self, *args, **keywords)

    checked.__checked__ = True  # type: ignore[attr-defined]
    return checked


def _checked_arguments(
    cls: type[Strategy], signature: inspect.Signature, args: tuple, keywords: dict[str, Any]
) -> tuple[tuple, dict[str, Any]]:
    """A constructor's arguments with its options checked (``check_options``), its space and
    seed too; the options as their declared types."""
    label = getattr(cls, "name", cls.__name__)
    refuse_unknown(
        cls, label, [name for name in keywords if name not in (*signature.parameters, *NOT_OPTIONS)]
    )
    try:
        bound = signature.bind(*args, **keywords)
    except TypeError as error:
        raise StrategyMisuse(f"strategy {label!r}: {error}") from None
    if "space" in signature.parameters and not isinstance(bound.arguments["space"], SearchSpace):
        raise StrategyMisuse(
            f"strategy {label!r}: the argument space must be an rlnas.SearchSpace, got a "
            f"{type(bound.arguments['space']).__name__}"
        )
    seed = bound.arguments.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**63:
        raise StrategyMisuse(
            f"strategy {label!r}: the argument seed must be a whole number from 0 to 2**63 - 1, "
            f"got {seed!r}"
        )
    rest = next((p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD), None)
    named = {
        name: value
        for name, value in bound.arguments.items()
        if name not in NOT_OPTIONS
        and name != rest
        and signature.parameters[name].default is not inspect.Parameter.empty
    }
    passed_on = dict(bound.arguments.get(rest, {})) if rest else {}
    given = {name: value for name, value in passed_on.items() if name not in NOT_OPTIONS}
    for name, value in check_options(cls, label, {**named, **given}).items():
        if name in named:
            bound.arguments[name] = value
        else:
            passed_on[name] = value
    if rest:
        bound.arguments[rest] = passed_on
    return bound.args[1:], bound.kwargs


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
