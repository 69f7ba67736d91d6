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
    ``shrink(t, c) = sign(t) max(|t| - c, 0)``.
``dual_step``
    ``Z = D - A - E``, ``Y += mu Z``, and the per-row sums of ``Z**2`` (the caller adds
    them up in a fixed order, so the result does not depend on the thread count).
"""

from __future__ import annotations

from numba import njit

from bgmix._kernels._config import FASTMATH
from bgmix._threads import run_bands

__all__ = ["dual_step", "sparse_step"]


def sparse_step(D, A, Y, inv_mu, thr, E_out, X_out, n_threads=1):
    """Soft-threshold ``D - A + Y/mu`` into ``E_out``, ``D - E + Y/mu`` into ``X_out``
    (rows in bands over ``n_threads`` threads); see :func:`_sparse_rows`."""
    run_bands(_sparse_rows, D.shape[0], n_threads, D, A, Y, inv_mu, thr, E_out, X_out, min_items=8)


def dual_step(D, A, E, Y, mu, row_sumsq, n_threads=1):
    """``Z = D - A - E``; ``Y += mu * Z``; row norms of ``Z`` (rows in bands over
    ``n_threads`` threads); see :func:`_dual_rows`."""
    run_bands(_dual_rows, D.shape[0], n_threads, D, A, E, Y, mu, row_sumsq, min_items=8)


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _sparse_rows(r0, r1, D, A, Y, inv_mu, thr, E_out, X_out):
    """Rows ``[r0, r1)``: soft-threshold ``D - A + Y/mu`` into ``E_out``; write
    ``D - E + Y/mu`` to ``X_out``.

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
            X_out[i, j] = D[i, j] - e + scaled


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
