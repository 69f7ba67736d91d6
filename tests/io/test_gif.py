"""Animated GIFs: timing, colour, grey palettes and damaged files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bgmix.exceptions import CorruptFrameError, SourceOpenError
from bgmix.io import open_source
from bgmix.io._gif import gif_delays


def _frames(n: int = 6) -> list[np.ndarray]:
    out = []
    for t in range(n):
        f = np.zeros((20, 30, 3), np.uint8)
        f[:, :, 2] = 200
        f[5:12, 3 * t : 3 * t + 6] = (250, 20, 20)
        out.append(f)
    return out


def _save(path: Path, frames: list[np.ndarray], duration) -> Path:
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration, loop=0)
    return path


def test_delays_give_fps_and_are_kept(tmp_path: Path) -> None:
    path = _save(tmp_path / "a.gif", _frames(), [100, 50, 50, 100, 50, 50])
    assert gif_delays(path) == [100, 50, 50, 100, 50, 50]
    with open_source(path) as src:
        assert src.delays_ms == [100, 50, 50, 100, 50, 50]
        assert src.info.fps == pytest.approx(6 / 0.4)
        assert src.info.frame_count == 6 and src.info.kind == "gif"
        frames = list(src)
    assert all(f.shape == (20, 30, 3) for f in frames)
    np.testing.assert_array_equal(frames[4], _frames()[4])


def test_gif_without_delays_has_no_fps(tmp_path: Path) -> None:
    path = _save(tmp_path / "a.gif", _frames(3), 0)
    with open_source(path) as src:
        assert src.info.fps is None


def test_grey_palette_gif_is_grey(tmp_path: Path) -> None:
    grey = [np.full((8, 9), v, np.uint8) for v in (0, 127, 255)]
    images = [Image.fromarray(g, mode="L") for g in grey]
    images[0].save(tmp_path / "g.gif", save_all=True, append_images=images[1:], duration=40)
    with open_source(tmp_path / "g.gif") as src:
        frames = list(src)
        assert src.info.channels == 1
    for got, want in zip(frames, grey, strict=True):
        np.testing.assert_array_equal(got, want)


def test_damaged_gif_frame(tmp_path: Path) -> None:
    path = _save(tmp_path / "a.gif", _frames(), 40)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.7)])  # the last frames are cut off
    with open_source(path) as src:
        frames = list(src)
        skipped = src.skipped
    assert 1 <= len(frames) < 6
    assert skipped <= 1
    with open_source(path, on_error="raise") as src, pytest.raises(CorruptFrameError, match="GIF"):
        list(src)


def test_not_a_gif(tmp_path: Path) -> None:
    (tmp_path / "x.gif").write_bytes(b"PNG? no")
    with pytest.raises(SourceOpenError, match="not a GIF"):
        open_source(tmp_path / "x.gif")
    Image.fromarray(_frames(1)[0]).save(tmp_path / "y.png")
    (tmp_path / "y.png").rename(tmp_path / "y.gif")
    with pytest.raises(SourceOpenError, match="not a GIF"):
        open_source(tmp_path / "y.gif")
