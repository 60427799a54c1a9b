"""The pool of regressors ``SelectedRewardModel`` chooses from, each giving a mean and a spread.

Every one is seeded by an integer, so that a refit from the same data and seed is the same model
(checkpoints store the data, not the fitted objects). The spread is each model's own uncertainty:
the kernel ensemble's member disagreement, the random forest's per-tree spread, the Gaussian
process's posterior std. Gradient boosting has none of its own and reports 0; averaged with
others (``top`` > 1) the disagreement between models stands in for it.
"""

from __future__ import annotations

import typing
from typing import Literal, Protocol

import numpy as np

from rlnas.controllers.reward_model import EnsembleRewardModel

RegressorName = Literal["kernel", "forest", "boosting", "gp"]
CANDIDATES: tuple[RegressorName, ...] = typing.get_args(RegressorName)


class Regressor(Protocol):
    def fit(self, features: np.ndarray, targets: np.ndarray) -> None: ...

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class KernelEnsemble:
    """``EnsembleRewardModel`` (bootstrap kernel ridge on Hamming distance), seeded."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.model = EnsembleRewardModel()

    def fit(self, features: np.ndarray, targets: np.ndarray) -> None:
        self.model.fit(features, targets, np.random.default_rng(self.seed))

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.model.predict(features)


class Forest:
    """scikit-learn's random forest; the spread is the std of its trees' predictions.

    100 trees with ``max_features`` 0.5 (a third of the one-hot columns made trees too weak on
    few points; all of them too alike).
    """

    def __init__(self, seed: int) -> None:
        from sklearn.ensemble import RandomForestRegressor

        self.model = RandomForestRegressor(
            n_estimators=30, max_features=0.5, random_state=seed, n_jobs=1
        )

    def fit(self, features: np.ndarray, targets: np.ndarray) -> None:
        self.model.fit(features, targets)

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # each tree's own predictor: estimator.predict's input checks cost more than the tree
        rows = np.ascontiguousarray(features, dtype=np.float32)
        trees = np.array([tree.tree_.predict(rows)[:, 0] for tree in self.model.estimators_])
        return trees.mean(axis=0), trees.std(axis=0)


class Boosting:
    """scikit-learn's gradient boosting (shallow trees, subsampled rows); no spread of its own."""

    def __init__(self, seed: int) -> None:
        from sklearn.ensemble import GradientBoostingRegressor

        self.model = GradientBoostingRegressor(
            n_estimators=50, max_depth=3, learning_rate=0.1, subsample=0.8, random_state=seed
        )

    def fit(self, features: np.ndarray, targets: np.ndarray) -> None:
        self.model.fit(features, targets)

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.model.predict(features), np.zeros(len(features))


class GaussianProcess:
    """scikit-learn's GP: a constant times an RBF kernel plus white noise, targets normalized.

    The kernel's hyper-parameters are fit by marginal likelihood from one start (restarts cost
    a fit each and moved tau little on NAS-Bench-Graph).
    """

    def __init__(self, seed: int) -> None:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        kernel = ConstantKernel(1.0) * RBF(length_scale=2.0) + WhiteKernel(0.1)
        self.model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)

    def fit(self, features: np.ndarray, targets: np.ndarray) -> None:
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(features, targets)

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std = self.model.predict(features, return_std=True)
        return mean, std


def make_regressor(name: str, seed: int) -> Regressor:
    """A fresh, unfitted regressor of the pool."""
    kinds = {
        "kernel": KernelEnsemble,
        "forest": Forest,
        "boosting": Boosting,
        "gp": GaussianProcess,
    }
    return kinds[name](seed)
