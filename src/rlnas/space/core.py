"""Search spaces: ordered categorical decisions, the rules that bind them, their architectures.

A space is a sequence of decisions made in order. A decision may narrow its options from the
choices made before it (``allowed``), and rules reject whole combinations. Both are checked while
an architecture is built one decision at a time, so samplers and controllers can mask what is
forbidden instead of proposing it and being refused.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from rlnas.errors import InvalidArchitecture, UserError

Option = str | int | float | bool
"""An option is a JSON scalar so that every architecture round-trips through JSON unchanged."""

Choices = Mapping[str, Option]


@dataclass(frozen=True)
class Choice:
    """One categorical decision.

    ``allowed`` receives the choices made so far (all earlier decisions) and returns the subset of
    ``options`` open to this decision, e.g. "the input of node k is one of the nodes before it".
    """

    name: str
    options: Sequence[Option]
    allowed: Callable[[Choices], Iterable[Option]] | None = None

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise UserError("a Choice needs a non-empty string name")
        if isinstance(self.options, str | bytes) or not isinstance(self.options, Iterable):
            raise UserError(
                f"decision {self.name!r}: options must be a list, got {self.options!r}; "
                f"write [{self.options!r}] for one option"
            )
        object.__setattr__(self, "options", tuple(_plain(option) for option in self.options))
        if not tuple(self.options):
            raise UserError(f"decision {self.name!r} has no options")
        for option in self.options:
            if not isinstance(option, str | int | float | bool):
                raise UserError(
                    f"decision {self.name!r}: option {option!r} is not a str, int, float or bool"
                )
            if isinstance(option, float) and not math.isfinite(option):
                raise UserError(
                    f"decision {self.name!r}: option {option!r} is not finite (JSON cannot hold it)"
                )
        # subclasses (numpy.float64, a str enum) become the plain type that JSON gives back
        options = tuple(_plain(option) for option in self.options)
        object.__setattr__(self, "options", options)
        if len(set(map(_typed, options))) != len(options):
            raise UserError(f"decision {self.name!r} lists an option twice")

    def open_options(self, earlier: Choices) -> tuple[Option, ...]:
        """The options this decision may take after ``earlier`` choices, in declaration order."""
        if self.allowed is None:
            return self.options
        permitted = {_typed(_plain(option)) for option in self.allowed(earlier)}
        return tuple(option for option in self.options if _typed(option) in permitted)


@dataclass(frozen=True)
class Rule:
    """A constraint on whole combinations of decisions, with the message shown when it fails.

    ``needs`` names the decisions the predicate reads; it is checked as soon as they are all made,
    which lets a sampler mask an option that would break it. Empty ``needs`` means every decision.
    """

    check: Callable[[Choices], bool]
    message: str
    needs: Sequence[str] = ()


@dataclass(frozen=True)
class Growth:
    """How a space grows one step at a time, for progressive search (``rlnas.space.growth``).

    ``steps`` groups the decisions, in decision order, into what one growth step adds (a chain
    layer's operation, width and skip; a cell edge's operation). ``fill`` is the option every
    decision takes while its step is not made yet, so that a partial network is a whole
    architecture of the space (an identity layer, a 'none' edge).
    """

    steps: Sequence[Sequence[str]]
    fill: Mapping[str, Option]

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(tuple(step) for step in self.steps))
        object.__setattr__(self, "fill", MappingProxyType(dict(self.fill)))


@dataclass(frozen=True, eq=False)
class Architecture:
    """An immutable, validated point of a search space.

    ``key`` is canonical: two encodings of the same network (where the space defines an
    isomorphism) share it, so caches and look-up tables use the key, not the choices.
    """

    choices: Mapping[str, Option]
    key: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", MappingProxyType(dict(self.choices)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Architecture) and tuple(self.choices.items()) == tuple(
            other.choices.items()
        )

    def __hash__(self) -> int:
        return hash(tuple(self.choices.items()))

    def __repr__(self) -> str:
        return f"Architecture({dict(self.choices)!r})"

    def __reduce__(self) -> tuple[type[Architecture], tuple[dict[str, Option], str]]:
        """Pickle as plain data (the read-only view is not picklable), for worker processes."""
        return (Architecture, (dict(self.choices), self.key))

    def to_json(self) -> str:
        """The choices as a JSON object, in decision order."""
        return json.dumps(dict(self.choices))


FeatureFunction = Callable[[Choices], np.ndarray]
"""Extra features of one architecture for a reward model, from its choices: a 1-D vector of the
same length for every architecture. Choices, not an ``Architecture``: a tree search values
thousands of leaves it holds as option indices, and validating each as an architecture would
cost more than the prediction; an episode's walk holds the same decisions and reads the same."""


