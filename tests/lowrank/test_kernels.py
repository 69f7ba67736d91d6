"""The fused IALM kernels against NumPy on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix._kernels.lowrank import dual_step, max_abs_rank_one, sparse_step
from tests.lowrank.oracles import shrink

SHAPES = [(1, 1), (1, 7), (5, 1), (3, 4), (17, 9)]


def _arrays(shape, kind, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "random":
        return [rng.normal(0, 50, size=shape) for _ in range(4)]
    if kind == "constant":
        return [np.full(shape, v) for v in (128.0, 3.0, -2.0, 0.5)]
    # saturated 0/255 data, zero low-rank part
    D = np.where(rng.random(shape) < 0.5, 0.0, 255.0)
    return [D, np.zeros(shape), rng.normal(size=shape), np.zeros(shape)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["random", "constant", "saturated"])
def test_sparse_step_matches_numpy(shape, kind):
    D, A, Y, _ = _arrays(shape, kind)
    inv_mu, thr = 0.37, 1.9
    E = np.full(shape, np.nan)
    X = np.full(shape, np.nan)
    sparse_step(D, A, Y, inv_mu, thr, E, X)
    E_ref = shrink(D - A + Y * inv_mu, thr)
    np.testing.assert_allclose(E, E_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X, D - E_ref + Y * inv_mu, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_sparse_step_writes_x_rounded_to_float32(shape, threads):
    D, A, Y, _ = _arrays(shape, "random")
    E, X = np.empty(shape), np.empty(shape)
    X32 = np.full(shape, np.nan, np.float32)
    sparse_step(D, A.astype(np.float32), Y, 0.37, 1.9, E, X, threads, X32_out=X32)
    np.testing.assert_array_equal(X32, X.astype(np.float32))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("threads", [1, 2])
def test_max_abs_rank_one_matches_numpy(shape, threads):
    rng = np.random.default_rng(3)
    D = rng.normal(0, 50, size=shape)
    u, v = rng.normal(size=shape[0]), rng.normal(size=shape[1])
    for a, b in ((1.3, -7.0), (0.0, 2.0), (-0.5, 0.0)):
        expected = np.abs(a * D + b * np.outer(u, v)).max()
        assert max_abs_rank_one(D, a, b, u, v, threads) == pytest.approx(expected, rel=1e-14)


def test_sparse_step_threshold_edges():
    D = np.array([[1.0, -1.0, 0.5, -0.5, 0.0]])
    zero = np.zeros_like(D)
    E = np.empty_like(D)
    X = np.empty_like(D)
    sparse_step(D, zero, zero, 1.0, 0.5, E, X)
    np.testing.assert_array_equal(E, [[0.5, -0.5, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(X, [[0.5, -0.5, 0.5, -0.5, 0.0]])


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["random", "constant", "saturated"])
def test_dual_step_matches_numpy(shape, kind):
    D, A, Y, E = _arrays(shape, kind, seed=1)
    mu = 2.5
    Y_ref = Y + mu * (D - A - E)
    sums = np.full(shape[0], np.nan)
    dual_step(D, A, E, Y, mu, sums)
    np.testing.assert_allclose(Y, Y_ref, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(sums, np.sum((D - A - E) ** 2, axis=1), rtol=1e-12)
