"""The ``em`` subtractor: background recovery, foreground rules, online learning, parameters."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.background import make_subtractor
from bgmix.background._em import PixelEM
from bgmix.exceptions import ConvergenceWarning


def scene(n_frames=30, h=20, w=40, channels=3, seed=0, noise=3.0):
    """Static textured background + noise, and a square crossing it (≤ 20% of frames per pixel)."""
    rng = np.random.default_rng(seed)
    shape = (h, w, channels) if channels == 3 else (h, w)
    bg = rng.uniform(40, 180, size=shape)
    frames = np.empty((n_frames, *shape), np.uint8)
    truth = np.zeros((n_frames, h, w), bool)
    for t in range(n_frames):
        x0 = round(t * (w - 6) / max(1, n_frames - 1))
        img = bg + rng.normal(0, noise, size=shape)
        img[5:11, x0 : x0 + 6] = 240.0
        truth[t, 5:11, x0 : x0 + 6] = True
        frames[t] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return frames, truth, bg


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
@pytest.mark.parametrize("channels", [1, 3])
def test_background_is_the_static_scene_and_the_square_is_foreground(covariance_type, channels):
    frames, truth, bg = scene(channels=channels)
    em = make_subtractor("em", n_components=2, covariance_type=covariance_type).fit(frames)
    err = np.abs(em.get_background_image().astype(np.float64) - bg)
    # within the noise (sigma 3): a 2-component fit of pure noise splits it, so the
    # heaviest component's mean can sit up to about one sigma off
    assert np.quantile(err, 0.99) <= 4.0 and err.mean() <= 1.5, (np.quantile(err, 0.99), err.mean())
    masks = np.stack([em.apply(f) for f in frames]) == 255
    recall = (masks & truth).sum() / truth.sum()
    fpr = (masks & ~truth).sum() / (~truth).sum()
    assert recall >= 0.99 and fpr <= 0.01, (recall, fpr)
    if covariance_type == "diag" and channels == 3:
        off = em.covariances_[..., [0, 0, 1], [1, 2, 2]]
        assert (off == 0).all()


def test_fitted_attributes_have_documented_shapes_and_invariants():
    frames, _, _ = scene(n_frames=12, h=6, w=7)
    em = PixelEM(n_components=3).fit(frames)
    assert em.weights_.shape == (6, 7, 3) and em.weights_.dtype == np.float32
    assert em.means_.shape == (6, 7, 3, 3) and em.covariances_.shape == (6, 7, 3, 3, 3)
    assert em.n_iter_.shape == (6, 7) and em.converged_.dtype == np.bool_
    assert (np.diff(em.weights_, axis=-1) <= 0).all()  # heaviest first
    np.testing.assert_allclose(em.weights_.sum(axis=-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        em.get_background_image(), np.rint(em.means_[:, :, 0]).astype(np.uint8)
    )
    assert np.isfinite(em.lower_bound_).all()


def test_difference_rule_is_the_grey_threshold_of_the_notebooks():
    frames, _, _ = scene()
    em = PixelEM(n_components=2, rule="difference", grey_threshold=25.0).fit(frames)
    frame = frames[7]
    luma = np.array([0.299, 0.587, 0.114])
    expected = np.abs(frame @ luma - em.means_[:, :, 0].astype(np.float64) @ luma) > 25.0
    np.testing.assert_array_equal(em.apply(frame) == 255, expected)


def test_threshold_trades_recall_for_false_positives():
    frames, _, _ = scene(noise=6.0)
    loose = PixelEM(n_components=2, threshold=2.0).fit(frames)
    strict = PixelEM(n_components=2, threshold=6.0).fit(frames)
    fg_loose = sum(int((loose.apply(f) == 255).sum()) for f in frames)
    fg_strict = sum(int((strict.apply(f) == 255).sum()) for f in frames)
    assert fg_loose > fg_strict


def test_learning_rate_zero_freezes_and_online_rate_learns():
    frames, _, _ = scene()
    frozen = PixelEM(n_components=2, online_rate=0.05).fit(frames)
    state = [a.copy() for a in (frozen.weights_, frozen.means_, frozen.covariances_)]
    frozen.apply(frames[3], learning_rate=0)
    for before, after in zip(
        state, (frozen.weights_, frozen.means_, frozen.covariances_), strict=True
    ):
        np.testing.assert_array_equal(before, after)
    frozen.apply(frames[3])  # automatic rate = online_rate > 0: the model moves
    assert not np.array_equal(state[0], frozen.weights_)
    static = PixelEM(n_components=2).fit(frames)  # online_rate 0: frozen by default
    w = static.weights_.copy()
    static.apply(frames[3])
    np.testing.assert_array_equal(w, static.weights_)


def test_online_learning_absorbs_a_new_static_object():
    frames, _, _ = scene()
    em = PixelEM(n_components=2, online_rate=0.2).fit(frames)
    parked = frames[0].copy()
    parked[14:18, 2:8] = [250, 20, 20]
    first = em.apply(parked)
    assert (first[14:18, 2:8] == 255).all()
    for _ in range(30):
        mask = em.apply(parked)
    assert (mask[14:18, 2:8] == 0).all()


def test_learning_rate_one_reinitialises_to_the_frame():
    frames, _, _ = scene()
    em = PixelEM(n_components=2).fit(frames)
    em.apply(frames[0], learning_rate=1)
    np.testing.assert_array_equal(em.get_background_image(), frames[0])
    np.testing.assert_array_equal(em.weights_[..., 0], 1.0)


def test_convergence_warning_names_the_pixels_and_tol_zero_runs_max_iter():
    frames, _, _ = scene(noise=8.0)
    with pytest.warns(ConvergenceWarning, match="did not converge within max_iter=1"):
        PixelEM(n_components=3, max_iter=1).fit(frames)
    em = PixelEM(n_components=2, max_iter=4, tol=0.0).fit(frames)  # no warning: fixed iterations
    assert (em.n_iter_ == 4).all() and not em.converged_.any()


def test_random_init_is_reproducible_with_a_seed():
    frames, _, _ = scene()
    a = PixelEM(init="random", random_state=3).fit(frames)
    b = PixelEM(init="random", random_state=3).fit(frames)
    c = PixelEM(init="random", random_state=4).fit(frames)
    np.testing.assert_array_equal(a.means_, b.means_)
    assert not np.array_equal(a.means_, c.means_)


def test_constant_and_saturated_frames_fit_without_nan():
    frames = np.zeros((10, 4, 5, 3), np.uint8)
    frames[:, :2] = 255
    frames[::3, 3] = 128
    em = PixelEM(n_components=3).fit(frames)
    for arr in (em.weights_, em.means_, em.covariances_, em.lower_bound_):
        assert np.isfinite(arr).all()
    assert (em.apply(frames[0]) == 0).all()