@dataclass(frozen=True, eq=False)
class SearchSpace:
    """An ordered list of decisions, the rules that bind them, and an optional canonical key.

    ``canonical_key`` maps complete choices to a string shared by isomorphic encodings; without it
    the key is the JSON list of the chosen options. ``features``: what the space knows of its
    networks beyond the decisions (operation counts, path encodings), which every reward model
    appends to the one-hot encoding (``rlnas.controllers.features``).
    """

    choices: Sequence[Choice]
    rules: Sequence[Rule] = ()
    canonical_key: Callable[[Choices], str] | None = None
    name: str = "custom"
    growth: Growth | None = None
    features: Sequence[FeatureFunction] = ()
    _index: dict[str, int] = field(init=False, repr=False)
    _rules_after: dict[int, tuple[Rule, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        choices = tuple(self.choices)
        object.__setattr__(self, "choices", choices)
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "features", tuple(self.features))
        if not choices:
            raise UserError("a search space needs at least one Choice")
        index = {choice.name: position for position, choice in enumerate(choices)}
        if len(index) != len(choices):
            raise UserError("two decisions of the search space share a name")
        object.__setattr__(self, "_index", index)
        rules_after: dict[int, list[Rule]] = {}
        for rule in self.rules:
            needs = rule.needs or tuple(index)
            unknown = [name for name in needs if name not in index]
            if unknown:
                raise UserError(f"rule {rule.message!r} needs unknown decision(s) {unknown}")
            last = max(index[name] for name in needs)
            rules_after.setdefault(last, []).append(rule)
        object.__setattr__(self, "_rules_after", {k: tuple(v) for k, v in rules_after.items()})
        if self.growth is not None:
            self._check_growth(self.growth)

    def _check_growth(self, growth: Growth) -> None:
        if [name for step in growth.steps for name in step] != list(self.names):
            raise UserError(
                f"space {self.name!r}: growth steps must list every decision once, in order"
            )
        for choice in self.choices:
            if _match_option(choice, growth.fill.get(choice.name)) is None:
                raise UserError(
                    f"space {self.name!r}: growth fills decision {choice.name!r} with "
                    f"{growth.fill.get(choice.name)!r}, not one of its options"
                )

    # --- shape -----------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(choice.name for choice in self.choices)

    def __len__(self) -> int:
        return len(self.choices)

    def size(self) -> int:
        """Number of option combinations, before ``allowed`` and rules (an upper bound)."""
        return int(np.prod([len(choice.options) for choice in self.choices], dtype=object))

    # --- decision by decision --------------------------------------------------------------------
    def open_options(self, earlier: Choices) -> tuple[Option, ...]:
        """Options of the next undecided decision that its ``allowed`` and the rules leave open.

        ``earlier`` must hold exactly the first ``len(earlier)`` decisions.
        """
        position = len(earlier)
        choice = self.choices[position]
        candidates = choice.open_options(earlier)
        rules = self._rules_after.get(position, ())
        if not rules:
            return candidates
        open_ = []
        for option in candidates:
            extended = {**earlier, choice.name: option}
            if all(_checked(rule, extended) for rule in rules):
                open_.append(option)
        return tuple(open_)

    def open_mask(self, earlier: Choices) -> np.ndarray:
        """Boolean mask over the next decision's full option list: True where the option is open."""
        choice = self.choices[len(earlier)]
        open_ = {_typed(option) for option in self.open_options(earlier)}
        return np.array([_typed(option) in open_ for option in choice.options], dtype=bool)

    # --- whole architectures ---------------------------------------------------------------------
    def architecture(self, choices: Mapping[str, Any]) -> Architecture:
        """Validate ``choices`` and return the Architecture; the error names the bad decision."""
        if not isinstance(choices, Mapping):
            raise InvalidArchitecture(f"an architecture is a mapping of decisions, got {choices!r}")
        unknown = [name for name in choices if name not in self._index]
        if unknown:
            raise InvalidArchitecture(
                f"unknown decision {unknown[0]!r}; the space has {list(self.names)}"
            )
        made: dict[str, Option] = {}
        for position, choice in enumerate(self.choices):
            if choice.name not in choices:
                raise InvalidArchitecture(f"decision {choice.name!r} is missing")
            value = _match_option(choice, choices[choice.name])
            if value is None:
                raise InvalidArchitecture(
                    f"decision {choice.name!r}: {_plain(choices[choice.name])!r} is not one of "
                    f"{list(choice.options)}"
                )
            if _typed(value) not in {_typed(option) for option in choice.open_options(made)}:
                raise InvalidArchitecture(
                    f"decision {choice.name!r}: {value!r} is not allowed after {made}"
                )
            made[choice.name] = value
            for rule in self._rules_after.get(position, ()):
                if not _checked(rule, made):
                    raise InvalidArchitecture(f"decision {choice.name!r}: {rule.message}")
        return Architecture(made, self._key(made))

    def from_json(self, text: str) -> Architecture:
        """Rebuild an architecture from ``Architecture.to_json`` output, validating it."""
        try:
            choices = json.loads(text)
        except json.JSONDecodeError as error:
            raise InvalidArchitecture(f"architecture JSON is malformed: {error}") from None
        return self.architecture(choices)

    def encode(self, architecture: Architecture) -> list[int]:
        """Index of each chosen option within its decision's full option list."""
        return [_option_index(choice, architecture.choices[choice.name]) for choice in self.choices]

    def choices_at(self, indices: Sequence[int]) -> dict[str, Option]:
        """The options at these indices, decision by decision; a prefix gives the earlier
        decisions. Not validated: for code that holds option indices (trees, tables, policies)."""
        return {choice.name: choice.options[int(i)] for choice, i in zip(self.choices, indices)}

    def decode(self, indices: Sequence[int]) -> Architecture:
        """The architecture whose options sit at ``indices``; validated."""
        if len(indices) != len(self.choices):
            raise InvalidArchitecture(
                f"expected {len(self.choices)} option indices, got {len(indices)}"
            )
        for choice, index in zip(self.choices, indices):
            if not 0 <= int(index) < len(choice.options):
                last = len(choice.options) - 1
                raise InvalidArchitecture(
                    f"decision {choice.name!r}: index {index} is outside 0..{last}"
                )
        return self.architecture(self.choices_at(indices))

    def one_hot(self, architecture: Architecture) -> np.ndarray:
        """Concatenated one-hot vectors of the choices: the default feature vector of predictors."""
        parts = []
        for choice, index in zip(self.choices, self.encode(architecture)):
            part = np.zeros(len(choice.options))
            part[index] = 1.0
            parts.append(part)
        return np.concatenate(parts)

    def sample(self, rng: np.random.Generator, max_tries: int = 100) -> Architecture:
        """A random valid architecture: each decision uniform over its open options, in order."""
        for _ in range(max_tries):
            made: dict[str, Option] = {}
            for choice in self.choices:
                open_ = self.open_options(made)
                if not open_:
                    break
                made[choice.name] = open_[int(rng.integers(len(open_)))]
            else:
                return Architecture(made, self._key(made))
        raise UserError(
            f"could not sample a valid architecture of space {self.name!r} in {max_tries} tries: "
            "its rules leave (almost) nothing open"
        )

    def _key(self, choices: Choices) -> str:
        if self.canonical_key is not None:
            return str(self.canonical_key(choices))
        return json.dumps([choices[name] for name in self.names], separators=(",", ":"))


def _plain(option: Any) -> Any:
    """The plain Python value of an option (numpy's scalars included), else it unchanged."""
    for kind in (bool, int, float, str):
        if isinstance(option, kind):
            return kind(option)
    if isinstance(option, np.bool_):
        return bool(option)
    if isinstance(option, numbers.Integral):
        return int(option)
    if isinstance(option, numbers.Real):
        return float(option)
    return option


def _checked(rule: Rule, choices: Choices) -> bool:
    """The rule's verdict; a check that raises is the space's mistake, named as such."""
    try:
        return bool(rule.check(choices))
    except Exception as error:
        raise UserError(
            f"rule {rule.message!r} raised {type(error).__name__}: {error} on {dict(choices)}; "
            "its check must return True or False for every combination of the decisions it "
            "names in needs"
        ) from None


def _typed(option: Option) -> tuple[str, Option]:
    """Options compared with their type, so that 1, 1.0 and True stay distinct."""
    for kind in (bool, int, float, str):
        if isinstance(option, kind):
            return (kind.__name__, option)
    return (type(option).__name__, option)


def _match_option(choice: Choice, value: Any) -> Option | None:
    value = _plain(value)
    for option in choice.options:
        if _typed(option) == _typed(value):
            return option
    return None


def _option_index(choice: Choice, value: Option) -> int:
    value = _plain(value)
    for index, option in enumerate(choice.options):
        if _typed(option) == _typed(value):
            return index
    raise InvalidArchitecture(f"decision {choice.name!r}: {value!r} is not an option")
