"""Exact per-pixel median kernels against numpy.median."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix._kernels import batch_stats


@pytest.mark.parametrize("T", [1, 2, 5, 8, 301])
@pytest.mark.parametrize("C", [1, 3])
def test_median_u8_equals_numpy_median(T, C):
    rng = np.random.default_rng(T * 10 + C)
    data = rng.integers(0, 256, size=(T, 3, 5, C), dtype=np.uint8)
    data[:, 0, 0] = 0  # constant black
    data[:, 0, 1] = 255  # saturated
    data[:, 0, 2] = np.where(np.arange(T) % 2 == 0, 0, 255)[:, None]  # two extremes
    out = np.empty(data.shape[1:], np.float32)
    batch_stats.median(data, out)
    np.testing.assert_array_equal(out, np.median(data, axis=0).astype(np.float32))


@pytest.mark.parametrize("T", [1, 4, 7])
def test_median_float_equals_numpy_median(T):
    rng = np.random.default_rng(T)
    data = rng.uniform(0, 255, size=(T, 2, 3, 3)).astype(np.float32)
    out = np.empty(data.shape[1:], np.float32)
    batch_stats.median(data, out)
    np.testing.assert_allclose(out, np.median(data.astype(np.float64), axis=0), rtol=1e-6)


def test_median_u8_accepts_a_strided_view():
    rng = np.random.default_rng(0)
    full = rng.integers(0, 256, size=(9, 6, 4, 3), dtype=np.uint8)
    view = full[:, 2:5]
    out = np.empty(view.shape[1:], np.float32)
    batch_stats.median(view, out)
    np.testing.assert_array_equal(out, np.median(view, axis=0))
