"""What a reward model sees of an architecture: its one-hot encoding and features a space declares.

The one-hot encoding (``SearchSpace.one_hot``) is what every space has. Some spaces know more
about their networks than the decisions say: how often each operation occurs, which operation
sequences run from input to output (the path encoding of BANANAS, White et al. AAAI 2021). Such
knowledge enters as *extra feature functions* ``Architecture -> vector`` reading
``architecture.choices``; ``ArchitectureFeatures`` appends them to the one-hot columns. The
NAS-Bench-Graph ones live in ``controllers/nas_bench_graph_features.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rlnas.space import Architecture, SearchSpace

FeatureFunction = Callable[[Architecture], np.ndarray]
"""Extra features of one architecture: a 1-D vector of the same length for every architecture."""


class ArchitectureFeatures:
    """The feature matrix of a list of architectures: one-hot columns, then each extra function's.

    Also builds features straight from option indices (``from_indices``), the form tree search
    and Q-tables hold, without building an ``Architecture`` when there are no extra functions.
    """

    def __init__(self, space: SearchSpace, extra: Sequence[FeatureFunction] = ()) -> None:
        self.space = space
        self.extra = tuple(extra)
        sizes = [len(choice.options) for choice in space.choices]
        self._offsets = np.cumsum([0, *sizes[:-1]])
        self._one_hot_size = int(sum(sizes))

    def __call__(self, architectures: Sequence[Architecture]) -> np.ndarray:
        """Rows of features, one per architecture."""
        return self.from_indices([self.space.encode(a) for a in architectures], architectures)

    def from_indices(
        self,
        indices: Sequence[Sequence[int]],
        architectures: Sequence[Architecture] | None = None,
    ) -> np.ndarray:
        """Features of the architectures at these option indices (decoded only for extras)."""
        one_hot = np.zeros((len(indices), self._one_hot_size))
        if len(indices):
            rows = np.repeat(np.arange(len(indices)), len(self._offsets))
            one_hot[rows, (np.asarray(indices) + self._offsets).ravel()] = 1.0
        if not self.extra:
            return one_hot
        if architectures is None:
            architectures = [self.space.decode(row) for row in indices]
        columns = [
            np.array([np.asarray(f(a), dtype=float) for a in architectures]).reshape(
                len(architectures), -1
            )
            for f in self.extra
        ]
        return np.hstack([one_hot, *columns])
