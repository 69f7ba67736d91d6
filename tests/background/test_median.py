"""The ``median`` and ``mean`` subtractors: exact batch fits and their online modes."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.background import make_subtractor
from bgmix.background._median import BatchMean, BatchMedian
from tests.conftest import moving_square


@pytest.mark.parametrize("n_frames", [1, 6, 7])
@pytest.mark.parametrize("channels", [1, 3])
def test_fitted_median_is_the_exact_per_pixel_median(n_frames, channels):
    frames, _ = moving_square(n_frames=n_frames, channels=channels, seed=n_frames)
    med = BatchMedian().fit(frames)
    expected = np.median(frames, axis=0)
    np.testing.assert_array_equal(med._median.reshape(expected.shape), expected.astype(np.float32))
    np.testing.assert_array_equal(med.get_background_image(), np.rint(expected).astype(np.uint8))


def test_fitted_median_of_float_frames():
    frames, _ = moving_square(n_frames=5)
    med = BatchMedian().fit(frames.astype(np.float32) / 255.0)
    np.testing.assert_allclose(med._median, np.median(frames, axis=0), atol=1e-3)


def test_median_ignores_a_passing_object_that_the_mean_smears():
    frames, truth = moving_square(n_frames=12)
    med = make_subtractor("median").fit(frames).get_background_image().astype(float)
    mean = make_subtractor("mean").fit(frames).get_background_image().astype(float)
    square_path = truth.any(axis=0)
    clean = np.median(frames[:, ~square_path], axis=0)  # background where nothing passed
    assert np.abs(med[~square_path] - clean).max() <= 1
    # on the square's path the mean is pulled towards 220, the median is not
    assert mean[square_path].mean() > med[square_path].mean() + 5


def test_approximate_median_steps_by_one_grey_level():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(30, 3, 4, 3), dtype=np.uint8)
    med = BatchMedian()
    bg = frames[0].astype(np.float32)
    for f in frames:
        med.apply(f)
        bg = bg + np.clip(f.astype(np.float32) - bg, -1, 1)
    np.testing.assert_array_equal(med._median, bg)


def test_approximate_median_converges_to_the_median_of_a_stationary_pixel():
    rng = np.random.default_rng(1)
    frames = np.clip(rng.normal(100, 10, size=(600, 2, 2)), 0, 255).astype(np.uint8)
    frames[:, 0, 0] = np.where(rng.random(600) < 0.3, 250, frames[:, 0, 0])  # outliers
    med = BatchMedian(step=1.0)
    for f in frames:
        med.apply(f)
    truth = np.median(frames[300:], axis=0)
    assert np.abs(med._median[..., 0] - truth).max() <= 4


def test_median_learning_rates():
    frames, _ = moving_square(n_frames=4)
    med = BatchMedian().fit(frames)
    before = med._median.copy()
    med.apply(frames[0], learning_rate=0)
    np.testing.assert_array_equal(med._median, before)
    target = np.full_like(frames[0], 255)
    med.apply(target, learning_rate=0.02)  # at most 255 * 0.02 = 5.1 levels
    np.testing.assert_allclose(med._median, np.minimum(before + 5.1, 255), rtol=1e-6)
    med.apply(frames[1], learning_rate=1)
    np.testing.assert_array_equal(med.get_background_image(), frames[1])


def test_cumulative_mean_continues_the_batch_mean():
    frames, _ = moving_square(n_frames=10, seed=5)
    mean = BatchMean().fit(frames[:4])
    for f in frames[4:]:
        mean.apply(f)
    np.testing.assert_allclose(mean._mean, frames.mean(axis=0, dtype=np.float64), rtol=1e-12)
    assert int(mean._count) == 10
    online = BatchMean()  # unfitted: the cumulative mean from the first frame
    for f in frames:
        online.apply(f)
    np.testing.assert_allclose(online._mean, frames.mean(axis=0, dtype=np.float64), rtol=1e-12)


def test_mean_exponential_rate_and_learning_rates():
    frames, _ = moving_square(n_frames=3)
    mean = BatchMean(alpha=0.5).fit(frames[:1])
    mean.apply(frames[1])
    np.testing.assert_allclose(mean._mean, 0.5 * frames[0] + 0.5 * frames[1].astype(float))
    before = mean._mean.copy()
    mean.apply(frames[2], learning_rate=0)
    np.testing.assert_array_equal(mean._mean, before)
    mean.apply(frames[2], learning_rate=1)
    np.testing.assert_array_equal(mean._mean, frames[2])
    assert int(mean._count) == 1


@pytest.mark.parametrize("cls", [BatchMean, BatchMedian])
def test_difference_mask_uses_the_largest_channel_difference(cls):
    frames = np.full((3, 2, 2, 3), 100, np.uint8)
    sub = cls(threshold=20).fit(frames)
    frame = frames[0].copy()
    frame[0, 0, 2] = 121  # one channel 21 levels away
    frame[1, 1, 0] = 120  # 20: not above the threshold
    mask = sub.apply(frame, learning_rate=0)
    assert mask[0, 0] == 255 and mask[1, 1] == 0 and mask[0, 1] == 0
