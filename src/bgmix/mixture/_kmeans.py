"""``KMeans`` (Lloyd's algorithm with k-means++ seeding) and ``kmeans_plusplus``."""

from __future__ import annotations

import logging
import numbers
import warnings
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bgmix._threads import resolve_n_jobs
from bgmix._validation import Interval, Options, check_random_state, validate_params
from bgmix.exceptions import ConvergenceWarning, ParameterError
from bgmix.mixture._checks import check_array
from bgmix.mixture._estimator import BaseEstimator

__all__ = ["KMeans", "kmeans_plusplus"]

logger = logging.getLogger(__name__)


def _kernels():
    from bgmix._kernels import kmeans

    return kmeans


def _rows(n_samples: int, n_stats: int) -> int:
    from bgmix._kernels.mixture import block_layout

    return block_layout(n_samples, n_stats)[0]


def kmeans_plusplus(
    X: ArrayLike,
    n_clusters: int,
    *,
    random_state: int | np.random.Generator | np.random.RandomState | None = None,
    n_local_trials: int | None = None,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, NDArray[np.int64]]:
    """Choose initial cluster centres with greedy k-means++.

    The first centre is a uniformly random sample; each next one is the best (lowest
    resulting potential) of ``n_local_trials`` candidates drawn with probability
    proportional to the squared distance to the nearest centre already chosen.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    n_clusters : int
        Number of centres, at most ``n_samples``.
    random_state : int, Generator, RandomState or None
    n_local_trials : int, optional
        Candidates per centre; default ``2 + int(log(n_clusters))``.
    n_jobs : int, optional
        Threads (None or -1: all).

    Returns
    -------
    centers : (n_clusters, n_features) ndarray, dtype of ``X``
    indices : (n_clusters,) int64 ndarray
        Rows of ``X`` chosen as centres.

    Notes
    -----
    With ``D(x)`` the squared distance from ``x`` to the nearest chosen centre, a
    candidate is drawn with probability ``D(x) / sum_x D(x)``; the potential of a
    set of centres is ``sum_x D(x)`` (the k-means objective).

    References
    ----------
    .. [1] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
       seeding", Proc. 18th ACM-SIAM SODA, 2007.
    """
    X = check_array(X, estimator="kmeans_plusplus")
    n_clusters = _check_count("n_clusters", n_clusters, X.shape[0])
    if n_local_trials is not None:
        n_local_trials = _check_count("n_local_trials", n_local_trials, None)
    rng = check_random_state(random_state)
    indices = _plusplus(X, n_clusters, rng, n_local_trials, resolve_n_jobs(n_jobs))
    return X[indices].copy(), indices


