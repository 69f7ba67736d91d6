"""Image folders and still images."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bgmix.exceptions import (
    CorruptFrameError,
    EmptySourceError,
    FrameSizeError,
    InputError,
    SourceNotFoundError,
    SourceOpenError,
)
from bgmix.io import open_source, read_frames
from bgmix.io._folder import image_to_uint8
from tests.io.conftest import smooth_clip, write_images

CLIP = smooth_clip(5, 24, 32)


def test_numeric_order_not_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "seq"
    folder.mkdir()
    for n in (10, 2, 1):  # frame_10 sorts before frame_2 by name
        Image.fromarray(np.full((4, 6, 3), n, np.uint8)).save(
            folder / f"frame_{n}.jpg", quality=100
        )
    (folder / "notes.txt").write_text("ignored")
    with open_source(folder) as src:
        pairs = list(src.numbered())
    assert [n for n, _ in pairs] == [1, 2, 10]
    assert [round(float(f.mean())) for _, f in pairs] == [1, 2, 10]


def test_palette_masks_read_as_grey_values(tmp_path: Path) -> None:
    folder = tmp_path / "gt"
    folder.mkdir()
    values = np.array([[0, 50, 85], [170, 255, 0]], np.uint8)
    for i in range(3):
        im = Image.fromarray(values, mode="L").convert("P")  # CDnet masks are palette PNGs
        im.save(folder / f"gt{i:06d}.png")
    with open_source(folder) as src:
        frames = list(src)
        assert src.info.channels == 1
    for f in frames:
        np.testing.assert_array_equal(f, values)


def test_grey_folder_stays_grey_and_colour_images_are_converted(tmp_path: Path) -> None:
    grey = CLIP.mean(axis=3).astype(np.uint8)
    folder = write_images(tmp_path / "g", grey)
    Image.fromarray(CLIP[0]).save(folder / "in000099.png")  # one RGB image among grey ones
    with open_source(folder) as src:
        frames = list(src)
        assert src.info.channels == 1 and src.info.shape == (24, 32)
    np.testing.assert_array_equal(frames[0], grey[0])
    import cv2

    np.testing.assert_array_equal(frames[-1], cv2.cvtColor(CLIP[0], cv2.COLOR_RGB2GRAY))


def test_grey_first_then_colour_with_rgb_first(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "c", CLIP[:2])
    Image.fromarray(CLIP[2, :, :, 0]).save(folder / "in000003.png")
    with open_source(folder) as src:
        frames = list(src)
    assert src.info.channels == 3
    np.testing.assert_array_equal(frames[2], np.repeat(CLIP[2, :, :, :1], 3, axis=2))


def test_sixteen_bit_images_are_scaled(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    data = np.array([[0, 257, 65535], [32896, 1000, 514]], np.uint16)
    Image.fromarray(data).save(folder / "d_1.png")
    with open_source(folder) as src:
        (frame,) = list(src)
    np.testing.assert_array_equal(frame, [[0, 1, 255], [128, 4, 2]])


def test_size_change_names_the_file(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "s", CLIP)
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(folder / "in000004.png")
    with open_source(folder) as src:
        frames = src.numbered()
        assert next(frames)[0] == 1
        with pytest.raises(FrameSizeError, match=r"in000004\.png.*12x10.*32x24"):
            list(frames)


def test_size_option_makes_mixed_sizes_consistent(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "s", CLIP)
    Image.fromarray(np.zeros((10, 12, 3), np.uint8)).save(folder / "in000004.png")
    with open_source(folder, size=(16, 12)) as src:
        frames = list(src)
    assert [f.shape for f in frames] == [(12, 16, 3)] * 5
    assert frames[3].max() == 0


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_damaged_image_mid_folder(tmp_path: Path, damage: str, caplog) -> None:
    folder = write_images(tmp_path / "x", CLIP)
    bad = folder / "in000003.png"
    data = bad.read_bytes()
    bad.write_bytes(b"not an image at all" if damage == "garbage" else data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="bgmix.io"), open_source(folder) as src:
        numbers = [n for n, _ in src.numbered()]
        assert src.skipped == 1
    assert numbers == [1, 2, 4, 5]
    assert any("in000003.png" in r.getMessage() for r in caplog.records)
    with open_source(folder, on_error="raise") as src:
        it = src.numbered()
        assert [next(it)[0], next(it)[0]] == [1, 2]
        with pytest.raises(CorruptFrameError, match=r"in000003\.png"):
            next(it)


def test_folder_whose_images_are_all_damaged(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for i in range(3):
        (folder / f"in{i:06d}.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(SourceOpenError, match="none of its 3 selected images"):
        open_source(folder)


def test_missing_empty_and_imageless_folders(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match="nope"):
        open_source(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(EmptySourceError, match="empty"):
        open_source(tmp_path / "empty")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x")
    with pytest.raises(EmptySourceError, match="no images"):
        open_source(tmp_path / "docs")
    with pytest.raises(FileNotFoundError):  # the built-in a user would catch
        open_source(str(tmp_path / "nope"))


def test_start_beyond_the_folder(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "s", CLIP)
    with pytest.raises(EmptySourceError, match=r"start=9 selects none of its 5"):
        open_source(folder, start=9)


def test_unnumbered_images_are_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "u"
    folder.mkdir()
    Image.fromarray(CLIP[0]).save(folder / "background.png")
    with pytest.raises(InputError, match="no frame number"):
        open_source(folder)


def test_still_image_is_one_frame(tmp_path: Path) -> None:
    Image.fromarray(CLIP[1]).save(tmp_path / "still.png")
    with open_source(tmp_path / "still.png") as src:
        pairs = list(src.numbered())
        assert src.info.kind == "image" and src.info.frame_count == 1 and src.info.fps is None
    assert [n for n, _ in pairs] == [0]
    np.testing.assert_array_equal(pairs[0][1], CLIP[1])
    assert read_frames(tmp_path / "still.png", grey=True).shape == (1, 24, 32)


def test_damaged_still_image(tmp_path: Path) -> None:
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff garbage")
    with pytest.raises(SourceOpenError, match=r"bad\.jpg"):
        open_source(tmp_path / "bad.jpg")


def test_image_to_uint8_rules() -> None:
    np.testing.assert_array_equal(image_to_uint8(np.array([[True, False]]), "x"), [[255, 0]])
    np.testing.assert_array_equal(image_to_uint8(np.array([[0.0, 0.5, 1.0]]), "x"), [[0, 128, 255]])
    np.testing.assert_array_equal(image_to_uint8(np.array([[3, 200]], np.int32), "x"), [[3, 200]])
    from bgmix.exceptions import FrameFormatError

    with pytest.raises(FrameFormatError, match="do not fit"):
        image_to_uint8(np.array([[-1, 5]], np.int32), "img")
    with pytest.raises(FrameFormatError, match="NaN"):
        image_to_uint8(np.array([[np.nan]], np.float32), "img")
    with pytest.raises(FrameFormatError, match=r"\[0, 1\] or \[0, 255\]"):
        image_to_uint8(np.array([[300.0]], np.float32), "img")
