"""frame_matrix: layout, conversions, frame selection, sources, cache, errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from bgmix.exceptions import (
    EmptySourceError,
    FrameFormatError,
    FrameSizeError,
    InputError,
    ParameterError,
    SourceNotFoundError,
)
from bgmix.lowrank import LUMA, frame_matrix, frames_from_matrix, to_frame
from tests.conftest import moving_square


def _write_folder(folder, frames):
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / f"in{i + 1:06d}.png")
    return folder


def test_layout_is_column_per_frame_with_stacked_channel_planes():
    frames = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    M = frame_matrix(frames, grey=False)
    assert M.shape == (3 * 4 * 3, 2) and M.dtype == np.float32
    assert M.flags.f_contiguous
    for t in range(2):
        expected = np.concatenate([frames[t, :, :, c].ravel() for c in range(3)])
        np.testing.assert_array_equal(M[:, t], expected)
    np.testing.assert_array_equal(frames_from_matrix(M, (3, 4, 3)), frames)


def test_grey_uses_bt601_luma_without_rounding():
    frames = np.random.default_rng(0).integers(0, 256, (3, 5, 6, 3), dtype=np.uint8)
    M = frame_matrix(frames)
    ref = np.tensordot(frames.astype(np.float64), np.array(LUMA), axes=([3], [0]))
    np.testing.assert_allclose(M, ref.reshape(3, -1).T, atol=1e-4)


def test_grey_input_and_float_input_are_on_the_0_255_scale():
    grey = np.random.default_rng(1).integers(0, 256, (4, 5, 6), dtype=np.uint8)
    M = frame_matrix(grey, dtype=np.float64)
    assert M.dtype == np.float64
    np.testing.assert_array_equal(M, grey.reshape(4, -1).T)
    M2 = frame_matrix(grey.astype(np.float32) / 255)
    np.testing.assert_allclose(M2, M, atol=1e-4)


def test_scale_and_size_resize_every_frame():
    frames, _ = moving_square(n_frames=5, height=24, width=32)
    M, shape = frame_matrix(frames, scale=0.5, return_shape=True)
    assert shape == (12, 16, 1) and M.shape == (12 * 16, 5)
    M, shape = frame_matrix(frames, size=(20, 10), grey=False, return_shape=True)
    assert shape == (10, 20, 3) and M.shape == (600, 5)
    # shrinking averages: a constant frame stays constant
    flat = np.full((2, 24, 32), 77, np.uint8)
    np.testing.assert_allclose(frame_matrix(flat, scale=0.25), 77.0, atol=1e-4)


def test_start_stop_stride_select_frames_from_arrays_and_iterables():
    frames = np.stack([np.full((4, 4), t, np.uint8) for t in range(10)])
    M = frame_matrix(frames, start=1, stop=8, stride=3)
    np.testing.assert_array_equal(M[0], [1, 4, 7])
    M2 = frame_matrix(iter(list(frames)), start=1, stop=8, stride=3)
    np.testing.assert_array_equal(M2, M)
    gen = (f for f in frames)
    np.testing.assert_array_equal(frame_matrix(gen)[0], np.arange(10))


def test_image_folder_path(tmp_path):
    frames, _ = moving_square(n_frames=6, height=16, width=20)
    folder = _write_folder(tmp_path / "seq", frames)
    M = frame_matrix(folder, grey=False)
    np.testing.assert_array_equal(M, frame_matrix(frames, grey=False))
    M2 = frame_matrix(str(folder), stride=2)
    np.testing.assert_allclose(M2, frame_matrix(frames[::2]))


def test_cache_is_written_reused_and_invalidated(tmp_path, monkeypatch):
    frames, _ = moving_square(n_frames=6, height=16, width=20)
    folder = _write_folder(tmp_path / "seq", frames)
    cache = tmp_path / "m.npy"
    M = frame_matrix(folder, cache=cache)
    record = json.loads((tmp_path / "m.npy.json").read_text())
    assert record["shape"] == list(M.shape) and record["frame_shape"] == [16, 20, 1]

    import bgmix.lowrank._matrix as mod

    calls = []
    original = mod._Converter.__call__

    def counting(self, frame, index):
        calls.append(index)
        return original(self, frame, index)

    monkeypatch.setattr(mod._Converter, "__call__", counting)
    again, shape = frame_matrix(folder, cache=cache, return_shape=True)
    assert calls == [] and shape == (16, 20, 1)
    np.testing.assert_array_equal(again, M)
    # other options: rebuilt and rewritten
    frame_matrix(folder, cache=cache, stride=2)
    assert calls == [0, 2, 4]
    assert json.loads((tmp_path / "m.npy.json").read_text())["key"]["options"]["stride"] == 2
    # a changed source folder: rebuilt
    calls.clear()
    frame_matrix(folder, cache=cache, stride=2)
    assert calls == []
    (folder / "in000001.png").unlink()
    frame_matrix(folder, cache=cache, stride=2)
    assert calls != []


def test_cache_of_an_array_uses_its_content(tmp_path):
    frames, _ = moving_square(n_frames=4, height=8, width=8)
    cache = tmp_path / "a.npy"
    a = frame_matrix(frames, cache=cache)
    changed = frames.copy()
    changed[0, 0, 0] = 255 - changed[0, 0, 0]
    b = frame_matrix(changed, cache=cache)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(np.load(cache), b)


def test_cache_leaves_no_partial_files(tmp_path):
    frames, _ = moving_square(n_frames=4, height=8, width=8)
    frame_matrix(frames, cache=tmp_path / "c.npy")
    assert sorted(os.listdir(tmp_path)) == ["c.npy", "c.npy.json"]


def test_cache_errors(tmp_path):
    frames, _ = moving_square(n_frames=3, height=8, width=8)
    with pytest.raises(ParameterError, match=r"\.npy"):
        frame_matrix(frames, cache=tmp_path / "m.npz")
    with pytest.raises(ParameterError, match="iterable"):
        frame_matrix(iter(frames), cache=tmp_path / "m.npy")
    with pytest.raises(SourceNotFoundError):
        frame_matrix(tmp_path / "missing", cache=tmp_path / "m.npy")


def test_frames_from_matrix_and_to_frame():
    frames = np.random.default_rng(2).integers(0, 256, (3, 4, 5, 3), dtype=np.uint8)
    M = frame_matrix(frames, grey=False)
    np.testing.assert_array_equal(to_frame(M[:, 1], (4, 5, 3)), frames[1])
    assert frames_from_matrix(M[:20], (4, 5)).shape == (3, 4, 5)
    with pytest.raises(InputError, match="do not hold frames"):
        frames_from_matrix(M, (4, 4, 3))
    with pytest.raises(ParameterError, match="frame_shape"):
        frames_from_matrix(M, (60,))
    clipped = to_frame(np.array([-5.0, 300.0, 12.4, 12.6]), (2, 2))
    np.testing.assert_array_equal(clipped, [[0, 255], [12, 13]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"grey": "yes"}, "grey"),
        ({"scale": 0}, "scale"),
        ({"scale": 0.5, "size": (4, 4)}, "not both"),
        ({"size": (4,)}, "size"),
        ({"size": (0, 4)}, "size"),
        ({"start": -1}, "start"),
        ({"start": 3, "stop": 3}, "stop"),
        ({"stride": 0}, "stride"),
        ({"dtype": np.int16}, "dtype"),
        ({"dtype": "nonsense"}, "dtype"),
    ],
)
def test_bad_options_raise_parameter_error(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        frame_matrix(np.zeros((2, 4, 4), np.uint8), **kwargs)


def test_bad_frames_raise_specific_errors():
    with pytest.raises(FrameFormatError, match="shape"):
        frame_matrix(np.zeros((4, 4), np.uint8))
    with pytest.raises(EmptySourceError):
        frame_matrix(np.zeros((0, 4, 4), np.uint8))
    with pytest.raises(EmptySourceError):
        frame_matrix([])
    with pytest.raises(EmptySourceError, match="no frame"):
        frame_matrix(np.zeros((3, 4, 4), np.uint8), start=5)
    with pytest.raises(FrameSizeError, match="frame 1"):
        frame_matrix([np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8)])
    with pytest.raises(FrameSizeError, match="frame 1"):
        frame_matrix([np.zeros((4, 4, 3), np.uint8), np.zeros((5, 4), np.uint8)], scale=0.5)
    bad = np.zeros((2, 4, 4), np.float32)
    bad[1, 0, 0] = np.nan
    with pytest.raises(FrameFormatError, match=r"frame 1.*NaN"):
        frame_matrix(bad)
    with pytest.raises(InputError, match="iterable"):
        frame_matrix(42)
    with pytest.raises(SourceNotFoundError):
        frame_matrix("/no/such/video.mp4")


def test_resizing_accepts_frames_that_change_size():
    frames = [np.full((8, 8), 10, np.uint8), np.full((16, 16), 20, np.uint8)]
    M = frame_matrix(frames, size=(4, 4))
    np.testing.assert_allclose(M, [[10, 20]] * 16, atol=1e-4)
