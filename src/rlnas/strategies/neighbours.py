"""The nearest architectures not taken yet: where a converged policy goes instead of repeating.

A policy that has converged keeps drawing its mode, and a repeat teaches it nothing and costs
the user wall time. ``new_neighbour`` returns an architecture one decision away from the given
one (two, three, ... if every closer one is taken) that is not in ``taken``: a new architecture
as near the mode as the space allows.
"""

from __future__ import annotations

from collections.abc import Container

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
