"""Per-sample and per-block Gaussian-mixture kernels (serial, cached, GIL-free).

The formulas are documented in :mod:`bgmix._kernels.mixture`, which spreads these
blocks over threads. ``X`` is (N, D) float32 or float64 (read as float64); every
other array is float64. The kernels are written once and built (inlined into the
range kernels of :mod:`bgmix._kernels.mixture`) for D = 3 (RGB, Lab or HSV pixels: a
fixed count lets LLVM unroll the feature loops and keep ``x - mu`` in registers, more
than twice as fast) and for any D.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH

#: Scoring modes: argmax labels; log p(x); responsibilities + log p(x); the weighted
#: log densities ``l_k(x)`` themselves.
MODE_LABELS, MODE_LOG_NORM, MODE_RESP, MODE_WEIGHTED = 0, 1, 2, 3


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _exp_normalise(lp, top):
    """``lp[k] <- exp(lp[k] - top)`` in place; returns their sum (0 if top is -inf)."""
    n_components = lp.shape[0]
    if top == -np.inf:
        for k in range(n_components):
            lp[k] = 0.0
        return 0.0
    total = 0.0
    for k in range(n_components):
        e = math.exp(lp[k] - top)
        lp[k] = e
        total += e
    return total


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _emit(lp, top, best, i, mode, labels, log_prob_norm, out):
    n_components = lp.shape[0]
    if mode == MODE_LABELS:
        labels[i] = best
    elif mode == MODE_WEIGHTED:
        for k in range(n_components):
            out[i, k] = lp[k]
    else:
        total = _exp_normalise(lp, top)
        log_prob_norm[i] = top + math.log(total) if total > 0.0 else top
        if mode == MODE_RESP:
            inv = 1.0 / total if total > 0.0 else 0.0
            for k in range(n_components):
                out[i, k] = lp[k] * inv


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _hard_block_full(X, start, stop, labels, shift, nk, s1, s2):
    n_features = X.shape[1]
    d = np.empty(n_features)
    for i in range(start, stop):
        k = labels[i]
        nk[k] += 1.0
        for j in range(n_features):
            d[j] = X[i, j] - shift[k, j]
            s1[k, j] += d[j]
        for j in range(n_features):
            for m in range(j, n_features):
                s2[k, j, m] += d[j] * d[m]


# The kernels below are inlined into the range kernels of
# :mod:`bgmix._kernels.mixture`, which are built once per feature count ``nf`` (a
# constant of the compiled code, or the runtime count) and family (``full``).


@njit(fastmath=FASTMATH, inline="always")
def _log_prob(X, i, nf, full, means, factor, log_norm, lp, d):
    """``lp[k] = l_k(x_i)``; returns ``(max_k lp[k], argmax)``.

    ``full``: ``factor`` (K, D, D) holds the precision Cholesky factors; else (K, D)
    the diagonal precisions. ``d`` (D,) is scratch.
    """
    top = -np.inf
    best = 0
    for k in range(means.shape[0]):
        maha = 0.0
        if full:
            for j in range(nf):
                d[j] = X[i, j] - means[k, j]
            for j in range(nf):
                y = 0.0
                for m in range(j + 1):
                    y += d[m] * factor[k, m, j]
                maha += y * y
        else:
            for j in range(nf):
                t = X[i, j] - means[k, j]
                maha += t * t * factor[k, j]
        v = log_norm[k] - 0.5 * maha
        lp[k] = v
        if v > top:
            top = v
            best = k
    return top, best


@njit(fastmath=FASTMATH, inline="always")
def em_block(X, start, stop, nf, full, means, factor, log_norm, nk, s1, s2):
    """E-step of rows ``start:stop`` with the M-step statistics; returns their summed
    ``log p(x)``.

    IN ``X`` (N, D), ``nf`` = D (a constant where possible), ``full``, ``means`` (K, D),
    ``factor`` (see :func:`_log_prob`), ``log_norm`` (K,). OUT (accumulated): ``nk``
    (K,), ``s1`` (K, D), ``s2`` (K, D, D) upper triangle if ``full`` else (K, D).
    """
    lp = np.empty(means.shape[0])
    d = np.empty(X.shape[1])
    ll = 0.0
    for i in range(start, stop):
        top, _ = _log_prob(X, i, nf, full, means, factor, log_norm, lp, d)
        total = _exp_normalise(lp, top)
        if total == 0.0:
            ll += top
            continue
        ll += top + math.log(total)
        inv = 1.0 / total
        for k in range(means.shape[0]):
            r = lp[k] * inv
            if r == 0.0:
                continue
            nk[k] += r
            for j in range(nf):
                d[j] = X[i, j] - means[k, j]
            for j in range(nf):
                rd = r * d[j]
                s1[k, j] += rd
                if full:
                    for m in range(j, nf):
                        s2[k, j, m] += rd * d[m]
                else:
                    s2[k, j] += rd * d[j]
    return ll


@njit(fastmath=FASTMATH, inline="always")
def score_block(X, start, stop, nf, full, means, factor, log_norm, mode, labels, lpn, out):
    """Write what ``mode`` asks for rows ``start:stop`` (see
    :func:`bgmix._kernels.mixture.score_full`): ``labels``, ``lpn`` (log p(x)) or
    ``out`` (OUT); the other arguments as in :func:`em_block` (IN)."""
    lp = np.empty(means.shape[0])
    d = np.empty(X.shape[1])
    for i in range(start, stop):
        top, best = _log_prob(X, i, nf, full, means, factor, log_norm, lp, d)
        _emit(lp, top, best, i, mode, labels, lpn, out)
