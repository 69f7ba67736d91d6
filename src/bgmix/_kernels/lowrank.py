"""Fused element-wise steps of the inexact ALM for Robust PCA (``bgmix.lowrank.rpca``).

One iteration of the inexact augmented Lagrange multiplier method touches every entry
of five ``(m, n)`` matrices a few times; NumPy would make a temporary for every
operation. These kernels do each half of the iteration in one pass, parallel over rows
(every row is independent). Arrays are C-contiguous float64 ``(m, n)``; no validation.

With ``D`` the data, ``A`` the low-rank part, ``E`` the sparse part and ``Y`` the
multiplier:

``sparse_step``
    ``E = shrink(D - A + Y / mu, lam / mu)`` and ``X = D - E + Y / mu`` (the matrix
    whose singular values are thresholded next), where
    ``shrink(t, c) = sign(t) max(|t| - c, 0)``; optionally also ``X`` rounded to
    float32 (the thresholding's products in ``rpca``'s float32 phase), in the same
    pass rather than a second one over ``X``.
``dual_step``
    ``Z = D - A - E``, ``Y += mu Z``, and the per-row sums of ``Z**2`` (the caller adds
    them up in a fixed order, so the result does not depend on the thread count).
``max_abs_rank_one``
    ``max |a D + b u v^T|`` over all entries (the rank-one start's test that the
    sparse part stays zero), without forming the matrix.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH
from bgmix._threads import run_bands

__all__ = ["dual_step", "max_abs_rank_one", "sparse_step"]


def sparse_step(D, A, Y, inv_mu, thr, E_out, X_out, n_threads=1, X32_out=None):
    """Soft-threshold ``D - A + Y/mu`` into ``E_out``, ``D - E + Y/mu`` into ``X_out``
    and, if given, into ``X32_out`` rounded to float32 (rows in bands over
    ``n_threads`` threads); see :func:`_sparse_rows`."""
    single = X32_out is not None
    X32 = X32_out if single else np.empty((0, 0), np.float32)
    run_bands(
        _sparse_rows, D.shape[0], n_threads, D, A, Y, inv_mu, thr, E_out, X_out, X32, single,
        min_items=8,
    )  # fmt: skip


def dual_step(D, A, E, Y, mu, row_sumsq, n_threads=1):
    """``Z = D - A - E``; ``Y += mu * Z``; row norms of ``Z`` (rows in bands over
    ``n_threads`` threads); see :func:`_dual_rows`."""
    run_bands(_dual_rows, D.shape[0], n_threads, D, A, E, Y, mu, row_sumsq, min_items=8)


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _sparse_rows(r0, r1, D, A, Y, inv_mu, thr, E_out, X_out, X32_out, single):
    """Rows ``[r0, r1)``: soft-threshold ``D - A + Y/mu`` into ``E_out``; write
    ``D - E + Y/mu`` to ``X_out`` (and, if ``single``, rounded to float32 to
    ``X32_out``).

    Parameters
    ----------
    r0, r1 : int
        IN: the rows to process.
    D, A, Y : (m, n) float64 arrays
    inv_mu : float
        ``1 / mu``.
    thr : float
        The shrinkage threshold ``lam / mu``.
    E_out, X_out : (m, n) float64 arrays
        Out: the new sparse part and the matrix to threshold next.
    X32_out : (m, n) float32 array
        Out: ``X_out`` rounded to float32 (any float32 array if not ``single``).
    single : bool
    """
    n = D.shape[1]
    for i in range(r0, r1):
        for j in range(n):
            scaled = Y[i, j] * inv_mu
            t = D[i, j] - A[i, j] + scaled
            if t > thr:
                e = t - thr
            elif t < -thr:
                e = t + thr
            else:
                e = 0.0
            E_out[i, j] = e
            x = D[i, j] - e + scaled
            X_out[i, j] = x
            if single:
                X32_out[i, j] = np.float32(x)


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _dual_rows(r0, r1, D, A, E, Y, mu, row_sumsq):
    """Rows ``[r0, r1)``: ``Z = D - A - E``; ``Y += mu * Z``; ``row_sumsq[i] = sum_j Z[i, j]**2``.

    Parameters
    ----------
    r0, r1 : int
        IN: the rows to process.
    D, A, E : (m, n) float64 arrays
    Y : (m, n) float64 array
        In/out: the multiplier, updated in place.
    mu : float
    row_sumsq : (m,) float64 array
        Out: the squared norm of each row of ``Z``.
    """
    n = D.shape[1]
    for i in range(r0, r1):
        acc = 0.0
        for j in range(n):
            z = D[i, j] - A[i, j] - E[i, j]
            Y[i, j] += mu * z
            acc += z * z
        row_sumsq[i] = acc


def max_abs_rank_one(D, a, b, u, v, n_threads=1):
    """``max_ij |a D[i, j] + b u[i] v[j]|`` (rows in bands over ``n_threads`` threads);
    see :func:`_max_abs_rows`."""
    row_max = np.empty(D.shape[0])
    run_bands(_max_abs_rows, D.shape[0], n_threads, D, a, b, u, v, row_max, min_items=8)
    return float(row_max.max()) if row_max.size else 0.0


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _max_abs_rows(r0, r1, D, a, b, u, v, row_max):
    """Rows ``[r0, r1)``: ``row_max[i] = max_j |a D[i, j] + b u[i] v[j]|``.

    Parameters
    ----------
    r0, r1 : int
        IN: the rows to process.
    D : (m, n) float64 array
    a, b : float
    u : (m,) float64 array
    v : (n,) float64 array
    row_max : (m,) float64 array
        Out: the largest magnitude of each row.
    """
    n = D.shape[1]
    for i in range(r0, r1):
        bu = b * u[i]
        top = 0.0
        for j in range(n):
            t = abs(a * D[i, j] + bu * v[j])
            if t > top:
                top = t
        row_max[i] = top
