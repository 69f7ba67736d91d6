"""k-means kernels: Lloyd iterations, nearest-centre assignment, k-means++ seeding.

Pure functions over arrays, no validation. Squared Euclidean distances are computed
directly as ``sum_j (x_j - c_j)^2`` (no ``|x|^2 - 2 x.c + |c|^2`` expansion, so no
cancellation and no need to centre the data). Reductions go through per-block
partial sums over a block layout that depends only on the data size, summed in
block order, so every result is independent of the number of threads (see
:func:`bgmix._kernels.mixture.block_layout`).

The kernels are serial, cached, GIL-free Numba functions over a range of blocks;
:func:`bgmix._threads.run_bands` runs the ranges on ``n_threads`` threads. ``X`` is passed as a
read-only view, so writable and read-only inputs share one compiled version.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from bgmix._kernels._config import FASTMATH, readonly
from bgmix._threads import run_bands

__all__ = [
    "assign",
    "candidate_potentials",
    "distances",
    "lloyd_step",
    "sq_dist_to_point",
    "update_closest",
]


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _sq_dist(X, i, centers, k):
    d = 0.0
    for j in range(X.shape[1]):
        t = X[i, j] - centers[k, j]
        d += t * t
    return d


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _distance_block(X, start, stop, centers, out):
    for i in range(start, stop):
        for k in range(centers.shape[0]):
            out[i, k] = np.sqrt(_sq_dist(X, i, centers, k))


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _potential_block(X, start, stop, candidates, closest, pots):
    for i in range(start, stop):
        for t in range(candidates.shape[0]):
            pots[t] += min(_sq_dist(X, i, candidates, t), closest[i])


@njit(fastmath=FASTMATH, cache=True, nogil=True)
def _closest_block(X, start, stop, points, closest):
    for i in range(start, stop):
        d = _sq_dist(X, i, points, 0)
        if d < closest[i]:
            closest[i] = d


# Block ranges [b0, b1) of ``rows`` rows, run by run_bands.


@njit(fastmath=FASTMATH, inline="always")
def nearest_center(X, i, centers, nf):
    """``(k, d)``: the centre ``k`` of ``centers`` (K, ``nf``) nearest to row ``i`` of
    ``X`` and its squared distance ``d`` (the first of equally near ones)."""
    best = 0
    best_d = np.inf
    for k in range(centers.shape[0]):
        d = 0.0
        for j in range(nf):
            t = X[i, j] - centers[k, j]
            d += t * t
        if d < best_d:
            best_d = d
            best = k
    return best, best_d


@njit(fastmath=FASTMATH, inline="always")
def _lloyd_block(X, start, stop, nf, centers, labels, dist, sums, counts):
    """Assign rows ``start:stop`` (IN) of ``X`` (N, ``nf``) to their nearest ``centers``
    (K, nf): ``labels`` (N,) int32 IN/OUT, ``dist`` (N,) OUT, ``sums`` (K, nf) and
    ``counts`` (K,) OUT (accumulated); returns ``(inertia, n_changed)`` of the block."""
    inertia = 0.0
    changed = 0
    for i in range(start, stop):
        best, best_d = nearest_center(X, i, centers, nf)
        if labels[i] != best:
            changed += 1
            labels[i] = best
        dist[i] = best_d
        inertia += best_d
        counts[best] += 1.0
        for j in range(nf):
            sums[best, j] += X[i, j] - centers[best, j]
    return inertia, changed


def _lloyd_kernel(n_features):
    """The Lloyd range kernel, written once, built for ``n_features`` features (0: any).

    A fixed count (3 for pixels) lets LLVM unroll the feature loops and keep the
    sample in registers, about twice as fast as the general loops. Only the plain
    constant is captured, so the compiled code is cached on disk.
    """

    @njit(fastmath=FASTMATH, cache=True, nogil=True)
    def lloyd_range(
        b0, b1, X, rows, centers, labels, dist, part_sums, part_counts, part_inertia, part_changed
    ):
        """Blocks ``[b0, b1)`` of ``rows`` rows: labels, distances and per-block sums."""
        nf = X.shape[1] if n_features == 0 else n_features
        n = X.shape[0]
        for b in range(b0, b1):
            start, stop = b * rows, min(n, (b + 1) * rows)
            inertia, changed = _lloyd_block(
                X, start, stop, nf, centers, labels, dist, part_sums[b], part_counts[b]
            )
            part_inertia[b] = inertia
            part_changed[b] = changed

    return lloyd_range


#: Lloyd range kernels for 3 features and for any number.
_LLOYD = {3: _lloyd_kernel(3), 0: _lloyd_kernel(0)}


@njit(cache=True, nogil=True)
def _distance_range(b0, b1, X, rows, centers, out):
    n = X.shape[0]
    for b in range(b0, b1):
        _distance_block(X, b * rows, min(n, (b + 1) * rows), centers, out)


@njit(cache=True, nogil=True)
def _potential_range(b0, b1, X, rows, candidates, closest, part):
    n = X.shape[0]
    for b in range(b0, b1):
        _potential_block(X, b * rows, min(n, (b + 1) * rows), candidates, closest, part[b])


@njit(cache=True, nogil=True)
def _closest_range(b0, b1, X, rows, points, closest):
    n = X.shape[0]
    for b in range(b0, b1):
        _closest_block(X, b * rows, min(n, (b + 1) * rows), points, closest)


def _n_blocks(X, block_rows):
    return -(-X.shape[0] // block_rows)


def lloyd_step(X, centers, labels, dist, block_rows, n_threads=1):
    """Assign every sample to its nearest centre and sum the clusters.

    Parameters
    ----------
    X : (N, D) float32 or float64 array
    centers : (K, D) float64 array
    labels : (N,) int32 array, read as the previous labels and overwritten
    dist : (N,) float64 array, overwritten with each sample's squared distance
    block_rows : int
    n_threads : int, threads (a resolved ``n_jobs``); results do not depend on it

    Returns
    -------
    sums : (K, D) float64, ``sum_{i in k} (x_i - c_k)`` (sums around the old centre)
    counts : (K,) float64
    inertia : float, ``sum_i min_k |x_i - c_k|^2``
    n_changed : int, how many labels differ from the ones passed in
    """
    n_features = X.shape[1]
    k = centers.shape[0]
    n_blocks = _n_blocks(X, block_rows)
    part_sums = np.zeros((n_blocks, k, n_features))
    part_counts = np.zeros((n_blocks, k))
    part_inertia = np.zeros(n_blocks)
    part_changed = np.zeros(n_blocks, np.int64)
    run_bands(
        _LLOYD[3 if n_features == 3 else 0],
        n_blocks,
        n_threads,
        readonly(X),
        block_rows,
        centers,
        labels,
        dist,
        part_sums,
        part_counts,
        part_inertia,
        part_changed,
    )
    # Blocks summed in order: independent of how they were spread over threads.
    return (
        part_sums.sum(axis=0),
        part_counts.sum(axis=0),
        float(part_inertia.sum()),
        int(part_changed.sum()),
    )


def assign(X, centers, labels, dist, block_rows, n_threads=1):
    """Nearest centre of every sample: ``labels`` (N,) int32 and squared ``dist`` (N,).

    Returns the inertia ``sum_i dist_i`` (summed per block, in block order).
    """
    return lloyd_step(X, centers, labels, dist, block_rows, n_threads)[2]


def distances(X, centers, out, block_rows, n_threads=1):
    """Euclidean distances ``out[i, k] = |x_i - c_k|`` for (N, D) ``X``, (K, D) centres.

    ``out`` is (N, K), usually of the dtype of ``X``.
    """
    run_bands(
        _distance_range, _n_blocks(X, block_rows), n_threads, readonly(X), block_rows, centers, out
    )


def candidate_potentials(X, candidates, closest, block_rows, n_threads=1):
    """k-means++ potential of each candidate centre.

    ``pots[t] = sum_i min(closest_i, |x_i - candidates_t|^2)`` for (T, D)
    ``candidates`` and the current (N,) squared distance to the nearest chosen centre.
    """
    n_blocks = _n_blocks(X, block_rows)
    part = np.zeros((n_blocks, candidates.shape[0]))
    run_bands(
        _potential_range, n_blocks, n_threads, readonly(X), block_rows, candidates, closest, part
    )
    return part.sum(axis=0)


def update_closest(X, point, closest, block_rows, n_threads=1):
    """``closest[i] = min(closest[i], |x_i - point|^2)`` in place, for a (D,) ``point``."""
    points = np.ascontiguousarray(point, np.float64)[None, :]
    run_bands(
        _closest_range,
        _n_blocks(X, block_rows),
        n_threads,
        readonly(X),
        block_rows,
        points,
        closest,
    )


def sq_dist_to_point(X, point, out, block_rows, n_threads=1):
    """``out[i] = |x_i - point|^2`` for (N, D) ``X`` and a (D,) ``point``."""
    out.fill(np.inf)
    update_closest(X, point, out, block_rows, n_threads)
