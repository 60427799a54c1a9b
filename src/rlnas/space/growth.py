"""Progressive growth of a space: the episode of decisions that builds a network step by step.

A space that declares its ``Growth`` can be searched progressively, the way MetaQNN (Baker et
al., ICLR 2017) built networks layer by layer: an episode starts from nothing, each growth step
makes one group of decisions, and after every step the network so far (undecided steps filled,
``partial``) is evaluated. ``episode_space`` casts such an episode as an ordinary
``SearchSpace``: the space's own decisions with a ``stop`` decision after each step but the last.
Once ``stop`` is chosen, every later decision has its fill as the only option, so the controllers
that walk a space decision by decision (LSTM policy, Q-table, tree search) drive episodes
unchanged, masks included. ``stop`` is open only where the network so far is valid; a step
whose partial network is invalid (a chain of pools with no convolution yet) is not evaluated,
and the episode grows on.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlnas.errors import InvalidArchitecture, UserError
from rlnas.space.core import Architecture, Choice, Choices, Growth, Option, Rule, SearchSpace

STOP = "stop@"
"""Prefix of the stop decisions of an episode space: ``stop@0`` follows the first step."""


def growth_of(space: SearchSpace) -> Growth:
    """The space's growth, or a UserError that says progressive search needs one."""
    if space.growth is None:
        raise UserError(
            f"space {space.name!r} does not declare how it grows (SearchSpace(growth=...)), so "
            "it cannot be searched progressively; use mode='one-shot'"
        )
    return space.growth


def partial(space: SearchSpace, made: Choices) -> Architecture | None:
    """The network that the decisions ``made`` grow (the rest at their fill); None if invalid."""
    growth = growth_of(space)
    filled = {name: made.get(name, growth.fill[name]) for name in space.names}
    try:
        return space.architecture(filled)
    except InvalidArchitecture:
        return None


def episode_space(space: SearchSpace) -> SearchSpace:
    """The decisions of one progressive episode over ``space``: its own, and a stop per step."""
    growth = growth_of(space)
    decisions: list[Choice] = []
    for number, step in enumerate(growth.steps):
        for name in step:
            decisions.append(_after_stop(space.choices[space.names.index(name)], growth))
        if number < len(growth.steps) - 1:
            decisions.append(Choice(f"{STOP}{number}", (False, True), _stop_allowed(space)))
    rules = [
        Rule(lambda c, r=rule: r.check(_own(c)), rule.message, rule.needs or space.names)
        for rule in space.rules
    ]
    return SearchSpace(decisions, rules, name=f"{space.name}:episodes", features=space.features)


@dataclass(frozen=True)
class Point:
    """One evaluation along an episode: after decision ``index`` the network is ``architecture``."""

    index: int
    architecture: Architecture


def points(space: SearchSpace, walk: Architecture) -> tuple[list[Point], int]:
    """The evaluations along the episode ``walk`` (an ``episode_space`` architecture), and the
    number of decisions it chose: through its stop, or all of them."""
    names = list(walk.choices)
    found: list[Point] = []
    made: dict[str, Option] = {}
    for index, name in enumerate(names):
        if name.startswith(STOP):
            if walk.choices[name]:
                return found, index + 1
            continue
        made[name] = walk.choices[name]
        ends_step = index + 1 == len(names) or names[index + 1].startswith(STOP)
        architecture = partial(space, made) if ends_step else None
        if architecture is not None:
            found.append(Point(index, architecture))
    return found, len(names)


def _own(choices: Choices) -> dict[str, Option]:
    return {name: option for name, option in choices.items() if not name.startswith(STOP)}


def _stopped(earlier: Choices) -> bool:
    return any(option for name, option in earlier.items() if name.startswith(STOP))


def _after_stop(choice: Choice, growth: Growth) -> Choice:
    """``choice`` with its fill as the only option once the episode has stopped."""
    fill = growth.fill[choice.name]

    def allowed(earlier: Choices) -> tuple[Option, ...]:
        return (fill,) if _stopped(earlier) else choice.open_options(_own(earlier))

    return Choice(choice.name, choice.options, allowed)


def _stop_allowed(space: SearchSpace):
    """Stop is forced after a stop, open where the network so far is valid, closed elsewhere."""

    def allowed(earlier: Choices) -> tuple[bool, ...]:
        if _stopped(earlier):
            return (True,)
        return (False, True) if partial(space, _own(earlier)) is not None else (False,)

    return allowed
