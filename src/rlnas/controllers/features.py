"""What a reward model sees of an architecture: its one-hot encoding and features a space declares.

The one-hot encoding (``SearchSpace.one_hot``) is what every space has. Some spaces know more
about their networks than the decisions say: how often each operation occurs, which operation
sequences run from input to output (the path encoding of BANANAS, White et al. AAAI 2021). Such
knowledge enters as *extra feature functions* ``choices -> vector``, which a space declares
(``SearchSpace.features``); ``ArchitectureFeatures`` appends them to the one-hot columns.
Every model-based strategy and the predictor screening build their features here, so a
space's declaration reaches all of them.
The NAS-Bench-Graph ones live in ``space/nas_bench_graph_features.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rlnas.space import Architecture, Choices, SearchSpace
from rlnas.space.core import FeatureFunction


class ArchitectureFeatures:
    """The feature matrix of a list of architectures: one-hot columns, then each extra function's.

    Also builds features straight from option indices (``from_indices``), the form tree search
    and Q-tables hold, without building (and validating) an ``Architecture``.
    ``extra``: the extra functions; None takes the ones the space declares.
    """

    def __init__(self, space: SearchSpace, extra: Sequence[FeatureFunction] | None = None) -> None:
        self.space = space
        self.extra = tuple(space.features if extra is None else extra)
        sizes = [len(choice.options) for choice in space.choices]
        self._offsets = np.cumsum([0, *sizes[:-1]])
        self._one_hot_size = int(sum(sizes))

    def __call__(self, architectures: Sequence[Architecture]) -> np.ndarray:
        """Rows of features, one per architecture."""
        encoded = [self.space.encode(a) for a in architectures]
        return self.from_indices(encoded, [a.choices for a in architectures])

    def from_indices(
        self,
        indices: Sequence[Sequence[int]],
        choices: Sequence[Choices] | None = None,
    ) -> np.ndarray:
        """Features of the architectures at these option indices (and these ``choices``)."""
        one_hot = np.zeros((len(indices), self._one_hot_size))
        if len(indices):
            rows = np.repeat(np.arange(len(indices)), len(self._offsets))
            one_hot[rows, (np.asarray(indices) + self._offsets).ravel()] = 1.0
        if not self.extra:
            return one_hot
        if choices is None:
            choices = [self.space.choices_at(row) for row in indices]
        columns = [
            np.array([np.asarray(f(c), dtype=float) for c in choices]).reshape(len(choices), -1)
            for f in self.extra
        ]
        return np.hstack([one_hot, *columns])
