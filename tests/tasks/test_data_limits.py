"""Memory the data takes is bounded before it is allocated (issue 22, item 5)."""

from __future__ import annotations

import numpy as np
import pytest

from rlnas.errors import UserError
from rlnas.tasks import rows


def test_statistics_read_at_most_their_bytes_at_once(monkeypatch) -> None:
    monkeypatch.setattr(rows, "STATISTICS_BYTES", 8 * 64 * 3)  # three rows of 64 float64s
    X = np.random.default_rng(0).normal(size=(40, 64))
    read_sizes = []

    def read(indices: np.ndarray) -> np.ndarray:
        read_sizes.append(len(indices))
        return X[indices]

    mean, std = rows.feature_statistics(read, np.arange(40), (64,), "t")
    assert max(read_sizes) == 3
    np.testing.assert_allclose(mean, X.mean(axis=0))
    np.testing.assert_allclose(std, X.std(axis=0))


def test_features_whose_squares_overflow_are_refused_not_zeroed() -> None:
    X = np.arange(60.0).reshape(20, 3) * 1e300
    with pytest.raises(UserError, match="too large to standardize"):
        rows.feature_statistics(X.__getitem__, np.arange(20), (3,), "t")
