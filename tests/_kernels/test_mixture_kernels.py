"""Mixture kernels against slow, obviously-correct NumPy oracles on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bgmix._kernels import mixture as K

# ------------------------------------------------------------------ oracles


def oracle_weighted_log_prob(X, means, factor, log_norm, full):
    """l_k(x) by the textbook formula, one sample and one component at a time."""
    X = np.asarray(X, np.float64)
    n, k = X.shape[0], means.shape[0]
    out = np.empty((n, k))
    for i in range(n):
        for c in range(k):
            diff = X[i] - means[c]
            if full:
                y = diff @ factor[c]  # (x - mu)^T U
                maha = float(y @ y)
            else:
                maha = float(np.sum(diff * diff * factor[c]))
            out[i, c] = log_norm[c] - 0.5 * maha
    return out


def oracle_em(X, means, factor, log_norm, full):
    lp = oracle_weighted_log_prob(X, means, factor, log_norm, full)
    lse = np.log(np.exp(lp - lp.max(1, keepdims=True)).sum(1)) + lp.max(1)
    resp = np.exp(lp - lse[:, None])
    X = np.asarray(X, np.float64)
    k, d = means.shape
    nk = resp.sum(0)
    s1 = np.zeros((k, d))
    s2 = np.zeros((k, d, d)) if full else np.zeros((k, d))
    for c in range(k):
        diff = X - means[c]
        s1[c] = resp[:, c] @ diff
        if full:
            s2[c] = (resp[:, c][:, None] * diff).T @ diff
        else:
            s2[c] = resp[:, c] @ (diff * diff)
    return lse.sum(), nk, s1, s2, lse, resp, lp


def random_problem(rng, n, d, k, full, dtype=np.float64, scale=1.0):
    X = (rng.normal(size=(n, d)) * scale).astype(dtype)
    means = rng.normal(size=(k, d)) * scale
    weights = rng.dirichlet(np.ones(k))
    if full:
        factor = np.empty((k, d, d))
        for c in range(k):
            a = rng.normal(size=(d, d))
            cov = a @ a.T + d * np.eye(d)
            chol = np.linalg.cholesky(cov * scale**2)
            factor[c] = np.linalg.inv(chol).T  # upper triangular, U U^T = cov^-1
            factor[c] = np.triu(factor[c])
        log_det = np.log(np.diagonal(factor, axis1=1, axis2=2)).sum(1)
    else:
        factor = rng.uniform(0.2, 2.0, size=(k, d)) / scale**2
        log_det = 0.5 * np.log(factor).sum(1)
    log_norm = np.log(weights) + log_det - 0.5 * d * math.log(2 * math.pi)
    return X, means, factor, log_norm


CASES = [
    # (n, d, k) tiny and odd shapes: one sample, one feature, one component, odd sizes
    (1, 3, 2),
    (7, 1, 3),
    (13, 3, 1),
    (25, 5, 4),
    (5000, 3, 6),  # several blocks
]


@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize(("n", "d", "k"), CASES)
def test_em_statistics_match_oracle(n, d, k, full):
    rng = np.random.default_rng(n * 100 + d * 10 + k)
    X, means, factor, log_norm = random_problem(rng, n, d, k, full)
    rows, _ = K.block_layout(n, 64)
    rows = min(rows, 997)  # force several blocks on the larger case
    run = K.em_full if full else K.em_diag
    ll, nk, s1, s2 = run(X, means, factor, log_norm, rows)
    ref_ll, ref_nk, ref_s1, ref_s2, *_ = oracle_em(X, means, factor, log_norm, full)
    np.testing.assert_allclose(ll, ref_ll, rtol=1e-12)
    np.testing.assert_allclose(nk, ref_nk, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s1, ref_s1, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(s2, ref_s2, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("full", [True, False])
def test_score_modes_match_oracle(full):
    rng = np.random.default_rng(3)
    X, means, factor, log_norm = random_problem(rng, 41, 3, 5, full)
    *_, lse, resp, lp = oracle_em(X, means, factor, log_norm, full)
    score = K.score_full if full else K.score_diag
    n, k = X.shape[0], means.shape[0]
    labels = np.empty(n, np.int64)
    none_f, none_2 = np.empty(0), np.empty((0, k))
    score(X, means, factor, log_norm, K.MODE_LABELS, labels, none_f, none_2, 8)
    np.testing.assert_array_equal(labels, lp.argmax(1))
    norm = np.empty(n)
    score(X, means, factor, log_norm, K.MODE_LOG_NORM, labels[:0], norm, none_2, 8)
    np.testing.assert_allclose(norm, lse, rtol=1e-12)
    out = np.empty((n, k))
    score(X, means, factor, log_norm, K.MODE_RESP, labels[:0], norm, out, 8)
    np.testing.assert_allclose(out, resp, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(out.sum(1), 1.0, rtol=1e-12)
    score(X, means, factor, log_norm, K.MODE_WEIGHTED, labels[:0], none_f, out, 8)
    np.testing.assert_allclose(out, lp, rtol=1e-12)


@pytest.mark.parametrize("full", [True, False])
def test_constant_and_saturated_pixels(full):
    """Identical rows at 0 and 255 (saturation): finite, exact statistics."""
    X = np.array([[0.0, 0.0, 0.0]] * 6 + [[255.0, 255.0, 255.0]] * 4)
    rng = np.random.default_rng(0)
    _, _, factor, log_norm = random_problem(rng, 1, 3, 2, full, scale=30.0)
    means = np.array([[0.0, 0.0, 0.0], [255.0, 255.0, 255.0]])
    run = K.em_full if full else K.em_diag
    ll, nk, _, s2 = run(X, means, factor, log_norm, 3)
    ref = oracle_em(X, means, factor, log_norm, full)
    assert np.isfinite(ll) and np.all(np.isfinite(s2))
    np.testing.assert_allclose(nk, ref[1], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(s2, ref[3], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(nk.sum(), 10.0, rtol=1e-12)


def test_far_components_underflow_to_zero_without_nan():
    """A component billions of sigmas away gets responsibility exactly 0."""
    X = np.array([[0.0], [1.0], [2.0]])
    means = np.array([[1.0], [1e9]])
    factor = np.ones((2, 1))
    log_norm = np.log([0.5, 0.5]) - 0.5 * math.log(2 * math.pi)
    ll, nk, s1, s2 = K.em_diag(X, means, factor, log_norm, 2)
    assert nk[1] == 0.0 and s1[1, 0] == 0.0 and s2[1, 0] == 0.0
    assert np.isfinite(ll)
    np.testing.assert_allclose(nk[0], 3.0)


def test_zero_weight_component_is_ignored():
    X = np.random.default_rng(1).normal(size=(20, 2))
    means = np.zeros((2, 2))
    factor = np.ones((2, 2))
    with np.errstate(divide="ignore"):
        log_norm = np.log([1.0, 0.0]) - math.log(2 * math.pi)
    ll, nk, _, _ = K.em_diag(X, means, factor, log_norm, 4)
    assert nk[1] == 0.0
    np.testing.assert_allclose(nk[0], 20.0)
    assert np.isfinite(ll)


@pytest.mark.parametrize("full", [True, False])
def test_float32_input_is_read_as_float64(full):
    rng = np.random.default_rng(5)
    X, means, factor, log_norm = random_problem(rng, 300, 3, 4, full)
    X32 = X.astype(np.float32)
    run = K.em_full if full else K.em_diag
    got = run(X32, means, factor, log_norm, 64)
    ref = oracle_em(X32.astype(np.float64), means, factor, log_norm, full)
    np.testing.assert_allclose(got[0], ref[0], rtol=1e-12)
    np.testing.assert_allclose(got[3], ref[3], rtol=1e-9, atol=1e-9)
    # float32 outputs of scoring hold the float64 values rounded once
    norm = np.empty(300, np.float32)
    score = K.score_full if full else K.score_diag
    score(
        X32,
        means,
        factor,
        log_norm,
        K.MODE_LOG_NORM,
        np.empty(0, np.int64),
        norm,
        np.empty((0, 4), np.float32),
        64,
    )
    np.testing.assert_allclose(norm, ref[4].astype(np.float32), rtol=1e-6)


def test_read_only_input():
    rng = np.random.default_rng(6)
    X, means, factor, log_norm = random_problem(rng, 50, 2, 3, True)
    X.setflags(write=False)
    got = K.em_full(X, means, factor, log_norm, 16)
    ref = oracle_em(X, means, factor, log_norm, True)
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("full", [True, False])
def test_results_do_not_depend_on_thread_count(full):
    rng = np.random.default_rng(7)
    X, means, factor, log_norm = random_problem(rng, 20_000, 3, 5, full)
    rows, _ = K.block_layout(20_000, 64)
    run = K.em_full if full else K.em_diag
    one = run(X, means, factor, log_norm, rows, 1)
    two = run(X, means, factor, log_norm, rows, 3)
    assert one[0] == two[0]
    for a, b in zip(one[1:], two[1:], strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("full", [True, False])
def test_hard_stats_match_oracle(full):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(57, 3)) * 10 + 100
    labels = rng.integers(0, 4, size=57).astype(np.int64)
    labels[:4] = np.arange(4)
    shift = rng.normal(size=(4, 3)) + 100
    nk, s1, s2 = K.hard_stats(X, labels, shift, full, 10)
    for c in range(4):
        members = X[labels == c] - shift[c]
        assert nk[c] == len(members)
        np.testing.assert_allclose(s1[c], members.sum(0), rtol=1e-10)
        scatter = members.T @ members
        np.testing.assert_allclose(s2[c], scatter if full else np.diag(scatter), rtol=1e-10)


@pytest.mark.parametrize(("n", "stats"), [(1, 10), (2048, 10), (490_000, 130), (10**7, 10**6)])
def test_block_layout_covers_rows_and_caps_memory(n, stats):
    rows, blocks = K.block_layout(n, stats)
    assert rows >= 1 and blocks >= 1
    assert rows * blocks >= n > rows * (blocks - 1)
    assert blocks * stats * 8 <= max(64 * 2**20, stats * 8)
    # the layout depends on the data size only, never on the number of threads
    assert K.block_layout(n, stats) == (rows, blocks)
