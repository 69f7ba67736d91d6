"""gmm-consensus: start-up rate, neighbourhood consensus, blobs, threads, parameters."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bgmix.background import load_subtractor, make_subtractor
from bgmix.background._gmm_consensus import GMMConsensus
from bgmix.background._gmm_full import GMMFull
from bgmix.exceptions import ParameterError


def _textured(h=40, w=48, seed=0, channels=3):
    rng = np.random.default_rng(seed)
    shape = (h, w, channels) if channels == 3 else (h, w)
    # smooth texture: a shift by one pixel changes values by a few grey levels only
    # between neighbours, but by much more than the noise at a distance
    base = rng.integers(30, 220, size=(h // 4 + 2, w // 4 + 2, 3)).astype(np.float32)
    tex = np.kron(base, np.ones((4, 4, 1)))[:h, :w]
    return tex if channels == 3 else tex[..., 0].reshape(shape)


def _noisy(img, rng):
    return np.clip(np.rint(img + rng.normal(0, 1.5, img.shape)), 0, 255).astype(np.uint8)


def test_startup_rate_schedule_and_a_ghost_is_forgotten():
    rng = np.random.default_rng(1)
    bg = np.full((24, 32, 3), 60.0, np.float32)
    first = bg.copy()
    first[8:16, 10:20] = 200.0  # an object present in the first frame, then gone
    fast = GMMConsensus(random_state=0, startup=2.0, radius=0, postprocess=None, n_jobs=1)
    slow = GMMConsensus(random_state=0, startup=0.0, radius=0, postprocess=None, n_jobs=1)
    for sub in (fast, slow):
        sub.apply(_noisy(first, rng))
    ghost = np.zeros((24, 32), bool)
    ghost[8:16, 10:20] = True
    for _ in range(20):
        frame = _noisy(bg, rng)
        m_fast = fast.apply(frame)
        slow.apply(frame)
    assert np.mean(m_fast[ghost] == 255) < 0.05
    # the young model's covariances have shrunk to the noise; the constant rate's not
    assert fast._cov[:, 0].min() < 20.0 < slow._cov[:, 0].max()
    # the rate falls to alpha and no lower
    assert slow._rate(-1.0) == pytest.approx(0.005)
    fast._model_frames = 10_000
    assert fast._rate(-1.0) == pytest.approx(0.005)
    fast._model_frames = 0
    assert fast._rate(-1.0) == pytest.approx(0.25)  # 1 / (2 * (1 + 1))


def test_startup_zero_equals_gmm_full_without_consensus():
    rng = np.random.default_rng(2)
    frames = [_noisy(_textured(seed=s % 3), rng) for s in range(8)]
    a = GMMConsensus(
        random_state=5,
        startup=0.0,
        radius=0,
        shadow_threshold=0.0,
        restart_share=0.0,
        postprocess={"median": 5},
        n_jobs=1,
    )
    b = GMMFull(random_state=5, n_jobs=1)
    for f in frames:
        np.testing.assert_array_equal(a.apply(f), b.apply(f))
    np.testing.assert_array_equal(a._cov, b._cov)


@pytest.mark.parametrize("channels", [1, 3])
def test_consensus_removes_a_one_pixel_shake_but_keeps_an_object(channels):
    rng = np.random.default_rng(3)
    tex = _textured(channels=channels)
    frames = [_noisy(tex, rng) for _ in range(30)]
    shaken = np.roll(tex, 1, axis=1)  # the camera moves by one pixel
    shaken = shaken.copy()
    shaken[10:20, 10:20] = 255.0  # and an object appears
    obj = np.zeros(shaken.shape[:2], bool)
    obj[10:20, 10:20] = True
    masks = {}
    for radius in (0, 1):
        for share in (0.0, 1.0):
            # the test as strict as the mixture: the young model's variances are still
            # wide, and the texture comes within 35 grey levels of the object
            sub = GMMConsensus(
                random_state=0,
                radius=radius,
                displaced_share=share,
                consensus_threshold=3.0,
                postprocess=None,
                n_jobs=1,
            )
            for f in frames:
                sub.apply(f)
            masks[radius, share] = sub.apply(_noisy(shaken, rng))
    edges = ~obj
    edges[:, 0] = False  # np.roll wrapped the last column there: a true change
    plain = masks[0, 0.0]
    assert np.mean(plain[edges] == 255) > 0.1  # the shake fires on the texture's edges
    # per pixel, every displaced edge goes; per blob, the edge lines that touch the
    # object's blob stay with it (the blob is not displaced as a whole)
    for share in (0.0, 1.0):
        m = masks[1, share]
        assert np.all(m[obj] == 255)
    assert np.mean(masks[1, 0.0][edges] == 255) < 0.005
    blob = masks[1, 1.0]
    _, labels = cv2.connectedComponents((blob == 255).astype(np.uint8), connectivity=8)
    left = edges & (blob == 255)
    assert left.sum() < 0.5 * (edges & (plain == 255)).sum()
    assert np.all(labels[left] == labels[15, 15])  # what is left touches the object


@pytest.mark.parametrize(("channels", "step"), [(1, 11.0), (3, 6.5)])
def test_consensus_threshold_sets_how_far_a_neighbour_explains(channels, step):
    # a patch brightened by about 4 standard deviations of the model (variances
    # near 6.6 after 40 frames from var_init=6): beyond the mixture's match
    # threshold 3, within 5
    rng = np.random.default_rng(6)
    shape = (32, 40, channels) if channels == 3 else (32, 40)
    bg = np.full(shape, 100.0, np.float32)
    changed = bg.copy()
    changed[12:18, 14:20] += step
    patch = np.zeros((32, 40), bool)
    patch[12:18, 14:20] = True
    masks = {}
    for lam in (3.0, 5.0):
        sub = GMMConsensus(
            random_state=0, consensus_threshold=lam, var_init=6.0, postprocess=None, n_jobs=1
        )
        for _ in range(40):
            sub.apply(_noisy(bg, rng))
        masks[lam] = sub.apply(_noisy(changed, np.random.default_rng(7)))
        assert sub.consensus_threshold == lam
    assert np.mean(masks[3.0][patch] == 255) > 0.8  # the mixture's and the test's verdict
    assert np.all(masks[5.0][patch] == 0)  # the neighbours' background explains it
    # an object far beyond both thresholds stays
    far = changed.copy()
    far[12:18, 14:20] = 220.0
    sub = GMMConsensus(
        random_state=0, consensus_threshold=5.0, var_init=6.0, postprocess=None, n_jobs=1
    )
    for _ in range(40):
        sub.apply(_noisy(bg, rng))
    assert np.all(sub.apply(_noisy(far, rng))[patch] == 255)


def test_threads_give_the_same_masks_and_state_resumes_exactly(tmp_path):
    rng = np.random.default_rng(4)
    tex = _textured(h=120, w=160)
    frames = [_noisy(np.roll(tex, t % 3 - 1, axis=1), rng) for t in range(16)]
    a = GMMConsensus(random_state=0, radius=2, displaced_share=0.0, n_jobs=1)
    b = GMMConsensus(random_state=0, radius=2, displaced_share=0.0, n_jobs=2)
    for f in frames[:8]:
        np.testing.assert_array_equal(a.apply(f), b.apply(f))
    b.save(tmp_path / "c.npz")
    c = load_subtractor(tmp_path / "c.npz")
    assert c._model_frames == b._model_frames == 8
    for f in frames[8:]:
        ma, mc = a.apply(f), c.apply(f)
        np.testing.assert_array_equal(ma, mc)
    np.testing.assert_array_equal(a._weight, c._weight)


def test_learning_rate_one_restarts_the_startup_count():
    rng = np.random.default_rng(5)
    frames = [_noisy(_textured(), rng) for _ in range(5)]
    sub = GMMConsensus(random_state=0, n_jobs=1)
    for f in frames:
        sub.apply(f)
    assert sub._model_frames == 5
    sub.apply(frames[0], learning_rate=1.0)
    assert sub._model_frames == 1
    sub.apply(frames[1], learning_rate=0.0)
    assert sub._model_frames == 2
    sub.set_params(n_components=4)
    sub.apply(frames[2])
    assert sub._model_frames == 1 and sub._weight.shape[0] == 4


def test_a_cast_shadow_is_labelled_127_in_colour_only():
    rng = np.random.default_rng(7)
    bg = np.empty((30, 40, 3), np.float32)
    bg[...] = (90.0, 140.0, 180.0)
    shadow = np.zeros((30, 40), bool)
    shadow[10:20, 5:15] = True
    obj = np.zeros((30, 40), bool)
    obj[10:20, 25:35] = True
    frame = bg.copy()
    frame[shadow] *= 0.75  # same colour, darker
    frame[obj] = (200.0, 60.0, 40.0)  # another colour
    kw = {"random_state": 0, "radius": 0, "postprocess": None, "n_jobs": 1}
    masks = {}
    for tau in (0.7, 0.0):
        for grey in (False, True):
            sub = GMMConsensus(shadow_threshold=tau, **kw)
            for _ in range(40):
                f = _noisy(bg, rng)
                sub.apply(f.mean(axis=2).astype(np.uint8) if grey else f)
            f = _noisy(frame, rng)
            masks[tau, grey] = sub.apply(f.mean(axis=2).astype(np.uint8) if grey else f)
    assert np.mean(masks[0.7, False][shadow] == 127) > 0.95
    assert np.mean(masks[0.7, False][obj] == 255) > 0.95
    assert np.mean(masks[0.0, False][shadow] == 255) > 0.95
    # grey frames: no shadow test
    assert not (masks[0.7, True] == 127).any()
    np.testing.assert_array_equal(masks[0.7, True], masks[0.0, True])


def test_a_global_change_restarts_the_startup_rate():
    rng = np.random.default_rng(8)
    bg = _textured(seed=3)
    lit = np.clip(bg * 1.4 + 20.0, 0, 255)
    on = GMMConsensus(random_state=0, n_jobs=1)
    off = GMMConsensus(random_state=0, restart_share=0.0, n_jobs=1)
    for _ in range(60):
        f = _noisy(bg, rng)
        on.apply(f)
        off.apply(f)
    assert on._model_frames == off._model_frames == 60
    fg_on, fg_off = [], []
    for i in range(40):
        f = _noisy(lit, rng)
        fg_on.append(np.mean(on.apply(f) == 255))
        fg_off.append(np.mean(off.apply(f) == 255))
        if i == 0:
            assert on._model_frames == 0 and off._model_frames == 61
    # both see the change; with the restart the model relearns it in a few frames,
    # without it only once the new components' weights pass background_ratio
    assert fg_on[0] > 0.5 and fg_off[0] > 0.5
    settled_on = next(i for i, v in enumerate(fg_on) if v < 0.05)
    settled_off = next((i for i, v in enumerate(fg_off) if v < 0.05), len(fg_off))
    assert settled_on <= 4 < 10 <= settled_off


def test_a_large_object_does_not_restart():
    rng = np.random.default_rng(9)
    bg = _textured(seed=3)
    sub = GMMConsensus(random_state=0, radius=0, n_jobs=1)
    for _ in range(30):
        sub.apply(_noisy(bg, rng))
    flipped = bg[::-1, ::-1]  # other colours at most pixels, the same mean brightness
    mask = sub.apply(_noisy(flipped, rng))
    assert np.mean(mask == 255) > 0.5
    assert sub._model_frames == 31
    # even with any brightness change allowed, the pixels' brightness ratios vary
    # too much for a change of the light
    sub.set_params(restart_gain=0.0)
    sub.apply(_noisy(flipped, rng))
    assert sub._model_frames == 32
    # the same frame darkened uniformly is a change of the light
    sub.apply(_noisy(bg * 0.6, rng))
    assert sub._model_frames == 0


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"startup": -1.0}, "startup"),
        ({"startup": 1000.0}, "startup"),
        ({"radius": 5}, "radius"),
        ({"radius": 1.5}, "radius"),
        ({"consensus_threshold": 0.0}, "consensus_threshold"),
        ({"consensus_threshold": float("inf")}, "consensus_threshold"),
        ({"displaced_share": 1.5}, "displaced_share"),
        ({"shadow_threshold": -0.1}, "shadow_threshold"),
        ({"shadow_threshold": 1.2}, "shadow_threshold"),
        ({"restart_share": 2.0}, "restart_share"),
        ({"restart_gain": -1.0}, "restart_gain"),
    ],
)
def test_bad_parameters_are_rejected(params, word):
    with pytest.raises(ParameterError, match=word):
        make_subtractor("gmm-consensus", **params)
