"""Gaussian mixtures and k-means with scikit-learn's interface, without scikit-learn.

:class:`GaussianMixture` (full, tied, diag and spherical covariances) and
:class:`KMeans` follow scikit-learn's estimator contract (parameters stored untouched,
validated in ``fit``, fitted attributes ending in ``_``, ``get_params``/``set_params``,
``sklearn.base.clone`` and the common estimator checks), and run their E-step,
M-step and Lloyd iterations in multi-threaded Numba kernels.

Examples
--------
>>> import numpy as np
>>> from bgmix.mixture import GaussianMixture
>>> rng = np.random.default_rng(0)
>>> X = np.vstack([rng.normal(0, 1, (200, 2)), rng.normal(6, 1, (200, 2))])
>>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
>>> [round(float(m)) for m in sorted(gm.means_[:, 0])]
[0, 6]
"""

from bgmix.mixture._gaussian_mixture import GaussianMixture
from bgmix.mixture._kmeans import KMeans, kmeans_plusplus

__all__ = ["GaussianMixture", "KMeans", "kmeans_plusplus"]
