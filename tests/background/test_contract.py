"""One contract test for every registered subtractor, OpenCV peers included."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import bgmix
from bgmix.background import (
    BackgroundSubtractor,
    available_methods,
    load_subtractor,
    make_subtractor,
)
from bgmix.background._base import Param, int_in, real_in
from bgmix.background._mog import MOG
from bgmix.exceptions import (
    FrameFormatError,
    FrameSizeError,
    NotFittedError,
    ParameterError,
    UnknownMethodError,
    UnsupportedOperationError,
)
from tests.conftest import moving_square

METHODS = available_methods()
MASK_VALUES = {0, 127, 255}


def _ready(name: str, frames: np.ndarray, **params) -> BackgroundSubtractor:
    """A subtractor of ``name`` that has seen ``frames`` (fitted first when needed)."""
    sub = make_subtractor(name, **params)
    if sub.requires_fit:
        sub.fit(frames)
    return sub


def test_registry_lists_the_opencv_peers_and_own_baselines():
    for name in (
        "opencv-mog2",
        "opencv-knn",
        "opencv-mog",
        "opencv-gmg",
        "opencv-cnt",
        "opencv-gsoc",
        "opencv-lsbp",
        "frame-difference",
        "running-mean",
    ):
        assert name in METHODS


@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("channels", [1, 3])
def test_masks_have_the_contract_shape_dtype_and_values(name, channels):
    frames, _ = moving_square(n_frames=10, channels=channels)
    sub = _ready(name, frames)
    for frame in frames:
        mask = sub.apply(frame)
        assert mask.dtype == np.uint8
        assert mask.shape == frames.shape[1:3]
        assert set(np.unique(mask)) <= MASK_VALUES
    bg = sub.get_background_image()
    assert bg.dtype == np.uint8
    assert bg.shape == frames.shape[1:]
    assert sub.name == name
    assert sub.frame_shape == (*frames.shape[1:3], channels)


@pytest.mark.parametrize("name", METHODS)
def test_float_frames_in_unit_range_are_accepted(name):
    frames, _ = moving_square(n_frames=6)
    sub = _ready(name, frames)
    mask = sub.apply(frames[0].astype(np.float32) / 255.0)
    assert mask.dtype == np.uint8 and mask.shape == frames.shape[1:3]


@pytest.mark.parametrize("name", METHODS)
def test_bad_frames_raise_specific_errors(name):
    frames, _ = moving_square(n_frames=4)
    sub = _ready(name, frames)
    sub.apply(frames[0])
    with pytest.raises(FrameSizeError, match="differs"):
        sub.apply(frames[0][:-2])
    with pytest.raises(FrameFormatError, match="dtype"):
        sub.apply(frames[0].astype(np.int16))
    with pytest.raises(FrameFormatError, match="channels"):
        sub.apply(np.zeros((*frames.shape[1:3], 4), np.uint8))
    nan_frame = frames[0].astype(np.float32) / 255.0
    nan_frame[0, 0, 0] = np.nan
    with pytest.raises(FrameFormatError, match="NaN"):
        sub.apply(nan_frame)
    with pytest.raises(FrameFormatError, match=r"\[0, 1\]"):
        sub.apply(frames[0].astype(np.float32))
    with pytest.raises(ParameterError, match="learning_rate"):
        sub.apply(frames[0], learning_rate=1.5)


@pytest.mark.parametrize("name", METHODS)
def test_reset_accepts_a_new_size(name):
    frames, _ = moving_square(n_frames=4)
    sub = _ready(name, frames)
    sub.apply(frames[0])
    sub.reset()
    assert sub.n_frames == 0 and sub.frame_shape is None
    small, _ = moving_square(n_frames=4, height=16, width=20)
    if sub.requires_fit:
        sub.fit(small)
    assert sub.apply(small[0]).shape == (16, 20)


@pytest.mark.parametrize("name", METHODS)
def test_background_before_any_frame_is_not_fitted(name):
    with pytest.raises(NotFittedError):
        make_subtractor(name).get_background_image()


@pytest.mark.parametrize("name", METHODS)
def test_params_round_trip_and_unknown_params_are_named(name):
    sub = make_subtractor(name)
    params = sub.get_params()
    assert "postprocess" in params
    clone = make_subtractor(name, **params)
    assert clone.get_params() == params
    assert repr(sub).startswith(type(sub).__name__)
    with pytest.raises(ParameterError, match="no_such_param"):
        make_subtractor(name, no_such_param=1)
    with pytest.raises(ParameterError, match="no_such_param"):
        sub.set_params(no_such_param=1)


@pytest.mark.parametrize("name", METHODS)
def test_json_params_are_json_and_rebuild_the_subtractor(name):
    sub = make_subtractor(name, postprocess={"median": 3})
    params = json.loads(json.dumps(sub.json_params(), allow_nan=False))
    assert params["postprocess"]["median"] == 3
    assert params.keys() == sub.get_params().keys()
    clone = make_subtractor(name, **params)
    assert clone.json_params() == sub.json_params()


@pytest.mark.parametrize("name", METHODS)
def test_save_and_resume_gives_identical_masks(name, tmp_path):
    frames, _ = moving_square(n_frames=16, seed=3)
    first, rest = frames[:8], frames[8:]
    a = _ready(name, first)
    for f in first:
        a.apply(f)
    path = tmp_path / "model.npz"
    if name.startswith("opencv-"):
        with pytest.raises(UnsupportedOperationError, match="cannot be saved"):
            a.save(path)
        assert not path.exists()
        return
    a.save(path)
    b = load_subtractor(path)
    assert type(b) is type(a) and b.n_frames == a.n_frames
    for f in rest:
        np.testing.assert_array_equal(a.apply(f), b.apply(f))
    np.testing.assert_array_equal(a.get_background_image(), b.get_background_image())


@pytest.mark.parametrize("name", METHODS)
def test_postprocessing_removes_isolated_pixels(name):
    frames, _ = moving_square(n_frames=8)
    plain = _ready(name, frames)
    cleaned = _ready(name, frames, postprocess={"min_area": 10_000})
    for f in frames:
        plain.apply(f)
        assert not (cleaned.apply(f) == 255).any()


def test_learning_rate_zero_freezes_and_one_reinitialises():
    frames, _ = moving_square(n_frames=6)
    sub = make_subtractor("running-mean", alpha=0.5)
    sub.apply(frames[0])
    before = sub.get_background_image().copy()
    sub.apply(frames[3], learning_rate=0)
    np.testing.assert_array_equal(sub.get_background_image(), before)
    sub.apply(frames[3], learning_rate=1)
    np.testing.assert_array_equal(sub.get_background_image(), frames[3])


def test_unknown_method_suggests_close_names():
    with pytest.raises(UnknownMethodError, match="opencv-mog2"):
        make_subtractor("opencv-mgo2")


#: A bad value of a parameter of a method, and the name the error must give (the
#: parameter's own, even when another parameter bounds it, or when the parameter
#: bounding it is itself bad: ``opencv-knn``'s ``n_samples=0`` is blamed, not
#: ``knn_samples``).
BAD_PARAMETERS = [
    ("mog", {"n_mixtures": 0}, "n_mixtures"),
    ("mog", {"history": 0}, "history"),
    ("mog", {"background_ratio": 2.0}, "background_ratio"),
    ("mog", {"match_threshold": 0.0}, "match_threshold"),
    ("mog", {"covariance": "full"}, "covariance"),
    ("mog", {"var_min": -1.0}, "var_min"),
    ("mog", {"var_init": 1.0}, "var_init"),
    ("mog", {"weight_init": 0.0}, "weight_init"),
    ("mog", {"hold_frames": -5}, "hold_frames"),
    ("mog", {"n_jobs": "all"}, "n_jobs"),
    ("mog2", {"history": 0}, "history"),
    ("mog2", {"var_threshold": 0.0}, "var_threshold"),
    ("mog2", {"var_threshold": float("nan")}, "var_threshold"),
    ("mog2", {"detect_shadows": 1}, "detect_shadows"),
    ("mog2", {"n_mixtures": 0}, "n_mixtures"),
    ("mog2", {"n_mixtures": 256}, "n_mixtures"),
    ("mog2", {"background_ratio": 1.5}, "background_ratio"),
    ("mog2", {"var_threshold_gen": -1.0}, "var_threshold_gen"),
    ("mog2", {"var_min": 0.0}, "var_min"),
    ("mog2", {"var_min": 10.0, "var_max": 5.0}, "var_max"),
    ("mog2", {"var_init": 100.0}, "var_init"),
    ("mog2", {"complexity_reduction_threshold": -0.1}, "complexity_reduction_threshold"),
    ("mog2", {"shadow_value": 300}, "shadow_value"),
    ("mog2", {"shadow_threshold": 2.0}, "shadow_threshold"),
    ("mog2", {"hold_frames": -1}, "hold_frames"),
    ("mog2", {"hold_frames": 70000}, "hold_frames"),
    ("mog2", {"n_jobs": 0}, "n_jobs"),
    ("mog2", {"n_jobs": 1.5}, "n_jobs"),
    ("mog2", {"postprocess": {"median": 4}}, "median"),
    ("gmm-full", {"n_components": 0}, "n_components"),
    ("gmm-full", {"alpha": 0.0}, "alpha"),
    ("gmm-full", {"alpha": 1.5}, "alpha"),
    ("gmm-full", {"match_threshold": -1.0}, "match_threshold"),
    ("gmm-full", {"var_min": 0.01}, "var_min"),
    ("gmm-full", {"var_init": 2.0}, "var_init"),
    ("gmm-full", {"var_init": 1e6}, "var_init"),
    ("gmm-full", {"background_rule": "all"}, "background_rule"),
    ("gmm-full", {"background_ratio": -0.1}, "background_ratio"),
    ("gmm-full", {"random_state": "seed"}, "random_state"),
    ("gmm-full", {"random_state": -3}, "random_state"),
    ("gmm-full", {"hold_frames": 1.5}, "hold_frames"),
    ("gmm-full", {"n_jobs": 0}, "n_jobs"),
    ("svd", {"rank": 0}, "rank"),
    ("svd", {"solver": "arpack"}, "solver"),
    ("svd", {"window": 0}, "window"),
    ("svd", {"threshold": -1}, "threshold"),
    ("svd", {"n_sigma": -1}, "n_sigma"),
    ("svd", {"noise": "mad"}, "noise"),
    ("svd", {"random_state": "x"}, "random_state"),
    ("rpca", {"rank": 0}, "rank"),
    ("rpca", {"lam": 0}, "lam"),
    ("rpca", {"tol": 1}, "tol"),
    ("rpca", {"max_iter": 0}, "max_iter"),
    ("rpca", {"irls_iter": -1}, "irls_iter"),
    ("em", {"n_components": 0}, "n_components"),
    ("em", {"n_components": 2.5}, "n_components"),
    ("em", {"covariance_type": "spherical"}, "covariance_type"),
    ("em", {"tol": -1.0}, "tol"),
    ("em", {"max_iter": 0}, "max_iter"),
    ("em", {"init": "kmeans++"}, "init"),
    ("em", {"reg_covar": 0.0}, "reg_covar"),
    ("em", {"rule": "likelihood"}, "rule"),
    ("em", {"threshold": 0.0}, "threshold"),
    ("em", {"background_ratio": 0.0}, "background_ratio"),
    ("em", {"background_ratio": 1.5}, "background_ratio"),
    ("em", {"grey_threshold": 300.0}, "grey_threshold"),
    ("em", {"online_rate": 2.0}, "online_rate"),
    ("em", {"var_init": -1.0}, "var_init"),
    ("em", {"random_state": "seed"}, "random_state"),
    ("em", {"random_state": -1}, "random_state"),
    ("kmeans", {"n_clusters": 0}, "n_clusters"),
    ("kmeans", {"init": "k-means++"}, "init"),
    ("kmeans", {"max_iter": 0}, "max_iter"),
    ("kmeans", {"threshold": 0.0}, "threshold"),
    ("kmeans", {"background_ratio": 2.0}, "background_ratio"),
    ("kmeans", {"online_rate": -0.5}, "online_rate"),
    ("kmeans", {"random_state": 1.5}, "random_state"),
    ("rpca-online", {"rank": 0}, "rank"),
    ("rpca-online", {"rank": 1.5}, "rank"),
    ("rpca-online", {"history": 0}, "history"),
    ("rpca-online", {"lam": 0.0}, "lam"),
    ("rpca-online", {"lam": -1.0}, "lam"),
    ("rpca-online", {"n_iter": -1}, "n_iter"),
    ("rpca-online", {"threshold": 300.0}, "threshold"),
    ("rpca-online", {"absorb_frames": -1}, "absorb_frames"),
    ("rpca-online", {"absorb_rate": 1.5}, "absorb_rate"),
    ("rpca-online", {"n_jobs": 0}, "n_jobs"),
    ("median", {"threshold": -1}, "threshold"),
    ("median", {"step": 0}, "step"),
    ("mean", {"alpha": 0.0}, "alpha"),
    ("mean", {"alpha": 1.5}, "alpha"),
    ("mean", {"threshold": 256}, "threshold"),
    ("opencv-mog2", {"history": 0}, "history"),
    ("opencv-mog2", {"var_min": 10.0, "var_max": 5.0}, "var_max"),
    ("opencv-mog2", {"var_init": 100.0}, "var_init"),
    ("opencv-knn", {"knn_samples": 8}, "knn_samples"),
    ("opencv-knn", {"n_samples": 0}, "n_samples"),
    ("opencv-mog", {"noise_sigma": -1.0}, "noise_sigma"),
    ("opencv-gmg", {"decision_threshold": 2.0}, "decision_threshold"),
    ("opencv-cnt", {"max_pixel_stability": 10}, "max_pixel_stability"),
    ("opencv-gsoc", {"mc": 2}, "mc"),
    ("opencv-lsbp", {"t_upper": 1.0}, "t_upper"),
    ("opencv-lsbp", {"min_count": 21}, "min_count"),
]


@pytest.mark.parametrize(("name", "params", "match"), BAD_PARAMETERS)
def test_bad_parameters_are_named(name, params, match):
    with pytest.raises(ParameterError, match=match):
        make_subtractor(name, **params)


def test_declared_parameters_make_a_keyword_only_signature():
    class Tuned(MOG):
        history: int = Param(7, int_in(1))  # redeclared: new default, same place
        extra: float = Param(0.5, real_in(0.0, 1.0))

    signature = inspect.signature(Tuned.__init__).parameters
    assert list(signature)[1:] == ["extra", *MOG._param_names()]
    assert all(p.kind is p.KEYWORD_ONLY for p in list(signature.values())[1:])
    assert (Tuned().history, Tuned().extra, Tuned(history=3).history) == (7, 0.5, 3)
    with pytest.raises(ParameterError, match="extra"):
        Tuned(extra=2.0)
    with pytest.raises(TypeError, match="bogus"):
        Tuned(bogus=1)
    with pytest.raises(TypeError):
        Tuned(3)


def test_bad_parameter_value_names_the_parameter_and_leaves_state():
    sub = make_subtractor("running-mean")
    with pytest.raises(ParameterError, match="alpha"):
        make_subtractor("running-mean", alpha=2.0)
    with pytest.raises(ParameterError, match="alpha"):
        sub.set_params(alpha=-1)
    assert sub.alpha == 0.05


def test_opencv_mog2_adapter_matches_opencv_directly():
    import cv2

    frames, _ = moving_square(n_frames=12)
    ours = make_subtractor("opencv-mog2")
    theirs = cv2.createBackgroundSubtractorMOG2()
    for f in frames:
        np.testing.assert_array_equal(
            ours.apply(f), theirs.apply(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        )


def test_frame_difference_detects_the_moving_square():
    frames, truth = moving_square(n_frames=6)
    sub = make_subtractor("frame-difference", threshold=40)
    masks = [sub.apply(f) for f in frames]
    # The square's leading edge (new position, not the old one) is foreground.
    newly = truth[3] & ~truth[2]
    assert (masks[3][newly] == 255).all()
    assert (masks[3][~truth[3] & ~truth[2]] == 0).all()


def test_load_rejects_a_file_that_is_not_a_model(tmp_path):
    from bgmix.exceptions import InputError, SourceNotFoundError

    with pytest.raises(SourceNotFoundError):
        load_subtractor(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(3))
    with pytest.raises(InputError, match="not a bgmix model"):
        load_subtractor(bad)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a bgmix model"):
        bgmix.load_subtractor(junk)
