"""The generator's building blocks against slow, obviously-correct oracles."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.synthetic import _random as R
from bgmix.synthetic._objects import Track
from bgmix.synthetic._shapes import coverage, sd_box, sd_ellipse, sd_polygon, union
from bgmix.synthetic._textures import (
    dilate,
    gaussian_blur,
    make_lattice,
    sample_lattice,
    shift_bilinear,
    smoothstep,
    warp_bilinear,
)


def _grid(h, w, step=1.0):
    y = np.arange(h, dtype=np.float32)[:, None] * step
    x = np.arange(w, dtype=np.float32)[None, :] * step
    return y, x


# ---------------------------------------------------------------- shapes
def _box_oracle(py, px, cy, cx, hh, hw):
    """Euclidean distance to an axis-aligned rectangle, by cases."""
    dy, dx = abs(py - cy) - hh, abs(px - cx) - hw
    if dy <= 0 and dx <= 0:
        return max(dy, dx)
    return float(np.hypot(max(dy, 0.0), max(dx, 0.0)))


def test_sd_box_matches_the_distance_oracle():
    y, x = _grid(15, 17)
    d = sd_box(y, x, 6.3, 8.7, 3.2, 4.9)
    oracle = np.array(
        [[_box_oracle(i, j, 6.3, 8.7, 3.2, 4.9) for j in range(17)] for i in range(15)]
    )
    np.testing.assert_allclose(d, oracle, atol=1e-4)


def test_sd_box_rotated_by_a_quarter_turn_swaps_the_sides():
    y, x = _grid(21, 21)
    a = sd_box(y, x, 10, 10, 3, 7, angle=np.pi / 2)
    b = sd_box(y, x, 10, 10, 7, 3)
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_sd_ellipse_sign_and_boundary():
    y, x = _grid(41, 61, 0.25)
    d = sd_ellipse(y, x, 5.0, 7.5, 3.0, 5.0)
    inside = ((y - 5.0) / 3.0) ** 2 + ((x - 7.5) / 5.0) ** 2 < 1
    assert np.array_equal(d < 0, inside)
    assert d[20, 30] < 0  # the centre (a 0/0 case of the estimate) is inside
    # exact on a circle
    c = sd_ellipse(y, x, 5.0, 7.5, 3.0, 3.0)
    np.testing.assert_allclose(c, np.hypot(y - 5.0, x - 7.5) - 3.0, atol=1e-4)


def test_sd_polygon_inside_and_distance_along_edges():
    tri = [(0.0, 0.0), (0.0, 10.0), (10.0, 0.0)]  # (y, x) vertices
    y, x = _grid(12, 12)
    d = sd_polygon(y, x, tri)
    assert d[2, 2] < 0 and d[9, 9] > 0
    np.testing.assert_allclose(sd_polygon(np.float32(-3.0), np.float32(4.0), tri), 3.0, atol=1e-5)
    rev = sd_polygon(y, x, tri[::-1])
    np.testing.assert_allclose(d, rev, atol=1e-5)


def test_coverage_is_a_clipped_ramp_exact_at_the_ends():
    d = np.array([-3.0, -0.5, -0.25, 0.0, 0.25, 0.5, 2.0], np.float32)
    np.testing.assert_array_equal(coverage(d), [1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0])
    assert coverage(d).dtype == np.float32


def test_union_is_the_pointwise_minimum():
    a = np.array([1.0, -2.0, 3.0])
    b = np.array([0.5, 1.0, -1.0])
    np.testing.assert_array_equal(union(a, b), [0.5, -2.0, -1.0])


# ---------------------------------------------------------------- textures
def test_sample_lattice_hits_lattice_values_and_is_periodic():
    lat = make_lattice(np.random.default_rng(0), (5, 7))
    iy, ix = np.meshgrid(np.arange(5), np.arange(7), indexing="ij")
    np.testing.assert_allclose(sample_lattice(lat, iy, ix), lat, atol=1e-6)
    y, x = np.float64(1.3), np.float64(2.6)
    assert sample_lattice(lat, y, x) == pytest.approx(sample_lattice(lat, y + 5, x - 14), abs=1e-6)
    assert lat.min() >= -1 and lat.max() <= 1


def test_sample_lattice_matches_a_scalar_oracle_between_points():
    lat = make_lattice(np.random.default_rng(1), (4, 4))

    def oracle(y, x):
        y0, x0 = int(np.floor(y)), int(np.floor(x))
        ty, tx = y - y0, x - x0
        ty, tx = ty * ty * (3 - 2 * ty), tx * tx * (3 - 2 * tx)
        v = lambda a, b: lat[a % 4, b % 4]  # noqa: E731
        top = v(y0, x0) * (1 - tx) + v(y0, x0 + 1) * tx
        bot = v(y0 + 1, x0) * (1 - tx) + v(y0 + 1, x0 + 1) * tx
        return top * (1 - ty) + bot * ty

    ys = np.array([0.2, 1.7, 3.9, -0.4])
    xs = np.array([0.5, 2.25, 3.1, 5.8])
    got = sample_lattice(lat, ys, xs)
    np.testing.assert_allclose(got, [oracle(a, b) for a, b in zip(ys, xs, strict=True)], atol=1e-5)


def test_smoothstep_clips_and_eases():
    np.testing.assert_allclose(smoothstep(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])), [0, 0, 0.5, 1, 1])


def test_gaussian_blur_keeps_constants_and_mass():
    const = np.full((9, 7, 3), 42.0, np.float32)
    np.testing.assert_allclose(gaussian_blur(const, 1.3), const, atol=1e-4)
    impulse = np.zeros((21, 21), np.float32)
    impulse[10, 10] = 1.0
    out = gaussian_blur(impulse, 1.0)
    assert out.sum() == pytest.approx(1.0, abs=1e-5)
    assert out[10, 10] == out.max() and out[10, 9] == pytest.approx(out[9, 10])
    np.testing.assert_array_equal(gaussian_blur(impulse, 0), impulse)


def test_shift_bilinear_integer_offsets_are_slices_and_half_pixels_average():
    canvas = np.random.default_rng(2).random((10, 12, 3)).astype(np.float32)
    np.testing.assert_array_equal(shift_bilinear(canvas, 2, 3, 5, 6), canvas[2:7, 3:9])
    half = shift_bilinear(canvas, 2.5, 3, 5, 6)
    np.testing.assert_allclose(half, 0.5 * (canvas[2:7, 3:9] + canvas[3:8, 3:9]), atol=1e-6)
    quarter = shift_bilinear(canvas, 2, 3.25, 5, 6)
    np.testing.assert_allclose(
        quarter, 0.75 * canvas[2:7, 3:9] + 0.25 * canvas[2:7, 4:10], atol=1e-6
    )


def test_warp_bilinear_identity_and_constant_shift():
    img = np.random.default_rng(3).random((6, 8, 4)).astype(np.float32)
    yy, xx = np.meshgrid(
        np.arange(6, dtype=np.float32), np.arange(8, dtype=np.float32), indexing="ij"
    )
    np.testing.assert_allclose(warp_bilinear(img, yy, xx), img, atol=1e-6)
    shifted = warp_bilinear(img, yy[:, :-1], xx[:, :-1] + 0.5)
    np.testing.assert_allclose(shifted, 0.5 * (img[:, :-1] + img[:, 1:]), atol=1e-6)
    # clamped outside, one-row image allowed
    np.testing.assert_allclose(warp_bilinear(img, yy - 10, xx)[0], img[0], atol=1e-6)
    row = img[:1]
    np.testing.assert_allclose(warp_bilinear(row, yy[:1], xx[:1]), row, atol=1e-6)


@pytest.mark.parametrize("radius", [0, 1, 2])
def test_dilate_matches_a_naive_square_dilation(radius):
    mask = np.random.default_rng(radius).random((9, 11)) < 0.08
    want = np.zeros_like(mask)
    for i, j in zip(*np.nonzero(mask), strict=True):
        want[max(i - radius, 0) : i + radius + 1, max(j - radius, 0) : j + radius + 1] = True
    np.testing.assert_array_equal(dilate(mask, radius), want)


# ---------------------------------------------------------------- tracks and streams
def test_track_linear_stop_and_start_with_easing():
    tr = Track(
        (0.0, 10.0, 20.0, 30.0, 40.0),
        (5.0,) * 5,
        (0.0, 10.0, 15.0, 15.0, 20.0),
        ("linear", "out", "linear", "in"),
    )
    assert tr.at(5.0)[:2] == (5.0, 5.0)
    _, x, walked, heading = tr.at(15.0)
    assert (
        x == pytest.approx(10.0 + 5.0 * 0.75) and heading == 1.0 and walked == pytest.approx(13.75)
    )
    assert tr.at(25.0)[1] == 15.0  # waiting
    assert tr.at(35.0)[1] == pytest.approx(15.0 + 5.0 * 0.25)
    assert tr.at(-3.0)[1] == 0.0 and tr.at(99.0)[1] == 20.0  # clamped
    # speed is continuous where the linear segment meets the braking one (2 D / T)
    eps = 1e-4
    v_in = (tr.at(10.0)[1] - tr.at(10.0 - eps)[1]) / eps
    v_out = (tr.at(10.0 + eps)[1] - tr.at(10.0)[1]) / eps
    assert v_in == pytest.approx(1.0, rel=1e-3) and v_out == pytest.approx(1.0, rel=1e-2)
    back = Track((0.0, 4.0), (0.0, 0.0), (10.0, 2.0), ("linear",))
    assert back.at(1.0)[3] == -1.0


def test_streams_of_different_key_lengths_differ():
    a = R.stream(7, 3).random(4)
    b = R.stream(7, 3, 0).random(4)
    c = R.stream(7, 3, 0, 0).random(4)
    assert not np.array_equal(a, b) and not np.array_equal(b, c)
    np.testing.assert_array_equal(R.stream(7, 3, 0).random(4), b)


def test_root_seed_from_int_and_generator():
    assert R.root_seed(12) == 12
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert R.root_seed(g1) == R.root_seed(g2)
    assert R.root_seed(g1) != R.root_seed(np.random.default_rng(5))  # g1 advanced


# ---------------------------------------------------------------- dynamic background
def test_water_waves_match_the_direct_sum_of_travelling_sines():
    from bgmix.synthetic import generate

    water = generate("dynamic", width=50, height=40, n_frames=5, seed=3)._water
    y, x = water._y, water._x
    for t in (0.0, 7.0, 123.0):
        waves = sum(
            a * np.sin(ky * y + kx * x - om * np.float32(t) + ph)
            for a, ky, kx, om, ph in zip(
                water._amp, water._ky, water._kx, water._omega, water._phase, strict=True
            )
        )
        c, d = water._cell, water._drift * t
        n1 = sample_lattice(water._lattices[0], y / (0.6 * c), (x - d) / c)
        n2 = sample_lattice(water._lattices[1], y / (0.6 * c) + 0.5 * d / c, (x + 0.7 * d) / c)
        np.testing.assert_allclose(water.height(t), 0.65 * waves + 0.35 * (n1 + n2), atol=1e-4)
