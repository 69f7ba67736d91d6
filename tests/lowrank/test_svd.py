"""randomized_svd, truncated_svd, reconstruct and compression_table against oracles."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.exceptions import InputError, ParameterError
from bgmix.lowrank import (
    compression_table,
    randomized_svd,
    reconstruct,
    truncated_svd,
)


def _low_rank(m=300, n=80, rank=5, decay=0.5, noise=1e-3, seed=0, dtype=np.float64):
    """A matrix with a geometrically decaying spectrum and a little noise."""
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.normal(size=(m, rank)))
    V, _ = np.linalg.qr(rng.normal(size=(n, rank)))
    s = 100.0 * decay ** np.arange(rank)
    return ((U * s) @ V.T + noise * rng.normal(size=(m, n))).astype(dtype)


def _subspace_gap(A, B):
    """Sine of the largest principal angle between the column spaces of A and B."""
    Qa, _ = np.linalg.qr(A)
    Qb, _ = np.linalg.qr(B)
    return float(np.linalg.norm(Qa - Qb @ (Qb.T @ Qa), 2))


@pytest.mark.parametrize("normalizer", ["auto", "qr", "lu", "none"])
@pytest.mark.parametrize("shape", [(300, 80), (60, 250)])
def test_matches_numpy_svd(normalizer, shape):
    M = _low_rank(*shape)
    # without normalisation the power iterations lose the smaller directions to rounding
    n_iter = 2 if normalizer == "none" else "auto"
    U, s, Vt = randomized_svd(
        M, 4, n_iter=n_iter, power_iteration_normalizer=normalizer, random_state=0
    )
    Ue, se, Vte = np.linalg.svd(M, full_matrices=False)
    np.testing.assert_allclose(s, se[:4], rtol=1e-6)
    assert _subspace_gap(U, Ue[:, :4]) < 1e-5
    assert _subspace_gap(Vt.T, Vte[:4].T) < 1e-5
    np.testing.assert_allclose(U.T @ U, np.eye(4), atol=1e-10)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(4), atol=1e-10)
    L, Le = reconstruct(U, s, Vt), (Ue[:, :4] * se[:4]) @ Vte[:4]
    assert np.linalg.norm(L - Le) / np.linalg.norm(Le) < 1e-6


def test_agrees_with_sklearn_randomized_svd():
    from sklearn.utils.extmath import randomized_svd as sk_randomized_svd

    M = _low_rank(400, 120, rank=8, decay=0.7, noise=0.05, seed=3)
    U, s, Vt = randomized_svd(M, 6, n_oversamples=10, n_iter=4, random_state=1)
    Us, ss, Vts = sk_randomized_svd(M, 6, n_oversamples=10, n_iter=4, random_state=1)
    np.testing.assert_allclose(s, ss, rtol=1e-6)
    np.testing.assert_allclose(reconstruct(U, s, Vt), (Us * ss) @ Vts, atol=1e-6 * s[0])


def test_many_power_iterations_without_normalisation_lose_accuracy():
    M = _low_rank(300, 80)
    Ue = np.linalg.svd(M, full_matrices=False)[0][:, :4]
    plain = randomized_svd(M, 4, n_iter=7, power_iteration_normalizer="none", random_state=0)
    qr = randomized_svd(M, 4, n_iter=7, power_iteration_normalizer="qr", random_state=0)
    assert _subspace_gap(qr[0], Ue) < 1e-5 < _subspace_gap(plain[0], Ue)


def test_power_iterations_improve_a_slowly_decaying_spectrum():
    rng = np.random.default_rng(5)
    M = rng.normal(size=(200, 150))  # flat spectrum: the hard case
    se = np.linalg.svd(M, compute_uv=False)
    err = []
    for q in (0, 2, 6):
        U, s, Vt = randomized_svd(M, 5, n_oversamples=5, n_iter=q, random_state=0)
        err.append(np.linalg.norm(M - reconstruct(U, s, Vt), 2) / se[5])
    assert err[0] > err[1] > err[2]
    assert err[2] < 1.2  # close to the optimum sigma_6


def test_float32_stays_float32_and_is_accurate():
    M = _low_rank(500, 200, dtype=np.float32)
    U, s, Vt = randomized_svd(M, 3, random_state=0)
    assert U.dtype == s.dtype == Vt.dtype == np.float32
    se = np.linalg.svd(M.astype(np.float64), compute_uv=False)
    np.testing.assert_allclose(s, se[:3], rtol=1e-5)


def test_seed_and_generator_make_it_deterministic():
    M = _low_rank(120, 60, noise=0.5)
    a = randomized_svd(M, 3, random_state=7)
    b = randomized_svd(M, 3, random_state=7)
    c = randomized_svd(M, 3, random_state=np.random.default_rng(7))
    for x, y, z in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)


def test_sign_convention_largest_entry_of_each_u_is_positive():
    M = _low_rank(100, 40)
    U, _, Vt = randomized_svd(M, 3, random_state=0)
    rows = np.argmax(np.abs(U), axis=0)
    assert (U[rows, np.arange(3)] > 0).all()
    U2, _, Vt2 = truncated_svd(M, 3, solver="full")
    np.testing.assert_allclose(U, U2, atol=1e-6)
    np.testing.assert_allclose(Vt, Vt2, atol=1e-6)


def test_full_rank_request_is_exact():
    M = np.random.default_rng(0).normal(size=(30, 12))
    U, s, Vt = randomized_svd(M, 12, random_state=0)
    np.testing.assert_allclose(reconstruct(U, s, Vt), M, atol=1e-10)


def test_integer_matrices_are_converted_to_float64():
    M = np.arange(60).reshape(12, 5) % 7
    U, s, _ = truncated_svd(M, 2, solver="randomized", random_state=0)
    assert U.dtype == np.float64
    np.testing.assert_allclose(s, np.linalg.svd(M.astype(float), compute_uv=False)[:2])


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros(5), "2-D"),
        (np.zeros((0, 4)), "empty"),
        (np.array([[1.0, np.nan], [0.0, 1.0]]), "NaN"),
        (np.ones((3, 3), dtype=bool), "dtype"),
        (np.ones((3, 3), dtype=complex), "dtype"),
        ([["a", "b"]], "dtype"),
    ],
)
def test_bad_matrices_raise_input_error(bad, match):
    with pytest.raises(InputError, match=match):
        randomized_svd(bad, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_entries_are_found_through_the_sketch(dtype, value):
    M = np.random.default_rng(0).normal(size=(40, 30)).astype(dtype)
    M[17, 3] = value
    with pytest.raises(InputError, match="1 entries are NaN or infinite"):
        randomized_svd(M, 2, random_state=0)


def test_finite_float32_matrix_whose_products_overflow_raises_input_error():
    M = np.full((30, 20), 3e38, dtype=np.float32)
    with pytest.raises(InputError, match="overflows float32"):
        randomized_svd(M, 1, random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rank": 0}, "rank"),
        ({"rank": 11}, "rank"),
        ({"rank": 2, "n_oversamples": -1}, "n_oversamples"),
        ({"rank": 2, "n_iter": "many"}, "n_iter"),
        ({"rank": 2, "n_iter": -2}, "n_iter"),
        ({"rank": 2, "power_iteration_normalizer": "svd"}, "power_iteration_normalizer"),
        ({"rank": 2, "random_state": "seed"}, "random_state"),
        ({"rank": 2, "random_state": -1}, "random_state"),
    ],
)
def test_bad_parameters_raise_parameter_error(kwargs, match):
    M = np.ones((20, 10))
    with pytest.raises(ParameterError, match=match):
        randomized_svd(M, **kwargs)


def test_truncated_svd_rejects_unknown_solver_and_options():
    M = np.ones((5, 4))
    with pytest.raises(ParameterError, match="solver"):
        truncated_svd(M, 1, solver="lanczos")
    with pytest.raises(ParameterError, match="n_iter"):
        truncated_svd(M, 1, solver="full", n_iter=3)


def test_reconstruct_checks_shapes():
    with pytest.raises(InputError, match="expected U"):
        reconstruct(np.ones((4, 2)), np.ones(3), np.ones((2, 5)))


def test_compression_table_matches_explicit_reconstructions():
    M = _low_rank(90, 40, rank=6, decay=0.6, noise=0.3, seed=2)
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    rows = compression_table(s, M.shape, [1, 2, 6, 40])
    for row in rows:
        k = row.rank
        Mk = (U[:, :k] * s[:k]) @ Vt[:k]
        assert row.relative_error == pytest.approx(
            np.linalg.norm(M - Mk) / np.linalg.norm(M), abs=1e-9
        )
        assert row.stored == k * (90 + 40 + 1)
        assert row.compression_ratio == pytest.approx(90 * 40 / row.stored)
        assert row.energy == pytest.approx(1 - row.relative_error**2)
    assert rows[-1].relative_error == pytest.approx(0.0, abs=1e-6)
    errors = [r.relative_error for r in rows]
    assert errors == sorted(errors, reverse=True)


def test_compression_table_with_leading_values_and_total_energy():
    M = _low_rank(90, 40, rank=6, decay=0.6, noise=0.3, seed=2)
    s = np.linalg.svd(M, compute_uv=False)
    full = compression_table(s, M.shape, [1, 3])
    partial = compression_table(s[:5], M.shape, [1, 3], total_energy=float(np.sum(M**2)))
    for a, b in zip(full, partial, strict=True):
        assert a.relative_error == pytest.approx(b.relative_error, rel=1e-9)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc"),
    [
        ((np.array([]), (3, 3), [1]), {}, InputError),
        ((np.array([1.0, -1.0]), (3, 3), [1]), {}, InputError),
        ((np.array([2.0, 1.0]), (3, 3), [3]), {}, ParameterError),
        ((np.array([2.0, 1.0]), (0, 3), [1]), {}, ParameterError),
        ((np.array([2.0, 1.0]), (3, 3), [1]), {"total_energy": 1.0}, ParameterError),
    ],
)
def test_compression_table_rejects_bad_input(args, kwargs, exc):
    with pytest.raises(exc):
        compression_table(*args, **kwargs)


def test_auto_normalizer_is_lu_for_many_iterations_and_none_for_few():
    M = _low_rank(120, 50, noise=0.2)
    for n_iter, same in ((5, "lu"), (2, "none")):
        a = randomized_svd(M, 3, n_iter=n_iter, random_state=0)
        b = randomized_svd(M, 3, n_iter=n_iter, power_iteration_normalizer=same, random_state=0)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.realdata
def test_rank_two_background_of_real_frames_matches_the_exact_one(shared_data):
    from bgmix.lowrank import frame_matrix

    folder = shared_data / "sequences" / "cdnet_baseline_highway" / "input"
    M = frame_matrix(folder, size=(80, 60), stop=300)
    Ue, se, Vte = np.linalg.svd(M.astype(np.float64), full_matrices=False)
    U, s, Vt = randomized_svd(M, 2, random_state=0)
    exact = (Ue[:, :2] * se[:2]) @ Vte[:2]
    approx = reconstruct(U.astype(np.float64), s.astype(np.float64), Vt.astype(np.float64))
    assert np.linalg.norm(approx - exact) / np.linalg.norm(exact) < 1e-3
