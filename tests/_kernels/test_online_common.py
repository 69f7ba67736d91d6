"""Helpers shared by the online kernels, against plain NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix._kernels.online_common import hold_update, load_row


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("width", [1, 7, 33])
def test_load_row_deinterleaves_channels(dtype, channels, width):
    row = np.random.default_rng(width).integers(0, 256, size=(width, channels)).astype(dtype)
    p = [np.full(width, -1.0, np.float32) for _ in range(3)]
    load_row(row.reshape(-1), channels, p[0], p[1], p[2])
    for c in range(channels):
        np.testing.assert_array_equal(p[c], row[:, c].astype(np.float32))
    if channels == 1:
        assert (p[1] == -1).all() and (p[2] == -1).all()


def test_hold_update_counts_resets_saturates_and_flags():
    bg = np.array([1, 0, 0, 0, 1], np.int32)
    counts = np.array([7, 0, 4, 65535, 65535], np.uint16)
    held = np.full(5, 9, np.int32)
    hold_update(bg, counts, held, 5)
    np.testing.assert_array_equal(counts, [0, 1, 5, 65535, 0])
    np.testing.assert_array_equal(held, [0, 1, 1, 0, 0])
    hold_update(bg, counts, held, 5)
    np.testing.assert_array_equal(counts, [0, 2, 6, 65535, 0])
    np.testing.assert_array_equal(held, [0, 1, 0, 0, 0])
