"""The nearest architectures not taken yet: where a converged policy goes instead of repeating.

A policy that has converged keeps drawing its mode, and a repeat teaches it nothing and costs
the user wall time. ``new_neighbour`` returns an architecture one decision away from the given
one (two, three, ... if every closer one is taken) that is not in ``taken``: a new architecture
as near the mode as the space allows.

The planners (``mpc``, ``dp``) work on rows of option indices instead: ``mutations`` and
``all_neighbours`` make candidate rows near the best architectures, and ``OpenOptions`` says
which rows the space's ``allowed`` and rules leave open (and repairs the others).
"""

from __future__ import annotations

from collections.abc import Container, Sequence

import numpy as np

from rlnas.errors import InvalidArchitecture
from rlnas.space import Architecture, SearchSpace

Decoded = dict[tuple[int, ...], Architecture | None]
"""A cache of ``SearchSpace.decode`` (None: invalid) that a caller may keep between calls: a
converged policy asks for the neighbours of the same few walks again and again."""


def neighbours(
    space: SearchSpace,
    architecture: Architecture,
    rng: np.random.Generator,
    decoded: Decoded | None = None,
):
    """Every valid architecture one decision away, in random order."""
    decoded = {} if decoded is None else decoded
    if len(decoded) > 100_000:  # bound the memory a long search could take
        decoded.clear()
    indices = space.encode(architecture)
    changes = [
        (position, option)
        for position, choice in enumerate(space.choices)
        for option in range(len(choice.options))
        if option != indices[position]
    ]
    for change in rng.permutation(len(changes)):
        position, option = changes[int(change)]
        changed = list(indices)
        changed[position] = option
        key = tuple(changed)
        if key not in decoded:
            try:
                decoded[key] = space.decode(changed)
            except InvalidArchitecture:
                decoded[key] = None
        if decoded[key] is not None:
            yield decoded[key]


def new_neighbour(
    space: SearchSpace,
    architecture: Architecture,
    taken: Container[str],
    rng: np.random.Generator,
    max_distance: int = 3,
    decoded: Decoded | None = None,
) -> Architecture | None:
    """A random architecture not in ``taken`` (keys) as few decisions away as possible.

    Searches distance 1 exhaustively, then steps through a random taken neighbour, up to
    ``max_distance``; None if nothing new was found.
    """
    current = architecture
    for _ in range(max_distance):
        step = None
        for candidate in neighbours(space, current, rng, decoded):
            if candidate.key not in taken:
                return candidate
            step = step or candidate
        if step is None:
            return None
        current = step
    return None


class OpenOptions:
    """Which options the space leaves open after each prefix of option indices (cached).

    The planners score candidates as rows of option indices; this says which rows are
    architectures of the space (``allowed`` and the rules, through ``SearchSpace.open_mask``)
    without building one, and walks the open options for samplers that honour the masks.
    """

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self.sizes = np.array([len(choice.options) for choice in space.choices])
        self._masks: dict[tuple[int, ...], np.ndarray] = {}
        self._radix = np.cumprod([1, *self.sizes[:-1]]).astype(np.int64)
        self._valid: dict[int, bool] = {}  # a row's validity by its mixed-radix code
        # no allowed and no rule: every row of option indices is an architecture
        self.free = not space.rules and all(choice.allowed is None for choice in space.choices)

    def mask(self, prefix: tuple[int, ...]) -> np.ndarray:
        """Boolean mask over decision ``len(prefix)``'s options: True where open."""
        found = self._masks.get(prefix)
        if found is None:
            if len(self._masks) > 200_000:  # bound the memory a huge space could take
                self._masks.clear()
            found = self._masks[prefix] = self.space.open_mask(self.space.choices_at(prefix))
        return found

    def valid(self, row: Sequence[int]) -> bool:
        """Whether the option indices ``row`` make an architecture of the space."""
        if self.free:
            return True
        row = tuple(int(i) for i in row)
        return all(self.mask(row[:position])[row[position]] for position in range(len(row)))

    def repair(self, row: Sequence[int], rng: np.random.Generator) -> tuple[int, ...] | None:
        """``row`` with each closed option replaced by a random open one, decision by decision
        (None at a dead end): how an unconstrained sample or mutation becomes an architecture."""
        if self.free:
            return tuple(int(i) for i in row)
        fixed: tuple[int, ...] = ()
        for index in row:
            mask = self.mask(fixed)
            if not mask[index]:
                open_ = np.flatnonzero(mask)
                if not len(open_):
                    return None
                index = open_[int(rng.integers(len(open_)))]
            fixed = (*fixed, int(index))
        return fixed

    def repair_all(self, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The rows that ``repair`` makes architectures of (dead ends dropped)."""
        rows = np.asarray(rows, dtype=int)
        if self.free:
            return rows
        if len(self._valid) > 1_000_000:  # bound the memory a huge space could take
            self._valid.clear()
        fixed = []
        for row, code in zip(rows, (rows @ self._radix).tolist()):
            valid = self._valid.get(code)
            if valid is None:
                valid = self._valid[code] = self.valid(row)
            if valid:
                fixed.append(row)
            elif (found := self.repair(row, rng)) is not None:
                fixed.append(np.array(found))
        return np.array(fixed, dtype=int).reshape(-1, len(self.sizes))


def mutations(
    rows: np.ndarray, sizes: np.ndarray, changes: int, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` copies of random ``rows`` with ``changes`` random decisions set to another
    option each (option indices; not checked against the space's rules)."""
    rows = np.asarray(rows, dtype=int)
    chosen = rows[rng.integers(len(rows), size=count)].copy()
    for _ in range(changes):
        positions = rng.integers(len(sizes), size=count)
        shift = 1 + (rng.random(count) * (sizes[positions] - 1)).astype(int)
        chosen[np.arange(count), positions] = (chosen[np.arange(count), positions] + shift) % sizes[
            positions
        ]
    return chosen


def all_neighbours(row: Sequence[int], sizes: np.ndarray) -> np.ndarray:
    """Every row one decision away from ``row`` (option indices; rules not checked)."""
    found = []
    for position, size in enumerate(sizes):
        for option in range(int(size)):
            if option != row[position]:
                changed = list(row)
                changed[position] = option
                found.append(changed)
    return np.array(found, dtype=int).reshape(-1, len(sizes))
