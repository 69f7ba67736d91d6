"""GaussianMixture behaviour: invariants, options, degenerate data and errors."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from bgmix.exceptions import (
    ConvergenceWarning,
    FrameFormatError,
    FrameSizeError,
    NotFittedError,
    ParameterError,
)
from bgmix.mixture import GaussianMixture
from tests.mixture.conftest import blobs, initial_parameters

COV_TYPES = ["full", "tied", "diag", "spherical"]
INITS = ["kmeans", "k-means++", "random", "random_from_data"]


@pytest.mark.parametrize("covariance_type", COV_TYPES)
@pytest.mark.parametrize("init_params", INITS)
def test_invariants(X3, covariance_type, init_params):
    gm = GaussianMixture(
        3, covariance_type=covariance_type, init_params=init_params, random_state=0, max_iter=200
    )
    labels = gm.fit_predict(X3)
    proba = gm.predict_proba(X3)
    np.testing.assert_allclose(proba.sum(1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(labels, gm.predict(X3))
    np.testing.assert_array_equal(gm.predict(X3), proba.argmax(1))
    np.testing.assert_allclose(gm.weights_.sum(), 1.0, rtol=1e-12)
    # EM never decreases the lower bound
    assert np.all(np.diff(gm.lower_bounds_) >= -1e-10)
    assert gm.lower_bound_ == gm.lower_bounds_[-1] and gm.n_iter_ == len(gm.lower_bounds_)
    # precisions are the inverses of the covariances, and U U^T = precisions
    if covariance_type in ("full", "tied"):
        eye = np.broadcast_to(np.eye(3), gm.covariances_.shape)
        np.testing.assert_allclose(gm.covariances_ @ gm.precisions_, eye, atol=1e-8)
        u = gm.precisions_cholesky_
        np.testing.assert_allclose(u @ np.swapaxes(u, -1, -2), gm.precisions_, rtol=1e-10)
        np.testing.assert_array_equal(u, np.triu(u))
    else:
        np.testing.assert_allclose(gm.covariances_ * gm.precisions_, 1.0, rtol=1e-10)
    # score is the mean of score_samples, which is log(sum_k exp(weighted log prob))
    np.testing.assert_allclose(gm.score(X3), gm.score_samples(X3).mean(), rtol=1e-12)


def test_recovers_the_blobs(X3):
    gm = GaussianMixture(3, random_state=0).fit(X3)
    centres = np.sort(gm.means_[:, 0])
    np.testing.assert_allclose(centres, [0.0, 5.0, 10.0], atol=0.5)
    assert gm.converged_


def test_fit_predict_equals_fit_then_predict_even_when_not_converged(X3):
    kw = dict(max_iter=2, tol=1e-10, init_params="random", random_state=1)
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        a = GaussianMixture(3, **kw).fit_predict(X3)
    with pytest.warns(ConvergenceWarning):
        gm = GaussianMixture(3, **kw).fit(X3)
    np.testing.assert_array_equal(a, gm.predict(X3))
    assert not gm.converged_ and gm.n_iter_ == 2


def test_n_init_never_worse(X3):
    one = GaussianMixture(3, init_params="random", random_state=3, max_iter=30, tol=1e-6)
    many = GaussianMixture(3, init_params="random", random_state=3, max_iter=30, tol=1e-6, n_init=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert many.fit(X3).lower_bound_ >= one.fit(X3).lower_bound_


def test_max_iter_zero_keeps_the_initialisation(X3):
    w, m, p = initial_parameters(X3, "full")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gm = GaussianMixture(3, max_iter=0, weights_init=w, means_init=m, precisions_init=p).fit(X3)
    np.testing.assert_allclose(gm.means_, m)
    np.testing.assert_allclose(gm.precisions_, p)
    np.testing.assert_allclose(gm.covariances_, np.linalg.inv(p))
    assert gm.n_iter_ == 0 and gm.lower_bound_ == -np.inf and not gm.converged_


def test_warm_start_continues(X3):
    kw = dict(random_state=0, tol=0.0, init_params="random")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        straight = GaussianMixture(3, max_iter=6, **kw).fit(X3)
        warm = GaussianMixture(3, max_iter=3, warm_start=True, **kw).fit(X3)
        first = warm.means_.copy()
        warm.fit(X3)
    assert not np.allclose(first, warm.means_)
    np.testing.assert_allclose(warm.means_, straight.means_, rtol=1e-10)
    np.testing.assert_allclose(warm.lower_bound_, straight.lower_bound_, rtol=1e-12)


def test_warm_start_ignores_n_init_and_checks_features(X3):
    gm = GaussianMixture(3, warm_start=True, random_state=0).fit(X3)
    with pytest.raises(FrameSizeError, match="X has 2 features"):
        gm.fit(X3[:, :2])


def test_float32_is_kept(X3):
    X = X3.astype(np.float32)
    gm = GaussianMixture(3, random_state=0).fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(gm, name).dtype == np.float32, name
    assert gm.predict_proba(X).dtype == np.float32
    assert gm.score_samples(X).dtype == np.float32
    ref = GaussianMixture(3, random_state=0).fit(X.astype(np.float64))
    np.testing.assert_allclose(np.sort(gm.means_, 0), np.sort(ref.means_, 0), atol=1e-4)


def test_integer_and_list_input_become_float64():
    X = blobs(n_per=40).round().astype(np.int64)
    gm = GaussianMixture(2, random_state=0).fit(X.tolist())
    assert gm.means_.dtype == np.float64


@pytest.mark.parametrize("seed_kind", ["int", "generator", "randomstate"])
def test_random_state_kinds_are_reproducible(X3, seed_kind):
    def make():
        return {
            "int": 7,
            "generator": np.random.default_rng(7),
            "randomstate": np.random.RandomState(7),
        }[seed_kind]

    a = GaussianMixture(3, init_params="random_from_data", random_state=make()).fit(X3)
    b = GaussianMixture(3, init_params="random_from_data", random_state=make()).fit(X3)
    np.testing.assert_array_equal(a.means_, b.means_)


def test_shared_generator_advances(X3):
    rng = np.random.default_rng(0)
    gm = GaussianMixture(3, init_params="random", random_state=rng, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = gm.fit(X3).means_.copy()
        second = gm.fit(X3).means_.copy()
    assert not np.array_equal(first, second)


def test_max_samples_fits_on_a_subsample_and_labels_everything():
    X = blobs(n_per=2000, seed=10)
    gm = GaussianMixture(3, random_state=0, max_samples=500)
    labels = gm.fit_predict(X)
    assert labels.shape == (len(X),)
    np.testing.assert_array_equal(labels, gm.predict(X))
    full = GaussianMixture(3, random_state=0).fit(X)
    np.testing.assert_allclose(np.sort(gm.means_[:, 0]), np.sort(full.means_[:, 0]), atol=0.3)
    again = GaussianMixture(3, random_state=0, max_samples=500).fit(X)
    np.testing.assert_array_equal(again.means_, gm.means_)


def test_sample(X3):
    gm = GaussianMixture(3, random_state=0).fit(X3)
    Xs, ys = gm.sample(30_000)
    assert Xs.shape == (30_000, 3) and ys.shape == (30_000,) and ys.dtype == np.int64
    np.testing.assert_allclose(np.bincount(ys, minlength=3) / 30_000, gm.weights_, atol=0.015)
    for k in range(3):
        np.testing.assert_allclose(Xs[ys == k].mean(0), gm.means_[k], atol=0.1)
        np.testing.assert_allclose(np.cov(Xs[ys == k].T), gm.covariances_[k], atol=0.1)
    again, _ = gm.sample(30_000)
    np.testing.assert_array_equal(Xs, again)  # an int random_state repeats the draws
    with pytest.raises(ParameterError, match="n_samples"):
        gm.sample(0)


@pytest.mark.parametrize("covariance_type", ["tied", "diag", "spherical"])
def test_sample_other_covariance_types(X3, covariance_type):
    gm = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X3)
    Xs, ys = gm.sample(20_000)
    for k in range(3):
        if covariance_type == "tied":
            cov = gm.covariances_
        elif covariance_type == "diag":
            cov = np.diag(gm.covariances_[k])
        else:
            cov = gm.covariances_[k] * np.eye(3)
        np.testing.assert_allclose(np.cov(Xs[ys == k].T), cov, atol=0.15)


def test_bic_aic_formulas(X3):
    gm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(X3)
    n = len(X3)
    p = 3 * 3 + 3 * 3 + 2  # diag covariances + means + free weights
    log_l = gm.score(X3) * n
    np.testing.assert_allclose(gm.bic(X3), -2 * log_l + p * np.log(n))
    np.testing.assert_allclose(gm.aic(X3), -2 * log_l + 2 * p)
    # the true number of components has the lowest BIC
    bics = [GaussianMixture(k, random_state=0).fit(X3).bic(X3) for k in (1, 2, 3, 4)]
    assert int(np.argmin(bics)) == 2


# ------------------------------------------------------------ degenerate data


def test_constant_data_is_regularised_not_nan():
    X = np.full((50, 3), 128.0)
    # like scikit-learn, the k-means initialisation warns about the duplicate points
    with pytest.warns(ConvergenceWarning, match="distinct clusters"):
        gm = GaussianMixture(2, random_state=0).fit(X)
    assert np.all(np.isfinite(gm.means_)) and np.all(np.isfinite(gm.covariances_))
    heavy = int(np.argmax(gm.weights_))
    np.testing.assert_allclose(gm.means_[heavy], 128.0)
    np.testing.assert_allclose(gm.weights_[heavy], 1.0)
    np.testing.assert_allclose(np.diag(gm.covariances_[heavy]), gm.reg_covar, rtol=1e-6)
    assert np.all(np.isfinite(gm.score_samples(X)))


def test_saturated_pixels_and_more_components_than_distinct_points():
    X = np.array([[0, 0, 0]] * 30 + [[255, 255, 255]] * 30, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = GaussianMixture(4, random_state=0, covariance_type="diag").fit(X)
    assert np.all(np.isfinite(gm.means_)) and np.all(np.isfinite(gm.covariances_))
    assert set(np.unique(gm.predict(X)).tolist()) <= set(range(4))


def test_ill_defined_covariance_names_reg_covar():
    X = np.array([[1.0, 2.0]] * 10 + [[3.0, 4.0]] * 10)
    with pytest.raises(ParameterError, match="reg_covar"):
        GaussianMixture(2, reg_covar=0.0, random_state=0).fit(X)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("n_components", 0),
        ("n_components", 1.5),
        ("covariance_type", "banana"),
        ("tol", -1.0),
        ("reg_covar", -1e-3),
        ("max_iter", -1),
        ("n_init", 0),
        ("init_params", "kmeans+"),
        ("random_state", "seed"),
        ("warm_start", 1),
        ("verbose", -1),
        ("verbose_interval", 0),
        ("max_samples", 1),
        ("n_jobs", 0),
        ("means_init", "zeros"),
    ],
)
def test_bad_parameters_raise_at_fit(X3, param, value):
    gm = GaussianMixture(**{"n_components": 3, param: value})  # no error at construction
    with pytest.raises(ParameterError, match=f"'{param}' parameter of GaussianMixture"):
        gm.fit(X3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"weights_init": [0.5, 0.5]}, "shape"),
        ({"weights_init": [0.5, 0.6, -0.1]}, r"range \[0, 1\]"),
        ({"weights_init": [0.2, 0.2, 0.2]}, "normalized"),
        ({"means_init": np.zeros((3, 2))}, "shape"),
        ({"precisions_init": np.ones((3, 3))}, "shape"),
        ({"precisions_init": -np.ones((3, 3, 3)) * np.eye(3)}, "positive-definite"),
        ({"covariance_type": "diag", "precisions_init": -np.ones((3, 3))}, "positive"),
    ],
)
def test_bad_initial_parameters(X3, kwargs, match):
    with pytest.raises(ParameterError, match=match):
        GaussianMixture(3, **kwargs).fit(X3)


def test_more_components_than_samples():
    with pytest.raises(ParameterError, match="n_components = 5, n_samples = 3"):
        GaussianMixture(5).fit(np.random.default_rng(0).normal(size=(3, 2)))


@pytest.mark.parametrize(
    ("X", "exc", "match"),
    [
        (np.array([1.0, 2.0, 3.0]), FrameFormatError, "Reshape your data"),
        (np.array([[1.0, np.nan], [2.0, 3.0], [1.0, 1.0]]), FrameFormatError, "NaN"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]), FrameFormatError, "infinity"),
        (np.zeros((0, 3)), FrameFormatError, "0 sample"),
        (np.zeros((5, 0)), FrameFormatError, "0 feature"),
        (np.zeros((5, 2)) + 1j, FrameFormatError, "Complex"),
        (np.array([["a", "b"], ["c", "d"]]), FrameFormatError, "float"),
        (np.zeros((4, 2, 2)), FrameFormatError, "dim 3"),
    ],
)
def test_bad_input_arrays(X, exc, match):
    with pytest.raises(exc, match=match):
        GaussianMixture(1).fit(X)


def test_errors_are_also_builtin_types():
    with pytest.raises(ValueError):
        GaussianMixture(1).fit(np.array([1.0, 2.0]))
    with pytest.raises(TypeError):
        GaussianMixture(1).fit(np.array([[{"a": 1}, 2.0], [1.0, 2.0]], dtype=object))


def test_sparse_input_is_refused():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(FrameFormatError, match="sparse"):
        GaussianMixture(1).fit(sparse.csr_matrix(np.eye(3)))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score_samples", "score", "bic"])
def test_not_fitted(method):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(GaussianMixture(), method)(np.zeros((3, 2)))
    with pytest.raises(NotFittedError):
        GaussianMixture().sample(3)


def test_feature_count_checked_after_fit(X3):
    gm = GaussianMixture(2, random_state=0).fit(X3)
    with pytest.raises(
        FrameSizeError, match="X has 2 features, but GaussianMixture is expecting 3"
    ):
        gm.predict(X3[:, :2])


def test_verbose_logs_and_never_prints(X3, caplog, capsys):
    with caplog.at_level(logging.INFO, logger="bgmix.mixture"):
        GaussianMixture(3, verbose=2, verbose_interval=1, random_state=0).fit(X3)
    assert capsys.readouterr().out == ""
    text = caplog.text
    assert "initialization 0" in text and "iteration 1" in text and "converged" in text


def test_parameters_are_stored_untouched_and_repr():
    means = np.zeros((2, 3))
    gm = GaussianMixture(2, means_init=means, covariance_type="diag", tol=1e-4)
    assert gm.means_init is means
    assert gm.get_params()["tol"] == 1e-4
    text = repr(gm)
    assert text.startswith("GaussianMixture(") and "covariance_type='diag'" in text
    assert "tol=0.0001" in text and "reg_covar" not in text
    assert gm.set_params(n_components=4, tol=0.1) is gm and gm.n_components == 4
    with pytest.raises(ParameterError, match="Invalid parameter 'colour'"):
        gm.set_params(colour=3)
