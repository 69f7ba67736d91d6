"""One contract, every frame-source backend.

Each backend is built from the same small clip; the contract checks what every
FrameSource promises: info, layout, grey and resize options, frame selection and
numbering, prefetch, re-iteration, and that closing releases the file or socket.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.exceptions import EmptySourceError, UnsupportedOperationError
from bgmix.io import FrameSource, VideoInfo, open_source
from tests.io.conftest import psnr, smooth_clip, write_images, write_video

N = 8
CLIP = smooth_clip(N, 32, 48)
# Few colours, so that a GIF holds the clip exactly.
POSTER = ((CLIP // 64) * 64 + 32).astype(np.uint8)


@dataclasses.dataclass
class Case:
    src: object  # what open_source receives
    frames: np.ndarray  # what it should yield
    numbers: list[int]
    exact: bool
    fps: float | None
    knows_count: bool = True
    restartable: bool = True


def _folder(tmp: Path, _: object) -> Case:
    write_images(tmp / "seq", CLIP, "in{:06d}.png", first=1)
    return Case(tmp / "seq", CLIP, list(range(1, N + 1)), True, None)


def _image(tmp: Path, _: object) -> Case:
    from PIL import Image

    Image.fromarray(CLIP[0]).save(tmp / "still.png")
    return Case(tmp / "still.png", CLIP[:1], [0], True, None)


def _h264(tmp: Path, _: object) -> Case:
    path = write_video(tmp / "clip.mp4", CLIP, fps=30000 / 1001, stream_options={"crf": "12"})
    return Case(path, CLIP, list(range(N)), False, 30000 / 1001)


def _ffv1(tmp: Path, _: object) -> Case:
    path = write_video(tmp / "clip.mkv", CLIP, codec="ffv1", pix_fmt="bgr0", fps=12.5)
    return Case(path, CLIP, list(range(N)), True, 12.5, knows_count=False)


def _gif(tmp: Path, _: object) -> Case:
    from PIL import Image

    images = [Image.fromarray(f) for f in POSTER]
    images[0].save(tmp / "clip.gif", save_all=True, append_images=images[1:], duration=50, loop=0)
    return Case(tmp / "clip.gif", POSTER, list(range(N)), True, 20.0)


def _stream(tmp: Path, server: tuple[str, Path]) -> Case:
    url, root = server
    write_video(root / "clip.mp4", CLIP, fps=25, stream_options={"crf": "12"})
    return Case(f"{url}/clip.mp4", CLIP, list(range(N)), False, 25.0, restartable=False)


def _array(tmp: Path, _: object) -> Case:
    return Case(CLIP.copy(), CLIP, list(range(N)), True, None)


def _float_array(tmp: Path, _: object) -> Case:
    return Case(CLIP / 255.0, CLIP, list(range(N)), True, None)


def _list(tmp: Path, _: object) -> Case:
    return Case([f.copy() for f in CLIP], CLIP, list(range(N)), True, None)


def _npy(tmp: Path, _: object) -> Case:
    np.save(tmp / "clip.npy", CLIP)
    return Case(tmp / "clip.npy", CLIP, list(range(N)), True, None)


def _npz(tmp: Path, _: object) -> Case:
    np.savez(tmp / "clip.npz", **{f"frame_{i + 10}": f for i, f in enumerate(CLIP)})
    return Case(tmp / "clip.npz", CLIP, list(range(10, 10 + N)), True, None)


BACKENDS: dict[str, Callable[[Path, object], Case]] = {
    "folder": _folder,
    "image": _image,
    "video-h264": _h264,
    "video-ffv1": _ffv1,
    "gif": _gif,
    "stream": _stream,
    "array": _array,
    "float-array": _float_array,
    "list": _list,
    "npy": _npy,
    "npz": _npz,
}


@pytest.fixture(params=sorted(BACKENDS))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Case:
    server = request.getfixturevalue("http_server") if request.param == "stream" else None
    return BACKENDS[request.param](tmp_path, server)


def _close_enough(got: np.ndarray, want: np.ndarray, exact: bool) -> None:
    assert got.shape == want.shape and got.dtype == np.uint8
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        assert psnr(got, want) > 32, psnr(got, want)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_frames_info_and_numbers(case: Case) -> None:
    with open_source(case.src) as src:
        assert isinstance(src, FrameSource)
        pairs = list(src.numbered())
        info = src.info
    assert isinstance(info, VideoInfo)
    assert (info.width, info.height, info.channels) == (48, 32, 3)
    assert info.shape == (32, 48, 3)
    assert info.frame_count == (len(case.frames) if case.knows_count else None)
    if case.fps is None:
        assert info.fps is None
    else:
        assert info.fps == pytest.approx(case.fps, rel=1e-9)
    assert [n for n, _ in pairs] == case.numbers
    for (_, got), want in zip(pairs, case.frames, strict=True):
        _close_enough(got, want, case.exact)
    assert src.skipped == 0


def test_grey_option(case: Case) -> None:
    with open_source(case.src, grey=True) as src:
        frames = list(src)
        assert src.info.channels == 1 and src.info.shape == (32, 48)
    assert len(frames) == len(case.frames)
    for got, want in zip(frames, case.frames, strict=True):
        ref = cv2.cvtColor(want, cv2.COLOR_RGB2GRAY)
        assert got.shape == (32, 48) and got.dtype == np.uint8
        if case.exact and "mkv" not in str(case.src):
            np.testing.assert_array_equal(got, ref)
        else:  # video luma: the decoder's Y plane, not Pillow/OpenCV's luma of RGB
            assert np.abs(got.astype(int) - ref).mean() < 2.5
            assert psnr(got, ref) > 32


@pytest.mark.parametrize(
    ("options", "shape"),
    [
        ({"size": (24, 16)}, (16, 24, 3)),
        ({"scale": 0.5}, (16, 24, 3)),
        ({"scale": 1.5}, (48, 72, 3)),
    ],
)
def test_resize_options(case: Case, options: dict, shape: tuple[int, ...]) -> None:
    with open_source(case.src, **options) as src:
        frames = list(src)
        assert (src.info.height, src.info.width) == shape[:2]
    assert [f.shape for f in frames] == [shape] * len(case.frames)
    interp = cv2.INTER_AREA if shape[0] < 32 else cv2.INTER_LINEAR
    want = cv2.resize(case.frames[-1], shape[1::-1], interpolation=interp)
    _close_enough(frames[-1], want, case.exact)


def test_start_stop_stride(case: Case) -> None:
    if len(case.frames) <= 2:
        with pytest.raises(EmptySourceError, match="start=2 selects none"):
            open_source(case.src, start=2, stop=7, stride=2)
        return
    with open_source(case.src, start=2, stop=7, stride=2) as src:
        pairs = list(src.numbered())
        assert src.info.frame_count == (3 if case.knows_count else None)
    assert [n for n, _ in pairs] == [case.numbers[i] for i in (2, 4, 6)]
    for (_, got), i in zip(pairs, (2, 4, 6), strict=True):
        _close_enough(got, case.frames[i], case.exact)


def test_prefetch_yields_the_same_frames(case: Case) -> None:
    with open_source(case.src, prefetch=2, stride=3) as src:
        pairs = list(src.numbered())
    assert [n for n, _ in pairs] == case.numbers[::3]
    for (_, got), want in zip(pairs, case.frames[::3], strict=True):
        _close_enough(got, want, case.exact)


def test_iterating_again(case: Case) -> None:
    with open_source(case.src) as src:
        first = list(src)
        if case.restartable:
            second = list(src)
            assert len(second) == len(case.frames)
            for a, b in zip(first, second, strict=True):
                np.testing.assert_array_equal(a, b)
        else:
            with pytest.raises(UnsupportedOperationError, match="only once"):
                list(src)


def test_frames_are_fresh_arrays(case: Case) -> None:
    with open_source(case.src) as src:
        frames = list(src)
    frames[0][:] = 0  # the caller owns its frames: writing must not touch the source
    with open_source(case.src) as src:
        again = next(iter(src))
    _close_enough(again, case.frames[0], case.exact)


def test_early_break_and_close_release_everything(case: Case) -> None:
    baseline = _open_fds()
    src = open_source(case.src, prefetch=1 if isinstance(case.src, Path) else 0)
    for _ in src:
        break
    src.close()
    assert src.closed
    assert _open_fds() == baseline
    with pytest.raises(UnsupportedOperationError, match="closed"):
        next(iter(src))
    src.close()  # twice is fine


def test_exception_in_with_block_closes(case: Case) -> None:
    baseline = _open_fds()
    with pytest.raises(KeyError), open_source(case.src) as src:
        for _ in src:
            raise KeyError("consumer failed")
    assert src.closed
    assert _open_fds() == baseline


def test_info_is_frozen_and_repr_names_source(case: Case) -> None:
    with open_source(case.src) as src:
        with pytest.raises(dataclasses.FrozenInstanceError):
            src.info.width = 1  # type: ignore[misc]
        text = repr(src)
    assert "48x32x3" in text and "closed" in repr(src)
    assert src.info.source == src.name
