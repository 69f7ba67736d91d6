"""Per-pixel EM kernels against a slow NumPy oracle and scikit-learn's GaussianMixture."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from bgmix._kernels import batch_em

EPS10 = 10 * np.finfo(np.float64).eps


# ---------------------------------------------------------------------- oracles
def oracle_init_quantile(x, K, reg, diag):
    """Brightness-sorted equal groups; x is (T, C) float64."""
    T, C = x.shape
    order = np.argsort(x.sum(axis=1), kind="stable")
    w = np.full(K, 1.0 / K)
    mu = np.empty((K, C))
    cov = np.empty((K, C, C))
    for k in range(K):
        idx = order[(k * T) // K : ((k + 1) * T) // K]
        g = x[idx] if idx.size else x  # an empty group falls back to all samples
        mu[k] = g.mean(axis=0)
        d = g - mu[k]
        c = d.T @ d / len(g)
        if diag:
            c = np.diag(np.diag(c))
        cov[k] = c + reg * np.eye(C)
    return w, mu, cov


def oracle_em(x, w, mu, cov, max_iter, tol, reg, diag):
    """scikit-learn's EM loop on one pixel, written plainly (x: (T, C))."""
    T, C = x.shape
    K = len(w)
    w, mu, cov = (
        w.astype(np.float64).copy(),
        mu.astype(np.float64).copy(),
        cov.astype(np.float64).copy(),
    )
    prev, ll, converged, n = -np.inf, -np.inf, False, 0
    for it in range(max_iter):
        n = it + 1
        logp = np.empty((T, K))
        for k in range(K):
            d = x - mu[k]
            inv = np.linalg.inv(cov[k])
            _, logdet = np.linalg.slogdet(cov[k])
            maha = np.einsum("tc,cd,td->t", d, inv, d)
            with np.errstate(divide="ignore"):
                logp[:, k] = np.log(w[k]) - 0.5 * (C * np.log(2 * np.pi) + logdet + maha)
        mx = logp.max(axis=1, keepdims=True)
        lse = (mx + np.log(np.exp(logp - mx).sum(axis=1, keepdims=True)))[:, 0]
        ll = lse.mean()
        r = np.exp(logp - lse[:, None])
        nk = r.sum(axis=0) + EPS10
        w = nk / nk.sum()
        for k in range(K):
            if r[:, k].sum() < 1e-10:
                continue
            mu[k] = r[:, k] @ x / nk[k]
            d = x - mu[k]
            c = (r[:, k, None] * d).T @ d / nk[k]
            if diag:
                c = np.diag(np.diag(c))
            cov[k] = c + reg * np.eye(C)
        if abs(ll - prev) < tol:
            converged = True
            break
        prev = ll
    return w, mu, cov, n, converged, ll


