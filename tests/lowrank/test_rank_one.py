"""The closed-form rank-one start of ``rpca(method="fast")`` against the plain iteration."""

from __future__ import annotations

import math

import numpy as np
import pytest

import bgmix.lowrank._rpca as rpca_module
from bgmix._kernels.lowrank import max_abs_rank_one
from bgmix.lowrank import rpca
from bgmix.lowrank._rank_one import RankOneStart, leading_triplets, rank_one_start
from tests.lowrank.oracles import shrink, video_like


def _plain_history(D, lam, mu, rho, n_iter):
    """The first ``n_iter`` iterations of the textbook inexact ALM (full SVD), as
    ``(error, rank, sparse part is zero)`` per iteration."""
    norm_two = np.linalg.norm(D, 2)
    Y = D / max(norm_two, np.abs(D).max() / lam)
    L = np.zeros_like(D)
    out = []
    for _ in range(n_iter):
        S = shrink(D - L + Y / mu, lam / mu)
        U, s, Vt = np.linalg.svd(D - S + Y / mu, full_matrices=False)
        r = int(np.sum(s > 1 / mu))
        L = (U[:, :r] * (s[:r] - 1 / mu)) @ Vt[:r]
        Z = D - L - S
        out.append((np.linalg.norm(Z) / np.linalg.norm(D), r, not S.any()))
        Y = Y + mu * Z
        mu *= rho
    return out


def _start(D, lam, rho=1.5, tol=1e-7):
    top = leading_triplets(D, 2, np.random.default_rng(0), 4000)
    d_max = float(np.abs(D).max())
    return rank_one_start(
        top,
        d_norm=float(np.linalg.norm(D)),
        lam=lam,
        mu=1.25 / top.sigma1,
        c0=1.0 / max(top.sigma1, d_max / lam),
        tol=tol,
        max_iter=1000,
        grow=lambda mu, err: mu * rho,
        largest=lambda a, b: max_abs_rank_one(D, a, b, top.u, top.v),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_closed_form_covers_exactly_the_rank_one_iterations(seed):
    D = video_like(n=40, seed=seed)
    lam = 1 / math.sqrt(max(D.shape))
    start = _start(D, lam)
    plain = _plain_history(D, lam, 1.25 / np.linalg.norm(D, 2), 1.5, start.n_iter + 1)
    assert start.n_iter >= 1
    for err, rank, (p_err, p_rank, p_zero) in zip(start.errors, start.ranks, plain, strict=False):
        assert err == pytest.approx(p_err, rel=1e-9)
        assert rank == p_rank and rank <= 1 and p_zero
    # the iteration after them is no longer rank one with a zero sparse part
    _, p_rank, p_zero = plain[start.n_iter]
    assert p_rank > 1 or not p_zero


def test_no_closed_form_when_an_entry_passes_the_shrinkage_at_once():
    rng = np.random.default_rng(0)
    D = rng.normal(size=(300, 40)) @ rng.normal(size=(40, 40))  # no dominant direction
    D[5, 7] = 1e4  # a gross error: shrunk into S at the first iteration
    lam = 1 / math.sqrt(300)
    assert _start(D, lam).n_iter == 0
    assert "rank-one" not in rpca(D, random_state=0).svd_used


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rpca_with_the_closed_form_start_equals_the_plain_iterations(monkeypatch, dtype):
    D = video_like(n=40, seed=3).astype(dtype)
    with_start = rpca(D, random_state=0)
    k = with_start.svd_used.count("rank-one")
    assert k >= 1 and with_start.svd_used[:k] == ("rank-one",) * k

    def no_start(top, **kw):
        return RankOneStart(c=kw["c0"], d=0.0, e=0.0, mu=kw["mu"])

    monkeypatch.setattr(rpca_module, "rank_one_start", no_start)
    plain = rpca(D, random_state=0)
    assert "rank-one" not in plain.svd_used
    assert with_start.n_iter == plain.n_iter and with_start.converged
    np.testing.assert_array_equal(with_start.ranks, plain.ranks)
    np.testing.assert_allclose(with_start.mus, plain.mus, rtol=1e-12)
    # the same iterates up to rounding, which the float32 phase carries along
    np.testing.assert_allclose(with_start.errors, plain.errors, rtol=0, atol=3e-8)
    scale = float(np.abs(D).max())
    assert np.abs(with_start.L.astype(float) - plain.L).max() < 1e-5 * scale
    assert np.abs(with_start.S.astype(float) - plain.S).max() < 1e-5 * scale


def test_textbook_method_has_no_closed_form_start():
    D = video_like(n=40, seed=0)
    assert "rank-one" not in rpca(D, method="textbook", random_state=0).svd_used


@pytest.mark.parametrize("shape", [(60, 9), (9, 60), (1, 5), (5, 1)])
def test_leading_triplets_match_numpy(shape):
    rng = np.random.default_rng(1)
    D = rng.normal(size=shape)
    U, s, Vt = np.linalg.svd(D, full_matrices=False)
    for limit in (4000, 1):  # Gram matrix, ARPACK (which needs q < min(m, n))
        if limit == 1 and min(shape) < 3:
            continue
        top = leading_triplets(D, 3, np.random.default_rng(0), limit)
        q = top.sigmas.size
        assert q == min(3, min(shape) if limit > 1 else min(shape) - 1)
        np.testing.assert_allclose(top.sigmas, s[:q], rtol=1e-9)
        assert top.sigma2 == pytest.approx(s[1] if s.size > 1 else 0.0, rel=1e-8, abs=1e-12)
        # the same rank-one term, and right vectors spanning the same directions
        np.testing.assert_allclose(
            top.sigma1 * np.outer(top.u, top.v), s[0] * np.outer(U[:, 0], Vt[0]), atol=1e-9
        )
        np.testing.assert_allclose(np.abs(top.V.T @ Vt[:q].T), np.eye(q), atol=1e-7)
        # contiguous vectors: one compiled signature of the kernels for every shape
        assert top.u.flags.c_contiguous and top.v.flags.c_contiguous
