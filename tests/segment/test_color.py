"""Colour conversions against OpenCV (an independent implementation) and known values."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.segment._color import from_features, rgb_to_hsv, to_features


def all_colours(step: int = 15) -> np.ndarray:
    v = np.arange(0, 256, step, dtype=np.float64)
    v = np.append(v, 255.0)
    return np.stack(np.meshgrid(v, v, v, indexing="ij"), -1).reshape(-1, 3)


@pytest.mark.parametrize(
    ("rgb", "lab"),
    [
        ((255, 255, 255), (100.0, 0.0, 0.0)),
        ((0, 0, 0), (0.0, 0.0, 0.0)),
        ((255, 0, 0), (53.24, 80.09, 67.20)),
        ((0, 255, 0), (87.73, -86.18, 83.18)),
        ((0, 0, 255), (32.30, 79.19, -107.86)),
    ],
)
def test_lab_known_values(rgb, lab):
    np.testing.assert_allclose(to_features(np.array([rgb], float), "lab")[0], lab, atol=0.02)


def test_lab_matches_opencv():
    cv2 = pytest.importorskip("cv2")
    rgb = all_colours()
    ours = to_features(rgb, "lab")
    ref = cv2.cvtColor((rgb / 255.0).astype(np.float32)[None], cv2.COLOR_RGB2Lab)[0]
    # OpenCV interpolates the sRGB gamma curve with splines (errors up to ~0.3 units);
    # the exact formula is checked against reference values above.
    np.testing.assert_allclose(ours, ref, atol=0.5)
    assert np.median(np.abs(ours - ref)) < 0.1  # its a*, b* come in steps of 1/128


def test_hsv_matches_opencv():
    cv2 = pytest.importorskip("cv2")
    rgb = all_colours()
    ours = rgb_to_hsv(rgb)
    ref = cv2.cvtColor((rgb / 255.0).astype(np.float32)[None], cv2.COLOR_RGB2HSV)[0]
    ref = ref * np.array([1.0, 100.0, 100.0])
    hue_diff = np.abs((ours[:, 0] - ref[:, 0] + 180.0) % 360.0 - 180.0)
    saturated = ref[:, 1] > 0
    assert hue_diff[saturated].max() < 0.01
    np.testing.assert_allclose(ours[:, 1:], ref[:, 1:], atol=1e-3)


@pytest.mark.parametrize("space", ["rgb", "lab", "hsv"])
def test_round_trip(space):
    rgb = all_colours(step=5)
    back = from_features(to_features(rgb, space), space)
    np.testing.assert_allclose(back, rgb, atol=1e-6)


@pytest.mark.parametrize("space", ["rgb", "lab", "hsv"])
def test_grey_single_channel_round_trip(space):
    grey = np.arange(256, dtype=float)[:, None]
    feats = to_features(grey, space)
    assert feats.shape == (256, 1)
    np.testing.assert_allclose(from_features(feats, space), grey, atol=1e-6)


def test_hsv_features_are_the_cartesian_cylinder():
    feats = to_features(np.array([[255.0, 0, 0], [255, 0, 4], [255, 4, 0], [128, 128, 128]]), "hsv")
    np.testing.assert_allclose(feats[0], [100.0, 0.0, 100.0], atol=1e-9)  # red: hue 0
    # reds just below and above hue 0 (359 and 1 degrees) are neighbours
    assert np.linalg.norm(feats[1] - feats[2]) < 4.0
    np.testing.assert_allclose(feats[3, :2], 0.0, atol=1e-9)  # grey: no saturation


def test_out_of_gamut_features_are_clipped():
    out = from_features(np.array([[120.0, 200.0, -200.0], [-50.0, 0.0, 0.0]]), "lab")
    assert out.min() >= 0.0 and out.max() <= 255.0
