"""The neighbourhood-consensus kernel of gmm-consensus against a slow float64 oracle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from bgmix._kernels.online_consensus import displaced_rows

F = np.float32
TRIU = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def random_model(h, w, c, k, seed):
    """A random mixture (weights summing to 1, SPD covariances) and a frame near it."""
    rng = np.random.default_rng(seed)
    weight = np.moveaxis(rng.dirichlet(np.ones(k), size=(h, w)), -1, 0).astype(F)
    mean = rng.uniform(40, 200, size=(k, c, h, w)).astype(F)
    if c == 3:
        cov = np.zeros((k, 6, h, w), F)
        a = rng.normal(0, 4, size=(k, h, w, 3, 3))
        full = a @ np.swapaxes(a, -1, -2) + 9 * np.eye(3)
        for j, (p, q) in enumerate(TRIU):
            cov[:, j] = full[..., p, q]
    else:
        cov = rng.uniform(4, 150, size=(k, 1, h, w)).astype(F)
    # frame: a neighbour's component mean plus noise, or a random colour
    pick = rng.integers(0, k, size=(h, w))
    sy = np.clip(np.arange(h)[:, None] + rng.integers(-1, 2, size=(h, w)), 0, h - 1)
    sx = np.clip(np.arange(w)[None, :] + rng.integers(-1, 2, size=(h, w)), 0, w - 1)
    near = mean[pick, :, sy, sx] + rng.normal(0, 6, size=(h, w, c))
    far = rng.uniform(0, 255, size=(h, w, c))
    frame = np.where(rng.random((h, w, 1)) < 0.6, near, far)
    frame = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
    mask = np.where(rng.random((h, w)) < 0.7, 255, 0).astype(np.uint8)
    return frame, weight, mean, cov, mask


def matrix(cov, m, y, x):
    if cov.shape[1] == 1:
        return np.array([[float(cov[m, 0, y, x])]])
    s = np.zeros((3, 3))
    for j, (p, q) in enumerate(TRIU):
        s[p, q] = s[q, p] = float(cov[m, j, y, x])
    return s


def oracle(frame, weight, mean, cov, mask, radius, lam, tbr, ranked):
    """Flags and a 'borderline' map (a distance or weight sum within rounding of its
    threshold, where float32 and float64 may disagree)."""
    k, _, h, w = mean.shape
    flags = np.zeros((h, w), np.uint8)
    border = np.zeros((h, w), bool)
    for y, x in itertools.product(range(h), range(w)):
        if mask[y, x] != 255:
            continue
        px = frame[y, x].astype(np.float64)
        for yy, xx in itertools.product(
            range(y - radius, y + radius + 1), range(x - radius, x + radius + 1)
        ):
            if not (0 <= yy < h and 0 <= xx < w) or (yy, xx) == (y, x):
                continue
            sig = [matrix(cov, m, yy, xx) for m in range(k)]
            wts = [float(weight[m, yy, xx]) for m in range(k)]
            keys = [wts[m] / np.sqrt(np.linalg.det(sig[m])) for m in range(k)]
            order = sorted(range(k), key=lambda m: (-keys[m], m))
            before = 0.0
            for m in order:
                e = px - mean[m, :, yy, xx].astype(np.float64)
                d2 = float(e @ np.linalg.solve(sig[m], e))
                background = (before < tbr) if ranked else True
                if abs(d2 - lam * lam) < 1e-3 * lam * lam or (ranked and abs(before - tbr) < 1e-4):
                    border[y, x] = True
                if d2 < lam * lam and background:
                    flags[y, x] = 1
                before += wts[m]
    return flags, border


def drop_displaced_blobs(mask, explained, share):
    """Oracle of the blob test: ``mask`` without its 8-connected blobs of which at
    least ``share`` of the pixels are explained."""
    import cv2

    n, labels = cv2.connectedComponents((mask == 255).astype(np.uint8), connectivity=8)
    out = mask.copy()
    for b in range(1, n):
        blob = labels == b
        if explained[blob].sum() >= share * blob.sum():
            out[blob] = 0
    return out


def run(frame, weight, mean, cov, mask, radius, lam, tbr, ranked, bands=1):
    out = np.full(mask.shape, 7, np.uint8)
    edges = np.linspace(0, mask.shape[0], bands + 1).astype(int)
    for y0, y1 in itertools.pairwise(edges):
        displaced_rows(
            y0,
            y1,
            frame,
            weight,
            mean,
            cov,
            mask,
            out,
            radius,
            F(lam * lam),
            F(tbr),
            ranked,
            F(4.0),
        )
    return out


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("ranked", [True, False])
@pytest.mark.parametrize("radius", [1, 2])
def test_flags_match_the_oracle(channels, ranked, radius):
    frame, weight, mean, cov, mask = random_model(9, 11, channels, 3, seed=channels + 10 * radius)
    got = run(frame, weight, mean, cov, mask, radius, 3.0, 0.7, ranked)
    want, border = oracle(frame, weight, mean, cov, mask, radius, 3.0, 0.7, ranked)
    assert np.array_equal(got[~border], want[~border])
    assert border.mean() < 0.1
    # the test is informative: some foreground pixels are explained, some are not
    fg = mask == 255
    assert 0 < want[fg].sum() < fg.sum()
    assert not got[~fg].any()


def test_bands_give_the_same_flags():
    frame, weight, mean, cov, mask = random_model(16, 12, 3, 4, seed=3)
    one = run(frame, weight, mean, cov, mask, 2, 3.0, 0.7, True)
    three = run(frame, weight, mean, cov, mask, 2, 3.0, 0.7, True, bands=3)
    assert np.array_equal(one, three)
    assert set(np.unique(one)) <= {0, 1}


def test_a_pixel_is_not_its_own_neighbour():
    # one component per pixel; the frame equals the model everywhere but in pixel
    # (2, 2), whose value only its own model has
    h, w = 5, 5
    mean = np.full((1, 1, h, w), 50.0, F)
    mean[0, 0, 2, 2] = 200.0
    cov = np.full((1, 1, h, w), 9.0, F)
    weight = np.ones((1, h, w), F)
    frame = mean[0].transpose(1, 2, 0).astype(np.uint8).copy()
    mask = np.full((h, w), 255, np.uint8)
    flags = run(frame, weight, mean, cov, mask, 1, 3.0, 0.7, True)
    assert flags[2, 2] == 0
    assert flags[0, 0] == 1


def blob_test(frame, weight, mean, cov, mask, share, bands):
    """The blob test as ``gmm-consensus`` runs it: marks in ``bands`` row bands, then
    the decision; returns the cleared mask and the displaced flags."""
    import cv2

    from bgmix._kernels.online_consensus import blob_budget, blob_misses_rows, drop_displaced

    n, labels = cv2.connectedComponents((mask == 255).astype(np.uint8), connectivity=8)
    allowed = blob_budget(labels, n, share)
    missed_at = np.zeros(mask.shape, np.uint8)
    edges = np.linspace(0, mask.shape[0], bands + 1).astype(int)
    for y0, y1 in itertools.pairwise(edges):
        blob_misses_rows(
            y0, y1, frame, weight, mean, cov, labels, allowed, missed_at,
            1, F(9.0), F(0.7), True, F(4.0),
        )  # fmt: skip
    got = mask.copy()
    return got, drop_displaced(got, labels, allowed, missed_at)


@pytest.mark.parametrize("share", [1.0, 0.8, 0.5])
@pytest.mark.parametrize("channels", [1, 3])
def test_blob_decisions_equal_the_per_pixel_flags_counted_per_blob(share, channels):
    frame, weight, mean, cov, mask = random_model(20, 24, channels, 3, seed=7 + channels)
    mask = np.where(np.random.default_rng(1).random(mask.shape) < 0.35, 255, 0).astype(np.uint8)
    flags = run(frame, weight, mean, cov, mask, 1, 3.0, 0.7, True)
    want = drop_displaced_blobs(mask, flags, share)
    got, drop = blob_test(frame, weight, mean, cov, mask, share, bands=1)
    assert not drop[0]
    assert np.array_equal(got, want)
    assert 0 < drop.sum() < len(drop) - 1  # some blobs go, some stay
    # blobs cut by the bands' edges get the same decisions
    for bands in (2, 5):
        got_b, drop_b = blob_test(frame, weight, mean, cov, mask, share, bands=bands)
        assert np.array_equal(got_b, want)
        assert np.array_equal(drop_b, drop)


def shadow_oracle(frame, weight, mean, cov, mask, tau, lam, tbr, ranked):
    """float64 oracle of ``shadow_rows``: the relabelled mask and a 'borderline' map."""
    k, _, h, w = mean.shape
    out = mask.copy()
    border = np.zeros((h, w), bool)
    for y, x in itertools.product(range(h), range(w)):
        if mask[y, x] != 255:
            continue
        px = frame[y, x].astype(np.float64)
        sig = [matrix(cov, m, y, x) for m in range(k)]
        wts = [float(weight[m, y, x]) for m in range(k)]
        keys = [wts[m] / np.sqrt(np.linalg.det(sig[m])) for m in range(k)]
        before = 0.0
        for m in sorted(range(k), key=lambda m: (-keys[m], m)):
            mu = mean[m, :, y, x].astype(np.float64)
            a = float(px @ mu / (mu @ mu))
            r = px - a * mu
            d2 = float(r @ np.linalg.solve(sig[m], r))
            background = (before < tbr) if ranked else True
            near = abs(d2 - lam * lam * a * a) < 1e-3 * lam * lam * a * a
            if (
                near
                or min(abs(a - tau), abs(a - 1.0)) < 1e-5
                or (ranked and abs(before - tbr) < 1e-4)
            ):
                border[y, x] = True
            if background and tau <= a <= 1.0 and d2 < lam * lam * a * a:
                out[y, x] = 127
            before += wts[m]
    return out, border


def shadowed_model(h, w, k, seed):
    """A random colour model whose frame is, at most pixels, a darker copy of one of
    the pixel's own components (ratio 0.4-1.1, some chromatic noise)."""
    rng = np.random.default_rng(seed)
    frame, weight, mean, cov, mask = random_model(h, w, 3, k, seed)
    pick = rng.integers(0, k, size=(h, w))
    ratio = rng.uniform(0.4, 1.1, size=(h, w, 1))
    own = np.moveaxis(mean[pick, :, np.arange(h)[:, None], np.arange(w)[None, :]], -1, -1)
    dark = ratio * own + rng.normal(0, 3, size=(h, w, 3))
    frame = np.where(rng.random((h, w, 1)) < 0.8, dark, frame)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8), weight, mean, cov, mask


