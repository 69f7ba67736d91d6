"""Kernels run in bands of rows give the same bits for any number of threads."""

from __future__ import annotations

import numpy as np

from bgmix._kernels import batch_em, batch_kmeans, batch_stats
from bgmix._kernels.lowrank import dual_step, sparse_step


def test_lowrank_steps_do_not_depend_on_threads():
    rng = np.random.default_rng(0)
    D, A, Y = (rng.normal(size=(64, 9)) for _ in range(3))
    out = []
    for n in (1, 2, 5):
        E, X, Yn, rows = np.empty_like(D), np.empty_like(D), Y.copy(), np.empty(64)
        sparse_step(D, A, Yn, 0.3, 0.7, E, X, n)
        dual_step(D, A, E, Yn, 1.3, rows, n)
        out.append((E, X, Yn, rows))
    for other in out[1:]:
        for a, b in zip(out[0], other, strict=True):
            np.testing.assert_array_equal(a, b)


def test_batch_kernels_do_not_depend_on_threads():
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, size=(12, 9, 5, 3), dtype=np.uint8)
    results = []
    for n in (1, 3):
        w = np.empty((9, 5, 2), np.float32)
        m = np.empty((9, 5, 2, 3), np.float32)
        c = np.empty((9, 5, 2, 3, 3), np.float32)
        it, ok, ll = (
            np.empty((9, 5), np.int32),
            np.empty((9, 5), bool),
            np.empty((9, 5), np.float32),
        )
        init = batch_em.INIT_RANDOM
        batch_em.em_fit(
            data, 2, init, 7, 0, 5, 1e-3, 20, 1e-3, False, w, m, c, it, ok, ll, n_threads=n
        )
        centers, weights = np.empty((9, 5, 2, 3), np.float32), np.empty((9, 5, 2), np.float32)
        k_iter = np.empty((9, 5), np.int32)
        batch_kmeans.kmeans_fit(data, 2, init, 7, 0, 5, 10, centers, weights, k_iter, n_threads=n)
        med = np.empty((9, 5, 3), np.float32)
        batch_stats.median(data, med, n_threads=n)
        results.append((w, m, c, it, ll, centers, weights, med))
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


def test_built_kernels_capture_only_constants():
    # Numba keys its disk cache on the pickled closure: a captured dispatcher pickles
    # differently in every process, so the kernel would be recompiled at every start.
    from bgmix._kernels import kmeans, mixture

    kernels = [*kmeans._LLOYD.values()] + [k for r in mixture._RANGES.values() for k in r]
    for kernel in kernels:
        cells = kernel.py_func.__closure__ or ()
        assert cells and all(isinstance(c.cell_contents, int | bool) for c in cells)
