"""Small data sets shared by the mixture tests."""

from __future__ import annotations

import numpy as np
import pytest


def blobs(n_per: int = 150, seed: int = 0, d: int = 3) -> np.ndarray:
    """Three anisotropic Gaussian blobs in ``d`` dimensions, shuffled."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0] * d, [5.0] * d, [10.0, -4.0, 3.0, 1.0, 2.0][:d]])
    parts = []
    for c, centre in enumerate(centres):
        a = rng.normal(size=(d, d)) * (0.4 + 0.3 * c)
        parts.append(rng.normal(size=(n_per, d)) @ a + centre)
    X = np.vstack(parts)
    return X[rng.permutation(len(X))]


def initial_parameters(X: np.ndarray, covariance_type: str, k: int = 3):
    """Deterministic initial weights, means and precisions for parity tests."""
    rng = np.random.default_rng(42)
    d = X.shape[1]
    weights = np.full(k, 1.0 / k)
    means = X[rng.choice(len(X), k, replace=False)] + 0.1
    var = X.var(axis=0).mean()
    if covariance_type == "full":
        precisions = np.stack([np.eye(d) / var * (1 + 0.1 * i) for i in range(k)])
    elif covariance_type == "tied":
        precisions = np.eye(d) / var
    elif covariance_type == "diag":
        precisions = np.ones((k, d)) / var
    else:
        precisions = np.ones(k) / var
    return weights, means, precisions


@pytest.fixture
def X3():
    return blobs()
