"""bgmix's mog2 against OpenCV's MOG2, and its own behaviour."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bgmix.background import PostProcess, load_subtractor, make_subtractor
from bgmix.background._mog2 import MOG2
from bgmix.synthetic import generate
from tests.conftest import moving_square

OPENCV = dict(MOG2.OPENCV_PARAMS)


def _clip(kind="shadows", n_frames=60, seed=0, grey=False):
    frames, _ = generate(kind, width=64, height=48, n_frames=n_frames, seed=seed).to_arrays()
    if grey:
        frames = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])
    return frames


def _bgr(frame):
    return cv2.cvtColor(frame, cv2.COLOR_RGB2BGR) if frame.ndim == 3 else frame


@pytest.mark.parametrize("grey", [False, True])
@pytest.mark.parametrize("kind", ["shadows", "dynamic"])
def test_masks_and_background_agree_with_opencv(kind, grey):
    frames = _clip(kind, grey=grey)
    ours = make_subtractor("mog2", **OPENCV)
    theirs = cv2.createBackgroundSubtractorMOG2()
    agree = []
    for f in frames:
        agree.append(np.mean(ours.apply(f) == theirs.apply(_bgr(f))))
    # The kernels reproduce OpenCV's float32 arithmetic: agreement is exact here.
    assert min(agree) >= 0.999, min(agree)
    assert np.mean(agree) == 1.0
    bg_ours = ours.get_background_image()
    bg_theirs = theirs.getBackgroundImage()
    if not grey:
        bg_theirs = cv2.cvtColor(bg_theirs, cv2.COLOR_BGR2RGB)
    assert np.abs(bg_ours.astype(int) - bg_theirs.astype(int)).max() <= 1


@pytest.mark.parametrize(
    "params",
    [
        {"history": 40, "var_threshold": 25.0, "n_mixtures": 3},
        {"complexity_reduction_threshold": 0.0, "var_threshold_gen": 16.0},
        {"background_ratio": 0.6, "shadow_threshold": 0.7, "shadow_value": 90},
        {"var_init": 30.0, "var_min": 8.0, "var_max": 40.0},
    ],
)
def test_opencv_parity_holds_for_other_parameters(params):
    frames = _clip("baseline", n_frames=40, seed=2)
    ours = make_subtractor("mog2", **{**OPENCV, **params})
    theirs = cv2.createBackgroundSubtractorMOG2(
        params.get("history", 500), params.get("var_threshold", 16.0), True
    )
    theirs.setNMixtures(params.get("n_mixtures", 5))
    theirs.setComplexityReductionThreshold(params.get("complexity_reduction_threshold", 0.05))
    theirs.setVarThresholdGen(params.get("var_threshold_gen", 9.0))
    theirs.setBackgroundRatio(params.get("background_ratio", 0.9))
    theirs.setShadowThreshold(params.get("shadow_threshold", 0.5))
    theirs.setShadowValue(params.get("shadow_value", 127))
    theirs.setVarInit(params.get("var_init", 15.0))
    theirs.setVarMin(params.get("var_min", 4.0))
    theirs.setVarMax(params.get("var_max", 75.0))
    for f in frames:
        np.testing.assert_array_equal(ours.apply(f), theirs.apply(_bgr(f)))


def test_explicit_learning_rates_follow_opencv():
    frames = _clip("baseline", n_frames=30, seed=1)
    rates = [-1, 0.3, 0.0, -1, 0.05, 1.0, -1, 0.0, 0.01] * 4
    ours = make_subtractor("mog2", **OPENCV)
    theirs = cv2.createBackgroundSubtractorMOG2()
    for f, lr in zip(frames, rates, strict=False):
        np.testing.assert_array_equal(
            ours.apply(f, learning_rate=lr), theirs.apply(_bgr(f), learningRate=lr)
        )


def test_learning_rate_one_restarts_from_the_frame():
    frames = _clip("baseline", n_frames=12)
    sub = MOG2(**OPENCV)
    for f in frames[:10]:
        sub.apply(f)
    mask = sub.apply(frames[11], learning_rate=1)
    np.testing.assert_array_equal(sub.get_background_image(), frames[11])
    assert (mask != 0).all()  # a fresh model explains nothing yet


def test_threads_give_identical_results():
    # 256x160: large enough to be split into two bands of rows.
    frames, _ = generate("dynamic", width=256, height=160, n_frames=12, seed=0).to_arrays()
    one, two = MOG2(n_jobs=1), MOG2(n_jobs=2)
    for f in frames:
        np.testing.assert_array_equal(one.apply(f), two.apply(f))
    np.testing.assert_array_equal(one._weight, two._weight)


def test_defaults_are_the_documented_tuned_ones():
    sub = MOG2()
    assert sub.background_ratio == 0.8 and sub.shadow_threshold == 0.8
    assert sub.postprocess == PostProcess(median=5) and sub.detect_shadows is True
    assert sub.history == 500 and sub.var_threshold == 16.0 and sub.n_mixtures == 5
    assert repr(MOG2(**OPENCV)).startswith("MOG2(background_ratio=0.9")


def test_state_bytes_per_pixel_and_constant_memory():
    frames = _clip("baseline", n_frames=20)
    sub = MOG2(n_mixtures=4)
    assert sub.state_nbytes == 0 and sub.bytes_per_pixel == 0.0
    sub.apply(frames[0])
    nbytes = sub.state_nbytes
    assert sub.bytes_per_pixel == 4 * 4 * (2 + 3) + 1 + 2
    for f in frames[1:]:
        sub.apply(f)
    assert sub.state_nbytes == nbytes
    grey = MOG2()
    grey.apply(frames[0][:, :, 0])
    assert grey.bytes_per_pixel == 4 * 5 * (2 + 1) + 1 + 2


def test_changing_n_mixtures_restarts_a_model_of_the_new_size():
    frames = _clip("baseline", n_frames=10)
    sub = MOG2(**OPENCV)
    for f in frames[:5]:
        sub.apply(f)
    sub.set_params(n_mixtures=2)
    sub.apply(frames[5])
    assert sub._weight.shape[0] == 2 and int(sub._nmodes.max()) == 1


def test_save_and_resume_with_hold_is_bit_identical(tmp_path):
    frames, _ = moving_square(n_frames=30, seed=4)
    a = MOG2(hold_frames=5, n_jobs=2)
    for f in frames[:15]:
        a.apply(f)
    a.save(tmp_path / "m.npz")
    b = load_subtractor(tmp_path / "m.npz")
    assert b.get_params() == a.get_params() | {"postprocess": b.postprocess}
    for f in frames[15:]:
        np.testing.assert_array_equal(a.apply(f), b.apply(f))
    np.testing.assert_array_equal(a._hold, b._hold)


def test_shadows_are_marked_down_to_the_shadow_threshold():
    # A static background, then bands 15 % and 30 % darker.
    bg = np.full((20, 24, 3), (120, 140, 100), np.uint8)
    dark = bg.copy()
    dark[5:10] = (bg[5:10] * 0.85).astype(np.uint8)
    dark[12:16] = (bg[12:16] * 0.7).astype(np.uint8)
    masks = {}
    for tau in (0.8, 0.5):
        sub = MOG2(shadow_threshold=tau, shadow_value=99, postprocess=None)
        for _ in range(30):
            sub.apply(bg)
        masks[tau] = sub.apply(dark)
    assert (masks[0.8][5:10] == 99).all() and (masks[0.8][12:16] == 255).all()
    assert (masks[0.5][5:10] == 99).all() and (masks[0.5][12:16] == 99).all()
    assert (masks[0.8][:5] == 0).all()
    off = MOG2(detect_shadows=False, postprocess=None)
    for _ in range(30):
        off.apply(bg)
    assert (off.apply(dark)[5:10] == 255).all()
