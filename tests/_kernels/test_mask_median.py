"""The counting median of three-level masks against a NumPy oracle and OpenCV."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bgmix._kernels.mask_median import median_three_level
from bgmix.background import PostProcess


def median_oracle(mask: np.ndarray, k: int) -> np.ndarray:
    """The k x k median of every pixel, edges replicated: the slow definition."""
    r = k // 2
    padded = np.pad(mask, r, mode="edge")
    h, w = mask.shape
    windows = np.stack([padded[dy : dy + h, dx : dx + w] for dy in range(k) for dx in range(k)])
    return np.median(windows, axis=0).astype(np.uint8)


def three_level(rng, h, w, shadow=127, p=(0.6, 0.15, 0.25)):
    return rng.choice(np.array([0, shadow, 255], np.uint8), size=(h, w), p=p)


@pytest.mark.parametrize("k", [3, 5, 7, 9, 15])
@pytest.mark.parametrize(("h", "w"), [(1, 1), (2, 3), (6, 5), (11, 17), (40, 33)])
def test_counting_median_matches_numpy_and_opencv(k, h, w):
    rng = np.random.default_rng(h * 100 + w + k)
    for shadow in (127, 1, 254):
        mask = three_level(rng, h, w, shadow)
        out = np.zeros_like(mask)
        assert median_three_level(mask, out, k)
        want = median_oracle(mask, k)
        np.testing.assert_array_equal(out, want)
        np.testing.assert_array_equal(out, cv2.medianBlur(mask, k))


def test_binary_and_constant_masks():
    rng = np.random.default_rng(1)
    binary = three_level(rng, 30, 41, p=(0.5, 0.0, 0.5))
    for mask in (binary, np.zeros((9, 8), np.uint8), np.full((9, 8), 255, np.uint8)):
        out = np.zeros_like(mask)
        assert median_three_level(mask, out, 5)
        np.testing.assert_array_equal(out, median_oracle(mask, 5))


def test_two_grey_values_are_refused_and_the_output_left_alone():
    mask = np.zeros((12, 10), np.uint8)
    mask[3, 4] = 127
    mask[9, 1] = 50
    out = np.full_like(mask, 7)
    assert not median_three_level(mask, out, 5)
    assert (out == 7).all()


@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("k", [3, 5, 7])
def test_postprocess_median_equals_opencv_for_any_mask(k, n_jobs):
    rng = np.random.default_rng(k)
    three = three_level(rng, 600, 257)  # two bands of rows with n_jobs=2
    grey = rng.integers(0, 256, (600, 257), dtype=np.uint8)  # not a mask: OpenCV's median
    for mask in (three, grey):
        got = PostProcess(median=k).apply(mask, n_jobs=n_jobs)
        np.testing.assert_array_equal(got, cv2.medianBlur(mask, k))
