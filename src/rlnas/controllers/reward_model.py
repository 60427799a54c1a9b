"""A small ensemble that predicts an architecture's reward, and how unsure it is, from its encoding.

Each member is a kernel ridge regressor fit on a bootstrap resample of the evaluated architectures;
the prediction is the members' mean and the uncertainty their standard deviation (the bootstrap
ensemble of BANANAS, White et al. AAAI 2021, with kernel ridge members instead of MLPs because a
refit must take milliseconds, not seconds). Features are ``SearchSpace.one_hot``; the kernel is
``exp(-hamming / lengthscale)`` where ``hamming`` counts the decisions on which two architectures
differ, so neighbours one mutation apart inform each other most. A member sees at most
``max_points`` architectures, which bounds a refit's cost however long the search runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class EnsembleRewardModel:
    """Bootstrap ensemble of kernel ridge regressors on one-hot architecture encodings.

    ``members``: ensemble size (BANANAS: 5). ``lengthscale``: in decisions; larger lets an
    evaluation inform architectures further away. ``ridge``: the noise the fit allows for.
    ``max_points``: bootstrap sample size cap per member.
    """

    def __init__(
        self,
        members: int = 5,
        lengthscale: float = 1.0,
        ridge: float = 0.1,
        max_points: int = 256,
    ) -> None:
        if members < 2:
            raise ValueError("an ensemble needs at least 2 members to measure its uncertainty")
        if lengthscale <= 0 or ridge <= 0 or max_points < 1:
            raise ValueError("lengthscale and ridge must be positive and max_points at least 1")
        self.members = members
        self.lengthscale = lengthscale
        self.ridge = ridge
        self.max_points = max_points
        self.anchors = np.zeros((0, 0))  # the training encodings
        self.coefficients = np.zeros((0, members))  # per anchor and member
        self.offsets = np.zeros(members)  # each member's mean target: its prior mean

    @property
    def fitted(self) -> bool:
        return len(self.anchors) > 0

    def kernel(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """exp(-hamming / lengthscale) between rows of one-hot encodings."""
        decisions = left.sum(axis=1, keepdims=True)  # one 1 per decision in a one-hot encoding
        hamming = decisions - left @ right.T
        return np.exp(-hamming / self.lengthscale)

    def fit(self, features: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> None:
        """Refit every member from scratch on a bootstrap resample of (features, targets)."""
        features = np.asarray(features, dtype=float)
        targets = np.asarray(targets, dtype=float)
        count = len(features)
        if count == 0:
            raise ValueError("fit needs at least one evaluated architecture")
        coefficients = np.zeros((count, self.members))
        offsets = np.zeros(self.members)
        for member in range(self.members):
            rows = rng.integers(count, size=min(count, self.max_points))
            offsets[member] = targets[rows].mean()
            gram = self.kernel(features[rows], features[rows])
            gram[np.diag_indices_from(gram)] += self.ridge
            weights = np.linalg.solve(gram, targets[rows] - offsets[member])
            np.add.at(coefficients[:, member], rows, weights)  # repeats of a row add up
        self.anchors, self.coefficients, self.offsets = features, coefficients, offsets

    def predict_members(self, features: np.ndarray) -> np.ndarray:
        """Each member's prediction: shape (architectures, members)."""
        features = np.atleast_2d(np.asarray(features, dtype=float))
        if not self.fitted:
            return np.zeros((len(features), self.members))
        return self.kernel(features, self.anchors) @ self.coefficients + self.offsets

    def predict(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation across members, one of each per architecture."""
        predictions = self.predict_members(features)
        return predictions.mean(axis=1), predictions.std(axis=1)

    def state_dict(self) -> dict[str, Any]:
        return {
            "anchors": torch.from_numpy(self.anchors.copy()),
            "coefficients": torch.from_numpy(self.coefficients.copy()),
            "offsets": torch.from_numpy(self.offsets.copy()),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.anchors = state["anchors"].numpy().copy()
        self.coefficients = state["coefficients"].numpy().copy()
        self.offsets = state["offsets"].numpy().copy()