# ---------------------------------------------------------------------- helpers
def two_cluster_block(T=30, R=2, W=3, C=3, seed=0):
    """uint8 (T, R, W, C) samples: each pixel mixes two colours with noise."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(30, 120, size=(R, W, C))
    b = rng.uniform(140, 230, size=(R, W, C))
    pick = rng.random((T, R, W, 1)) < 0.3
    x = np.where(pick, b, a) + rng.normal(0, 4, size=(T, R, W, C))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


def run_kernels(data, K, *, diag=False, reg=1.0, tol=1e-3, max_iter=50, method=0, seed=0, row0=0):
    _T, R, W, C = data.shape
    w = np.empty((R, W, K), np.float32)
    m = np.empty((R, W, K, C), np.float32)
    c = np.empty((R, W, K, C, C), np.float32)
    batch_em.em_init(data, K, method, seed, row0, W, reg, diag, w, m, c)
    init = (w.copy(), m.copy(), c.copy())
    n = np.empty((R, W), np.int32)
    ok = np.empty((R, W), np.bool_)
    ll = np.empty((R, W), np.float32)
    batch_em.em_run(data, tol, max_iter, reg, diag, w, m, c, n, ok, ll)
    return init, (w, m, c, n, ok, ll)


# ---------------------------------------------------------------------- tests
@pytest.mark.parametrize("C", [1, 3])
@pytest.mark.parametrize("diag", [False, True])
@pytest.mark.parametrize("K", [1, 2, 3])
def test_em_matches_numpy_oracle_from_the_same_init(C, diag, K):
    data = two_cluster_block(T=25, R=2, W=3, C=C, seed=K)
    (w0, m0, c0), (w, m, c, n, ok, ll) = run_kernels(data, K, diag=diag, tol=1e-6, max_iter=40)
    for r in range(data.shape[1]):
        for j in range(data.shape[2]):
            x = data[:, r, j, :].astype(np.float64)
            iw, imu, icov = oracle_init_quantile(x, K, 1.0, diag)
            np.testing.assert_allclose(w0[r, j], iw, rtol=1e-6)
            np.testing.assert_allclose(m0[r, j], imu, rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(c0[r, j], icov, rtol=1e-5, atol=1e-4)
            ow, om, oc, on, ook, oll = oracle_em(
                x, w0[r, j], m0[r, j], c0[r, j], 40, 1e-6, 1.0, diag
            )
            assert n[r, j] == on and ok[r, j] == ook
            np.testing.assert_allclose(w[r, j], ow, rtol=1e-4, atol=1e-6)
            np.testing.assert_allclose(m[r, j], om, rtol=1e-5, atol=1e-3)
            np.testing.assert_allclose(c[r, j], oc, rtol=1e-4, atol=1e-3)
            np.testing.assert_allclose(ll[r, j], oll, rtol=1e-5)


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_em_matches_scikit_learn_given_the_same_initial_parameters(covariance_type):
    from sklearn.mixture import GaussianMixture

    diag = covariance_type == "diag"
    data = two_cluster_block(T=40, R=1, W=4, C=3, seed=7)
    K, reg, iters = 2, 1.0, 8
    (w0, m0, c0), (w, m, c, n, _ok, ll) = run_kernels(
        data, K, diag=diag, reg=reg, tol=1e-8, max_iter=iters
    )
    for j in range(data.shape[2]):
        x = data[:, 0, j, :].astype(np.float64)
        cov0 = c0[0, j].astype(np.float64)
        prec = np.linalg.inv(cov0) if not diag else 1.0 / np.diagonal(cov0, axis1=1, axis2=2)
        gm = GaussianMixture(
            n_components=K,
            covariance_type=covariance_type,
            tol=1e-8,
            reg_covar=reg,
            max_iter=iters,
            weights_init=w0[0, j].astype(np.float64) / w0[0, j].sum(),
            means_init=m0[0, j].astype(np.float64),
            precisions_init=prec,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's ConvergenceWarning at max_iter
            gm.fit(x)
        ref_cov = gm.covariances_ if not diag else np.stack([np.diag(v) for v in gm.covariances_])
        np.testing.assert_allclose(w[0, j], gm.weights_, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(m[0, j], gm.means_, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(c[0, j], ref_cov, rtol=1e-4, atol=1e-3)
        assert n[0, j] == gm.n_iter_
        np.testing.assert_allclose(ll[0, j], gm.lower_bound_, rtol=1e-5)


@pytest.mark.parametrize(
    "values",
    [
        [0] * 12,  # black, constant
        [255] * 12,  # saturated, constant
        [0, 255] * 6,  # two extremes
        [17, 18] * 6,  # two close values
        [40],  # one frame
    ],
)
@pytest.mark.parametrize("C", [1, 3])
def test_degenerate_pixels_never_give_nan(values, C):
    T = len(values)
    data = np.broadcast_to(np.array(values, np.uint8)[:, None, None, None], (T, 2, 3, C)).copy()
    for diag in (False, True):
        _, (w, m, c, _n, _ok, ll) = run_kernels(data, 3, diag=diag, max_iter=30)
        for arr in (w, m, c, ll):
            assert np.isfinite(arr).all()
        np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)
        assert (np.diagonal(c, axis1=-2, axis2=-1) >= 1.0 - 1e-5).all()  # reg_covar floor
        assert (m >= 0).all() and (m <= 255).all()


def test_fitted_covariances_are_symmetric_positive_definite_and_weights_sum_to_one():
    data = two_cluster_block(T=30, R=3, W=5, seed=11)
    _, (w, _m, c, n, _ok, _ll) = run_kernels(data, 3)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(c, np.swapaxes(c, -1, -2))
    assert (np.linalg.eigvalsh(c.astype(np.float64)) > 0).all()
    assert (n >= 1).all() and (n <= 50).all()


def test_em_recovers_two_well_separated_colours():
    rng = np.random.default_rng(1)
    T = 60
    bg = np.array([60.0, 90.0, 120.0])
    fg = np.array([200.0, 40.0, 40.0])
    pick = rng.random(T) < 0.25
    x = np.where(pick[:, None], fg, bg) + rng.normal(0, 3, size=(T, 3))
    data = np.clip(np.rint(x), 0, 255).astype(np.uint8)[:, None, None, :]
    _, (w, m, c, *_) = run_kernels(data, 2)
    batch_em.em_sort(w, m, c)
    np.testing.assert_allclose(m[0, 0, 0], bg, atol=2.0)
    np.testing.assert_allclose(m[0, 0, 1], fg, atol=3.0)
    np.testing.assert_allclose(w[0, 0], [1 - pick.mean(), pick.mean()], atol=1e-3)


def test_random_init_draws_distinct_frames_independent_of_blocks():
    data = two_cluster_block(T=9, R=4, W=5, seed=3)
    (_w0, m0, _c0), _ = run_kernels(data, 3, method=batch_em.INIT_RANDOM, seed=42, max_iter=1)
    for r in range(4):
        for j in range(5):
            rows = [
                np.flatnonzero((data[:, r, j].astype(np.float32) == mu).all(axis=1))
                for mu in m0[r, j]
            ]
            assert all(len(x) for x in rows)  # every mean is one of the pixel's frames
    # the same pixels fitted as a separate block (rows 2:4, row0=2) get the same init
    (_w1, m1, _c1), _ = run_kernels(
        np.ascontiguousarray(data[:, 2:]),
        3,
        method=batch_em.INIT_RANDOM,
        seed=42,
        max_iter=1,
        row0=2,
    )
    np.testing.assert_array_equal(m1, m0[2:])
    (_, m2, _), _ = run_kernels(data, 3, method=batch_em.INIT_RANDOM, seed=43, max_iter=1)
    assert not np.array_equal(m2, m0)


def test_random_init_means_are_distinct_frames():
    T = 5
    data = np.arange(T, dtype=np.uint8)[:, None, None, None] * np.ones((1, 3, 3, 1), np.uint8)
    (_, m0, _), _ = run_kernels(data, 5, method=batch_em.INIT_RANDOM, seed=5, max_iter=1)
    for r in range(3):
        for j in range(3):
            assert sorted(m0[r, j, :, 0].tolist()) == [0, 1, 2, 3, 4]


def test_em_sort_orders_by_decreasing_weight_and_keeps_parameters_together():
    rng = np.random.default_rng(0)
    w = rng.dirichlet(np.ones(4), size=(2, 3)).astype(np.float32)
    m = rng.uniform(0, 255, size=(2, 3, 4, 3)).astype(np.float32)
    c = np.broadcast_to(np.arange(4, dtype=np.float32)[:, None, None] + 1, (2, 3, 4, 3, 3)).copy()
    w0, m0, c0 = w.copy(), m.copy(), c.copy()
    batch_em.em_sort(w, m, c)
    assert (np.diff(w, axis=-1) <= 0).all()
    order = np.argsort(-w0, axis=-1, kind="stable")
    np.testing.assert_array_equal(m, np.take_along_axis(m0, order[..., None], axis=2))
    np.testing.assert_array_equal(c, np.take_along_axis(c0, order[..., None, None], axis=2))


# ---------------------------------------------------------------------- apply
def oracle_apply(frame, w, m, c, bg_ratio, thr, use_diff, grey_thr):
    H, W, C = frame.shape
    mask = np.zeros((H, W), np.uint8)
    for r in range(H):
        for j in range(W):
            x = frame[r, j].astype(np.float64)
            if use_diff:
                luma = np.array([0.299, 0.587, 0.114]) if C == 3 else np.ones(1)
                fg = abs(luma @ x - luma @ m[r, j, 0]) > grey_thr
            else:
                fg, cum = True, 0.0
                for k in range(w.shape[2]):
                    d = x - m[r, j, k]
                    if d @ np.linalg.solve(c[r, j, k].astype(np.float64), d) < thr**2:
                        fg = False
                        break
                    cum += w[r, j, k]
                    if cum >= bg_ratio:
                        break
            mask[r, j] = 255 if fg else 0
    return mask


def fitted_model(C=3, K=3, seed=0):
    data = two_cluster_block(T=30, R=3, W=4, C=C, seed=seed)
    _, (w, m, c, *_) = run_kernels(data, K)
    batch_em.em_sort(w, m, c)
    return data, w, m, c


@pytest.mark.parametrize("C", [1, 3])
@pytest.mark.parametrize("use_diff", [False, True])
def test_em_apply_classification_matches_oracle(C, use_diff):
    data, w, m, c = fitted_model(C=C)
    rng = np.random.default_rng(5)
    frame = rng.integers(0, 256, size=data.shape[1:], dtype=np.uint8)
    frame[0] = data[0, 0]  # some pixels at a training value
    for bg_ratio in (0.5, 0.7, 0.99):
        mask = np.empty(frame.shape[:2], np.uint8)
        w1, m1, c1 = w.copy(), m.copy(), c.copy()
        batch_em.em_apply(
            frame, w1, m1, c1, bg_ratio, 9.0, use_diff, 20.0, 0.0, 225.0, 1.0, False, mask
        )
        np.testing.assert_array_equal(
            mask, oracle_apply(frame, w, m, c, bg_ratio, 3.0, use_diff, 20.0)
        )
        # alpha = 0 freezes the model
        np.testing.assert_array_equal(w1, w)
        np.testing.assert_array_equal(m1, m)
        np.testing.assert_array_equal(c1, c)


def test_em_apply_online_update_matches_stauffer_grimson_oracle():
    data, w, m, c = fitted_model(K=2, seed=3)
    frame = data[5].copy()
    frame[1, 1] = [250, 5, 5]  # unmatched: replaces the lightest component
    alpha, thr = 0.1, 3.0
    mask = np.empty(frame.shape[:2], np.uint8)
    w1, m1, c1 = w.copy(), m.copy(), c.copy()
    batch_em.em_apply(frame, w1, m1, c1, 0.7, thr**2, False, 0.0, alpha, 225.0, 1.0, False, mask)
    H, W = frame.shape[:2]
    for r in range(H):
        for j in range(W):
            x = frame[r, j].astype(np.float64)
            ww, mm, cc = (
                w[r, j].astype(np.float64),
                m[r, j].astype(np.float64),
                c[r, j].astype(np.float64),
            )
            d2 = [(x - mm[k]) @ np.linalg.solve(cc[k], x - mm[k]) for k in range(2)]
            hit = [k for k in range(2) if d2[k] < thr**2]
            if hit:
                k = hit[0]
                e = x - mm[k]
                mm[k] = mm[k] + alpha * e
                cc[k] = cc[k] + alpha * (np.outer(e, e) - cc[k])
                cc[k][np.diag_indices(3)] = np.maximum(np.diag(cc[k]), 1.0)
            else:
                k = 1
                ww[k], mm[k], cc[k] = 0.0, x, 225.0 * np.eye(3)
            ww = (1 - alpha) * ww + alpha * (np.arange(2) == k)
            ww /= ww.sum()
            order = np.argsort(-ww, kind="stable")
            np.testing.assert_allclose(w1[r, j], ww[order], rtol=1e-5)
            np.testing.assert_allclose(m1[r, j], mm[order], rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(c1[r, j], cc[order], rtol=1e-4, atol=1e-3)
    assert mask[1, 1] == 255


def test_em_apply_rate_one_reinitialises_to_the_frame():
    data, w, m, c = fitted_model(K=3, seed=4)
    frame = np.full(data.shape[1:], 77, np.uint8)
    mask = np.empty(frame.shape[:2], np.uint8)
    cov0 = c[:, :, 0].copy()
    batch_em.em_apply(frame, w, m, c, 0.7, 9.0, False, 0.0, 1.0, 225.0, 1.0, False, mask)
    np.testing.assert_array_equal(w[..., 0], 1.0)
    np.testing.assert_array_equal(w[..., 1:], 0.0)
    np.testing.assert_array_equal(m[:, :, 0], 77.0)
    np.testing.assert_array_equal(c[:, :, 0], cov0)


def test_pixel_hash_is_uniform_in_unit_interval():
    u = np.array([batch_em.pixel_hash(123, i) for i in range(4000)])
    assert (u >= 0).all() and (u < 1).all()
    assert abs(u.mean() - 0.5) < 0.02
    assert len(np.unique(u)) == len(u)


@pytest.mark.parametrize("C", [1, 3])
@pytest.mark.parametrize("method", [batch_em.INIT_QUANTILE, batch_em.INIT_RANDOM])
def test_fused_fit_equals_init_then_run(C, method):
    data = two_cluster_block(T=21, R=3, W=4, C=C, seed=8)
    _, R, W, _ = data.shape
    K = 3
    _, (w, m, c, n, ok, ll) = run_kernels(data, K, method=method, seed=4, row0=5, tol=1e-4)
    out = (
        np.empty((R, W, K), np.float32),
        np.empty((R, W, K, C), np.float32),
        np.empty((R, W, K, C, C), np.float32),
        np.empty((R, W), np.int32),
        np.empty((R, W), np.bool_),
        np.empty((R, W), np.float32),
    )
    batch_em.em_fit(data, K, method, 4, 5, W, 1e-4, 50, 1.0, False, *out)
    for got, ref in zip(out, (w, m, c, n, ok, ll), strict=True):
        np.testing.assert_array_equal(got, ref)


def test_vectorisable_exp_matches_numpy():
    y = np.concatenate([-np.logspace(-12, np.log10(700), 2000), [0.0, -1e-300]])
    got = np.array([batch_em._fexp(v) for v in y])
    np.testing.assert_allclose(got, np.exp(y), rtol=1e-12, atol=0)
    assert batch_em._fexp(0.0) == 1.0
    assert 0.0 <= batch_em._fexp(-1e300) < 1e-300  # clamped far tail: a zero responsibility


@pytest.mark.parametrize("K", [2, 3])
def test_long_histories_take_the_chunked_log_likelihood_path(K):
    # K**T overflows a double past T ~ 1000 (K = 2) or 500 (K = 3): the normalisers'
    # product is then taken in chunks; the result must still match the oracle
    data = two_cluster_block(T=1100, R=1, W=2, C=3, seed=K)
    (w0, m0, c0), (w, m, c, n, ok, ll) = run_kernels(data, K, tol=0.0, max_iter=3)
    assert (n == 3).all() and not ok.any()
    for j in range(2):
        x = data[:, 0, j, :].astype(np.float64)
        ow, om, oc, *_, oll = oracle_em(x, w0[0, j], m0[0, j], c0[0, j], 3, 0.0, 1.0, False)
        np.testing.assert_allclose(ll[0, j], oll, rtol=1e-6)
        np.testing.assert_allclose(w[0, j], ow, rtol=1e-4)
        np.testing.assert_allclose(m[0, j], om, rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(c[0, j], oc, rtol=1e-4, atol=1e-3)
