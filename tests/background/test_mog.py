"""mog (Stauffer-Grimson): learning-rate schedule, covariance types, parameters."""

from __future__ import annotations

import numpy as np

from bgmix.background import make_subtractor
from bgmix.background._mog import MOG
from bgmix.synthetic import generate


def _clip(n_frames=30, kind="baseline", seed=0):
    return generate(kind, width=48, height=32, n_frames=n_frames, seed=seed).to_arrays()


def test_first_frame_is_foreground_then_the_static_scene_is_background():
    frame = np.full((10, 12, 3), 70, np.uint8)
    sub = MOG(postprocess=None)
    assert (sub.apply(frame) == 255).all()
    assert (sub.apply(frame) == 0).all()
    np.testing.assert_array_equal(sub.get_background_image(), frame)


def test_automatic_rate_is_one_over_min_n_history():
    # With history=4, the 6th frame of a new value moves the mean by 1/4 of the gap.
    sub = MOG(history=4, postprocess=None, var_init=400.0)
    frame = np.full((2, 2), 100, np.uint8)
    for _ in range(5):
        sub.apply(frame)
    sub.apply(np.full((2, 2), 110, np.uint8))
    # rho = alpha / w with w = 1 for the only component: the mean moves by alpha * 10
    np.testing.assert_allclose(sub._mean[..., 0, 0], 100 + 10 / 4, rtol=1e-6)


def test_learning_rate_zero_freezes_and_one_restarts():
    frames, _ = _clip(n_frames=12)
    sub = MOG()
    for f in frames[:10]:
        sub.apply(f)
    state = [a.copy() for a in (sub._weight, sub._mean, sub._var)]
    sub.apply(255 - frames[10], learning_rate=0)
    for a, b in zip(state, (sub._weight, sub._mean, sub._var), strict=True):
        np.testing.assert_array_equal(a, b)
    sub.apply(frames[11], learning_rate=1)
    np.testing.assert_array_equal(sub.get_background_image(), frames[11])
    assert (sub._weight[..., 1:] == 0).all()


def test_diagonal_covariance_keeps_one_variance_per_channel():
    rng = np.random.default_rng(0)
    noise = rng.normal(0, [2.0, 8.0, 20.0], size=(400, 4, 4, 3))
    frames = np.clip(np.rint(120 + noise), 0, 255).astype(np.uint8)
    sub = MOG(covariance="diagonal", var_min=1.0, postprocess=None)
    for f in frames:
        sub.apply(f)
    var = sub._var[..., 0, :].reshape(-1, 3).mean(axis=0)
    assert var[0] < var[1] < var[2]
    np.testing.assert_allclose(np.sqrt(var), [2.0, 8.0, 20.0], rtol=0.35)
    sph = MOG(postprocess=None)
    sph.apply(frames[0])
    assert sph._var.shape[-1] == 1 and sub._var.shape[-1] == 3


def test_threads_give_identical_results_and_state_size():
    # 256x160: large enough to be split into two bands of rows.
    frames, _ = generate("dynamic", width=256, height=160, n_frames=12, seed=0).to_arrays()
    one, two = MOG(n_jobs=1), MOG(n_jobs=2)
    for f in frames:
        np.testing.assert_array_equal(one.apply(f), two.apply(f))
    assert one.bytes_per_pixel == 4 * 3 * (1 + 3 + 1) + 2
    diag = MOG(covariance="diagonal", n_mixtures=5)
    diag.apply(frames[0])
    assert diag.bytes_per_pixel == 4 * 5 * (1 + 3 + 3) + 2


def test_changing_the_model_shape_restarts_it():
    frames, _ = _clip(n_frames=6)
    sub = MOG()
    for f in frames[:3]:
        sub.apply(f)
    sub.set_params(covariance="diagonal", n_mixtures=4)
    sub.apply(frames[3])
    assert sub._var.shape[-1] == 3 and sub._weight.shape[-1] == 4
    assert (sub._weight[..., 1:] == 0).all()


def test_defaults_are_the_documented_ones():
    sub = make_subtractor("mog")
    assert (sub.n_mixtures, sub.history, sub.background_ratio, sub.match_threshold) == (
        3,
        200,
        0.7,
        2.5,
    )
    assert (sub.var_init, sub.var_min, sub.weight_init) == (225.0, 16.0, 0.05)
    assert sub.covariance == "spherical" and sub.postprocess.median == 5
