"""Arrays, sequences of frames, .npy and .npz files as sources."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bgmix.exceptions import (
    CorruptFrameError,
    EmptySourceError,
    FrameFormatError,
    FrameSizeError,
    SourceOpenError,
)
from bgmix.io import open_source

RNG = np.random.default_rng(3)
FRAMES = RNG.integers(0, 256, (5, 6, 7, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.zeros((3, 4, 5), np.int64), "dtype int64"),
        (np.zeros((3, 4, 5), bool), "dtype bool"),
        (np.zeros((3, 4, 5, 4), np.uint8), r"4 in shape.*alpha"),
        (np.zeros((3, 4, 5, 2), np.uint8), "expected 1 or 3 channels"),
        (np.zeros((4, 5), np.uint8), r"shape \(T, H, W\)"),
        (np.zeros((2, 3, 4, 5, 3), np.uint8), r"shape \(T, H, W\)"),
        (np.zeros((2, 0, 4), np.uint8), "empty"),
    ],
)
def test_wrong_arrays_raise_frame_format_error(array: np.ndarray, match: str) -> None:
    with pytest.raises(FrameFormatError, match=match):
        open_source(array)


def test_no_frames() -> None:
    with pytest.raises(EmptySourceError, match="no frames"):
        open_source(np.zeros((0, 4, 5, 3), np.uint8))
    with pytest.raises(EmptySourceError):
        open_source([])


def test_float_frames_are_checked_one_by_one() -> None:
    frames = np.full((4, 3, 3), 0.5)
    frames[2, 0, 0] = 1.5
    with open_source(frames) as src:
        it = src.numbered()
        assert next(it)[1][0, 0] == 128
        next(it)
        with pytest.raises(FrameFormatError, match=r"frame 2 of array.*\[0, 1\]"):
            next(it)
    frames[2, 0, 0] = np.nan
    with open_source(frames, start=1) as src, pytest.raises(FrameFormatError, match="NaN"):
        list(src)


def test_grey_arrays_are_grey_sources() -> None:
    with open_source(FRAMES[..., 0]) as src:
        assert src.info.channels == 1
        np.testing.assert_array_equal(np.stack(list(src)), FRAMES[..., 0])
    with open_source(FRAMES[..., :1]) as src:
        assert src.info.channels == 1
        assert next(iter(src)).shape == (6, 7)


def test_sequence_of_frames_with_a_size_change() -> None:
    frames = [FRAMES[0], FRAMES[1], np.zeros((3, 3, 3), np.uint8)]
    with open_source(frames) as src:
        it = iter(src)
        next(it), next(it)
        with pytest.raises(FrameSizeError, match="frame 2 of array"):
            next(it)
    with open_source(frames, size=(7, 6)) as src:
        assert [f.shape for f in src] == [(6, 7, 3)] * 3


def test_memory_mapped_npy_is_read_frame_by_frame(tmp_path: Path) -> None:
    np.save(tmp_path / "f.npy", FRAMES)
    with open_source(tmp_path / "f.npy", stride=2) as src:
        assert src._frames.__class__ is np.memmap  # not loaded whole
        got = list(src)
    assert all(type(f) is np.ndarray for f in got)
    np.testing.assert_array_equal(np.stack(got), FRAMES[::2])


def test_bad_npy_and_npz(tmp_path: Path) -> None:
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(SourceOpenError, match=r"bad\.npy"):
        open_source(tmp_path / "bad.npy")
    (tmp_path / "bad.npz").write_bytes(b"PK not a zip")
    with pytest.raises(SourceOpenError, match=r"bad\.npz"):
        open_source(tmp_path / "bad.npz")
    np.savez(tmp_path / "names.npz", background=FRAMES[0], mask=FRAMES[1])
    with pytest.raises(SourceOpenError, match="no frame number"):
        open_source(tmp_path / "names.npz")


def test_npz_with_one_stack_and_with_numbered_frames(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "stack.npz", frames=FRAMES)
    with open_source(tmp_path / "stack.npz") as src:
        np.testing.assert_array_equal(np.stack(list(src)), FRAMES)
    np.savez(tmp_path / "num.npz", f_10=FRAMES[2], f_2=FRAMES[1], f_1=FRAMES[0])
    with open_source(tmp_path / "num.npz") as src:
        pairs = list(src.numbered())
    assert [n for n, _ in pairs] == [1, 2, 10]
    np.testing.assert_array_equal(pairs[2][1], FRAMES[2])


def test_npz_manifest_order_and_corrupt_member(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for name, frame in (("b", FRAMES[1]), ("a", FRAMES[0]), ("c", FRAMES[2])):
            with zf.open(f"{name}.npy", "w") as fh:
                np.lib.format.write_array(fh, frame)
        zf.writestr(
            "manifest.json", json.dumps({"names": ["a", "b", "c"], "numbers": [7, 8, 9], "fps": 5})
        )
    with open_source(path) as src:
        assert src.info.fps == 5.0
        pairs = list(src.numbered())
    assert [n for n, _ in pairs] == [7, 8, 9]
    np.testing.assert_array_equal(pairs[0][1], FRAMES[0])
    data = bytearray(path.read_bytes())
    start = data.find(b"b.npy") + 200  # inside member b's data
    data[start : start + 40] = bytes(40)
    path.write_bytes(bytes(data))
    with open_source(path) as src:
        assert [n for n, _ in src.numbered()] == [7, 9] and src.skipped == 1
    with (
        open_source(path, on_error="raise") as src,
        pytest.raises(CorruptFrameError, match="frame 8"),
    ):
        list(src)
