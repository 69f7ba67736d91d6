"""The mog (Stauffer-Grimson) kernel against a slow per-pixel float64 oracle."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix._kernels.online_mog import MOGState, mog_background, mog_rows
from bgmix._kernels.online_params import MOGParams
from tests._kernels._banded import run_in_bands

F = np.float32


class Kernel:
    def __init__(self, shape, channels, k, diagonal):
        h, w = shape
        self.weight = np.zeros((h, w, k), F)
        self.mean = np.zeros((h, w, k, channels), F)
        self.var = np.zeros((h, w, k, channels if diagonal else 1), F)
        self.hold = np.zeros((h, w), np.uint16)

    def apply(self, frame, p, *, hold_frames=0, bands=1):
        prm = MOGParams(
            alpha=F(p["alpha"]),
            lam2=F(p["lam"] ** 2),
            var_init=F(p["var_init"]),
            var_min=F(p["var_min"]),
            w_init=F(p["w_init"]),
            tbr=F(p["ratio"]),
            hold_frames=hold_frames,
        )
        state = MOGState(self.weight, self.mean, self.var, self.hold)
        return run_in_bands(mog_rows, frame, state, prm, bands)


class Oracle:
    """Stauffer & Grimson per pixel: a ranked list of [w, mu, var] per pixel."""

    def __init__(self, shape, k, diagonal):
        self.k, self.diagonal = k, diagonal
        self.pix = [[[] for _ in range(shape[1])] for _ in range(shape[0])]

    @staticmethod
    def key(comp):
        return comp[0] / np.sqrt(np.mean(comp[2]))

    def apply(self, frame, p):
        h, w, c = frame.shape
        mask = np.zeros((h, w), np.uint8)
        lam2 = p["lam"] ** 2
        for y in range(h):
            for x in range(w):
                px = frame[y, x].astype(float)
                comps = self.pix[y][x]
                match, cum = -1, 0.0
                for i, (wk, mu, var) in enumerate(comps):
                    d2 = (px - mu) ** 2
                    ok = (d2 < lam2 * var).all() if self.diagonal else d2.sum() < lam2 * c * var[0]
                    if ok:
                        match = i
                        break
                    cum += wk
                bg = match >= 0 and cum < p["ratio"]
                mask[y, x] = 0 if bg else 255
                a = p["alpha"]
                for comp in comps:
                    comp[0] *= 1 - a
                if match >= 0:
                    comp = comps[match]
                    comp[0] += a
                    rho = a / comp[0]
                    comp[1] = comp[1] + rho * (px - comp[1])
                    d = px - comp[1]
                    if self.diagonal:
                        comp[2] = np.maximum(comp[2] + rho * (d * d - comp[2]), p["var_min"])
                    else:
                        v = comp[2][0] + rho * (np.dot(d, d) / c - comp[2][0])
                        comp[2] = np.array([max(v, p["var_min"])])
                else:
                    if len(comps) == self.k:
                        comps.pop()
                    nv = c if self.diagonal else 1
                    comps.append([p["w_init"], px.copy(), np.full(nv, p["var_init"])])
                    total = sum(cp[0] for cp in comps)
                    for cp in comps:
                        cp[0] /= total
                comps.sort(key=self.key, reverse=True)
        return mask

    def compare_state(self, kern):
        for y, row in enumerate(self.pix):
            for x, comps in enumerate(row):
                n = len(comps)
                assert (kern.weight[y, x, n:] == 0).all()
                for i, (wk, mu, var) in enumerate(comps):
                    np.testing.assert_allclose(kern.weight[y, x, i], wk, rtol=1e-4)
                    np.testing.assert_allclose(kern.mean[y, x, i], mu, rtol=1e-4, atol=1e-3)
                    np.testing.assert_allclose(kern.var[y, x, i], var, rtol=1e-3, atol=1e-3)


def params(n, history=30, **kw):
    return {
        "alpha": 1.0 / min(n, history),
        "lam": 2.5,
        "var_init": 225.0,
        "var_min": 4.0,
        "w_init": 0.05,
        "ratio": 0.7,
        **kw,
    }


def clip(rng, t, h, w, c):
    base = rng.integers(30, 200, size=(h, w, c)).astype(float)
    frames = base + rng.normal(0, 3, size=(t, h, w, c))
    frames[t // 3 : t // 3 + 4, :, : max(1, w // 2)] = 235.0  # something passes
    frames[2 * t // 3 :, : max(1, h // 2)] = 20.0  # something stays
    return np.clip(np.rint(frames), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("diagonal", [False, True])
@pytest.mark.parametrize(
    ("shape", "channels", "k"), [((3, 5), 3, 3), ((3, 5), 1, 4), ((1, 1), 3, 1), ((2, 13), 3, 5)]
)
def test_kernel_matches_oracle(shape, channels, k, diagonal):
    rng = np.random.default_rng(k * 10 + channels)
    frames = clip(rng, 24, *shape, channels)
    kern, orc = Kernel(shape, channels, k, diagonal), Oracle(shape, k, diagonal)
    for n, frame in enumerate(frames, 1):
        np.testing.assert_array_equal(
            kern.apply(frame, params(n)), orc.apply(frame, params(n)), err_msg=f"frame {n}"
        )
    orc.compare_state(kern)


def test_first_frame_initialises_one_component_per_pixel():
    frame = np.random.default_rng(0).integers(0, 256, size=(3, 4, 3)).astype(np.uint8)
    kern = Kernel((3, 4), 3, 3, False)
    assert (kern.apply(frame, params(1)) == 255).all()
    np.testing.assert_array_equal(kern.weight[..., 0], 1.0)
    np.testing.assert_array_equal(kern.weight[..., 1:], 0.0)
    np.testing.assert_array_equal(mog_background(kern.weight, kern.mean), frame)
    assert (kern.apply(frame, params(2)) == 0).all()


def test_saturated_input_keeps_finite_state_and_the_variance_floor():
    frames = np.zeros((30, 2, 3, 3), np.uint8)
    frames[::2] = 255
    kern = Kernel((2, 3), 3, 3, True)
    for n, f in enumerate(frames, 1):
        kern.apply(f, params(n))
    used = kern.weight > 0
    assert np.isfinite(kern.var).all() and (kern.var[used] >= 4.0).all()
    np.testing.assert_allclose(kern.weight.sum(axis=2), 1.0, rtol=1e-5)


def test_zero_learning_rate_freezes_and_bands_agree():
    rng = np.random.default_rng(4)
    frames = clip(rng, 12, 6, 4, 3)
    a, b = Kernel((6, 4), 3, 3, False), Kernel((6, 4), 3, 3, False)
    for n, f in enumerate(frames[:10], 1):
        np.testing.assert_array_equal(a.apply(f, params(n)), b.apply(f, params(n), bands=3))
    state = [x.copy() for x in (a.weight, a.mean, a.var)]
    a.apply(frames[11], params(11, alpha=0.0))
    for x, y in zip(state, (a.weight, a.mean, a.var), strict=True):
        np.testing.assert_array_equal(x, y)


def test_hold_keeps_a_stopped_object_in_the_foreground():
    frames = np.full((40, 1, 2, 1), 50, np.uint8)
    frames[10:, 0, 0] = 200
    plain, held = Kernel((1, 2), 1, 3, False), Kernel((1, 2), 1, 3, False)
    fg_plain, fg_held = [], []
    for n, f in enumerate(frames, 1):
        fg_plain.append(plain.apply(f, params(n, history=10))[0, 0] == 255)
        fg_held.append(held.apply(f, params(n, history=10), hold_frames=20)[0, 0] == 255)
    assert sum(fg_plain[10:]) < 20 <= sum(fg_held[10:])
    assert all(fg_held[10:30]) and not fg_held[-1]
