"""A Bayesian reward model that factorises along the decisions: a term per decision and per pair.

The reward of an architecture with option indices ``o`` is modelled as
``sum_i u_i[o_i] + sum_{(i, j) in pairs} p_ij[o_i, o_j] + noise``: Bayesian linear regression on
one-hot indicators of each decision's option and of each pair's two options (``pairs``: the
adjacent decisions of the sequence, or all pairs). The weights have Gaussian priors (one
variance for the per-decision terms, one for the pair terms) and the noise is Gaussian, so the
posterior is Gaussian and can be sampled (Thompson sampling; Russo et al., "A tutorial on
Thompson sampling", 2018). A sample is handed out as *tables* (``Tables``): what dynamic
programming over the decisions needs, and a candidate's value is a few table look-ups.

The regression is solved in its dual form, as a Gaussian process whose kernel counts the
decisions (and pairs) on which two architectures agree: its cost grows with the points (at most
``max_points``, the most recent), not with the number of indicator columns, which all-pairs
tables make large. A weight sample is drawn by Matheron's rule (prior sample, corrected by the
data; Wilson et al., ICML 2020). The prior variances and the noise are chosen by the evidence
(marginal likelihood) over a small grid, once the points have grown by a quarter; the quality
gate reads the Kendall tau of the leave-one-out predictions, which a GP gives in closed form.
Its matrices are small (a few hundred rows), where BLAS threads cost more than they save on a
shared machine: the algebra runs on one thread (threadpoolctl, which scikit-learn requires).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations, product
from typing import Any, Literal

import numpy as np
from scipy.linalg import cholesky, solve_triangular

Pairs = Literal["adjacent", "all"]
SIGNAL = (0.5, 0.75, 0.9, 0.97)
"""Grid of the share of the (standardised) reward's variance that the model explains."""
PAIR_SHARE = (0.0, 0.25, 0.5, 0.75)
"""Grid of the share of that signal that the pair terms carry."""


