"""The ``kmeans`` subtractor: largest cluster as background, distance rule, online updates."""

from __future__ import annotations

import numpy as np

from bgmix.background._pixel_kmeans import PixelKMeans
from tests.background.test_em import scene


def test_background_is_the_largest_cluster_and_the_square_is_foreground():
    frames, truth, bg = scene()
    km = PixelKMeans(n_clusters=2).fit(frames)
    err = np.abs(km.get_background_image().astype(float) - bg)
    assert np.quantile(err, 0.99) <= 4.5 and err.mean() <= 2.0
    masks = np.stack([km.apply(f) for f in frames]) == 255
    assert (masks & truth).sum() / truth.sum() >= 0.99
    assert (masks & ~truth).sum() / (~truth).sum() <= 0.01


def test_fitted_attributes():
    frames, _, _ = scene(n_frames=10, h=5, w=6, channels=1)
    km = PixelKMeans(n_clusters=3).fit(frames)
    assert km.centers_.shape == (5, 6, 3, 1) and km.weights_.shape == (5, 6, 3)
    assert (np.diff(km.weights_, axis=-1) <= 0).all()
    np.testing.assert_allclose(km.weights_.sum(axis=-1), 1.0, rtol=1e-6)
    # weights are shares of 10 frames
    np.testing.assert_allclose(km.weights_ * 10, np.rint(km.weights_ * 10), atol=1e-5)
    assert km.get_background_image().shape == (5, 6)


def test_distance_threshold():
    frames = np.full((6, 2, 2, 3), 100, np.uint8)
    km = PixelKMeans(n_clusters=2, threshold=10.0).fit(frames)
    frame = frames[0].copy()
    frame[0, 0] = [106, 106, 106]  # distance 10.39 > 10
    frame[1, 1] = [105, 105, 105]  # distance 8.66
    mask = km.apply(frame)
    assert mask[0, 0] == 255 and mask[1, 1] == 0


def test_online_rate_and_freezing():
    frames, _, _ = scene()
    km = PixelKMeans(n_clusters=2, online_rate=0.1).fit(frames)
    centers = km.centers_.copy()
    km.apply(frames[2], learning_rate=0)
    np.testing.assert_array_equal(km.centers_, centers)
    km.apply(frames[2])
    assert not np.array_equal(km.centers_, centers)
    km.apply(frames[4], learning_rate=1)
    np.testing.assert_array_equal(km.get_background_image(), frames[4])


def test_random_init_is_reproducible():
    frames, _, _ = scene()
    a = PixelKMeans(init="random", random_state=1).fit(frames)
    b = PixelKMeans(init="random", random_state=1).fit(frames)
    np.testing.assert_array_equal(a.centers_, b.centers_)
