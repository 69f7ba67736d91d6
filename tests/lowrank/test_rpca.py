"""rpca: agreement with a plain NumPy inexact ALM, recovery, convergence reporting."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bgmix.exceptions import ConvergenceWarning, InputError, ParameterError
from bgmix.lowrank import rpca, spectral_norm
from tests.lowrank.oracles import plain_ialm, planted, video_like


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _objective(L, S, lam):
    """The principal component pursuit objective ``||L||_* + lam ||S||_1``."""
    return float(np.linalg.svd(L, compute_uv=False).sum() + lam * np.abs(S).sum())


def _residual(D, res):
    return float(np.linalg.norm(D - res.L - res.S) / np.linalg.norm(D))


@pytest.fixture(scope="module")
def video():
    D = video_like(n=60)
    L, S, n_iter = plain_ialm(D)
    return D, L, S, n_iter


@pytest.mark.parametrize("svd", ["auto", "full", "gram", "partial"])
def test_same_l_and_s_as_plain_numpy_ialm_on_video(video, svd):
    D, L_ref, S_ref, n_ref = video
    res = rpca(D, method="textbook", svd=svd, random_state=0)
    assert res.converged
    assert res.n_iter == n_ref
    assert _rel(res.L, L_ref) < 1e-3
    assert _rel(res.S, S_ref) < 1e-3


@pytest.mark.parametrize("svd", ["gram", "partial"])
def test_same_l_and_s_on_a_planted_wide_matrix(svd):
    D, _, _ = planted(m=50, n=140, rank=2, seed=4)
    L_ref, S_ref, _ = plain_ialm(D)
    res = rpca(D, method="textbook", svd=svd, random_state=1)
    assert _rel(res.L, L_ref) < 1e-3
    assert _rel(res.S, S_ref) < 1e-3


@pytest.mark.parametrize("svd", ["auto", "full", "gram", "partial"])
@pytest.mark.parametrize("case", ["video", "planted_tall", "planted_wide", "planted_rank10"])
def test_fast_method_reaches_the_textbook_objective_and_residual(case, svd):
    D = {
        "video": lambda: video_like(m_side=(20, 24), n=90),
        "planted_tall": lambda: planted(m=300, n=90, rank=3, seed=1)[0],
        "planted_wide": lambda: planted(m=60, n=150, rank=2, seed=4)[0],
        "planted_rank10": lambda: planted(m=400, n=120, rank=10, seed=2)[0],
    }[case]()
    lam = 1 / np.sqrt(max(D.shape))
    L_ref, S_ref, n_ref = plain_ialm(D)
    res = rpca(D, svd=svd, random_state=0)
    assert res.converged
    assert res.errors[-1] < 1e-7
    assert _residual(D, res) < 1e-7
    assert res.n_iter < n_ref  # the late mu growth saves iterations
    ref = _objective(L_ref, S_ref, lam)
    assert _objective(res.L, res.S, lam) <= ref * (1 + 1e-3)
    assert _objective(res.L, res.S, lam) >= ref * (1 - 1e-3)


def test_fast_and_textbook_agree_on_a_float32_matrix():
    D = video_like(n=40, seed=1).astype(np.float32)
    lam = 1 / np.sqrt(max(D.shape))
    a = rpca(D, random_state=0)
    b = rpca(D, method="textbook", random_state=0)
    assert a.L.dtype == b.L.dtype == np.float32
    oa = _objective(a.L.astype(np.float64), a.S.astype(np.float64), lam)
    ob = _objective(b.L.astype(np.float64), b.S.astype(np.float64), lam)
    assert oa == pytest.approx(ob, rel=1e-3)


def test_loose_tolerance_converges_and_returns_the_input_dtype():
    D, L0, _ = planted(m=300, n=80, rank=3, frac=0.05, seed=1)
    res = rpca(D, tol=1e-3, random_state=0)
    assert res.converged and res.errors[-1] < 1e-3
    assert res.L.dtype == res.S.dtype == np.float64
    assert _residual(D, res) < 1e-3
    assert _rel(res.L, L0) < 1e-2


@pytest.mark.parametrize("solver", ["full", "gram", "partial"])
@pytest.mark.parametrize("shape", [(120, 40), (40, 120), (400, 120), (120, 400)])
def test_singular_value_thresholding_in_float32_matches_numpy(solver, shape):
    """The products of the early "fast" iterations run in out's dtype (float32).

    With 120 columns or rows the predicted rank (10) is small enough for the Gram
    route to compute only the eigenpairs above the threshold; with 40, all of them.
    """
    from bgmix.lowrank._svt import Thresholder

    rng = np.random.default_rng(0)
    X = rng.normal(size=(shape[0], 5)) @ rng.normal(size=(5, shape[1])) * 10
    X += rng.normal(size=shape) * 0.1
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    tau = 0.5 * (s[4] + s[5])  # between the planted and the noise singular values
    expected = (U[:, :5] * (s[:5] - tau)) @ Vt[:5]
    for dtype, rtol in ((np.float64, 1e-7), (np.float32, 1e-5)):
        out = np.empty(shape, dtype)
        rank = Thresholder(shape, solver, np.random.default_rng(1))(X, tau, out)
        assert rank == 5
        assert _rel(out.astype(np.float64), expected) < rtol
    # X already rounded to float32 (as rpca's element-wise step writes it)
    out = np.empty(shape, np.float32)
    svt = Thresholder(shape, solver, np.random.default_rng(1))
    assert svt(X, tau, out, X.astype(np.float32)) == 5
    assert _rel(out.astype(np.float64), expected) < 1e-5


class _CountingMatrix(np.ndarray):
    """An array that counts the matrix products it takes part in (from the left)."""

    products = 0

    def __matmul__(self, other):
        _CountingMatrix.products += 1
        return np.matmul(np.asarray(self), np.asarray(other))


def test_auto_takes_the_gram_route_at_once_when_the_rank_jumps():
    from bgmix.lowrank._svt import Thresholder

    rng = np.random.default_rng(0)
    shape = (2000, 200)
    svt = Thresholder(shape, "auto", rng)
    X = rng.normal(size=(2000, 40)) @ rng.normal(size=(40, 200)) + rng.normal(size=shape) * 0.01
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    out = np.empty(shape)
    assert svt(X, 2 * s[0], out) == 0 and svt.sv == 1  # nothing passes: predicted rank 1
    tau = 0.5 * (s[39] + s[40])
    _CountingMatrix.products = 0
    rank = svt(X.view(_CountingMatrix), tau, out)
    assert rank == 40 and svt.used[-1] == "gram"
    # one block of the partial SVD (3 products), then the Gram matrix and the result
    assert _CountingMatrix.products <= 5
    assert _rel(out, (U[:, :40] * (s[:40] - tau)) @ Vt[:40]) < 1e-9


def test_partial_svd_is_used_when_the_rank_is_small():
    D, _, _ = planted(m=400, n=150, rank=3, frac=0.05, seed=2)
    res = rpca(D, random_state=0)
    assert "partial" in res.svd_used
    L_ref, S_ref, _ = plain_ialm(D)
    assert _rel(res.L, L_ref) < 1e-3 and _rel(res.S, S_ref) < 1e-3


def test_recovers_a_planted_low_rank_plus_sparse_matrix():
    D, L0, S0 = planted(m=300, n=80, rank=3, frac=0.05, seed=1)
    res = rpca(D, random_state=0)
    assert res.converged and res.rank == 3
    assert _rel(res.L, L0) < 1e-5
    assert _rel(res.S, S0) < 1e-5
    assert res.errors[-1] < 1e-7 <= res.errors[0]
    assert res.ranks.shape == res.errors.shape == (res.n_iter,)
    assert res.lam == pytest.approx(1 / np.sqrt(300))
    assert len(res.svd_used) == res.n_iter


def test_max_iter_reached_warns_and_reports_not_converged():
    D, _, _ = planted(seed=3)
    with pytest.warns(ConvergenceWarning, match="max_iter=3"):
        res = rpca(D, max_iter=3)
    assert not res.converged and res.n_iter == 3
    assert res.errors[-1] > 1e-7


def test_float32_input_gives_float32_output_close_to_float64():
    D = video_like(n=30)
    a = rpca(D.astype(np.float32), random_state=0)
    b = rpca(D, random_state=0)
    assert a.L.dtype == a.S.dtype == np.float32
    assert b.L.dtype == np.float64
    assert _rel(a.L, b.L) < 1e-5


def test_zero_matrix_is_its_own_decomposition():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = rpca(np.zeros((10, 4)))
    assert res.converged and res.n_iter == 0 and res.rank == 0
    assert not res.L.any() and not res.S.any()


def test_constant_and_saturated_matrices_are_low_rank():
    D = np.full((40, 12), 255.0)
    res = rpca(D)
    assert res.rank == 1
    np.testing.assert_allclose(res.L, D, rtol=1e-6)
    assert np.abs(res.S).max() < 1e-3


def test_custom_lam_and_mu_are_used():
    D, _, _ = planted(seed=5)
    res = rpca(D, lam=0.2, mu=0.01, random_state=0)
    _, ref_S, _ = plain_ialm(D, lam=0.2)
    assert res.lam == 0.2 and res.mu == 0.01
    # a larger lambda puts less in S
    assert np.count_nonzero(res.S) < np.count_nonzero(ref_S) or _rel(res.S, ref_S) < 1


def test_deterministic_for_a_seed():
    D = video_like(n=40, seed=2)
    a = rpca(D, svd="partial", random_state=3)
    b = rpca(D, svd="partial", random_state=3)
    np.testing.assert_array_equal(a.L, b.L)
    np.testing.assert_array_equal(a.S, b.S)


def test_spectral_norm_matches_numpy():
    rng = np.random.default_rng(0)
    for shape in [(50, 20), (20, 50)]:
        M = rng.normal(size=shape)
        assert spectral_norm(M) == pytest.approx(np.linalg.norm(M, 2), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lam": 0}, "lam"),
        ({"lam": -1.0}, "lam"),
        ({"mu": 0.0}, "mu"),
        ({"rho": 1.0}, "rho"),
        ({"tol": 0.0}, "tol"),
        ({"tol": 1.5}, "tol"),
        ({"max_iter": 0}, "max_iter"),
        ({"svd": "lanczos"}, "svd"),
        ({"method": "apg"}, "method"),
        ({"rho": 0.5}, "rho"),
        ({"n_jobs": 0}, "n_jobs"),
        ({"random_state": 1.5}, "random_state"),
    ],
)
def test_bad_parameters_raise(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        rpca(np.ones((6, 5)), **kwargs)


def test_bad_matrix_raises_input_error():
    with pytest.raises(InputError, match="NaN"):
        rpca(np.array([[1.0, np.inf], [2.0, 3.0]]))
    with pytest.raises(InputError, match="2-D"):
        rpca(np.ones((2, 2, 2)))


@pytest.mark.realdata
def test_same_l_and_s_as_plain_numpy_on_real_highway_frames(shared_data):
    from bgmix.lowrank import frame_matrix

    folder = shared_data / "sequences" / "cdnet_baseline_highway" / "input"
    M = frame_matrix(folder, size=(40, 30), stop=120, dtype=np.float64)
    L_ref, S_ref, n_ref = plain_ialm(M)
    res = rpca(M, method="textbook", random_state=0)
    assert res.converged and res.n_iter == n_ref
    assert _rel(res.L, L_ref) < 1e-3
    assert _rel(res.S, S_ref) < 1e-3
    fast = rpca(M, random_state=0)
    lam = 1 / np.sqrt(max(M.shape))
    assert fast.converged and _residual(M, fast) < 1e-7
    assert _objective(fast.L, fast.S, lam) <= _objective(L_ref, S_ref, lam) * (1 + 1e-3)


def test_mu_grows_by_rho_and_by_5_late_in_the_fast_method():
    D = video_like(n=60)
    fast = rpca(D, random_state=0)
    textbook = rpca(D, method="textbook", random_state=0)
    assert fast.mus.shape == (fast.n_iter,) and fast.mus[0] == fast.mu
    assert np.allclose(textbook.mus[1:] / textbook.mus[:-1], 1.5)
    growth = fast.mus[1:] / fast.mus[:-1]  # growth[j]: after iteration j (from 0)
    late = fast.errors[:-1] < 1e-4
    capped = np.isclose(fast.mus[1:], 1e7 * fast.mus[0])
    assert late.any() and np.allclose(growth[late & ~capped], 5.0)
    assert np.allclose(growth[~late], 1.5)
    assert fast.n_iter < textbook.n_iter
