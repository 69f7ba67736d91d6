"""Classification of frames against fitted per-pixel mixtures, online updates, ordering.

Shapes as in :mod:`bgmix._kernels.batch_em`. Parallel over rows; no validation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH
from bgmix._kernels.pixel_update import blend_weights, ranked_foreground, restart_pixel
from bgmix._threads import run_bands

__all__ = ["em_apply", "em_sort"]


@njit(fastmath=FASTMATH, inline="always")
def _cholesky(cov, k, L, reg):
    """Lower Cholesky factor of ``cov[k]`` into ``L[k]``; returns log-determinant.

    A non-positive pivot (only possible through rounding, since covariances carry
    ``reg`` on the diagonal) is replaced by ``sqrt(reg)`` so that no NaN can appear.
    """
    C = cov.shape[1]
    logdet = 0.0
    for i in range(C):
        for j in range(i + 1):
            s = float(cov[k, i, j])
            for m in range(j):
                s -= L[k, i, m] * L[k, j, m]
            if i == j:
                if s <= 0.0:
                    s = reg if reg > 0.0 else 1e-12
                d = math.sqrt(s)
                L[k, i, i] = d
                logdet += 2.0 * math.log(d)
            else:
                L[k, i, j] = s / L[k, j, j]
    return logdet


@njit(fastmath=FASTMATH, inline="always")
def _mahalanobis2(x, t, mu, k, L, z):
    """Squared Mahalanobis distance of ``x[t]`` to component ``k`` (forward substitution)."""
    C = x.shape[1]
    d2 = 0.0
    for i in range(C):
        s = x[t, i] - mu[k, i]
        for m in range(i):
            s -= L[k, i, m] * z[m]
        s /= L[k, i, i]
        z[i] = s
        d2 += s * s
    return d2


@njit(fastmath=FASTMATH, inline="always")
def _swap(weights, means, covs, r, j, a, b):
    C = means.shape[3]
    tmp = weights[r, j, a]
    weights[r, j, a] = weights[r, j, b]
    weights[r, j, b] = tmp
    for c in range(C):
        tmp = means[r, j, a, c]
        means[r, j, a, c] = means[r, j, b, c]
        means[r, j, b, c] = tmp
        for d in range(C):
            tmp = covs[r, j, a, c, d]
            covs[r, j, a, c, d] = covs[r, j, b, c, d]
            covs[r, j, b, c, d] = tmp


@njit(fastmath=FASTMATH, inline="always")
def _sort_pixel(weights, means, covs, r, j):
    """Stable insertion sort of one pixel's components by decreasing weight."""
    K = weights.shape[2]
    for i in range(1, K):
        m = i
        while m > 0 and weights[r, j, m] > weights[r, j, m - 1]:
            _swap(weights, means, covs, r, j, m, m - 1)
            m -= 1


@njit(cache=True, nogil=True)
def _em_sort_rows(r0, r1, weights, means, covs):
    """Rows ``[r0, r1)`` of :func:`em_sort` (IN ``r0, r1``: the row band; the
    other arguments are :func:`em_sort`'s)."""
    _R, W = weights.shape[:2]
    for r in range(r0, r1):
        for j in range(W):
            _sort_pixel(weights, means, covs, r, j)


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _em_apply_rows(
    r0,
    r1,
    frame,
    weights,
    means,
    covs,
    bg_ratio,
    thr2,
    use_difference,
    grey_thr,
    alpha,
    var_init,
    reg,
    diag,
    mask,
):
    """Rows ``[r0, r1)`` of :func:`em_apply` (IN ``r0, r1``: the row band; the
    other arguments are :func:`em_apply`'s)."""
    _H, W, C = frame.shape
    K = weights.shape[2]
    for r in range(r0, r1):
        xs = np.empty((1, C))
        mu = np.empty((K, C))
        L = np.zeros((K, C, C))
        z = np.empty(C)
        d2 = np.empty(K)
        for j in range(W):
            for c in range(C):
                xs[0, c] = float(frame[r, j, c])
                for k in range(K):
                    mu[k, c] = means[r, j, k, c]
            for k in range(K):
                _cholesky(covs[r, j], k, L, reg)
                d2[k] = _mahalanobis2(xs, 0, mu, k, L, z)
            if use_difference:
                if C == 3:
                    g = 0.299 * xs[0, 0] + 0.587 * xs[0, 1] + 0.114 * xs[0, 2]
                    gb = 0.299 * mu[0, 0] + 0.587 * mu[0, 1] + 0.114 * mu[0, 2]
                else:
                    g = xs[0, 0]
                    gb = mu[0, 0]
                fg = abs(g - gb) > grey_thr
            else:
                fg = ranked_foreground(d2, weights, r, j, thr2, bg_ratio)
            mask[r, j] = 255 if fg else 0
            if alpha <= 0.0:
                continue
            if alpha >= 1.0:
                restart_pixel(weights, means, r, j, xs[0])
                continue
            matched = -1
            for k in range(K):
                if d2[k] < thr2:
                    matched = k
                    break
            if matched < 0:
                matched = K - 1
                weights[r, j, matched] = 0.0
                for a in range(C):
                    means[r, j, matched, a] = xs[0, a]
                    for b in range(C):
                        covs[r, j, matched, a, b] = var_init if a == b else 0.0
            else:
                for a in range(C):
                    z[a] = xs[0, a] - mu[matched, a]
                    means[r, j, matched, a] = mu[matched, a] + alpha * z[a]
                for a in range(C):
                    for b in range(C):
                        if diag and a != b:
                            continue
                        v = covs[r, j, matched, a, b]
                        v += alpha * (z[a] * z[b] - v)
                        if a == b and v < reg:
                            v = reg
                        covs[r, j, matched, a, b] = v
            blend_weights(weights, r, j, matched, alpha)
            _sort_pixel(weights, means, covs, r, j)


# --------------------------------------------------------------------------- drivers
def em_sort(*args, n_threads=1):
    """Order every pixel's components by decreasing weight (stable), in place."""
    run_bands(_em_sort_rows, args[0].shape[0], n_threads, *args)


def em_apply(*args, n_threads=1):
    """Classify a frame against per-pixel mixtures and optionally update them online.

    Parameters
    ----------
    frame : (H, W, C) uint8 or float32
        The frame, 0–255 scale.
    weights, means, covs : (H, W, K), (H, W, K, C), (H, W, K, C, C) float32
        The mixtures, components ordered by decreasing weight (kept so by updates).
    bg_ratio : float
        Background components are the first ``b`` whose cumulative weight reaches it.
    thr2 : float
        Squared Mahalanobis threshold: a sample matches a component when ``d^2 < thr2``.
    use_difference : bool
        True: foreground when the grey difference to the heaviest mean exceeds
        ``grey_thr``; False: when no background component matches.
    grey_thr : float
        Grey-level threshold of the difference rule.
    alpha : float
        Online learning rate: 0 freezes; 1 re-initialises every pixel to one component
        at the frame (keeping the heaviest component's covariance); otherwise the
        matched component's weight, mean and covariance move by ``alpha``
        (Stauffer–Grimson with ``rho = alpha``) and an unmatched sample replaces the
        lightest component (mean = sample, variance ``var_init``, weight ``alpha``).
    var_init : float
        Variance of a component created online.
    reg : float
        Floor of the variances after an online update.
    diag : bool
        Diagonal covariances.
    mask : (H, W) uint8
        Out: 255 foreground, 0 background.
    n_threads : int, keyword
        Threads (bands of rows); results do not depend on it.
    """
    run_bands(_em_apply_rows, args[0].shape[0], n_threads, *args)
