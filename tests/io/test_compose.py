"""side_by_side: panel contents, captions, sizes and errors."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.exceptions import FrameFormatError, FrameSizeError, ParameterError
from bgmix.io import side_by_side

RNG = np.random.default_rng(7)
FRAME = RNG.integers(0, 256, (30, 40, 3), dtype=np.uint8)
BACKGROUND = RNG.integers(0, 256, (30, 40, 3), dtype=np.uint8)
MASK = np.zeros((30, 40), np.uint8)
MASK[5:15, 10:20] = 255
MASK[20:25, 0:8] = 127


def test_panels_without_captions() -> None:
    out = side_by_side(FRAME, MASK, BACKGROUND, captions=False)
    assert out.shape == (30, 160, 3) and out.dtype == np.uint8
    panels = np.split(out, 4, axis=1)
    np.testing.assert_array_equal(panels[0], FRAME)
    np.testing.assert_array_equal(panels[1], np.repeat(MASK[..., None], 3, axis=2))
    assert (panels[1][22, 3] == 127).all()  # shadow shown grey
    fg = panels[2]
    np.testing.assert_array_equal(fg[MASK == 255], FRAME[MASK == 255])
    assert (fg[MASK != 255] == 0).all()  # shadow and background are black
    np.testing.assert_array_equal(panels[3], BACKGROUND)


def test_background_panel_is_omitted_when_none() -> None:
    assert side_by_side(FRAME, MASK, captions=False).shape == (30, 120, 3)


def test_captions_band_holds_text() -> None:
    out = side_by_side(FRAME, MASK, BACKGROUND)
    band = out.shape[0] - 30
    assert band >= 14
    np.testing.assert_array_equal(out[band:, :40], FRAME)
    for k in range(4):
        strip = out[:band, 40 * k : 40 * (k + 1)]
        assert strip.max() > 150 and (strip == 32).mean() > 0.5  # light text on a dark band
    custom = side_by_side(FRAME, MASK, captions=["a", "b", "c"])
    assert custom.shape == (30 + band, 120, 3)
    assert not np.array_equal(custom[:band, :40], out[:band, :40])  # different text


def test_grey_and_float_inputs_and_bool_masks() -> None:
    grey = FRAME[..., 0]
    out = side_by_side(grey / 255.0, MASK == 255, grey, captions=False)
    assert out.shape == (30, 160, 3)
    np.testing.assert_array_equal(out[:, :40, 1], grey)
    np.testing.assert_array_equal(out[:, 40:80, 0], np.where(MASK == 255, 255, 0))


def test_scale() -> None:
    out = side_by_side(FRAME, MASK, BACKGROUND, captions=False, scale=0.5)
    assert out.shape == (15, 80, 3)
    big = side_by_side(FRAME, MASK, captions=False, scale=2)
    assert big.shape == (60, 240, 3)
    np.testing.assert_array_equal(big[::2, ::2], side_by_side(FRAME, MASK, captions=False))


def test_errors() -> None:
    with pytest.raises(FrameSizeError, match="mask: size 20x10"):
        side_by_side(FRAME, np.zeros((10, 20), np.uint8))
    with pytest.raises(FrameSizeError, match="background: size"):
        side_by_side(FRAME, MASK, BACKGROUND[:10])
    with pytest.raises(FrameFormatError, match="mask: expected uint8"):
        side_by_side(FRAME, MASK.astype(np.float32))
    with pytest.raises(FrameFormatError, match=r"mask: expected shape \(H, W\)"):
        side_by_side(FRAME, FRAME)
    with pytest.raises(FrameFormatError, match="frame"):
        side_by_side(FRAME.astype(np.int16), MASK)
    with pytest.raises(FrameFormatError, match="NumPy array"):
        side_by_side(FRAME, [[0]])
    with pytest.raises(ParameterError, match="captions"):
        side_by_side(FRAME, MASK, captions=["only one"])
    with pytest.raises(ParameterError, match="scale"):
        side_by_side(FRAME, MASK, scale=0)


def test_tiny_panels_do_not_break_captions() -> None:
    out = side_by_side(FRAME[:3, :3], MASK[:3, :3])
    assert out.shape[1] == 9 and out.shape[0] > 3


def test_side_by_side_canvas_reuses_one_buffer_and_matches_side_by_side() -> None:
    from bgmix.io._compose import SideBySide, shrink_panels

    canvas = SideBySide((20, 15), 4, captions=True)
    first = canvas.draw(FRAME, MASK, BACKGROUND)
    np.testing.assert_array_equal(first, side_by_side(FRAME, MASK, BACKGROUND, width=80))
    small, small_mask = shrink_panels(FRAME, MASK, (20, 15))
    band = first.shape[0] - 15
    np.testing.assert_array_equal(first[band:, :20], small)
    np.testing.assert_array_equal(first[band:, 20:40, 2], small_mask)
    other = FRAME[::-1].copy()
    again = canvas.draw(other, MASK, BACKGROUND)
    assert again is first  # the same buffer, redrawn
    np.testing.assert_array_equal(again, side_by_side(other, MASK, BACKGROUND, width=80))


def test_side_by_side_canvas_redraws_the_background_only_when_it_changes() -> None:
    from bgmix.io._compose import SideBySide

    canvas = SideBySide((40, 30), 4, captions=False)
    background = BACKGROUND.copy()
    canvas.draw(FRAME, MASK, background)
    background[:] = 0  # the same object, changed in place: not redrawn
    np.testing.assert_array_equal(canvas.draw(FRAME, MASK, background)[:, 120:], BACKGROUND)
    fresh = np.zeros_like(BACKGROUND)
    assert (canvas.draw(FRAME, MASK, fresh)[:, 120:] == 0).all()


def test_side_by_side_canvas_grey_frames_and_panel_count_errors() -> None:
    from bgmix.io._compose import SideBySide

    grey = FRAME[..., 0]
    out = SideBySide((40, 30), 3, captions=False).draw(grey, MASK)
    for c in range(3):
        np.testing.assert_array_equal(out[:, :40, c], grey)
        np.testing.assert_array_equal(out[:, 80:, c], np.where(MASK == 255, grey, 0))
    with pytest.raises(ParameterError, match="has a background panel"):
        SideBySide((40, 30), 4, captions=False).draw(FRAME, MASK)
    with pytest.raises(ParameterError, match="has no background panel"):
        SideBySide((40, 30), 3, captions=False).draw(FRAME, MASK, BACKGROUND)
    with pytest.raises(FrameSizeError, match="mask: size"):
        SideBySide((40, 30), 3, captions=False).draw(FRAME, MASK[:10])
