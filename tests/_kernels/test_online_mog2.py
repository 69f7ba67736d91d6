"""The mog2 row kernel against a slow, obviously-correct per-pixel oracle.

The oracle is Zivkovic's update written pixel by pixel in plain Python with NumPy
float32 scalars, in OpenCV's order of operations, so the kernel must match it bit
for bit (masks and state).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bgmix._kernels.online_mog2 import TILE, MOG2State, mog2_background_rows, mog2_rows
from bgmix._kernels.online_params import MOG2Params
from tests._kernels._banded import run_in_bands

F = np.float32


# --------------------------------------------------------------------------- oracle
def oracle_pixel(px, w, v, mu, nm, p):
    """Update one pixel's lists in place; return its mask value (0/255/shadow)."""
    alpha, prune = p["alpha"], p["prune"]
    alpha1 = F(1) - alpha
    kmax = len(w)
    background = fits = False
    total = F(0)
    mode = 0
    while mode < nm:
        wgt = alpha1 * w[mode] + prune
        slot = mode
        if not fits:
            d = [mu[mode][c] - px[c] for c in range(len(px))]
            dist2 = F(0)
            for dc in d:
                dist2 = F(dist2 + dc * dc)
            var = v[mode]
            if total < p["tbr"] and dist2 < p["tb"] * var:
                background = True
            if dist2 < p["tg"] * var:
                fits = True
                wgt = wgt + alpha
                k = alpha / wgt
                mu[mode] = [F(mu[mode][c] - k * d[c]) for c in range(len(px))]
                v[mode] = min(max(F(var + k * (dist2 - var)), p["vmin"]), p["vmax"])
                while slot > 0 and not (wgt < w[slot - 1]):
                    w[slot], w[slot - 1] = w[slot - 1], w[slot]
                    v[slot], v[slot - 1] = v[slot - 1], v[slot]
                    mu[slot], mu[slot - 1] = mu[slot - 1], mu[slot]
                    slot -= 1
        if wgt < -prune:
            wgt = F(0)
            nm -= 1
        w[slot] = F(wgt)
        total = F(total + wgt)
        mode += 1
    inv = F(1) / total if abs(total) > np.finfo(F).eps else F(0)
    for m in range(nm):
        w[m] = F(w[m] * inv)
    if not fits and alpha > 0:
        if nm == kmax:
            mode = kmax - 1
        else:
            mode = nm
            nm += 1
        if nm == 1:
            w[mode] = F(1)
        else:
            w[mode] = alpha
            for i in range(nm - 1):
                w[i] = F(w[i] * alpha1)
        mu[mode] = list(px)
        v[mode] = p["vinit"]
        i = nm - 1
        while i > 0 and not (alpha < w[i - 1]):
            w[i], w[i - 1] = w[i - 1], w[i]
            v[i], v[i - 1] = v[i - 1], v[i]
            mu[i], mu[i - 1] = mu[i - 1], mu[i]
            i -= 1
    if background:
        return 0, nm
    if p["shadows"] and oracle_shadow(px, w, v, mu, nm, p):
        return int(p["shadow_value"]), nm
    return 255, nm


def oracle_shadow(px, w, v, mu, nm, p):
    tw = F(0)
    for m in range(nm):
        num = den = F(0)
        for c in range(len(px)):
            num = F(num + px[c] * mu[m][c])
            den = F(den + mu[m][c] * mu[m][c])
        if den == 0:
            return False
        if num <= den and num >= p["tau"] * den:
            a = num / den
            d2 = F(0)
            for c in range(len(px)):
                dd = a * mu[m][c] - px[c]
                d2 = F(d2 + dd * dd)
            if d2 < p["tb"] * v[m] * a * a:
                return True
        tw = F(tw + w[m])
        if tw > p["tbr"]:
            return False
    return False


