"""Shared by the reward model tests: architectures with a known additive reward."""

from __future__ import annotations

import numpy as np

from rlnas.space import Choice, SearchSpace


def additive_problem(seed: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot encodings of random architectures of 6 decisions x 4 options, additive reward."""
    space = SearchSpace([Choice(f"x{i}", [0, 1, 2, 3]) for i in range(6)])
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(6, 4))
    architectures = [space.sample(rng) for _ in range(count)]
    features = np.stack([space.one_hot(a) for a in architectures])
    targets = np.array(
        [sum(weights[i, a.choices[f"x{i}"]] for i in range(6)) for a in architectures]
    )
    return features, targets
