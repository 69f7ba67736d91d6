"""The gmm-full row kernel against a slow per-pixel float64 oracle (np.linalg)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from bgmix._kernels.online_gmm_full import RULE_ANY, RULE_RANKED, GMMFullState, gmm_full_rows
from bgmix._kernels.online_params import GMMFullParams
from tests._kernels._banded import run_in_bands

F = np.float32
TRIU = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


#: The frame options of the kernel and of the oracle, and their defaults.
FRAME_DEFAULTS = {
    "alpha": 0.05,
    "lam": 3.0,
    "var_init": 100.0,
    "var_min": 4.0,
    "rule": RULE_RANKED,
    "ratio": 0.7,
}


def frame_options(options):
    """``options`` over :data:`FRAME_DEFAULTS`, as attributes (an unknown name fails)."""
    unknown = set(options) - set(FRAME_DEFAULTS)
    assert not unknown, f"unknown frame options {sorted(unknown)}"
    return SimpleNamespace(**{**FRAME_DEFAULTS, **options})


class Kernel:
    def __init__(self, first, k, seed=0, var_init=100.0):
        h, w, c = first.shape
        rng = np.random.default_rng(seed)
        draw = -np.sort(-rng.dirichlet(np.ones(k), size=(h, w)), axis=-1)
        self.weight = np.ascontiguousarray(np.moveaxis(draw, -1, 0), dtype=F)
        self.mean = np.repeat(np.moveaxis(first, -1, 0)[None].astype(F), k, axis=0)
        self.cov = np.zeros((k, 6 if c == 3 else 1, h, w), F)
        self.cov[:, [0, 3, 5] if c == 3 else [0]] = var_init
        self.hold = np.zeros((h, w), np.uint16)

    def apply(self, frame, *, hold_frames=0, bands=1, **options):
        o = frame_options(options)
        prm = GMMFullParams(
            alpha=F(o.alpha),
            lam2=F(o.lam * o.lam),
            var_init=F(o.var_init),
            var_min=F(o.var_min),
            rule=o.rule,
            tbr=F(o.ratio),
            hold_frames=hold_frames,
        )
        state = GMMFullState(self.weight, self.mean, self.cov, self.hold)
        return run_in_bands(gmm_full_rows, frame, state, prm, bands)

    def matrices(self):
        k, s, h, w = self.cov.shape
        if s == 1:
            return self.cov.transpose(0, 2, 3, 1)[..., None].astype(np.float64)
        out = np.zeros((k, h, w, 3, 3))
        for j, (a, b) in enumerate(TRIU):
            out[..., a, b] = out[..., b, a] = self.cov[:, j]
        return out


class Oracle:
    """Per-pixel lists of (w, mu, Sigma) in float64, updated with np.linalg."""

    def __init__(self, kern):
        k, _, h, w = kern.mean.shape
        sig = kern.matrices()
        self.comps = [
            [
                [
                    [float(kern.weight[m, y, x]), kern.mean[m, :, y, x].astype(float), sig[m, y, x]]
                    for m in range(k)
                ]
                for x in range(w)
            ]
            for y in range(h)
        ]

    def apply(self, frame, **options):
        o = frame_options(options)
        alpha, lam, rule, ratio = o.alpha, o.lam, o.rule, o.ratio
        var_init, var_min = o.var_init, o.var_min
        h, w, c = frame.shape
        mask = np.zeros((h, w), np.uint8)
        for y in range(h):
            for x in range(w):
                px = frame[y, x].astype(float)
                comps = self.comps[y][x]
                keys = [wk / np.sqrt(np.linalg.det(s)) for wk, _, s in comps]
                owner = -1
                for m, (_, mu, s) in enumerate(comps):
                    e = px - mu
                    if e @ np.linalg.solve(s, e) < lam * lam and (
                        owner < 0 or keys[m] > keys[owner]
                    ):
                        owner = m
                bg = owner >= 0
                if bg and rule == RULE_RANKED:
                    before = sum(
                        comps[m][0]
                        for m in range(len(comps))
                        if keys[m] > keys[owner] or (keys[m] == keys[owner] and m < owner)
                    )
                    bg = before < ratio
                mask[y, x] = 0 if bg else 255
                if alpha == 0:
                    continue
                own = owner if owner >= 0 else int(np.argmin([cw for cw, _, _ in comps]))
                if owner < 0 and len(comps) > 1:
                    # the replaced component starts from weight 0, the others share its weight
                    spare = comps[own][0]
                    for comp in comps:
                        comp[0] /= 1.0 - spare
                    comps[own][0] = 0.0
                for m, comp in enumerate(comps):
                    comp[0] += alpha * ((m == own) - comp[0])
                wk, mu, s = comps[own]
                if owner >= 0:
                    e = px - mu
                    rho = alpha / wk
                    comps[own][1] = mu + rho * e
                    comps[own][2] = s + rho * (np.outer(e, e) + var_min * np.eye(c) - s)
                else:
                    comps[own][1] = px.copy()
                    comps[own][2] = var_init * np.eye(c)
        return mask

    def compare_state(self, kern):
        sig = kern.matrices()
        k = kern.weight.shape[0]
        for y, row in enumerate(self.comps):
            for x, comps in enumerate(row):
                for m in range(k):
                    np.testing.assert_allclose(
                        kern.weight[m, y, x], comps[m][0], rtol=2e-4, atol=1e-6
                    )
                    np.testing.assert_allclose(
                        kern.mean[m, :, y, x], comps[m][1], rtol=1e-4, atol=1e-3
                    )
                    np.testing.assert_allclose(sig[m, y, x], comps[m][2], rtol=1e-3, atol=1e-2)


def clip(rng, t, h, w, c):
    base = rng.integers(30, 200, size=(h, w, c)).astype(float)
    frames = base + rng.normal(0, 4, size=(t, h, w, c))
    frames[t // 2 :, : max(1, h // 2), : max(1, w // 2)] = 240.0  # an object arrives
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("rule", [RULE_RANKED, RULE_ANY])
@pytest.mark.parametrize(
    ("shape", "channels"), [((3, 5), 3), ((3, 5), 1), ((1, 1), 3), ((2, 17), 3)]
)
def test_kernel_matches_oracle(shape, channels, rule):
    rng = np.random.default_rng(shape[1] + channels)
    frames = clip(rng, 16, *shape, channels)
    kern = Kernel(frames[0], k=3, seed=1)
    orc = Oracle(kern)
    for n, frame in enumerate(frames):
        np.testing.assert_array_equal(
            kern.apply(frame, rule=rule), orc.apply(frame, rule=rule), err_msg=f"frame {n}"
        )
    orc.compare_state(kern)


def test_one_frame_initialised_model_is_all_background():
    frame = np.random.default_rng(0).integers(0, 256, size=(4, 6, 3)).astype(np.uint8)
    kern = Kernel(frame, k=4)
    assert (kern.apply(frame) == 0).all()


def test_zero_learning_rate_changes_nothing():
    rng = np.random.default_rng(2)
    frames = clip(rng, 6, 3, 4, 3)
    kern = Kernel(frames[0], k=3)
    for f in frames[:4]:
        kern.apply(f)
    before = [a.copy() for a in (kern.weight, kern.mean, kern.cov)]
    kern.apply(frames[5], alpha=0.0)
    for a, b in zip(before, (kern.weight, kern.mean, kern.cov), strict=True):
        np.testing.assert_array_equal(a, b)


def test_bands_give_the_same_result():
    rng = np.random.default_rng(3)
    frames = clip(rng, 8, 7, 5, 3)
    a, b = Kernel(frames[0], k=3), Kernel(frames[0], k=3)
    for f in frames:
        np.testing.assert_array_equal(a.apply(f), b.apply(f, bands=3))
    np.testing.assert_array_equal(a.cov, b.cov)


def _check_spd(kern, var_min):
    assert np.isfinite(kern.weight).all() and np.isfinite(kern.mean).all()
    assert np.isfinite(kern.cov).all()
    eig = np.linalg.eigvalsh(kern.matrices())
    # Symmetric positive definite, eigenvalues at var_min or above up to float32
    # rounding of the largest entries (about 1e-7 x 6e4).
    assert eig.min() >= 0.97 * var_min, eig.min()
    np.testing.assert_allclose(kern.weight.sum(axis=0), 1.0, atol=1e-5)


@pytest.mark.parametrize("channels", [1, 3])
def test_covariances_stay_positive_definite_on_pathological_input(channels):
    h, w = 3, 4
    const = np.full((h, w, channels), 128, np.uint8)
    frames = [const] * 30  # constant: the covariance shrinks to var_min I
    frames += [np.zeros_like(const), np.full_like(const, 255)] * 20  # saturated flicker
    line = np.zeros((h, w, channels), np.uint8)
    line[..., 0] = 255  # colour on a line: rank-one updates
    frames += [line, const] * 10
    kern = Kernel(frames[0], k=3, var_init=1e4)
    for f in frames:
        kern.apply(f, alpha=0.5, var_min=0.1)  # aggressive rate, the smallest regularisation
        _check_spd(kern, 0.1)


@settings(max_examples=25, deadline=None)
@given(
    frames=arrays(
        np.uint8, st.tuples(st.integers(1, 6), st.integers(1, 3), st.integers(1, 4), st.just(3))
    ),
    alpha=st.floats(1e-3, 1.0),
    var_min=st.floats(0.1, 50.0),
)
def test_covariances_stay_positive_definite_for_any_input(frames, alpha, var_min):
    kern = Kernel(frames[0], k=2, var_init=max(var_min, 100.0))
    for f in frames:
        mask = kern.apply(np.ascontiguousarray(f), alpha=alpha, var_min=var_min)
        assert set(np.unique(mask)) <= {0, 255}
    _check_spd(kern, var_min)


def test_hold_freezes_the_foreground_pixels():
    frames = np.full((20, 2, 2, 3), 60, np.uint8)
    frames[5:, 0, 0] = 220
    kern = Kernel(frames[0], k=2)
    for n, f in enumerate(frames):
        before = kern.mean[:, :, 0, 0].copy()
        mask = kern.apply(f, alpha=0.2, hold_frames=8)
        if 5 <= n < 13:
            assert mask[0, 0] == 255 and kern.hold[0, 0] == n - 4
            np.testing.assert_array_equal(kern.mean[:, :, 0, 0], before)
    assert kern.hold[0, 1] == 0 and (kern.mean[:, :, 0, 0] == 220).any()
