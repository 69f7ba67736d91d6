"""KMeans and kmeans_plusplus behaviour, options and errors."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.exceptions import (
    ConvergenceWarning,
    FrameFormatError,
    FrameSizeError,
    NotFittedError,
    ParameterError,
)
from bgmix.mixture import KMeans, kmeans_plusplus
from tests.mixture.conftest import blobs


def oracle_lloyd(X, centers, n_iter):
    """Plain Lloyd iterations in NumPy (no empty clusters in the cases used)."""
    for _ in range(n_iter):
        d = ((X[:, None, :] - centers[None]) ** 2).sum(-1)
        labels = d.argmin(1)
        centers = np.stack([X[labels == k].mean(0) for k in range(len(centers))])
    return centers


def test_lloyd_matches_numpy_oracle(X3):
    init = X3[:3].copy()
    km = KMeans(3, init=init, max_iter=4, tol=0.0).fit(X3)
    np.testing.assert_allclose(km.cluster_centers_, oracle_lloyd(X3, init, 4), rtol=1e-10)


def test_converges_to_the_blobs_and_labels_match_centres(X3):
    km = KMeans(3, random_state=0).fit(X3)
    np.testing.assert_allclose(np.sort(km.cluster_centers_[:, 0]), [0, 5, 10], atol=0.5)
    d = ((X3[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(km.labels_, d.argmin(1))
    np.testing.assert_allclose(km.inertia_, d.min(1).sum(), rtol=1e-10)
    np.testing.assert_array_equal(km.predict(X3), km.labels_)
    np.testing.assert_allclose(km.transform(X3), np.sqrt(d), rtol=1e-10)
    np.testing.assert_allclose(km.score(X3), -km.inertia_, rtol=1e-10)
    np.testing.assert_array_equal(km.fit_predict(X3), km.labels_)
    assert km.labels_.dtype == np.int32


def test_n_init_auto_and_best_of_runs(X3):
    single = KMeans(6, init="random", n_init=1, random_state=0).fit(X3)
    auto = KMeans(6, init="random", random_state=0).fit(X3)  # "auto": 10 runs for random
    assert auto.inertia_ <= single.inertia_


def test_explicit_centres_run_once_with_a_warning(X3):
    with pytest.warns(RuntimeWarning, match="only one init"):
        KMeans(3, init=X3[:3], n_init=4).fit(X3)


def test_empty_cluster_is_relocated():
    X = np.vstack([np.zeros((20, 2)), np.ones((20, 2)) * 10, [[5.0, 40.0]]])
    init = np.array([[0.0, 0.0], [10.0, 10.0], [1000.0, 1000.0]])  # third starts empty
    km = KMeans(3, init=init).fit(X)
    assert np.all(np.isfinite(km.cluster_centers_))
    assert np.bincount(km.labels_, minlength=3).min() >= 1
    assert np.any(np.all(km.cluster_centers_ == [5.0, 40.0], axis=1))


def test_duplicate_points_warn():
    X = np.repeat([[1.0, 1.0], [2.0, 2.0]], 10, axis=0)
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        KMeans(3, random_state=0).fit(X)


def test_float32_kept(X3):
    km = KMeans(3, random_state=0).fit(X3.astype(np.float32))
    assert km.cluster_centers_.dtype == np.float32
    assert km.transform(X3.astype(np.float32)).dtype == np.float32


def test_max_samples_labels_every_sample():
    X = blobs(n_per=3000, seed=3)
    km = KMeans(3, random_state=0, max_samples=600).fit(X)
    assert km.labels_.shape == (len(X),)
    np.testing.assert_array_equal(km.labels_, km.predict(X))
    np.testing.assert_allclose(km.inertia_, -km.score(X), rtol=1e-10)
    full = KMeans(3, random_state=0).fit(X)
    assert km.inertia_ <= 1.02 * full.inertia_


def test_kmeans_plusplus_picks_one_seed_per_separated_blob():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [100, 0], [0, 100], [100, 100]], float)
    X = np.vstack([c + rng.normal(size=(50, 2)) for c in centres])
    for seed in range(5):
        seeds, idx = kmeans_plusplus(X, 4, random_state=seed)
        np.testing.assert_array_equal(seeds, X[idx])
        assert sorted((idx // 50).tolist()) == [0, 1, 2, 3]


def test_kmeans_plusplus_errors():
    X = np.zeros((3, 2))
    with pytest.raises(ParameterError, match="n_clusters"):
        kmeans_plusplus(X, 4)
    with pytest.raises(ParameterError, match="n_local_trials"):
        kmeans_plusplus(X, 2, n_local_trials=0)


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("n_clusters", 0),
        ("init", "best"),
        ("n_init", "many"),
        ("n_init", 0),
        ("max_iter", 0),
        ("tol", -1.0),
        ("random_state", -3),
        ("max_samples", 0),
    ],
)
def test_bad_parameters(X3, param, value):
    with pytest.raises(ParameterError, match=f"'{param}' parameter of KMeans"):
        KMeans(**{param: value}).fit(X3)


def test_bad_shapes_and_states(X3):
    with pytest.raises(ParameterError, match="n_samples=2 should be >= n_clusters=3"):
        KMeans(3).fit(X3[:2])
    with pytest.raises(ParameterError, match="shape of the initial centers"):
        KMeans(3, init=np.zeros((2, 3))).fit(X3)
    with pytest.raises(NotFittedError):
        KMeans(3).predict(X3)
    with pytest.raises(FrameFormatError, match="NaN"):
        KMeans(2).fit(np.array([[np.nan, 1.0], [1.0, 2.0]]))
    km = KMeans(3, random_state=0).fit(X3)
    with pytest.raises(FrameSizeError, match="X has 1 features, but KMeans is expecting 3"):
        km.transform(X3[:, :1])