def _check_count(name: str, value: Any, most: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ParameterError(f"{name} must be an integer >= 1; got {value!r}")
    if most is not None and value > most:
        raise ParameterError(f"n_samples={most} should be >= {name}={value}.")
    return int(value)


def _plusplus(
    X: np.ndarray,
    n_clusters: int,
    rng: np.random.Generator,
    n_local_trials: int | None,
    threads: int,
) -> NDArray[np.int64]:
    kern = _kernels()
    n_samples = X.shape[0]
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    rows = _rows(n_samples, n_local_trials)
    indices = np.empty(n_clusters, np.int64)
    indices[0] = rng.integers(n_samples)
    closest = np.empty(n_samples, np.float64)
    kern.sq_dist_to_point(X, X[indices[0]].astype(np.float64), closest, rows, threads)
    potential = float(closest.sum())
    for c in range(1, n_clusters):
        cumulative = np.cumsum(closest)
        draws = rng.uniform(size=n_local_trials) * potential
        candidates = np.minimum(np.searchsorted(cumulative, draws), n_samples - 1)
        pots = kern.candidate_potentials(
            X, X[candidates].astype(np.float64), closest, rows, threads
        )
        best = int(np.argmin(pots))
        potential = float(pots[best])
        indices[c] = candidates[best]
        kern.update_closest(X, X[indices[c]].astype(np.float64), closest, rows, threads)
    return indices


class KMeans(BaseEstimator):
    """k-means clustering by Lloyd's algorithm with k-means++ seeding.

    Same interface and semantics as ``sklearn.cluster.KMeans`` (Lloyd variant, no
    sample weights), with multi-threaded Numba kernels.

    Parameters
    ----------
    n_clusters : int, default 8
        Number of clusters ``K``.
    init : {"k-means++", "random"} or array-like of shape (K, D), default "k-means++"
        Greedy k-means++ seeding, ``K`` distinct random samples, or given centres.
    n_init : "auto" or int, default "auto"
        Number of runs with different seeds; the lowest inertia is kept. "auto" is 1
        for k-means++ or given centres and 10 for "random".
    max_iter : int, default 300
        Most Lloyd iterations per run.
    tol : float, default 1e-4
        A run stops when the squared centre shift (summed over clusters) is at most
        ``tol`` times the mean per-feature variance of the data, or when no label
        changes.
    verbose : int, default 0
        Log (INFO, logger ``bgmix.mixture._kmeans``) the inertia of every run.
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Seeds the initialisation and the ``max_samples`` subsample.
    max_samples : int, optional
        Cluster a random subsample of at most this many rows, then label every row
        (``labels_`` and ``inertia_`` are over all of ``X``).
    n_jobs : int, optional
        Threads (None or -1: all).

    Attributes
    ----------
    cluster_centers_ : (K, D) ndarray, dtype of ``X``
    labels_ : (n_samples,) int32 ndarray
        Cluster of each training sample.
    inertia_ : float
        Sum of squared distances of the samples to their nearest centre.
    n_iter_ : int
        Lloyd iterations of the kept run.
    n_features_in_ : int

    Notes
    -----
    Lloyd's algorithm alternates the assignment
    :math:`c(i) = \\arg\\min_k \\lVert x_i - \\mu_k \\rVert^2` and the update
    :math:`\\mu_k = \\frac{1}{|C_k|} \\sum_{i \\in C_k} x_i`; each step lowers the
    inertia :math:`\\sum_i \\lVert x_i - \\mu_{c(i)} \\rVert^2`. A cluster left
    empty is moved to the sample farthest from its centre (as scikit-learn does).
    After the last update the samples are assigned once more, so ``labels_`` always
    matches ``cluster_centers_`` and ``predict``.

    References
    ----------
    .. [1] S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory
       28(2), 1982.
    .. [2] D. Arthur and S. Vassilvitskii, "k-means++: the advantages of careful
       seeding", SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix.mixture import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> km.inertia_
    16.0
    """

    _estimator_type = "clusterer"
    _fitted_attr = "cluster_centers_"

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left")],
        "init": [Options({"k-means++", "random"}), "array-like"],
        "n_init": [Options({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0.0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "max_samples": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "n_jobs": ["n_jobs"],
    }

    def __init__(
        self,
        n_clusters: int = 8,
        *,
        init: str | ArrayLike = "k-means++",
        n_init: str | int = "auto",
        max_iter: int = 300,
        tol: float = 1e-4,
        verbose: int = 0,
        random_state: int | np.random.Generator | np.random.RandomState | None = None,
        max_samples: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self._store_params(locals())

    # ------------------------------------------------------------------ fit
    def fit(self, X: ArrayLike, y: Any = None) -> KMeans:
        """Cluster ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            float32 stays float32.
        y : ignored

        Returns
        -------
        self
        """
        validate_params(self, self._parameter_constraints)
        name = type(self).__name__
        X = check_array(X, estimator=name)
        n_samples, n_features = X.shape
        k = self.n_clusters
        rng = check_random_state(self.random_state)
        X_fit = X
        if self.max_samples is not None and n_samples > max(self.max_samples, k):
            rows = np.sort(rng.choice(n_samples, size=max(int(self.max_samples), k), replace=False))
            X_fit = np.ascontiguousarray(X[rows])
        if X_fit.shape[0] < k:
            raise ParameterError(f"n_samples={X_fit.shape[0]} should be >= n_clusters={k}.")
        init_centers = None
        if not isinstance(self.init, str):
            init_centers = check_array(self.init, estimator=name, name="init").astype(np.float64)
            if init_centers.shape != (k, n_features):
                raise ParameterError(
                    f"The shape of the initial centers {init_centers.shape} does not match the "
                    f"number of clusters {k} and the number of features {n_features}: expected "
                    f"({k}, {n_features})."
                )
        n_init = self._n_init_runs(init_centers is not None)
        tol = float(np.mean(np.var(X_fit, axis=0, dtype=np.float64))) * self.tol

        threads = resolve_n_jobs(self.n_jobs)
        best: tuple[float, np.ndarray, np.ndarray, int] | None = None
        for run in range(n_init):
            if init_centers is not None:
                centers = init_centers.copy()
            elif self.init == "k-means++":
                centers = X_fit[_plusplus(X_fit, k, rng, None, threads)].astype(np.float64)
            else:
                centers = X_fit[rng.choice(X_fit.shape[0], size=k, replace=False)].astype(
                    np.float64
                )
            labels, inertia, centers, n_iter = _lloyd(X_fit, centers, self.max_iter, tol, threads)
            if self.verbose:
                logger.info("%s: run %d, %d iterations, inertia %.6g", name, run, n_iter, inertia)
            if best is None or inertia < best[0]:
                best = (inertia, labels, centers, n_iter)
        assert best is not None
        inertia, labels, centers, n_iter = best
        if X_fit is not X:
            labels, inertia = _assign(X, centers, threads)
        distinct = np.unique(labels).size
        if distinct < k:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than n_clusters ({k}). "
                "Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = centers.astype(X.dtype)
        self.labels_ = labels
        self.inertia_ = float(inertia)
        self.n_iter_ = int(n_iter)
        self.n_features_in_ = int(n_features)
        return self

    def _n_init_runs(self, given_centers: bool) -> int:
        if self.n_init == "auto":
            return 10 if isinstance(self.init, str) and self.init == "random" else 1
        if given_centers and self.n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"KMeans instead of n_init={self.n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            return 1
        return int(self.n_init)

    def fit_predict(self, X: ArrayLike, y: Any = None) -> NDArray[np.int32]:
        """Fit, then return ``labels_``: the cluster of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        labels : (n_samples,) int32 ndarray
        """
        return self.fit(X).labels_

    def fit_transform(self, X: ArrayLike, y: Any = None) -> np.ndarray:
        """Fit, then return the distance of every sample to every centre.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        distances : (n_samples, n_clusters) ndarray, dtype of ``X``
        """
        return self.fit(X).transform(X)

    # ------------------------------------------------------------ inference
    def predict(self, X: ArrayLike) -> NDArray[np.int32]:
        """Nearest centre of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : (n_samples,) int32 ndarray
        """
        X = self._validate_new(X)
        return _assign(X, self._centers64(), resolve_n_jobs(self.n_jobs))[0]

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Euclidean distance of every sample to every cluster centre.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        distances : (n_samples, n_clusters) ndarray, dtype of ``X``
        """
        X = self._validate_new(X)
        out = np.empty((X.shape[0], self.cluster_centers_.shape[0]), X.dtype)
        threads = resolve_n_jobs(self.n_jobs)
        _kernels().distances(X, self._centers64(), out, _rows(X.shape[0], 1), threads)
        return out

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Opposite of the inertia of ``X`` with the fitted centres (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        float
        """
        X = self._validate_new(X)
        return -float(_assign(X, self._centers64(), resolve_n_jobs(self.n_jobs))[1])

    def _centers64(self) -> np.ndarray:
        # A fresh writable float64 copy: one kernel signature for any attribute storage.
        return np.array(self.cluster_centers_, np.float64, order="C")

    def _tag_values(self) -> dict[str, Any]:
        return {"preserves_dtype": ["float64", "float32"]}


def _assign(X: np.ndarray, centers: np.ndarray, threads: int) -> tuple[NDArray[np.int32], float]:
    labels = np.empty(X.shape[0], np.int32)
    dist = np.empty(X.shape[0], np.float64)
    inertia = _kernels().assign(X, centers, labels, dist, _rows(X.shape[0], 1), threads)
    return labels, float(inertia)


def _lloyd(
    X: np.ndarray, centers: np.ndarray, max_iter: int, tol: float, threads: int
) -> tuple[NDArray[np.int32], float, np.ndarray, int]:
    """One k-means run from ``centers``: ``(labels, inertia, centers, n_iter)``."""
    kern = _kernels()
    n_samples, n_features = X.shape
    k = centers.shape[0]
    rows = _rows(n_samples, k * (n_features + 1))
    labels = np.full(n_samples, -1, np.int32)
    dist = np.empty(n_samples, np.float64)
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        sums, counts, _, n_changed = kern.lloyd_step(X, centers, labels, dist, rows, threads)
        totals = sums + counts[:, None] * centers  # sum of the members, per cluster
        empty = np.flatnonzero(counts == 0)
        if empty.size:
            far = np.argsort(dist, kind="stable")[::-1][: empty.size]
            for c, i in zip(empty, far, strict=True):
                old = labels[i]
                if counts[old] > 1:
                    totals[old] -= X[i]
                    counts[old] -= 1
                totals[c] = X[i]
                counts[c] = 1
        new_centers = centers.copy()
        filled = counts > 0
        new_centers[filled] = totals[filled] / counts[filled, None]
        shift = float(np.sum((new_centers - centers) ** 2))
        centers = new_centers
        if n_changed == 0:
            break
        if shift <= tol:
            break
    labels, inertia = _assign(X, centers, threads)
    return labels, inertia, centers, n_iter
