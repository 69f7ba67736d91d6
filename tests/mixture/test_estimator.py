"""The estimator base and the validation helpers, without scikit-learn."""

from __future__ import annotations

import numbers
import pickle
import subprocess
import sys

import numpy as np
import pytest

from bgmix._validation import Interval, Options, check_random_state, validate_params
from bgmix.exceptions import NotFittedError, ParameterError
from bgmix.mixture import GaussianMixture, KMeans
from tests._imports import modules_loaded_by
from tests.mixture.conftest import blobs


def test_import_is_light():
    heavy = ("numba", "sklearn", "scipy", "matplotlib", "cv2")
    assert modules_loaded_by("bgmix.mixture, bgmix.segment", heavy) == []


def test_no_sklearn_import_anywhere_in_a_fit():
    code = (
        "import sys, numpy as np\n"
        "from bgmix.mixture import GaussianMixture, KMeans\n"
        "from bgmix.segment import segment_image\n"
        "X = np.random.default_rng(0).normal(size=(60, 3))\n"
        "g = GaussianMixture(2, random_state=0).fit(X); g.sample(5); g.__sklearn_tags__()\n"
        "KMeans(2, random_state=0).fit(X)\n"
        "img = np.zeros((8, 8, 3), np.uint8) + np.arange(8, dtype=np.uint8)[:, None, None]\n"
        "segment_image(img, 2, random_state=0)\n"
        "try:\n    GaussianMixture().predict(X)\n"
        "except Exception as e:\n    print(type(e).__mro__[1].__name__)\n"
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["BgmixError", "False"]


def test_tags_without_sklearn_mirror_its_fields():
    tags = KMeans().__sklearn_tags__()
    # sklearn is imported by other tests in this session; both paths give the same fields
    assert tags.estimator_type == "clusterer"
    assert tags.transformer_tags.preserves_dtype == ["float64", "float32"]
    assert tags.input_tags.sparse is False and tags.input_tags.allow_nan is False
    assert tags.target_tags.required is False and tags.requires_fit is True
    assert GaussianMixture().__sklearn_tags__().estimator_type == "density_estimator"


def test_not_fitted_error_is_catchable_as_sklearns_when_loaded():
    sk = pytest.importorskip("sklearn.exceptions")
    with pytest.raises(sk.NotFittedError) as info:
        KMeans().predict(np.zeros((2, 2)))
    assert isinstance(info.value, NotFittedError)


def test_pickle_round_trip(X3):
    gm = GaussianMixture(3, random_state=0).fit(X3)
    twin = pickle.loads(pickle.dumps(gm))
    np.testing.assert_array_equal(twin.predict_proba(X3), gm.predict_proba(X3))


def test_get_params_deep_and_nested_set_params():
    class Wrapper(GaussianMixture):
        def __init__(self, inner=None, n_components=1):
            super().__init__(n_components)
            self.inner = inner

    w = Wrapper(inner=KMeans(3))
    params = w.get_params(deep=True)
    assert params["inner__n_clusters"] == 3 and "inner" in params
    w.set_params(inner__n_clusters=5)
    assert w.inner.n_clusters == 5


@pytest.mark.parametrize(
    ("constraint", "good", "bad", "text"),
    [
        (
            Interval(numbers.Integral, 1, None, closed="left"),
            [1, np.int64(5)],
            [0, 1.0, True],
            "an int in the range [1, inf)",
        ),
        (
            Interval(numbers.Real, 0.0, 1.0, closed="right"),
            [1, 0.5],
            [0.0, 1.5, np.nan],
            "a float in the range (0.0, 1.0]",
        ),
        (Options({"a", "b"}), ["a"], ["c", 1], "a str among {'a', 'b'}"),
    ],
)
def test_constraints(constraint, good, bad, text):
    assert str(constraint) == text
    assert all(constraint.is_satisfied_by(v) for v in good)
    assert not any(constraint.is_satisfied_by(v) for v in bad)


def test_validate_params_message():
    class Est:
        alpha = -1

    with pytest.raises(ParameterError) as info:
        validate_params(Est(), {"alpha": [Interval(numbers.Real, 0, None), None]})
    assert str(info.value) == (
        "The 'alpha' parameter of Est must be a float in the range [0.0, inf) or None. "
        "Got -1 instead."
    )


def test_check_random_state():
    assert check_random_state(3).integers(1000) == check_random_state(3).integers(1000)
    g = np.random.default_rng(0)
    assert check_random_state(g) is g
    rs = np.random.RandomState(0)
    a = check_random_state(rs).integers(10**9)
    assert a != check_random_state(rs).integers(10**9)  # the RandomState advanced
    with pytest.raises(ParameterError):
        check_random_state("x")


@pytest.mark.parametrize(
    "module",
    [
        "bgmix.mixture",
        "bgmix.mixture._gaussian_mixture",
        "bgmix.mixture._kmeans",
        "bgmix.segment",
        "bgmix.segment._segment",
        "bgmix.segment._quality",
    ],
)
def test_docstring_examples_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize(
    ("make", "data", "attrs"),
    [
        (
            lambda n_jobs: GaussianMixture(3, random_state=0, n_jobs=n_jobs),
            {"n_per": 4000, "seed": 9},
            ("means_", "lower_bound_"),
        ),
        (
            lambda n_jobs: KMeans(5, random_state=1, n_jobs=n_jobs),
            {"n_per": 5000, "seed": 4},
            ("cluster_centers_", "inertia_"),
        ),
    ],
    ids=["gaussian-mixture", "kmeans"],
)
def test_results_do_not_depend_on_n_jobs(make, data, attrs):
    X = blobs(**data)
    a, b = make(1).fit(X), make(2).fit(X)
    for attr in attrs:
        np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
