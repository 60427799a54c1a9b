"""Synthetic look-up tables shaped like real search spaces, so defaults are not fit to one table.

Families (each instance is built from its own seed, so every process builds the same table):

- ``chain``: ``syn:chain8``, 8 layer-by-layer decisions with 3 options (6,561 architectures); the
  value sums per-decision effects and interactions between neighbouring decisions.
- ``nk``: NK landscapes (Kauffman 1993) of 15 binary decisions (32,768 architectures): each
  decision's contribution depends on itself and K others chosen at random. ``syn:nk15`` has
  K = 3; ``syn:nk15-k0``, ``-k1``, ``-k2`` and ``-k4`` the other K from 0 (additive, one peak)
  to 4 (rugged).
- ``cell``: ``syn:cell-1`` and ``-2``, a NAS-Bench-201-like cell (Dong & Yang, ICLR 2020): 4 nodes,
  6 edges, 5 operations each (15,625 encodings). ``none`` edges can cut the input from the
  output; such a cell scores chance accuracy on validation and test alike. Edges off every
  input-output path are dead, and when nodes 1 and 2 are not linked they can swap: the canonical
  key (``cell_key``) names isomorphic cells once, and they share one table entry.
- ``dominant``: ``syn:dominant-1`` and ``-2``, a chain of 7 decisions with 4 options (16,384) where
  one block's choice matters four times as much as any other's.
- ``noisy``: ``syn:noisy-cell`` and ``syn:noisy-chain``: the search signal (validation) is noisy,
  the score (test) is clean, so the incumbent chosen by validation can disappoint.

Except in ``noisy``, validation and test are the same true value plus independent noise (a tenth
of the true value's spread; in accuracy points for the cell). ``TUNING`` names the tables the
defaults may be tuned on; every other table is held out.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from functools import cache, partial

import numpy as np

from rlnas.estimators import TabularBenchmark, load_benchmark
from rlnas.space import Choice, SearchSpace

NOISE = 0.1
"""Noise of validation and test, as a share of the true value's standard deviation."""
CELL_EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
CELL_OPS = ("none", "skip", "conv1x1", "conv3x3", "pool")
CHANCE, CEILING = 0.10, 0.95
"""A cell's accuracy: chance (10 classes) when disconnected, never above the ceiling."""
CELL_NOISE = (0.01, 0.005)
"""Validation and test noise of a cell's accuracy (a short training run against a long one)."""
OPERATION_QUALITY = {"none": 0.0, "skip": 0.3, "conv1x1": 0.7, "conv3x3": 1.0, "pool": 0.2}
TUNING = ("nbg:cora", "nbg:citeseer", "syn:chain8", "syn:nk15")
"""The tables the strategies' defaults are tuned on; reports keep the others apart (held out)."""


def _table(
    space: SearchSpace,
    keys: Sequence[str],
    values: np.ndarray,
    rng: np.random.Generator,
    validation_noise: float,
    test_noise: float,
    noisy: np.ndarray | None = None,
    upper: float = np.inf,
) -> dict[str, dict[str, float]]:
    """Rows ``key -> {validation, test}``: the true ``values`` plus noise where ``noisy``, at
    most ``upper``."""
    mask = np.ones(len(values)) if noisy is None else noisy.astype(float)
    validation = values + validation_noise * mask * rng.normal(size=len(values))
    test = values + test_noise * mask * rng.normal(size=len(values))
    validation, test = np.minimum(validation, upper), np.minimum(test, upper)
    return {
        key: {"validation": float(validation[row]), "test": float(test[row])}
        for row, key in enumerate(keys)
    }


def _grid(space: SearchSpace) -> tuple[np.ndarray, list[str]]:
    """Every encoding as option indices, and its key."""
    grid = np.array(list(itertools.product(*(range(len(c.options)) for c in space.choices))))
    return grid, [space.architecture(space.choices_at(row)).key for row in grid]