class Oracle:
    """Per-pixel lists of components, advanced frame by frame."""

    def __init__(self, shape, kmax):
        h, w = shape
        self.kmax = kmax
        self.w = [[[F(0)] * kmax for _ in range(w)] for _ in range(h)]
        self.v = [[[F(0)] * kmax for _ in range(w)] for _ in range(h)]
        self.mu = [[[[] for _ in range(kmax)] for _ in range(w)] for _ in range(h)]
        self.nm = np.zeros(shape, int)

    def apply(self, frame, p):
        h, w, c = frame.shape
        mask = np.zeros((h, w), np.uint8)
        for y in range(h):
            for x in range(w):
                px = [F(frame[y, x, i]) for i in range(c)]
                mask[y, x], self.nm[y, x] = oracle_pixel(
                    px, self.w[y][x], self.v[y][x], self.mu[y][x], self.nm[y, x], p
                )
        return mask


# --------------------------------------------------------------------------- harness
def params(
    alpha,
    *,
    ct=0.05,
    tb=16.0,
    tbr=0.9,
    tg=9.0,
    vinit=15.0,
    vmin=4.0,
    vmax=75.0,
    shadows=True,
    tau=0.5,
    shadow_value=127,
):
    return {
        "alpha": F(alpha),
        "prune": F(-alpha * float(F(ct))),
        "tb": F(tb),
        "tbr": F(tbr),
        "tg": F(tg),
        "vinit": F(vinit),
        "vmin": F(vmin),
        "vmax": F(vmax),
        "shadows": shadows,
        "tau": F(tau),
        "shadow_value": np.uint8(shadow_value),
    }


class Kernel:
    def __init__(self, shape, channels, kmax):
        h, w = shape
        self.weight = np.zeros((kmax, h, w), F)
        self.var = np.zeros((kmax, h, w), F)
        self.mean = np.zeros((kmax, channels, h, w), F)
        self.nmodes = np.zeros((h, w), np.uint8)
        self.hold = np.zeros((h, w), np.uint16)

    def apply(self, frame, p, *, hold_frames=0, bands=1):
        state = MOG2State(self.weight, self.var, self.mean, self.nmodes, self.hold)
        prm = MOG2Params(
            alpha=p["alpha"],
            prune=p["prune"],
            tb=p["tb"],
            tbr=p["tbr"],
            tg=p["tg"],
            var_init=p["vinit"],
            var_min=p["vmin"],
            var_max=p["vmax"],
            detect_shadows=p["shadows"],
            tau=p["tau"],
            shadow_value=p["shadow_value"],
            hold_frames=hold_frames,
        )
        return run_in_bands(mog2_rows, frame, state, prm, bands)


def auto_alpha(n, history=500):
    return 1.0 / min(2 * n, history)


