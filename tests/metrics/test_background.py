"""SBMnet background metrics against hand-computed values and a slow MS-SSIM oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from bgmix.exceptions import FrameFormatError, FrameSizeError
from bgmix.metrics import BACKGROUND_METRIC_NAMES, background_metrics, luma, ms_ssim

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2


# ---------------------------------------------------------------------- oracle
def oracle_window(size, sigma=1.5):
    """fspecial('gaussian', size, sigma): the full 2-D kernel, normalised."""
    half = (size - 1) / 2
    k = np.empty((size, size))
    for i in range(size):
        for j in range(size):
            k[i, j] = math.exp(-((i - half) ** 2 + (j - half) ** 2) / (2 * sigma**2))
    return k / k.sum()


def oracle_ssim(a, b, win):
    """SSIM and contrast-structure means, one window position at a time ('valid')."""
    k = win.shape[0]
    rows, cols = a.shape[0] - k + 1, a.shape[1] - k + 1
    ssim_sum = cs_sum = 0.0
    for i in range(rows):
        for j in range(cols):
            pa, pb = a[i : i + k, j : j + k], b[i : i + k, j : j + k]
            mu_a, mu_b = (win * pa).sum(), (win * pb).sum()
            var_a = (win * pa * pa).sum() - mu_a**2
            var_b = (win * pb * pb).sum() - mu_b**2
            cov = (win * pa * pb).sum() - mu_a * mu_b
            cs = (2 * cov + C2) / (var_a + var_b + C2)
            cs_sum += cs
            ssim_sum += (2 * mu_a * mu_b + C1) / (mu_a**2 + mu_b**2 + C1) * cs
    n = rows * cols
    return ssim_sum / n, cs_sum / n


def oracle_downsample(img):
    """2x2 block means; a last odd row/column is mirrored (so averaged with itself)."""
    h, w = img.shape
    out = np.empty(((h + 1) // 2, (w + 1) // 2))
    for i in range(0, h, 2):
        for j in range(0, w, 2):
            i2, j2 = min(i + 1, h - 1), min(j + 1, w - 1)
            out[i // 2, j // 2] = (img[i, j] + img[i2, j] + img[i, j2] + img[i2, j2]) / 4
    return out


def oracle_ms_ssim(a, b, size):
    a, b = a.astype(float), b.astype(float)
    win = oracle_window(size)
    result = 1.0
    for level in range(5):
        s, cs = oracle_ssim(a, b, win)
        value = cs if level < 4 else s
        result *= max(value, 0.0) ** WEIGHTS[level]
        a, b = oracle_downsample(a), oracle_downsample(b)
    return result


# ---------------------------------------------------------------------- tests
def test_identical_images():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
    m = background_metrics(img, img.copy())
    assert list(m) == list(BACKGROUND_METRIC_NAMES)
    assert all(type(v) is float for v in m.values())  # plain floats: JSON-ready
    assert m["age"] == 0.0 and m["peps"] == 0.0 and m["pceps"] == 0.0
    assert m["psnr"] == math.inf and m["cqm"] == math.inf
    assert m["ms_ssim"] == pytest.approx(1.0, abs=1e-12)


def test_constant_offset_grey_hand_computed():
    truth = np.full((64, 64), 100, np.uint8)
    m = background_metrics(truth + 10, truth)
    assert m["age"] == 10.0
    assert m["peps"] == 0.0 and m["pceps"] == 0.0
    assert m["psnr"] == pytest.approx(10 * math.log10(255**2 / 100))
    # Constant images: every contrast-structure term is 1; only the coarsest
    # scale's luminance term remains.
    lum = (2 * 110 * 100 + C1) / (110**2 + 100**2 + C1)
    assert m["ms_ssim"] == pytest.approx(lum**0.1333, rel=1e-12)
    assert math.isnan(m["cqm"])  # grey images have no colour measure

    far = background_metrics(truth + 30, truth)
    assert far["peps"] == 100.0
    assert far["pceps"] == 100.0  # outside the image counts as error (imerode pads with 1)


def test_error_pixel_percentages():
    truth = np.zeros((10, 10), np.uint8)
    checker = ((np.indices((10, 10)).sum(axis=0) % 2) * 50).astype(np.uint8)
    m = background_metrics(checker, truth)
    assert m["peps"] == 50.0
    assert m["pceps"] == 0.0  # no error pixel has four error neighbours
    assert m["age"] == 25.0

    block = truth.copy()
    block[3:6, 3:6] = 40  # a 3x3 error block: only its centre is clustered
    m = background_metrics(block, truth)
    assert m["peps"] == pytest.approx(9.0)
    assert m["pceps"] == pytest.approx(1.0)

    corner = truth.copy()
    corner[:2, :2] = 40  # only (0, 0): its two outside neighbours count as errors
    m = background_metrics(corner, truth)
    assert m["peps"] == pytest.approx(4.0)
    assert m["pceps"] == pytest.approx(1.0)

    at_threshold = truth + 20  # |diff| must exceed 20
    assert background_metrics(at_threshold, truth)["peps"] == 0.0


def test_luma_is_matlab_rgb2ycbcr_rounded():
    rgb = np.array(
        [[[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128], [0, 0, 0], [255, 255, 255]]],
        np.uint8,
    )
    # 16 + (65.481 R + 128.553 G + 24.966 B) / 255, rounded half away from zero.
    np.testing.assert_array_equal(luma(rgb), [[81, 145, 41, 126, 16, 235]])
    grey = np.array([[0, 7, 255]], np.uint8)
    np.testing.assert_array_equal(luma(grey), [[0, 7, 255]])
    floats = luma(np.full((1, 1, 3), 0.5))
    assert floats[0, 0] == pytest.approx(16 + 219 * 127.5 / 255)


def test_colour_metrics_use_luma():
    truth = np.zeros((40, 40, 3), np.uint8)
    est = truth.copy()
    est[..., 0] = 255  # pure red: Y goes 16 -> 81
    m = background_metrics(est, truth)
    assert m["age"] == 65.0
    assert m["psnr"] == pytest.approx(10 * math.log10(255**2 / 65**2))


def test_cqm_hand_computed():
    truth = np.full((40, 40, 3), 100, np.uint8)
    est = np.empty_like(truth)
    est[...] = (110, 100, 105)

    # Y' = floor((R + 2G + B) / 4): 100 vs 103; U = R - G: 0 vs 10; V = B - G: 0 vs 5.
    def psnr(d):
        return 10 * math.log10(255**2 / d**2)

    expected = 0.9449 * psnr(3) + 0.0551 * (psnr(10) + psnr(5)) / 2
    assert background_metrics(est, truth)["cqm"] == pytest.approx(expected)
    # Negative R - G and B - G saturate at 0 as in the reference's uint8 arithmetic:
    # U and V then equal the truth's (0), their PSNR is infinite and so is CQM, although
    # Y' differs (floor(385 / 4) = 96 vs 100).
    est[...] = (90, 100, 95)
    sat = background_metrics(est, truth)
    assert sat["cqm"] == math.inf
    assert sat["psnr"] < math.inf and sat["age"] > 0


@pytest.mark.parametrize(("shape", "size"), [((32, 32), 2), ((37, 45), 2), ((64, 50), 3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_ms_ssim_matches_slow_oracle(shape, size, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, shape).astype(np.float64)
    b = np.clip(a + rng.normal(0, 25, shape), 0, 255)
    assert ms_ssim(a, b) == pytest.approx(oracle_ms_ssim(a, b, size), rel=1e-10)


def test_ms_ssim_window_parameter_and_default_size():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (48, 48)).astype(float)
    b = np.clip(a + rng.normal(0, 10, a.shape), 0, 255)
    assert ms_ssim(a, b, window=3) == pytest.approx(oracle_ms_ssim(a, b, 3), rel=1e-10)
    assert ms_ssim(a, b) == pytest.approx(oracle_ms_ssim(a, b, 48 // 16), rel=1e-10)
    assert ms_ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    assert ms_ssim(a, 255 - a) < ms_ssim(a, b) < 1.0


def test_ms_ssim_undefined_on_tiny_images():
    a = np.zeros((31, 100))
    assert math.isnan(ms_ssim(a, a))  # window 31 // 16 = 1 < 2
    assert math.isnan(ms_ssim(np.zeros((40, 40)), np.zeros((40, 40)), window=11))
    assert math.isnan(
        background_metrics(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8))["ms_ssim"]
    )


def test_paths_are_read(tmp_path):
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "gt.png")
    Image.fromarray(255 - img).save(tmp_path / "est.png")
    from_paths = background_metrics(tmp_path / "est.png", str(tmp_path / "gt.png"))
    from_arrays = background_metrics(255 - img, img)
    assert from_paths == pytest.approx(from_arrays)


def test_bad_inputs():
    grey = np.zeros((40, 40), np.uint8)
    with pytest.raises(FrameSizeError, match=r"40x40.*40x41"):
        background_metrics(grey, np.zeros((41, 40), np.uint8))
    with pytest.raises(FrameFormatError, match=r"grey.*colour"):
        background_metrics(grey, np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(FrameFormatError, match="estimate"):
        background_metrics([[1, 2]], grey)
    with pytest.raises(FrameFormatError, match="truth"):
        background_metrics(grey, np.full((40, 40), np.nan))
    with pytest.raises(FrameSizeError, match="same shape"):
        ms_ssim(np.zeros((40, 40)), np.zeros((40, 41)))
