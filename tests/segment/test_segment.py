"""segment_image, sample_image and the comparison figure."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.exceptions import FrameFormatError, ParameterError
from bgmix.mixture import GaussianMixture, KMeans
from bgmix.segment import (
    image_features,
    probabilistic_rand_index,
    sample_image,
    segment_image,
)
from bgmix.segment._figure import save_segmentation_figure

COLOURS = np.array([[200, 30, 30], [30, 160, 40], [20, 40, 190]], np.uint8)


def three_regions(h=30, w=45, noise=4.0, seed=0):
    """Three vertical bands of different colours with Gaussian noise; and the truth."""
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(3), [w // 3, w // 3, w - 2 * (w // 3)])[None, :].repeat(h, 0)
    img = COLOURS[truth].astype(float) + rng.normal(0, noise, (h, w, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), truth


@pytest.mark.parametrize("method", ["gmm", "kmeans"])
@pytest.mark.parametrize("color_space", ["rgb", "lab", "hsv"])
def test_recovers_colour_regions(method, color_space):
    img, truth = three_regions()
    res = segment_image(img, 3, method=method, color_space=color_space, random_state=0)
    assert probabilistic_rand_index(res.labels, truth) == 1.0
    assert res.labels.shape == truth.shape and res.labels.dtype == np.int32
    assert res.palette_image.shape == img.shape and res.palette_image.dtype == np.uint8
    # every region's palette colour is within noise of the true colour
    for k in range(3):
        region = truth[res.labels == k][0]
        assert np.abs(res.colors[k].astype(int) - COLOURS[region]).max() <= 3
    np.testing.assert_array_equal(res.palette_image, res.colors[res.labels])
    np.testing.assert_allclose(res.weights.sum(), 1.0)
    assert np.all(np.diff(res.weights) <= 0)  # ordered by decreasing weight
    assert res.means.shape == (3, 3) and res.covariances.shape == (3, 3, 3)
    assert res.n_components == 3 and res.method == method and res.shape == (30, 45)


def test_covariances_describe_the_regions():
    img, _ = three_regions(h=60, w=90, noise=6.0)
    for method in ("gmm", "kmeans"):
        res = segment_image(img, 3, method=method, random_state=0)
        for k in range(3):
            pix = img[res.labels == k].astype(float)
            np.testing.assert_allclose(res.means[k], pix.mean(0), atol=0.5)
            np.testing.assert_allclose(res.covariances[k], np.cov(pix.T, bias=True), atol=3.0)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_covariance_types_give_full_matrices(covariance_type):
    img, truth = three_regions()
    res = segment_image(img, 3, covariance_type=covariance_type, random_state=0)
    assert res.covariances.shape == (3, 3, 3)
    assert probabilistic_rand_index(res.labels, truth) == 1.0
    for c in res.covariances:
        np.testing.assert_allclose(c, c.T)
        assert np.all(np.linalg.eigvalsh(c) > 0)


def test_spatial_features_split_same_colour_by_position():
    img = np.full((20, 40, 3), 100, np.uint8)
    img += np.random.default_rng(0).integers(0, 3, img.shape).astype(np.uint8)
    colour_only = segment_image(img, 2, method="kmeans", random_state=0)
    spatial = segment_image(img, 2, method="kmeans", spatial_weight=2.0, random_state=0)
    left, right = spatial.labels[:, :15], spatial.labels[:, 25:]
    assert len(np.unique(left)) == 1 and len(np.unique(right)) == 1
    assert left[0, 0] != right[0, 0]
    assert colour_only.spatial_scale == 0.0 and spatial.spatial_scale > 0
    assert spatial.means.shape == (2, 5)
    assert (
        probabilistic_rand_index(colour_only.labels, np.arange(40)[None].repeat(20, 0) >= 20) < 0.9
    )


def test_image_features_layout():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    feats, scale = image_features(img, spatial_weight=1.0)
    assert feats.shape == (6, 5) and feats.dtype == np.float32
    np.testing.assert_allclose(feats[:, :3], img.reshape(-1, 3))
    np.testing.assert_allclose(scale, 255.0 / 3)
    np.testing.assert_allclose(feats[4, 3:], [1 * scale, 1 * scale])  # row 1, col 1


def test_grey_and_float_images():
    img, truth = three_regions()
    noise = np.random.default_rng(1).normal(0, 4, truth.shape)
    grey = np.clip(np.array([40, 120, 220])[truth] + noise, 0, 255).astype(np.uint8)
    res = segment_image(grey, 3, random_state=0)
    assert res.palette_image.shape == grey.shape and res.colors.shape == (3, 1)
    assert probabilistic_rand_index(res.labels, truth) == 1.0
    as_float = segment_image(img / 255.0, 3, method="kmeans", random_state=0)
    assert probabilistic_rand_index(as_float.labels, truth) == 1.0


def test_max_samples_labels_every_pixel_and_is_deterministic():
    img, truth = three_regions(h=60, w=90)
    a = segment_image(img, 3, max_samples=300, random_state=1)
    b = segment_image(img, 3, max_samples=300, random_state=1)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert a.labels.shape == truth.shape
    assert probabilistic_rand_index(a.labels, truth) == 1.0


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"method": "mean-shift"}, ParameterError, "method"),
        ({"color_space": "xyz"}, ParameterError, "color_space"),
        ({"spatial_weight": -1.0}, ParameterError, "spatial_weight"),
        ({"n_components": 0}, ParameterError, "n_components"),
        ({"n_components": 10_000}, ParameterError, "number of pixels"),
        ({"covariance_type": "round"}, ParameterError, "covariance_type"),
        ({"max_samples": 1}, ParameterError, "max_samples"),
    ],
)
def test_bad_parameters(kwargs, exc, match):
    img, _ = three_regions()
    params = {"n_components": 3, **kwargs}
    with pytest.raises(exc, match=match):
        segment_image(img, **params)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((4,), np.uint8),
        np.full((4, 4, 3), 2.0),
        np.zeros((4, 4, 3), bool),
    ],
)
def test_bad_images(image):
    with pytest.raises(FrameFormatError):
        segment_image(image, 2)


# ------------------------------------------------------------------- sampling


def test_sample_without_position_follows_the_weights():
    img = np.zeros((40, 50, 3), np.uint8)
    img[:, :35] = (240, 20, 20)
    img[:, 35:] = (20, 20, 240)
    img = (img + np.random.default_rng(0).normal(0, 3, img.shape)).clip(0, 255).astype(np.uint8)
    res = segment_image(img, 2, random_state=0)
    out = sample_image(res, random_state=0)
    assert out.shape == img.shape and out.dtype == np.uint8
    red = (out[..., 0] > out[..., 2]).mean()
    assert abs(red - 0.7) < 0.03
    np.testing.assert_allclose(out[out[..., 0] > 128].mean(0), [240, 20, 20], atol=2)
    np.testing.assert_array_equal(out, sample_image(res, random_state=0))  # seeded
    assert not np.array_equal(out, sample_image(res, random_state=1))


def test_sample_with_position_keeps_the_layout_at_any_size():
    img, _ = three_regions(h=30, w=60, noise=3.0)
    res = segment_image(img, 3, spatial_weight=1.0, random_state=0)
    for shape in [(30, 60), (15, 120)]:
        out = sample_image(res, shape, random_state=0).astype(float)
        assert out.shape == (*shape, 3)
        w = shape[1]
        for band in range(3):
            cols = out[:, band * w // 3 + w // 12 : (band + 1) * w // 3 - w // 12]
            np.testing.assert_allclose(cols.reshape(-1, 3).mean(0), COLOURS[band], atol=12)


def test_sample_from_kmeans_result_and_bare_mixture():
    img, _ = three_regions()
    res = segment_image(img, 3, method="kmeans", random_state=0)
    assert sample_image(res, (8, 9), random_state=0).shape == (8, 9, 3)
    feats, _ = image_features(img)
    gm = GaussianMixture(3, random_state=0).fit(feats)
    out = sample_image(gm, (10, 12), random_state=0)
    assert out.shape == (10, 12, 3)
    grey = segment_image(img[..., 0], 2, random_state=0)
    assert sample_image(grey, random_state=0).shape == (30, 45)


def test_sample_errors():
    img, _ = three_regions()
    res = segment_image(img, 3, random_state=0)
    with pytest.raises(ParameterError, match="shape"):
        sample_image(res, (0, 5))
    with pytest.raises(ParameterError, match="SegmentationResult"):
        sample_image(KMeans(3).fit(image_features(img)[0]), (4, 4))
    feats, _ = image_features(img)
    gm = GaussianMixture(2, random_state=0).fit(feats)
    with pytest.raises(ParameterError, match="shape is required"):
        sample_image(gm)
    with pytest.raises(ParameterError, match="fitted_shape"):
        sample_image(gm, (4, 4), spatial_scale=1.0)


def test_figure_is_written_atomically(tmp_path):
    img, _ = three_regions()
    g = segment_image(img, 3, random_state=0)
    k = segment_image(img, 3, method="kmeans", random_state=0)
    path = tmp_path / "fig.png"
    save_segmentation_figure(
        path, img, {"GMM": g, "k-means": k}, sample_image(g, random_state=0), title="three bands"
    )
    from PIL import Image

    with Image.open(path) as im:
        assert im.format == "PNG" and im.size[0] > im.size[1] > 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]


def test_multi_megapixel_image_in_bounded_time():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    img = np.kron(small, np.ones((125, 125, 1), np.uint8))  # 1500 x 2000 = 3 MP, blocky
    res = segment_image(img, 8, method="gmm", max_samples=20_000, random_state=0)
    assert res.labels.shape == (1500, 2000)
    # every block is one colour, so it gets a single label
    blocks = res.labels.reshape(12, 125, 16, 125)
    assert (blocks == blocks[:, :1, :, :1]).all()
    assert sample_image(res, (300, 400), random_state=0).shape == (300, 400, 3)