def _standard(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / values.std()


# --- chains --------------------------------------------------------------------------------------


def chain(
    name: str,
    decisions: int,
    options: int,
    seed: int,
    dominant: bool = False,
    validation_noise: float = NOISE,
    test_noise: float = NOISE,
) -> TabularBenchmark:
    """A chain of decisions: per-decision effects plus neighbour interactions; with
    ``dominant``, one decision (drawn from the seed) has four times the effect of the others."""
    labels = "abcdefgh"[:options]
    space = SearchSpace([Choice(f"layer{i}", list(labels)) for i in range(decisions)], name=name)
    rng = np.random.default_rng(seed)
    single = rng.normal(size=(decisions, options))
    pair = rng.normal(size=(decisions - 1, options, options))
    if dominant:
        single[rng.integers(decisions)] *= 4.0
    grid, keys = _grid(space)
    values = single[np.arange(decisions), grid].sum(axis=1)
    values += sum(pair[i, grid[:, i], grid[:, i + 1]] for i in range(decisions - 1))
    table = _table(space, keys, _standard(values), rng, validation_noise, test_noise)
    return TabularBenchmark(name, space, table)


# --- NK landscapes -------------------------------------------------------------------------------


def nk_values(n: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every bit string of length ``n`` and its NK fitness (mean of the n contributions)."""
    partners = [
        rng.choice(np.array([j for j in range(n) if j != i]), size=k, replace=False)
        for i in range(n)
    ]
    contributions = rng.random((n, 2 ** (k + 1)))
    grid = np.array(list(itertools.product(range(2), repeat=n)))
    values = np.zeros(len(grid))
    for i in range(n):
        bits = np.column_stack([grid[:, i], grid[:, partners[i]]])
        values += contributions[i, bits @ (2 ** np.arange(k + 1))]
    return grid, values / n


def nk(name: str, n: int, k: int, seed: int) -> TabularBenchmark:
    space = SearchSpace([Choice(f"bit{i}", [0, 1]) for i in range(n)], name=name)
    rng = np.random.default_rng(seed)
    grid, values = nk_values(n, k, rng)
    keys = [space.architecture(space.choices_at(row)).key for row in grid]
    return TabularBenchmark(name, space, _table(space, keys, _standard(values), rng, NOISE, NOISE))


# --- cells ---------------------------------------------------------------------------------------


def live_edges(operations: Sequence[str]) -> tuple[str, ...]:
    """The cell's operations with every edge off all input-to-output paths set to ``none``."""
    reached, reaching = {0}, {3}
    for node in (1, 2, 3):
        if any(
            i in reached and op != "none" for (i, j), op in zip(CELL_EDGES, operations) if j == node
        ):
            reached.add(node)
    for node in (2, 1, 0):
        if any(
            j in reaching and op != "none"
            for (i, j), op in zip(CELL_EDGES, operations)
            if i == node
        ):
            reaching.add(node)
    return tuple(
        op if i in reached and j in reaching else "none"
        for (i, j), op in zip(CELL_EDGES, operations)
    )


def cell_canonical(operations: Sequence[str]) -> tuple[str, ...]:
    """One representative of the cell's isomorphism class: dead edges pruned and, when no edge
    links nodes 1 and 2, the smaller of the cell and the cell with those nodes swapped."""
    live = live_edges(operations)
    if live[2] != "none":
        return live
    swapped = (live[1], live[0], "none", live[3], live[5], live[4])
    return min(live, swapped)


def cell_key(choices: Mapping[str, object]) -> str:
    return "|".join(cell_canonical([str(choices[f"edge{i}{j}"]) for i, j in CELL_EDGES]))


def cell_space(name: str) -> SearchSpace:
    decisions = [Choice(f"edge{i}{j}", list(CELL_OPS)) for i, j in CELL_EDGES]
    return SearchSpace(decisions, canonical_key=cell_key, name=name)


def cell_accuracy(seed: int) -> Callable[[tuple[str, ...]], float | None]:
    """The true accuracy of a canonical cell (None if disconnected), before scaling.

    Each live edge adds its operation's quality (a prior shared by all seeds, plus the seed's
    deviation per edge); two live edges in a row along a path add an interaction; a cell without
    a convolution on any live edge loses 1.5 (a pooling or skip-only network learns little).
    """
    rng = np.random.default_rng(seed)
    prior = np.array([OPERATION_QUALITY[op] for op in CELL_OPS])
    edge = prior + 0.3 * rng.normal(size=(len(CELL_EDGES), len(CELL_OPS)))
    pair = 0.3 * rng.normal(size=(len(CELL_EDGES), len(CELL_OPS), len(CELL_EDGES), len(CELL_OPS)))
    chained = [
        (a, b)
        for a, (_, into) in enumerate(CELL_EDGES)
        for b, (out, _) in enumerate(CELL_EDGES)
        if into == out
    ]

    def score(cell: tuple[str, ...]) -> float | None:
        ops = [CELL_OPS.index(op) for op in cell]
        if not any(ops):
            return None
        total = sum(edge[e, o] for e, o in enumerate(ops) if o)
        total += sum(pair[a, ops[a], b, ops[b]] for a, b in chained if ops[a] and ops[b])
        if not {"conv1x1", "conv3x3"} & set(cell):
            total -= 1.5
        return float(total)

    return score


def cell(
    name: str, seed: int, validation_noise: float = CELL_NOISE[0], test_noise: float = CELL_NOISE[1]
) -> TabularBenchmark:
    space = cell_space(name)
    score = cell_accuracy(seed)
    cells = sorted({cell_canonical(ops) for ops in itertools.product(CELL_OPS, repeat=6)})
    scores = [score(c) for c in cells]
    connected = np.array([s is not None for s in scores])
    raw = np.array([0.0 if s is None else s for s in scores])
    z = (raw - raw[connected].mean()) / raw[connected].std()
    accuracy = np.where(
        connected, CHANCE + (CEILING - CHANCE) / (1 + np.exp(-(1.5 * z + 2))), CHANCE
    )
    keys = ["|".join(c) for c in cells]
    rng = np.random.default_rng(seed + 1)
    table = _table(
        space, keys, accuracy, rng, validation_noise, test_noise, noisy=connected, upper=1.0
    )
    return TabularBenchmark(name, space, table)


# --- the families --------------------------------------------------------------------------------

TABLES: dict[str, Callable[[], TabularBenchmark]] = {
    "syn:chain8": partial(chain, "syn:chain8", 8, 3, seed=8),
    "syn:nk15": partial(nk, "syn:nk15", 15, 3, seed=15),
    **{f"syn:nk15-k{k}": partial(nk, f"syn:nk15-k{k}", 15, k, seed=150 + k) for k in (0, 1, 2, 4)},
    **{f"syn:cell-{i}": partial(cell, f"syn:cell-{i}", seed=200 + 10 * i) for i in (1, 2)},
    **{
        f"syn:dominant-{i}": partial(chain, f"syn:dominant-{i}", 7, 4, 300 + i, dominant=True)
        for i in (1, 2)
    },
    "syn:noisy-cell": partial(cell, "syn:noisy-cell", 401, validation_noise=0.03, test_noise=0.0),
    "syn:noisy-chain": partial(
        chain, "syn:noisy-chain", 8, 3, 402, validation_noise=0.5, test_noise=0.0
    ),
}
SYNTHETIC = tuple(TABLES)
FAMILIES = {
    family: tuple(name for name in SYNTHETIC if name.startswith(f"syn:{family}"))
    for family in ("chain", "nk", "cell", "dominant", "noisy")
}


@cache
def load(name: str) -> TabularBenchmark:
    """A NAS-Bench-Graph benchmark (``nbg:<dataset>``) or one of ``SYNTHETIC``."""
    if name in TABLES:
        return TABLES[name]()
    return load_benchmark(name)
