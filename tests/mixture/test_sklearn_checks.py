"""scikit-learn's common estimator checks on bgmix's GaussianMixture and KMeans.

scikit-learn is a test dependency only: the estimators never import it. The checks
run on the default estimators; the few clustering checks that scikit-learn yields
only for its own ``ClusterMixin`` subclasses are run explicitly below.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    check_clusterer_compute_labels_predict,
    check_clustering,
    check_non_transformer_estimators_n_iter,
    parametrize_with_checks,
)

from bgmix.mixture import GaussianMixture, KMeans  # noqa: E402

ESTIMATORS = [
    GaussianMixture(),
    GaussianMixture(covariance_type="diag", n_components=2),
    KMeans(n_clusters=3),
]

with warnings.catch_warnings():
    # The checks warn once that the estimators do not subclass sklearn's BaseEstimator:
    # by design (no scikit-learn at run time); the checks themselves still run.
    warnings.filterwarnings("ignore", message=".*does not inherit from", category=UserWarning)
    _CHECKS = parametrize_with_checks(ESTIMATORS)


@_CHECKS
def test_sklearn_compatible_estimator(estimator, check, monkeypatch):
    # scikit-learn runs its array-API input check (NumPy namespace) only with this set
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


@pytest.mark.parametrize("readonly", [False, True])
def test_check_clustering_kmeans(readonly):
    check_clustering("KMeans", KMeans(), readonly_memmap=readonly)


def test_check_clustering_gaussian_mixture():
    # check_clustering sets n_clusters; a mixture's equivalent is n_components.
    check_clustering("GaussianMixture", _GMMAsClusterer(n_components=3))


def test_check_compute_labels_and_n_iter():
    for est in (KMeans(), GaussianMixture()):
        check_clusterer_compute_labels_predict(type(est).__name__, est)
        check_non_transformer_estimators_n_iter(type(est).__name__, est)


class _GMMAsClusterer(GaussianMixture):
    """GaussianMixture exposing ``labels_`` and ``n_clusters`` as check_clustering wants."""

    @property
    def n_clusters(self):
        return self.n_components

    def set_params(self, **params):
        if "n_clusters" in params:
            params["n_components"] = params.pop("n_clusters")
        return super().set_params(**params)

    def fit(self, X, y=None):
        self.labels_ = super().fit_predict(X)
        return self


def test_clone_keeps_parameters_identical():
    means = np.zeros((2, 3))
    est = GaussianMixture(n_components=2, means_init=means, random_state=np.random.default_rng(1))
    twin = clone(est)
    assert twin is not est
    assert twin.get_params()["n_components"] == 2
    assert np.array_equal(twin.means_init, means)
