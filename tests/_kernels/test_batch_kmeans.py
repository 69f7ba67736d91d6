"""Per-pixel k-means kernels against a slow NumPy oracle (same initial centres)."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix._kernels import batch_em, batch_kmeans


def oracle_lloyd(x, mu, max_iter):
    """Lloyd on one pixel: x (T, C), mu (K, C); ties go to the lower index."""
    mu = mu.astype(np.float64).copy()
    labels = np.full(len(x), -1)
    n = 0
    for it in range(max_iter):
        n = it + 1
        d = ((x[:, None, :] - mu[None]) ** 2).sum(axis=2)
        new = d.argmin(axis=1)
        changed = (new != labels).any()
        labels = new
        for k in range(len(mu)):
            if (labels == k).any():
                mu[k] = x[labels == k].mean(axis=0)
        if not changed and it > 0:
            break
    counts = np.bincount(labels, minlength=len(mu))
    order = np.argsort(-counts, kind="stable")
    return mu[order], counts[order] / len(x), n


def init_means(data, K, method=0, seed=0):
    _T, R, W, C = data.shape
    w = np.empty((R, W, K), np.float32)
    m = np.empty((R, W, K, C), np.float32)
    c = np.empty((R, W, K, C, C), np.float32)
    batch_em.em_init(data, K, method, seed, 0, W, 0.0, True, w, m, c)
    return m


def block(T=24, R=3, W=4, C=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 255, size=(3, R, W, C))
    pick = rng.integers(0, 3, size=(T, R, W))
    r, j = np.meshgrid(np.arange(R), np.arange(W), indexing="ij")
    x = centres[pick, r[None], j[None]] + rng.normal(0, 5, size=(T, R, W, C))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("C", [1, 3])
@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("method", [batch_em.INIT_QUANTILE, batch_em.INIT_RANDOM])
def test_kmeans_fit_matches_oracle_from_the_same_init(C, K, method):
    data = block(C=C, seed=K)
    _T, R, W, _ = data.shape
    init = init_means(data, K, method, seed=9)
    centers = np.empty((R, W, K, C), np.float32)
    weights = np.empty((R, W, K), np.float32)
    n_iter = np.empty((R, W), np.int32)
    batch_kmeans.kmeans_fit(data, K, method, 9, 0, W, 50, centers, weights, n_iter)
    for r in range(R):
        for j in range(W):
            mu, share, n = oracle_lloyd(data[:, r, j].astype(np.float64), init[r, j], 50)
            np.testing.assert_allclose(centers[r, j], mu, rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(weights[r, j], share, rtol=1e-6)
            assert n_iter[r, j] == n
    assert (np.diff(weights, axis=-1) <= 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)


def test_kmeans_constant_and_saturated_pixels():
    data = np.zeros((6, 2, 2, 3), np.uint8)
    data[:, 0, 1] = 255
    data[::2, 1, 0] = 255
    R, W, K = 2, 2, 3
    centers = np.empty((R, W, K, 3), np.float32)
    weights = np.empty((R, W, K), np.float32)
    n_iter = np.empty((R, W), np.int32)
    batch_kmeans.kmeans_fit(data, K, 0, 0, 0, W, 10, centers, weights, n_iter)
    assert np.isfinite(centers).all()
    np.testing.assert_array_equal(centers[0, 0, 0], 0)
    np.testing.assert_array_equal(centers[0, 1, 0], 255)
    np.testing.assert_allclose(weights[1, 0, :2], [0.5, 0.5])


def oracle_kmeans_apply(frame, centers, weights, bg_ratio, thr):
    H, W, _ = frame.shape
    mask = np.zeros((H, W), np.uint8)
    for r in range(H):
        for j in range(W):
            d = np.sqrt(((frame[r, j].astype(np.float64) - centers[r, j]) ** 2).sum(axis=1))
            b = int(np.searchsorted(np.cumsum(weights[r, j]), bg_ratio - 1e-7)) + 1
            mask[r, j] = 0 if (d[:b] < thr).any() else 255
    return mask


def test_kmeans_apply_matches_oracle_and_freezes_at_rate_zero():
    data = block(seed=5)
    _T, R, W, C = data.shape
    K = 3
    centers = np.empty((R, W, K, C), np.float32)
    weights = np.empty((R, W, K), np.float32)
    n_iter = np.empty((R, W), np.int32)
    batch_kmeans.kmeans_fit(data, K, 0, 0, 0, W, 50, centers, weights, n_iter)
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, size=(R, W, C), dtype=np.uint8)
    frame[0] = data[3, 0]
    for bg_ratio in (0.3, 0.7, 1.0):
        c1, w1 = centers.copy(), weights.copy()
        mask = np.empty((R, W), np.uint8)
        batch_kmeans.kmeans_apply(frame, c1, w1, bg_ratio, 30.0**2, 0.0, mask)
        np.testing.assert_array_equal(
            mask, oracle_kmeans_apply(frame, centers, weights, bg_ratio, 30.0)
        )
        np.testing.assert_array_equal(c1, centers)
        np.testing.assert_array_equal(w1, weights)


def test_kmeans_apply_online_update():
    centers = np.array([[[[100.0], [200.0]]]], np.float32)  # (1, 1, 2, 1)
    weights = np.array([[[0.8, 0.2]]], np.float32)
    mask = np.empty((1, 1), np.uint8)
    batch_kmeans.kmeans_apply(
        np.array([[[110]]], np.uint8), centers, weights, 0.7, 400.0, 0.5, mask
    )
    assert mask[0, 0] == 0
    np.testing.assert_allclose(centers[0, 0, :, 0], [105.0, 200.0])
    np.testing.assert_allclose(weights[0, 0], [0.9, 0.1])
    # unmatched sample replaces the smallest cluster, then the order is restored
    batch_kmeans.kmeans_apply(np.array([[[10]]], np.uint8), centers, weights, 0.7, 400.0, 0.5, mask)
    assert mask[0, 0] == 255
    np.testing.assert_allclose(weights[0, 0], np.array([0.5, 0.45]) / 0.95, rtol=1e-6)
    np.testing.assert_allclose(centers[0, 0, :, 0], [10.0, 105.0])