@cache
def _blas() -> Any:
    """threadpoolctl's controller, built once (building it inspects the loaded libraries)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_thread() -> Any:
    """A context in which BLAS runs on one thread."""
    return _blas().limit(limits=1, user_api="blas")


@dataclass(frozen=True)
class Tables:
    """One set of weights: ``unary[i][o]`` and ``pair[k][o_i, o_j]`` for ``pairs[k] = (i, j)``,
    on the reward's own scale (``offset`` included in the first decision's table)."""

    unary: tuple[np.ndarray, ...]
    pair: tuple[np.ndarray, ...]
    pairs: tuple[tuple[int, int], ...]

    def score(self, indices: np.ndarray) -> np.ndarray:
        """The value of each row of option indices, shape (rows, decisions)."""
        indices = np.asarray(indices, dtype=int).reshape(-1, len(self.unary))
        total = np.zeros(len(indices))
        for i, table in enumerate(self.unary):
            total += table[indices[:, i]]
        for (i, j), table in zip(self.pairs, self.pair):
            total += table[indices[:, i], indices[:, j]]
        return total


class PairwiseModel:
    """Bayesian linear regression on per-decision and pairwise option indicators."""

    def __init__(self, sizes: Sequence[int], pairs: Pairs = "all", max_points: int = 300) -> None:
        self.sizes = tuple(int(size) for size in sizes)
        count = len(self.sizes)
        self.pair_kind = pairs
        self.pairs = tuple(
            combinations(range(count), 2)
            if pairs == "all"
            else ((i, i + 1) for i in range(count - 1))
        )
        self.max_points = max_points
        self.points = np.zeros((0, count), dtype=int)
        self.targets = np.zeros(0)
        self.signal, self.pair_share = SIGNAL[-1], PAIR_SHARE[1]
        self.selected_on = 0
        self.quality: float | None = None
        self._solved: tuple[np.ndarray, np.ndarray, float, float] | None = None

    @property
    def fitted(self) -> bool:
        return len(self.targets) > 0

    # --- the kernel ------------------------------------------------------------------------------
    def _variances(self, signal: float, pair_share: float) -> tuple[float, float, float]:
        """Prior variance per decision weight, per pair weight, and the noise (standardised)."""
        unary = signal * (1 - pair_share) / len(self.sizes)
        pair = signal * pair_share / len(self.pairs) if self.pairs else 0.0
        return unary, pair, max(1.0 - signal, 1e-3)

    def _agreements(self, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How many decisions, and how many pairs, two rows of option indices share."""
        equal = left[:, None, :] == right[None, :, :]
        decisions = equal.sum(axis=2)
        if self.pair_kind == "all":
            pairs = decisions * (decisions - 1) // 2
        else:
            pairs = (equal[:, :, :-1] & equal[:, :, 1:]).sum(axis=2)
        return decisions.astype(float), pairs.astype(float)

    # --- fitting ---------------------------------------------------------------------------------
    def fit(self, indices: np.ndarray, targets: np.ndarray) -> None:
        """Condition on the (most recent ``max_points``) points; rechoose the grid if due."""
        self.points = np.asarray(indices, dtype=int).reshape(-1, len(self.sizes))[
            -self.max_points :
        ]
        self.targets = np.asarray(targets, dtype=float)[-self.max_points :]
        if len(self.targets) == 0:
            raise ValueError("fit needs at least one evaluated architecture")
        count = len(self.targets)
        if count >= 3 and count >= 1.25 * self.selected_on:
            with _one_thread():
                self._select()
            self.selected_on = count
        self._solved = None

    def _standardised(self) -> tuple[np.ndarray, float, float]:
        mean = float(self.targets.mean())
        scale = float(self.targets.std()) or 1.0
        return (self.targets - mean) / scale, mean, scale

    def _select(self) -> None:
        """The grid point of highest evidence; the leave-one-out Kendall tau there."""
        from scipy.stats import kendalltau

        targets, _, _ = self._standardised()
        decisions, pairs = self._agreements(self.points, self.points)
        best = None
        for signal, share in product(SIGNAL, PAIR_SHARE if self.pairs else (0.0,)):
            unary, pair, noise = self._variances(signal, share)
            gram = unary * decisions + pair * pairs + noise * np.eye(len(targets))
            try:
                lower = cholesky(gram, lower=True, check_finite=False)
            except np.linalg.LinAlgError:
                continue
            solved = solve_triangular(lower, targets, lower=True, check_finite=False)
            evidence = -0.5 * solved @ solved - np.log(np.diag(lower)).sum()
            if best is None or evidence > best[0]:
                best = (evidence, signal, share, lower)
        if best is None:
            return
        _, self.signal, self.pair_share, lower = best
        inverse = solve_triangular(lower, np.eye(len(targets)), lower=True, check_finite=False)
        precision = inverse.T @ inverse
        loo = targets - precision @ targets / np.diag(precision)
        tau = kendalltau(loo, targets).statistic if len(targets) > 2 else np.nan
        self.quality = float(tau) if np.isfinite(tau) else 0.0

    def _solve(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        """Cholesky factor of the noisy gram matrix and its solve against the targets."""
        if self._solved is None:
            targets, mean, scale = self._standardised()
            unary, pair, noise = self._variances(self.signal, self.pair_share)
            decisions, pairs = self._agreements(self.points, self.points)
            gram = unary * decisions + pair * pairs + noise * np.eye(len(targets))
            with _one_thread():
                lower = cholesky(gram, lower=True, check_finite=False)
            weights = self._solve_gram(lower, targets)
            self._solved = (lower, weights, mean, scale)
        return self._solved

    @staticmethod
    def _solve_gram(lower: np.ndarray, right: np.ndarray) -> np.ndarray:
        """``gram^-1 right`` from the gram matrix's Cholesky factor."""
        with _one_thread():
            half = solve_triangular(lower, right, lower=True, check_finite=False)
            return solve_triangular(lower, half, lower=True, trans=1, check_finite=False)

    # --- predicting ------------------------------------------------------------------------------
    def predict(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the reward of each row of option indices."""
        indices = np.asarray(indices, dtype=int).reshape(-1, len(self.sizes))
        if not self.fitted:
            return np.zeros(len(indices)), np.zeros(len(indices))
        lower, weights, mean, scale = self._solve()
        unary, pair, _ = self._variances(self.signal, self.pair_share)
        decisions, pairs = self._agreements(indices, self.points)
        cross = unary * decisions + pair * pairs
        with _one_thread():
            explained = solve_triangular(lower, cross.T, lower=True, check_finite=False)
        prior = unary * len(self.sizes) + pair * len(self.pairs)
        variance = np.maximum(prior - (explained**2).sum(axis=0), 0.0)
        return mean + scale * (cross @ weights), scale * np.sqrt(variance)

    def sample(self, rng: np.random.Generator) -> Tables:
        """One draw of the weights from the posterior (the prior before any point)."""
        unary, pair, noise = self._variances(self.signal, self.pair_share)
        drawn_unary = [rng.normal(0.0, np.sqrt(unary), size) for size in self.sizes]
        drawn_pair = [
            rng.normal(0.0, np.sqrt(pair), (self.sizes[i], self.sizes[j])) for i, j in self.pairs
        ]
        if not self.fitted:
            return Tables(tuple(drawn_unary), tuple(drawn_pair), self.pairs)
        lower, _, mean, scale = self._solve()
        targets, _, _ = self._standardised()
        points = self.points
        prior = Tables(tuple(drawn_unary), tuple(drawn_pair), self.pairs).score(points)
        residual = targets - prior - rng.normal(0.0, np.sqrt(noise), len(targets))
        correction = self._solve_gram(lower, residual)
        for i, table in enumerate(drawn_unary):
            np.add.at(table, points[:, i], unary * correction)
        for (i, j), table in zip(self.pairs, drawn_pair):
            np.add.at(table, (points[:, i], points[:, j]), pair * correction)
        tables = [scale * t for t in drawn_unary]
        tables[0] = tables[0] + mean
        return Tables(tuple(tables), tuple(scale * t for t in drawn_pair), self.pairs)

    # --- persistence -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "points": self.points.tolist(),
            "targets": self.targets.tolist(),
            "signal": self.signal,
            "pair_share": self.pair_share,
            "selected_on": self.selected_on,
            "quality": self.quality,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.points = np.array(state["points"], dtype=int).reshape(-1, len(self.sizes))
        self.targets = np.array(state["targets"], dtype=float)
        self.signal = float(state["signal"])
        self.pair_share = float(state["pair_share"])
        self.selected_on = int(state["selected_on"])
        self.quality = None if state["quality"] is None else float(state["quality"])
        self._solved = None
