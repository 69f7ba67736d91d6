"""Video files decoded with PyAV: metadata, colour conversion and damaged files."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from bgmix.exceptions import (
    CorruptFrameError,
    EmptySourceError,
    SourceNotFoundError,
    SourceOpenError,
)
from bgmix.io import open_source, read_frames
from bgmix.io._video import frame_to_array
from tests.io.conftest import psnr, smooth_clip, write_video

CLIP = smooth_clip(10, 32, 48)


def _png_mov(path: Path, n: int = 10) -> Path:
    """Lossless PNG-in-MOV: every frame is a PNG whose data can be damaged alone."""
    return write_video(path, CLIP[:n], codec="png", pix_fmt="rgb24")


def _damage_idat(path: Path, which: list[int]) -> None:
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 4) if data[i : i + 4] == b"IDAT"]
    for k in which:
        data[starts[k] + 4 : starts[k] + 30] = bytes(26)
    path.write_bytes(bytes(data))


def test_fps_is_a_float_never_truncated(tmp_path: Path) -> None:
    path = write_video(tmp_path / "ntsc.mp4", CLIP, fps=Fraction(30000, 1001))
    with open_source(path) as src:
        assert src.info.fps == pytest.approx(29.97002997, abs=1e-8)
        assert src.info.frame_count == 10 and src.info.kind == "video"
        assert src.info.duration == pytest.approx(10 / 29.97002997)


def test_frame_count_unknown_in_matroska(tmp_path: Path) -> None:
    path = write_video(tmp_path / "c.mkv", CLIP, codec="ffv1", pix_fmt="bgr0")
    with open_source(path) as src:
        assert src.info.frame_count is None
        assert len(list(src)) == 10


def test_lossless_video_decodes_exactly(tmp_path: Path) -> None:
    path = write_video(tmp_path / "c.mkv", CLIP, codec="ffv1", pix_fmt="bgr0")
    np.testing.assert_array_equal(read_frames(path), CLIP)


def test_grey_video_stays_grey(tmp_path: Path) -> None:
    grey = smooth_clip(4, 32, 48, grey=True)
    path = write_video(tmp_path / "g.mkv", grey, codec="ffv1", pix_fmt="gray")
    with open_source(path) as src:
        assert src.info.channels == 1
        np.testing.assert_array_equal(np.stack(list(src)), grey)


def test_odd_sized_video(tmp_path: Path) -> None:
    clip = smooth_clip(3, 31, 45)
    path = write_video(tmp_path / "odd.mp4", clip, pix_fmt="yuv444p", stream_options={"crf": "0"})
    frames = read_frames(path)
    assert frames.shape == (3, 31, 45, 3)
    assert psnr(frames, clip) > 40


@pytest.mark.parametrize(
    ("pix_fmt", "colorspace", "color_range"),
    [
        ("yuv420p", "ITU601", "MPEG"),  # the OpenCV I420 fast path
        ("yuv420p", "ITU709", "MPEG"),  # swscale with BT.709 coefficients
        ("yuvj420p", None, "JPEG"),  # full range
        ("yuv444p", None, None),
        ("nv12", None, None),
    ],
)
def test_conversion_matches_swscale(pix_fmt: str, colorspace: str | None, color_range) -> None:
    rgb = CLIP[3]
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    kwargs = {}
    if colorspace:
        kwargs.update(dst_colorspace=colorspace)
    if color_range:
        kwargs.update(dst_color_range=color_range)
    yuv = frame.reformat(format=pix_fmt, **kwargs)
    ref = yuv.to_ndarray(format="rgb24", threads=1)  # FFmpeg's own conversion
    got = frame_to_array(yuv, 3)
    assert got.shape == ref.shape and got.dtype == np.uint8
    assert np.abs(got.astype(int) - ref).mean() < 1.5
    assert psnr(got, ref) > 38
    grey = frame_to_array(yuv, 1)
    luma = cv2.cvtColor(ref, cv2.COLOR_RGB2GRAY)
    assert grey.shape == luma.shape and np.abs(grey.astype(int) - luma).mean() < 2.0


def test_corrupt_frame_mid_stream_skip_and_raise(tmp_path: Path, caplog) -> None:
    path = _png_mov(tmp_path / "c.mov")
    _damage_idat(path, [4])
    with caplog.at_level(logging.WARNING, logger="bgmix.io"), open_source(path) as src:
        pairs = list(src.numbered())
        assert src.skipped == 1
    assert [n for n, _ in pairs] == [0, 1, 2, 3, 5, 6, 7, 8, 9]  # numbers do not shift
    np.testing.assert_array_equal(pairs[4][1], CLIP[5])
    assert any("frame 4" in r.getMessage() and "c.mov" in r.getMessage() for r in caplog.records)
    with open_source(path, on_error="raise") as src:
        it = src.numbered()
        assert [next(it)[0] for _ in range(4)] == [0, 1, 2, 3]
        with pytest.raises(CorruptFrameError, match=r"frame 4 of video .*c\.mov"):
            next(it)


def test_corrupt_frame_with_prefetch_raises_in_consumer(tmp_path: Path) -> None:
    path = _png_mov(tmp_path / "c.mov")
    _damage_idat(path, [6])
    with open_source(path, on_error="raise", prefetch=3) as src:
        seen = []
        with pytest.raises(CorruptFrameError, match="frame 6"):
            for n, _ in src.numbered():
                seen.append(n)
    assert seen == [0, 1, 2, 3, 4, 5]


def test_every_frame_corrupt_is_an_open_error(tmp_path: Path) -> None:
    path = _png_mov(tmp_path / "c.mov", n=4)
    _damage_idat(path, [0, 1, 2, 3])
    with pytest.raises(SourceOpenError, match="no decodable frame"):
        open_source(path)


def test_truncated_mp4_without_index_cannot_be_opened(tmp_path: Path) -> None:
    path = write_video(tmp_path / "t.mp4", CLIP)  # no faststart: the index is at the end
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SourceOpenError, match=r"t\.mp4.*cannot be opened"):
        open_source(path)


def test_truncated_faststart_mp4_gives_fewer_frames_and_a_warning(tmp_path: Path, caplog) -> None:
    path = write_video(tmp_path / "t.mp4", CLIP, options={"movflags": "+faststart"})
    with av.open(str(path)) as container:
        packets = [(p.pos, p.size) for p in container.demux(video=0) if p.size]
    pos, size = packets[5]
    data = path.read_bytes()
    path.write_bytes(data[: pos + size // 2])  # cut in the middle of the 6th frame
    with caplog.at_level(logging.WARNING, logger="bgmix.io"), open_source(path) as src:
        assert src.info.frame_count == 10  # what the container announces
        n = len(list(src))
    assert 1 <= n <= 6  # x264 reorders frames: a few before the cut may be lost too
    assert any("announces 10" in r.getMessage() for r in caplog.records)


def test_garbage_and_empty_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    (tmp_path / "g.mp4").write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(SourceOpenError, match=r"g\.mp4"):
        open_source(tmp_path / "g.mp4")
    (tmp_path / "e.avi").write_bytes(b"")
    with pytest.raises(SourceOpenError, match=r"e\.avi"):
        open_source(tmp_path / "e.avi")


@pytest.mark.parametrize(("name", "codec"), [("z.mkv", "ffv1"), ("z.mp4", "libx264")])
def test_zero_frame_video_is_empty(tmp_path: Path, name: str, codec: str) -> None:
    path = write_video(tmp_path / name, CLIP[:0], codec=codec)
    with pytest.raises(EmptySourceError, match=rf"{name}.*no frames"):
        open_source(path)


def test_audio_only_file_has_no_video_stream(tmp_path: Path) -> None:
    container = av.open(str(tmp_path / "a.mkv"), mode="w")
    stream = container.add_stream("pcm_s16le", rate=8000)
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
    frame.sample_rate = 8000
    for packet in stream.encode(frame):
        container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    with pytest.raises(SourceOpenError, match=r"no video stream.*audio"):
        open_source(tmp_path / "a.mkv")


def test_start_past_the_end(tmp_path: Path) -> None:
    path = write_video(tmp_path / "c.mp4", CLIP)
    with pytest.raises(EmptySourceError, match="start=50 selects none of its 10 frames"):
        open_source(path, start=50)


def test_unknown_suffix_and_kind_override(tmp_path: Path) -> None:
    path = write_video(tmp_path / "c.mp4", CLIP[:3])
    odd = path.rename(tmp_path / "c.bin")
    with pytest.raises(SourceOpenError, match=r"unknown file type '\.bin'"):
        open_source(odd)
    with open_source(odd, kind="video") as src:
        assert len(list(src)) == 3
    with pytest.raises(SourceNotFoundError):
        open_source(tmp_path / "missing.mp4")


def test_stride_does_not_convert_skipped_frames(tmp_path: Path, monkeypatch) -> None:
    import bgmix.io._video as video

    calls = []
    original = video.frame_to_array

    def counting(frame, channels):
        calls.append(frame.pts)
        return original(frame, channels)

    monkeypatch.setattr(video, "frame_to_array", counting)
    path = write_video(tmp_path / "c.mp4", CLIP)
    with open_source(path, start=1, stride=4) as src:
        assert len(list(src)) == 3
    assert len(calls) == 3


# ---- seeking: open_source(video, start=N) equals sequential decoding -------------------
def _seek_clip(n: int = 150) -> np.ndarray:
    """Frames that all differ (a counter patch), so a frame off by one is detected."""
    frames = np.concatenate([smooth_clip(15, 48, 64)] * (n // 15 + 1))[:n].copy()
    frames[:, :8, :8] = (np.arange(n) * 5 % 256).astype(np.uint8)[:, None, None, None]
    return frames


@pytest.mark.parametrize(
    ("name", "codec"),
    [("h264.mp4", "libx264"), ("mpeg4.avi", "mpeg4"), ("h264.mkv", "libx264")],
)
def test_seek_gives_the_frames_and_numbers_of_sequential_decoding(
    tmp_path: Path, name: str, codec: str, caplog
) -> None:
    path = write_video(
        tmp_path / name, _seek_clip(), codec=codec, stream_options={"g": "12", "bf": "2"}
    )
    with open_source(path) as src:
        ref = list(src.numbered())
    caplog.set_level(logging.DEBUG, logger="bgmix.io._video")
    for start in (48, 49, 60, 61, 97, 149):
        with open_source(path, start=start, stop=start + 30) as src:
            got = list(src.numbered())
        want = ref[start : start + 30]
        assert [n for n, _ in got] == [n for n, _ in want]
        for (_, a), (_, b) in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)
    assert "decoding from 0" not in caplog.text  # every start above was reached by a seek


def test_seek_with_stride_and_grey(tmp_path: Path) -> None:
    path = write_video(tmp_path / "a.mp4", _seek_clip(), stream_options={"g": "10"})
    ref = read_frames(path, grey=True)
    with open_source(path, start=77, stride=3, grey=True) as src:
        got = list(src.numbered())
    assert [n for n, _ in got] == list(range(77, 150, 3))
    np.testing.assert_array_equal(np.stack([f for _, f in got]), ref[77::3])


def test_irregular_time_stamps_fall_back_to_sequential_numbering(tmp_path: Path, caplog) -> None:
    frames = _seek_clip(90)
    path = tmp_path / "vfr.mp4"
    container = av.open(str(path), mode="w")
    stream = container.add_stream("libx264", rate=25)
    stream.height, stream.width = frames.shape[1:3]
    stream.pix_fmt = "yuv420p"
    stream.options = {"g": "10", "bf": "0"}
    stream.codec_context.time_base = Fraction(1, 25)
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(f, "rgb24")
        vf.pts = i + (i >= 30) * 7  # a 7-frame gap: time stamps no longer count frames
        vf.time_base = Fraction(1, 25)
        for packet in stream.encode(vf):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    with open_source(path) as src:
        ref = list(src.numbered())
    caplog.set_level(logging.DEBUG, logger="bgmix.io._video")
    with open_source(path, start=60) as src:
        got = list(src.numbered())
    assert [n for n, _ in got] == [n for n, _ in ref[60:]]
    for (_, a), (_, b) in zip(got, ref[60:], strict=True):
        np.testing.assert_array_equal(a, b)
    assert "decoding from 0" in caplog.text
