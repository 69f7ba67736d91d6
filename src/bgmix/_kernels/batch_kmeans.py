"""Per-pixel k-means over a block of frames, and classification against its clusters.

Every pixel's samples ``x_1 … x_T`` (``C`` = 1 or 3 channels) are clustered into ``K``
groups by Lloyd's algorithm. Shapes as in :mod:`bgmix._kernels.batch_em`:
``data`` ``(T, R, W, C)`` (uint8 or float, any strides), ``centers`` ``(R, W, K, C)``
float32, ``weights`` ``(R, W, K)`` float32 (fraction of the samples in each cluster).
Parallel over rows; no validation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH
from bgmix._kernels.batch_em_init import _init_buffers, _init_pixel, _load_samples
from bgmix._kernels.kmeans import nearest_center
from bgmix._kernels.pixel_update import blend_weights, ranked_foreground, restart_pixel
from bgmix._threads import run_bands

__all__ = ["kmeans_apply", "kmeans_fit"]


@njit(fastmath=FASTMATH)
def _lloyd(x, mu, label, count, acc, max_iter):
    """Lloyd iterations on one pixel (``x`` is (C, T)), in place on ``mu`` (K, C).

    Returns the number of assignment steps run; stops when no label changes.
    """
    C, T = x.shape
    K = mu.shape[0]
    samples = x.T  # (T, C)
    n = 0
    for it in range(max_iter):
        n = it + 1
        changed = False
        for k in range(K):
            count[k] = 0
            for c in range(C):
                acc[k, c] = 0.0
        for t in range(T):
            kb, _d = nearest_center(samples, t, mu, C)
            if label[t] != kb:
                changed = True
                label[t] = kb
            count[kb] += 1
            for c in range(C):
                acc[kb, c] += x[c, t]
        for k in range(K):
            if count[k] > 0:  # an empty cluster keeps its centre
                for c in range(C):
                    mu[k, c] = acc[k, c] / count[k]
        if not changed and it > 0:
            break
    return n


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _kmeans_fit_rows(
    r0, r1, data, K, method, seed, row0, width, max_iter, centers, weights, n_iter
):
    """Rows ``[r0, r1)`` of :func:`kmeans_fit` (IN ``r0, r1``: the row band; the
    other arguments are :func:`kmeans_fit`'s)."""
    T, _R, W, C = data.shape
    for r in range(r0, r1):
        x = np.empty((C, T))
        buffers = _init_buffers(T, C, K)
        mu = buffers[1]
        label = np.empty(T, np.int64)
        count = np.empty(K, np.int64)
        acc = np.empty((K, C))
        for j in range(W):
            label[:] = -1
            _load_samples(data, r, j, x)
            _init_pixel(x, K, method, seed, (row0 + r) * width + j, 0.0, True, buffers)
            n_iter[r, j] = _lloyd(x, mu, label, count, acc, max_iter)
            # stable order by decreasing count
            for i in range(1, K):
                p = i
                while p > 0 and count[p] > count[p - 1]:
                    tmp = count[p]
                    count[p] = count[p - 1]
                    count[p - 1] = tmp
                    for c in range(C):
                        v = mu[p, c]
                        mu[p, c] = mu[p - 1, c]
                        mu[p - 1, c] = v
                    p -= 1
            for k in range(K):
                weights[r, j, k] = count[k] / T
                for c in range(C):
                    centers[r, j, k, c] = mu[k, c]


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _kmeans_apply_rows(r0, r1, frame, centers, weights, bg_ratio, thr2, alpha, mask):
    """Rows ``[r0, r1)`` of :func:`kmeans_apply` (IN ``r0, r1``: the row band; the
    other arguments are :func:`kmeans_apply`'s)."""
    _H, W, C = frame.shape
    K = weights.shape[2]
    for r in range(r0, r1):
        d2 = np.empty(K)
        xs = np.empty(C)
        for j in range(W):
            for c in range(C):
                xs[c] = float(frame[r, j, c])
            for k in range(K):
                d = 0.0
                for c in range(C):
                    e = xs[c] - centers[r, j, k, c]
                    d += e * e
                d2[k] = d
            mask[r, j] = 255 if ranked_foreground(d2, weights, r, j, thr2, bg_ratio) else 0
            if alpha <= 0.0:
                continue
            if alpha >= 1.0:
                restart_pixel(weights, centers, r, j, xs)
                continue
            matched = -1
            best = thr2
            for k in range(K):
                if d2[k] < best:
                    best = d2[k]
                    matched = k
            if matched < 0:
                matched = K - 1
                weights[r, j, matched] = 0.0
                for c in range(C):
                    centers[r, j, matched, c] = xs[c]
            else:
                for c in range(C):
                    centers[r, j, matched, c] += alpha * (xs[c] - centers[r, j, matched, c])
            blend_weights(weights, r, j, matched, alpha)
            for i in range(1, K):
                p = i
                while p > 0 and weights[r, j, p] > weights[r, j, p - 1]:
                    tmp = weights[r, j, p]
                    weights[r, j, p] = weights[r, j, p - 1]
                    weights[r, j, p - 1] = tmp
                    for c in range(C):
                        v = centers[r, j, p, c]
                        centers[r, j, p, c] = centers[r, j, p - 1, c]
                        centers[r, j, p - 1, c] = v
                    p -= 1


# --------------------------------------------------------------------------- drivers
def kmeans_fit(*args, n_threads=1):
    """Per-pixel k-means of a block; clusters ordered by decreasing size.

    Parameters
    ----------
    data : (T, R, W, C) array
        Samples (uint8 or float, 0–255 scale).
    K : int
        Number of clusters.
    method : int
        Initial centres: ``INIT_QUANTILE`` (means of K brightness-quantile groups) or
        ``INIT_RANDOM`` (K distinct frames drawn by a hash of ``seed`` and the pixel's
        global index ``(row0 + r) * width + j``); see :func:`batch_em.em_init`.
    seed, row0, width : int
        As in :func:`batch_em.em_init`.
    max_iter : int
        Maximum number of assignment steps per pixel.
    centers : (R, W, K, C) float32
        Out: cluster centres.
    weights : (R, W, K) float32
        Out: fraction of the samples assigned to each cluster.
    n_iter : (R, W) int32
        Out: assignment steps run (fewer than ``max_iter`` when the labels settled).
    n_threads : int, keyword
        Threads (bands of rows); results do not depend on it.
    """
    run_bands(_kmeans_fit_rows, args[0].shape[1], n_threads, *args)


def kmeans_apply(*args, n_threads=1):
    """Classify a frame by its distance to each pixel's background clusters.

    Parameters
    ----------
    frame : (H, W, C) uint8 or float32
        The frame, 0–255 scale.
    centers, weights : (H, W, K, C), (H, W, K) float32
        Clusters ordered by decreasing weight (kept so by updates).
    bg_ratio : float
        Background clusters are the first ``b`` whose cumulative weight reaches it.
    thr2 : float
        Squared distance threshold: foreground when the squared Euclidean distance to
        every background centre is at least ``thr2``.
    alpha : float
        Online rate: 0 freezes; 1 re-initialises every pixel to one cluster at the
        frame; otherwise the nearest cluster within the threshold moves by ``alpha``
        towards the sample and the weights are updated as
        ``w_k <- (1 - alpha) w_k + alpha [k matched]``; a sample matching no cluster
        replaces the lightest one (weight ``alpha``).
    mask : (H, W) uint8
        Out: 255 foreground, 0 background.
    n_threads : int, keyword
        Threads (bands of rows); results do not depend on it.
    """
    run_bands(_kmeans_apply_rows, args[0].shape[0], n_threads, *args)
