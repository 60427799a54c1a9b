"""Synthetic look-up tables of known structure, so that defaults are not fit to NAS-Bench-Graph.

- ``syn:chain8``: a chain of 8 decisions with 3 options each (6,561 architectures); the value is
  a sum of per-decision effects and of interactions between neighbouring decisions (a chain
  model: what a layer-by-layer space looks like).
- ``syn:nk15``: 15 binary decisions (32,768 architectures) on an NK landscape (Kauffman 1993,
  K = 3): each decision's contribution depends on itself and 3 others chosen at random, so
  decisions interact and the landscape is rugged.

Both are seeded, so every process builds the same table. Validation and test values are the
same true value plus independent noise (the true value's spread is 1, the noise's 0.1), so the
incumbent chosen by validation can disappoint on test, as on a real benchmark.
"""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np

from rlnas.estimators import TabularBenchmark, load_benchmark
from rlnas.space import Choice, SearchSpace

SYNTHETIC = ("syn:chain8", "syn:nk15")
NOISE = 0.1


def _table(space: SearchSpace, values: np.ndarray, rng: np.random.Generator) -> dict:
    values = (values - values.mean()) / values.std()
    validation = values + NOISE * rng.normal(size=len(values))
    test = values + NOISE * rng.normal(size=len(values))
    table = {}
    for row, indices in enumerate(
        itertools.product(*(range(len(c.options)) for c in space.choices))
    ):
        key = space.decode(indices).key
        table[key] = {"validation": float(validation[row]), "test": float(test[row])}
    return table


def chain8() -> TabularBenchmark:
    space = SearchSpace([Choice(f"layer{i}", ["a", "b", "c"]) for i in range(8)], name="chain8")
    rng = np.random.default_rng(8)
    single = rng.normal(size=(8, 3))
    pair = rng.normal(size=(7, 3, 3))
    grid = np.array(list(itertools.product(range(3), repeat=8)))
    values = single[np.arange(8), grid].sum(axis=1)
    values += sum(pair[i, grid[:, i], grid[:, i + 1]] for i in range(7))
    return TabularBenchmark("syn:chain8", space, _table(space, values, rng))


def nk15(k: int = 3) -> TabularBenchmark:
    n = 15
    space = SearchSpace([Choice(f"bit{i}", [0, 1]) for i in range(n)], name="nk15")
    rng = np.random.default_rng(15)
    partners = [
        rng.choice([j for j in range(n) if j != i], size=k, replace=False) for i in range(n)
    ]
    contributions = rng.random((n, 2 ** (k + 1)))
    grid = np.array(list(itertools.product(range(2), repeat=n)))
    values = np.zeros(len(grid))
    for i in range(n):
        bits = np.column_stack([grid[:, i], grid[:, partners[i]]])
        index = bits @ (2 ** np.arange(k + 1))
        values += contributions[i, index]
    return TabularBenchmark("syn:nk15", space, _table(space, values / n, rng))


@cache
def load(name: str) -> TabularBenchmark:
    """A NAS-Bench-Graph benchmark (``nbg:<dataset>``) or one of ``SYNTHETIC``."""
    if name == "syn:chain8":
        return chain8()
    if name == "syn:nk15":
        return nk15()
    return load_benchmark(name)