def run_shadows(frame, weight, mean, cov, mask, tau, lam, tbr, ranked, bands=1):
    from bgmix._kernels.online_consensus import shadow_rows

    out = mask.copy()
    edges = np.linspace(0, mask.shape[0], bands + 1).astype(int)
    for y0, y1 in itertools.pairwise(edges):
        shadow_rows(
            y0, y1, frame, weight, mean, cov, out, F(tau), F(lam * lam), F(tbr), ranked, F(4.0)
        )
    return out


@pytest.mark.parametrize("ranked", [True, False])
@pytest.mark.parametrize("tau", [0.5, 0.8])
def test_shadows_match_the_oracle(ranked, tau):
    frame, weight, mean, cov, mask = shadowed_model(12, 14, 3, seed=int(10 * tau) + ranked)
    got = run_shadows(frame, weight, mean, cov, mask, tau, 3.0, 0.7, ranked)
    want, border = shadow_oracle(frame, weight, mean, cov, mask, tau, 3.0, 0.7, ranked)
    assert np.array_equal(got[~border], want[~border])
    assert border.mean() < 0.1
    # informative: some foreground becomes shadow, some stays; nothing else changes
    fg = mask == 255
    assert 0 < (want[fg] == 127).sum() < fg.sum()
    assert np.array_equal(got[~fg], mask[~fg])
    assert set(np.unique(got)) <= {0, 127, 255}


def test_shadow_bands_give_the_same_mask():
    frame, weight, mean, cov, mask = shadowed_model(15, 9, 4, seed=5)
    one = run_shadows(frame, weight, mean, cov, mask, 0.6, 3.0, 0.7, True)
    three = run_shadows(frame, weight, mean, cov, mask, 0.6, 3.0, 0.7, True, bands=3)
    assert np.array_equal(one, three)
    assert (one == 127).any()
