"""k-means kernels against slow NumPy oracles on tiny inputs."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix._kernels import kmeans as K


def oracle_sq_dist(X, centers):
    X = np.asarray(X, np.float64)
    return np.array([[float(np.sum((x - c) ** 2)) for c in centers] for x in X])


@pytest.mark.parametrize(("n", "d", "k"), [(1, 3, 1), (9, 1, 4), (31, 3, 5), (3000, 2, 7)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lloyd_step_matches_oracle(n, d, k, dtype):
    rng = np.random.default_rng(n + k)
    X = rng.integers(0, 256, size=(n, d)).astype(dtype)  # 0..255 saturation included
    centers = rng.uniform(0, 255, size=(k, d))
    labels = np.full(n, -1, np.int32)
    dist = np.empty(n)
    sums, counts, inertia, changed = K.lloyd_step(X, centers, labels, dist, 97)
    D = oracle_sq_dist(X, centers)
    np.testing.assert_array_equal(labels, D.argmin(1))
    np.testing.assert_allclose(dist, D.min(1), rtol=1e-12)
    np.testing.assert_allclose(inertia, D.min(1).sum(), rtol=1e-12)
    assert changed == n
    for c in range(k):
        members = np.asarray(X, np.float64)[labels == c]
        assert counts[c] == len(members)
        np.testing.assert_allclose(sums[c], (members - centers[c]).sum(0), rtol=1e-10, atol=1e-9)
    # a second pass with the same centres changes nothing
    assert K.lloyd_step(X, centers, labels, dist, 97)[3] == 0


@pytest.mark.parametrize("d", [2, 3])  # the generic and the unrolled three-feature kernel
def test_ties_go_to_the_first_centre(d):
    X = np.array([[1.0, 1.0], [5.0, 5.0]])
    centers = np.array([[0.0, 1.0], [2.0, 1.0], [5.0, 5.0], [5.0, 5.0]])
    if d == 3:
        X, centers = np.pad(X, ((0, 0), (0, 1))), np.pad(centers, ((0, 0), (0, 1)))
    labels = np.full(2, -1, np.int32)
    K.assign(X, centers, labels, np.empty(2), 1)
    assert labels.tolist() == [0, 2]


def test_constant_data():
    X = np.full((10, 3), 7.0)
    labels = np.full(10, -1, np.int32)
    dist = np.empty(10)
    inertia = K.assign(X, np.array([[7.0, 7.0, 7.0], [0.0, 0.0, 0.0]]), labels, dist, 4)
    assert inertia == 0.0 and (labels == 0).all()


def test_distances_match_oracle():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(23, 3)).astype(np.float32)
    centers = rng.normal(size=(4, 3))
    out = np.empty((23, 4), np.float32)
    K.distances(X, centers, out, 5)
    np.testing.assert_allclose(out, np.sqrt(oracle_sq_dist(X, centers)), rtol=1e-6)


def test_kmeanspp_helpers_match_oracle():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 2))
    point = X[3]
    closest = np.empty(40)
    K.sq_dist_to_point(X, point, closest, 7)
    np.testing.assert_allclose(closest, oracle_sq_dist(X, point[None])[:, 0], rtol=1e-12)
    cands = X[[5, 9, 11]]
    pots = K.candidate_potentials(X, cands, closest, 7)
    ref = [np.minimum(closest, oracle_sq_dist(X, c[None])[:, 0]).sum() for c in cands]
    np.testing.assert_allclose(pots, ref, rtol=1e-12)
    K.update_closest(X, cands[1], closest, 7)
    np.testing.assert_allclose(closest.sum(), ref[1], rtol=1e-12)
    assert closest[9] == 0.0


def test_read_only_input():
    X = np.random.default_rng(4).normal(size=(30, 3))
    X.setflags(write=False)
    labels = np.full(30, -1, np.int32)
    K.lloyd_step(X, X[:3].copy(), labels, np.empty(30), 8)
    assert labels[:3].tolist() == [0, 1, 2]


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30_000, 3))
    centers = rng.normal(size=(6, 3))
    out = []
    for n in (1, 2, 3):
        labels = np.full(30_000, -1, np.int32)
        out.append((K.lloyd_step(X, centers, labels, np.empty(30_000), 2048, n), labels))
    (a, la), (b, lb) = out[0], out[2]
    np.testing.assert_array_equal(out[1][1], la)
    np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[2] == b[2]
