"""The tile bookkeeping of the mog2 kernel against NumPy: the ranges of pixels each
component's passes run over, and the pixels the scalar scan visits. (The
passes themselves are checked through the whole kernel, bit for bit against a
per-pixel oracle, in ``test_online_mog2.py``, including tiles where the higher
components are in use at a few pixels only.)"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from bgmix._kernels.online_mog2_passes import (
    HELD,
    Tile,
    finish_pass,
    first_byte,
    in_use_ranges,
    todo_bits,
)


def make_tile(n, kmax=5, *, fitm=None, bg=None):
    f32 = np.zeros(n, np.float32)
    i32 = np.zeros(n, np.int32)
    # the flags' buffer is longer than the tile and holds stale ones past its end
    words = np.full((n + 7) // 8 + 1, 0x0101010101010101, np.uint64)
    return Tile(
        p0=f32.copy(),
        p1=f32.copy(),
        p2=f32.copy(),
        nmc=i32.copy(),
        total=f32.copy(),
        bg=i32.copy() if bg is None else np.asarray(bg, np.int32),
        fitm=i32.copy() if fitm is None else np.asarray(fitm, np.int32),
        fitw=f32.copy(),
        held=i32.copy(),
        todo=words.view(np.uint8)[:n],
        todo_words=words[: (n + 7) // 8],
        lo=np.full(kmax, -7, np.int64),
        hi=np.full(kmax, -7, np.int64),
    )


def ranges_oracle(nmodes, maxnm):
    out = [(0, len(nmodes))]
    for m in range(1, maxnm):
        idx = np.flatnonzero(nmodes > m)
        out.append((int(idx[0]), int(idx[-1]) + 1) if idx.size else (len(nmodes), 0))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_in_use_ranges_match_numpy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    nmodes = np.ones(n, np.uint8)
    # a few clusters of pixels with more components, somewhere in the tile
    for _ in range(int(rng.integers(0, 4))):
        a = int(rng.integers(0, n))
        b = min(n, a + int(rng.integers(1, 20)))
        nmodes[a:b] = rng.integers(1, 6, size=b - a)
    nmodes[rng.random(n) < 0.1] = 0
    maxnm = int(nmodes.max())
    t = make_tile(n)
    in_use_ranges(nmodes, np.int32(maxnm), t)
    got = list(zip(t.lo[:maxnm].tolist(), t.hi[:maxnm].tolist(), strict=True))
    assert got == ranges_oracle(nmodes, maxnm)


def test_in_use_ranges_are_empty_for_a_component_no_pixel_uses():
    # maxnm comes from a part of the band the tile does not hold: component 2 unused
    nmodes = np.array([1, 2, 2, 1], np.uint8)
    t = make_tile(4)
    in_use_ranges(nmodes, np.int32(3), t)
    assert (t.lo[:3].tolist(), t.hi[:3].tolist()) == ([0, 1, 4], [4, 3, 0])


@njit
def visited(t):
    """The tile indices the scan visits, in its order (its loop, without the work)."""
    out = []
    for wi in range(t.todo_words.shape[0]):
        word = todo_bits(t, wi)
        while word != np.uint64(0):
            b, word = first_byte(word)
            out.append(wi * 8 + b)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_scan_visits_the_pixels_numpy_selects(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    fitm = rng.choice(np.array([-1, 0, 0, 0, 1, 2, HELD], np.int32), size=n)
    bg = (rng.random(n) < 0.8).astype(np.int32)
    t = make_tile(n, fitm=fitm, bg=bg)
    nmodes = np.full(n, 2, np.uint8)
    mask = np.full(n, 7, np.uint8)
    finish_pass(nmodes, mask, t)
    expected = np.flatnonzero(((fitm != 0) & (fitm != HELD)) | (bg == 0))
    np.testing.assert_array_equal(t.todo, np.isin(np.arange(n), expected).astype(np.uint8))
    assert visited(t) == expected.tolist()
    np.testing.assert_array_equal(mask, np.where(bg != 0, 0, 255))


def test_scan_visits_nothing_in_a_settled_tile_whatever_lies_past_its_end():
    for n in (1, 7, 8, 9, 64):
        t = make_tile(n, fitm=np.zeros(n, np.int32), bg=np.ones(n, np.int32))
        finish_pass(np.ones(n, np.uint8), np.zeros(n, np.uint8), t)
        assert visited(t) == []