def noisy_clip(rng, t, h, w, c, *, dtype=np.uint8):
    base = rng.integers(30, 200, size=(h, w, c)).astype(np.float64)
    frames = base + rng.normal(0, 3, size=(t, h, w, c))
    frames[t // 2 :, 1:3, 1:4] = 250.0  # an object appears half way
    frames[t // 3, 0, :] *= 0.6  # a darker row (shadow-like) for one frame
    out = np.clip(np.rint(frames), 0, 255)
    return out.astype(dtype)


def compare(frames, kmax=5, *, bands=1, **pkw):
    _, h, w, c = frames.shape
    kern, orc = Kernel((h, w), c, kmax), Oracle((h, w), kmax)
    for n, frame in enumerate(frames, 1):
        p = params(auto_alpha(n), **pkw)
        mk = kern.apply(frame, p, bands=bands)
        mo = orc.apply(frame, p)
        np.testing.assert_array_equal(mk, mo, err_msg=f"frame {n}")
        np.testing.assert_array_equal(kern.nmodes, orc.nm, err_msg=f"frame {n}")
    for y in range(h):
        for x in range(w):
            nm = orc.nm[y, x]
            np.testing.assert_array_equal(kern.weight[:nm, y, x], orc.w[y][x][:nm])
            np.testing.assert_array_equal(kern.var[:nm, y, x], orc.v[y][x][:nm])
            np.testing.assert_array_equal(kern.mean[:nm, :, y, x], np.array(orc.mu[y][x][:nm]))
    return kern, orc


# --------------------------------------------------------------------------- tests
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("shape", [(4, 5), (3, 17), (1, 1)])
def test_kernel_matches_oracle_bit_for_bit(channels, shape):
    rng = np.random.default_rng(channels * 10 + shape[1])
    frames = noisy_clip(rng, 14, *shape, channels)
    compare(frames)


@pytest.mark.parametrize("channels", [1, 3])
def test_kernel_matches_oracle_with_few_components_and_strong_pruning(channels):
    # 2 components and a large c_T: components are replaced and pruned all the time.
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 256, size=(12, 3, 6, channels)).astype(np.uint8)
    compare(frames, kmax=2, ct=0.6, tg=4.0, tb=6.0)


def test_kernel_matches_oracle_on_saturated_and_constant_input():
    frames = np.zeros((10, 3, 4, 3), np.uint8)
    frames[:, 0] = 255
    frames[5:, 2, :2] = 255  # 0 -> 255 jump
    kern, _ = compare(frames)
    assert np.isfinite(kern.weight).all() and np.isfinite(kern.var).all()


def test_kernel_matches_oracle_where_components_crowd_a_few_pixels_of_long_tiles():
    # Rows longer than a tile (1024 pixels): a steady background with small noise
    # and, in two short runs of pixels inside the tiles, flicker between two colours
    # and an object that comes and goes, so that the higher components are in use at
    # a few pixels only and their passes run over part of the tile.
    rng = np.random.default_rng(11)
    t, h, w = 16, 2, 1100
    base = rng.integers(60, 180, size=(h, w, 3)).astype(np.float64)
    frames = base + rng.normal(0, 1.5, size=(t, h, w, 3))
    frames[::2, 0, 300:312] = 20.0
    frames[1::3, 1, 700:705] = 240.0
    frames[6:11, :, 400:410] = 120.0
    frames = np.clip(np.rint(frames), 0, 255).astype(np.uint8)
    _, orc = compare(frames)
    nm = orc.nm.reshape(-1)
    # the first tile: more than one component at a few pixels, inside it
    crowded = np.flatnonzero(nm[:1024] >= 2)
    assert 0 < crowded.size < 50 and crowded.min() > 0 and crowded.max() < 1023


def run_two_ways(seed, n_frames, shape, other):
    """Masks of a plain kernel and of one run by ``other(kernel, frame, params)`` on the
    same clip must be equal; returns both kernels for a check of their state."""
    frames = noisy_clip(np.random.default_rng(seed), n_frames, *shape, 3)
    a, b = Kernel(shape, 3, 5), Kernel(shape, 3, 5)
    for n, frame in enumerate(frames, 1):
        p = params(auto_alpha(n))
        np.testing.assert_array_equal(a.apply(frame, p), other(b, frame, p))
    return a, b


def test_kernel_float_frames_equal_uint8_frames():
    a, b = run_two_ways(1, 8, (3, 5), lambda kern, frame, p: kern.apply(frame.astype(F), p))
    np.testing.assert_array_equal(a.mean, b.mean)


def test_bands_of_rows_give_the_same_result_as_one_band():
    a, b = run_two_ways(2, 10, (9, 6), lambda kern, frame, p: kern.apply(frame, p, bands=3))
    np.testing.assert_array_equal(a.weight, b.weight)


def test_zero_learning_rate_freezes_means_and_variances():
    rng = np.random.default_rng(3)
    frames = noisy_clip(rng, 6, 3, 4, 3)
    kern = Kernel((3, 4), 3, 5)
    for n, frame in enumerate(frames[:5], 1):
        kern.apply(frame, params(auto_alpha(n)))
    mean, var, nmodes = kern.mean.copy(), kern.var.copy(), kern.nmodes.copy()
    kern.apply(np.full_like(frames[5], 255), params(0.0))
    np.testing.assert_array_equal(kern.mean, mean)
    np.testing.assert_array_equal(kern.var, var)
    np.testing.assert_array_equal(kern.nmodes, nmodes)


def test_hold_freezes_foreground_pixels_for_hold_frames():
    h, w = 2, 3
    frames = np.full((40, h, w, 1), 50, np.uint8)
    frames[10:, 0, 0] = 200  # an object stops at (0, 0) from frame 10
    hold_frames = 12
    kern = Kernel((h, w), 1, 3)
    masks = []
    for n, frame in enumerate(frames, 1):
        masks.append(kern.apply(frame, params(auto_alpha(n, history=20)), hold_frames=hold_frames))
        if 10 <= n - 1 < 10 + hold_frames:
            # held: the pixel's model has not learned the object at all
            assert kern.nmodes[0, 0] == 1
            assert kern.hold[0, 0] == n - 10
    fg = np.array([m[0, 0] == 255 for m in masks])
    assert fg[10 : 10 + hold_frames].all()
    assert not fg[:10].any()
    assert not fg[-1]  # absorbed eventually
    assert all((m[1:] == 0).all() for m in masks[1:])


def oracle_background(weight, mean, nmodes, tbr):
    """OpenCV's ``getBackgroundImage`` pixel by pixel in float32 scalars: the
    weight-averaged mean of the heaviest components up to the one whose cumulative
    weight exceeds ``tbr``, rounded half to even and saturated to uint8."""
    _, nch, h, w = mean.shape
    out = np.zeros((h, w, nch), np.uint8)
    for y in range(h):
        for x in range(w):
            total = F(0)
            acc = [F(0)] * nch
            for mode in range(nmodes[y, x]):
                wk = weight[mode, y, x]
                acc = [F(acc[c] + F(wk * mean[mode, c, y, x])) for c in range(nch)]
                total = F(total + wk)
                if total > tbr:
                    break
            inv = F(1) / total if abs(total) > np.finfo(F).eps else F(0)
            for c in range(nch):
                v = np.rint(F(acc[c] * inv))
                out[y, x, c] = 0 if not v > 0 else min(v, 255)
    return out


def background_in_bands(weight, mean, nmodes, tbr, bands=1):
    """:func:`mog2_background_rows` on ``bands`` bands of rows; the output starts at 7."""
    h, w = nmodes.shape
    out = np.full((h, w, mean.shape[1]), 7, np.uint8)
    edges = np.linspace(0, h, bands + 1).astype(int)
    for y0, y1 in itertools.pairwise(edges):
        mog2_background_rows(y0, y1, weight, mean, nmodes, tbr, out)
    return out


def test_background_is_weighted_mean_of_heaviest_components():
    weight = np.zeros((3, 1, 7), F)
    mean = np.zeros((3, 1, 1, 7), F)
    nmodes = np.array([[2, 3, 1, 1, 1, 0, 2]], np.uint8)
    weight[:, 0, 0] = [0.6, 0.4, 0.0]
    mean[:, 0, 0, 0] = [10, 30, 0]
    weight[:, 0, 1] = [0.95, 0.03, 0.02]  # 0.95 > tbr: the others do not count
    mean[:, 0, 0, 1] = [100, 0, 0]
    weight[0, 0, 2:5] = 1.0
    mean[0, 0, 0, 2:5] = [10.5, 11.5, 300.0]  # half to even; saturated
    mean[0, 0, 0, 5] = 50.0  # no component in use: 0
    weight[:2, 0, 6] = [0.9, 0.1]  # exactly tbr is not more than tbr: both count
    mean[:2, 0, 0, 6] = [10, 110]
    bg = background_in_bands(weight, mean, nmodes, F(0.9))
    assert bg.shape == (1, 7, 1)
    np.testing.assert_array_equal(bg[0, :, 0], [18, 100, 10, 12, 255, 0, 20])


@pytest.mark.parametrize("nch", [1, 3])
@pytest.mark.parametrize("bands", [1, 3])
@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (3, TILE + 5)])
def test_background_rows_match_the_oracle_bit_for_bit(nch, bands, shape):
    rng = np.random.default_rng(sum(shape) * 10 + nch + bands)
    h, w = shape
    kmax = 4
    nmodes = rng.integers(0, kmax + 1, (h, w)).astype(np.uint8)
    weight = rng.dirichlet(np.ones(kmax) * 0.5, (h, w)).astype(F)
    weight = -np.sort(-weight, axis=-1).transpose(2, 0, 1).copy()
    weight[:, rng.random((h, w)) < 0.2] *= F(0.5)  # totals that never reach tbr
    weight[:, rng.random((h, w)) < 0.05] = 0  # nothing to divide by
    mean = rng.uniform(-20, 280, (kmax, nch, h, w)).astype(F)
    tbr = F(0.7)
    expected = oracle_background(weight, mean, nmodes, tbr)
    got = background_in_bands(weight, mean, nmodes, tbr, bands)
    np.testing.assert_array_equal(got, expected)
