"""One contract, every sink: round trips through open_source, atomic outputs, errors."""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from bgmix.exceptions import (
    FrameFormatError,
    FrameSizeError,
    OutputError,
    ParameterError,
)
from bgmix.io import FrameSink, open_sink, open_source, read_frames
from tests.io.conftest import psnr, smooth_clip

CLIP = smooth_clip(12, 32, 48)
GREY = smooth_clip(12, 32, 48, grey=True)
MASKS = np.where(GREY > 120, 255, np.where(GREY > 90, 127, 0)).astype(np.uint8)

# name -> (file name, exact round trip?)
SINKS = {
    "mp4": ("out.mp4", False),
    "mov": ("out.mov", True),
    "mkv": ("out.mkv", True),
    "gif": ("out.gif", False),
    "folder": ("out", True),
    "npz": ("out.npz", True),
}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("sink_kind", sorted(SINKS))
@pytest.mark.parametrize("content", ["rgb", "grey", "mask"])
def test_round_trip(tmp_path: Path, sink_kind: str, content: str) -> None:
    name, exact = SINKS[sink_kind]
    frames = {"rgb": CLIP, "grey": GREY, "mask": MASKS}[content]
    target = tmp_path / name
    with open_sink(target, fps=30000 / 1001) as sink:
        assert isinstance(sink, FrameSink) and sink.kind == sink_kind
        for f in frames:
            sink.write(f)
        assert sink.frames_written == 12
    assert target.exists() and _leftovers(tmp_path) == []
    with open_source(target) as src:
        got = np.stack(list(src))
        info = src.info
    if sink_kind == "mp4":  # lossy video, decoded as RGB (H.264 has no grey profile here)
        assert info.frame_count == 12 and info.fps == pytest.approx(30000 / 1001, rel=1e-12)
        want = frames if frames.ndim == 4 else np.repeat(frames[..., None], 3, axis=3)
        assert got.shape == want.shape
        assert psnr(got, want) > (34 if content != "mask" else 30)
    elif sink_kind == "gif":
        assert info.frame_count == 12 and info.fps == pytest.approx(30, abs=0.5)
        assert got.shape == frames.shape  # grey GIFs read back grey
        if content == "rgb":
            assert psnr(got, frames) > 30  # 256-colour palettes
        else:
            np.testing.assert_array_equal(got, frames)
    else:
        assert exact
        np.testing.assert_array_equal(got, frames)


def test_mp4_is_browser_ready(tmp_path: Path) -> None:
    path = tmp_path / "v.mp4"
    with open_sink(path, fps=29.97) as sink:
        for f in CLIP:
            sink.write(f)
    data = path.read_bytes()
    assert 0 < data.find(b"moov") < data.find(b"mdat")  # +faststart: index first
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        assert cc.name == "h264" and cc.pix_fmt == "yuv420p"
        assert stream.average_rate == Fraction(30000, 1001)
        assert stream.frames == 12
        assert sum(1 for _ in container.decode(stream)) == 12  # every frame decodes


def test_mp4_pads_odd_sizes(tmp_path: Path) -> None:
    clip = smooth_clip(4, 31, 45)
    with open_sink(tmp_path / "odd.mp4", crf=0) as sink:
        for f in clip:
            sink.write(f)
    got = read_frames(tmp_path / "odd.mp4")
    assert got.shape == (4, 32, 46, 3)
    assert psnr(got[:, :31, :45], clip) > 38
    np.testing.assert_allclose(got[:, 31, :45].astype(int), got[:, 30, :45].astype(int), atol=6)


def test_mp4_threads_reach_x264(tmp_path: Path) -> None:
    clip = smooth_clip(4, 128, 96)
    for threads in (1, 2):
        path = tmp_path / f"t{threads}.mp4"
        with open_sink(path, crf=0, threads=threads) as sink:
            for f in clip:
                sink.write(f)
        assert f" threads={threads} ".encode() in path.read_bytes()  # x264's settings SEI
        assert psnr(read_frames(path), clip) > 38
    with pytest.raises(ParameterError, match="threads"):
        open_sink(tmp_path / "a.mp4", threads=-1)


def test_gif_loops_forever_and_keeps_timing(tmp_path: Path) -> None:
    from PIL import Image

    with open_sink(tmp_path / "a.gif", fps=10) as sink:
        for f in CLIP[:5]:
            sink.write(f)
    with Image.open(tmp_path / "a.gif") as im:
        assert im.info["loop"] == 0 and im.n_frames == 5
    with open_source(tmp_path / "a.gif") as src:
        assert src.delays_ms == [100] * 5


def test_gif_keeps_frames_of_few_colours_exactly(tmp_path: Path) -> None:
    poster = ((CLIP // 64) * 64 + 32).astype(np.uint8)  # at most 64 colours per frame
    with open_sink(tmp_path / "p.gif") as sink:
        for f in poster:
            sink.write(f)
    np.testing.assert_array_equal(read_frames(tmp_path / "p.gif"), poster)


def test_folder_names_and_numbers(tmp_path: Path) -> None:
    with open_sink(tmp_path / "masks") as sink:
        sink.write(MASKS[0], number=1)
        sink.write(MASKS[1])  # next number: 2
        sink.write(MASKS[2], number=10)
    assert sorted(os.listdir(tmp_path / "masks")) == [
        "bin000001.png",
        "bin000002.png",
        "bin000010.png",
    ]
    with open_source(tmp_path / "masks") as src:
        assert [n for n, _ in src.numbered()] == [1, 2, 10]
    with open_sink(tmp_path / "jpg", pattern="frame_{number}.jpg", first_number=5) as sink:
        sink.write(CLIP[0])
    assert os.listdir(tmp_path / "jpg") == ["frame_5.jpg"]


def test_npz_manifest_and_numpy_load(tmp_path: Path) -> None:
    with open_sink(tmp_path / "m.npz", fps=12.5) as sink:
        for i, m in enumerate(MASKS[:3]):
            sink.write(m, number=100 + i)
    with np.load(tmp_path / "m.npz") as npz:
        manifest = json.loads(npz["manifest.json"])
        np.testing.assert_array_equal(npz["frame_000101"], MASKS[1])
    assert manifest["numbers"] == [100, 101, 102] and manifest["fps"] == 12.5
    assert (manifest["width"], manifest["height"], manifest["channels"]) == (48, 32, 1)
    with open_source(tmp_path / "m.npz") as src:
        assert [n for n, _ in src.numbered()] == [100, 101, 102]
        assert src.info.fps == 12.5


@pytest.mark.parametrize("sink_kind", sorted(SINKS))
def test_exception_leaves_nothing(tmp_path: Path, sink_kind: str) -> None:
    target = tmp_path / SINKS[sink_kind][0]
    with pytest.raises(RuntimeError), open_sink(target) as sink:
        sink.write(CLIP[0])
        sink.write(CLIP[1])
        raise RuntimeError("model crashed")
    assert not target.exists()
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("sink_kind", sorted(SINKS))
def test_existing_output_survives_a_failed_rewrite(tmp_path: Path, sink_kind: str) -> None:
    target = tmp_path / SINKS[sink_kind][0]
    with open_sink(target) as sink:
        sink.write(GREY[0])
    before = read_frames(target)
    with pytest.raises(RuntimeError), open_sink(target) as sink:
        sink.write(GREY[5])
        raise RuntimeError
    np.testing.assert_array_equal(read_frames(target), before)


@pytest.mark.parametrize("sink_kind", sorted(SINKS))
def test_frame_errors(tmp_path: Path, sink_kind: str) -> None:
    target = tmp_path / SINKS[sink_kind][0]
    with open_sink(target) as sink:
        sink.write(GREY[0])
        with pytest.raises(FrameSizeError, match=r"frame 1 .*24x16 differs.*48x32"):
            sink.write(GREY[1, :16, :24])
        with pytest.raises(FrameFormatError, match="RGB frame cannot be added"):
            sink.write(CLIP[1])
        with pytest.raises(FrameFormatError, match=r"\[0, 1\]"):
            sink.write(np.full((32, 48), 2.0))
        with pytest.raises(FrameFormatError, match="channels"):
            sink.write(np.zeros((32, 48, 4), np.uint8))
        sink.write(GREY[1] > 100)  # bool masks are fine
        sink.write(GREY[2] / 255.0)  # so are float frames in [0, 1]
        assert sink.frames_written == 3
    assert len(read_frames(target)) == 3


def test_grey_frames_in_a_colour_sink_are_replicated(tmp_path: Path) -> None:
    with open_sink(tmp_path / "c.npz") as sink:
        sink.write(CLIP[0])
        sink.write(GREY[0])
    got = read_frames(tmp_path / "c.npz")
    np.testing.assert_array_equal(got[1], np.repeat(GREY[0][..., None], 3, axis=2))


@pytest.mark.parametrize("sink_kind", sorted(SINKS))
def test_closing_without_frames_saves_nothing(tmp_path: Path, sink_kind: str) -> None:
    target = tmp_path / SINKS[sink_kind][0]
    sink = open_sink(target)
    with pytest.raises(OutputError, match="no frame was written"):
        sink.close()
    assert os.listdir(tmp_path) == []
    with pytest.raises(OutputError, match="closed"):
        sink.write(GREY[0])


def test_unclosed_sink_is_discarded_when_collected(tmp_path: Path, caplog) -> None:
    sink = open_sink(tmp_path / "a.mp4")
    sink.write(CLIP[0])
    del sink
    import gc

    gc.collect()
    assert os.listdir(tmp_path) == []
    assert any("never closed" in r.getMessage() for r in caplog.records)


def test_overwrite_false(tmp_path: Path) -> None:
    (tmp_path / "a.gif").write_bytes(b"old")
    with pytest.raises(OutputError, match=r"exists.*overwrite"):
        open_sink(tmp_path / "a.gif", overwrite=False)
    assert (tmp_path / "a.gif").read_bytes() == b"old"
    (tmp_path / "masks").mkdir()
    with open_sink(tmp_path / "masks", overwrite=False) as sink:  # an empty folder is fine
        sink.write(MASKS[0])
    with pytest.raises(OutputError, match=r"exists.*overwrite"):
        open_sink(tmp_path / "masks", overwrite=False)


def test_protect_inputs(tmp_path: Path) -> None:
    video = tmp_path / "in.mp4"
    with open_sink(video) as sink:
        sink.write(CLIP[0])
    original = video.read_bytes()
    with pytest.raises(OutputError, match="is the input"):
        open_sink(video, protect=[video])
    with pytest.raises(OutputError, match="is the input"):
        open_sink(tmp_path / "." / "in.mp4", protect=str(video))
    frames = tmp_path / "seq" / "input"
    frames.mkdir(parents=True)
    with pytest.raises(OutputError, match="inside the input folder"):
        open_sink(frames / "masks.mp4", protect=[frames])
    with pytest.raises(OutputError, match="contains the input"):
        open_sink(tmp_path / "seq", protect=[frames])
    sibling = tmp_path / "seq" / "masks"  # beside the input folder: fine
    with open_sink(sibling, protect=[frames, video]) as sink:
        sink.write(MASKS[0])
    with open_sink(tmp_path / "b.mp4", protect=[0, "rtsp://cam/1", CLIP]) as sink:  # not files
        sink.write(CLIP[0])
    assert video.read_bytes() == original


def test_open_sink_parameter_errors(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"unknown output type '\.avi'"):
        open_sink(tmp_path / "a.avi")
    with pytest.raises(ParameterError, match="kind must be one of"):
        open_sink(tmp_path / "a", kind="tiff")
    with pytest.raises(ParameterError, match=r"unknown option.*quality.*crf, preset"):
        open_sink(tmp_path / "a.mp4", quality=3)
    with pytest.raises(ParameterError, match="crf"):
        open_sink(tmp_path / "a.mp4", crf=60)
    with pytest.raises(ParameterError, match="preset"):
        open_sink(tmp_path / "a.mp4", preset="warp")
    with pytest.raises(ParameterError, match="fps"):
        open_sink(tmp_path / "a.mp4", fps=0)
    with pytest.raises(ParameterError, match="fps"):
        open_sink(tmp_path / "a.mp4", fps=float("inf"))
    with pytest.raises(ParameterError, match="number"):
        open_sink(tmp_path / "f", pattern="constant.png")
    with pytest.raises(ParameterError, match="image suffix"):
        open_sink(tmp_path / "f", pattern="{number}.txt")
    with pytest.raises(ParameterError, match="format string"):
        open_sink(tmp_path / "f", pattern="{frame}.png")
    with pytest.raises(ParameterError, match="file name"):
        open_sink(tmp_path / "f", pattern="sub/{number}.png")
    assert os.listdir(tmp_path) == []


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    with open_sink(tmp_path / "new" / "masks", kind="folder") as sink:
        sink.write(np.zeros((4, 4), np.uint8), number=1)
    assert len(os.listdir(tmp_path / "new" / "masks")) == 1


def test_duplicate_numbers_are_refused(tmp_path: Path) -> None:
    for name in ("d", "d.npz"):
        with open_sink(tmp_path / name) as sink:
            sink.write(MASKS[0], number=3)
            with pytest.raises(OutputError, match="frame number 3 was already written"):
                sink.write(MASKS[1], number=3)
            with pytest.raises(ParameterError, match="number"):
                sink.write(MASKS[1], number=-1)


@pytest.mark.parametrize(
    ("fps", "rate"),
    [(25, Fraction(25)), (29.97, Fraction(30000, 1001)), (23.976, Fraction(24000, 1001)),
     (12.5, Fraction(25, 2)), (Fraction(7, 3), Fraction(7, 3))],
)  # fmt: skip
def test_frame_rates_are_exact_fractions(tmp_path: Path, fps, rate: Fraction) -> None:
    sink = open_sink(tmp_path / "a.npz", fps=fps)
    assert sink.fps == rate
    sink.abort()


def test_check_output_path_directly(tmp_path: Path) -> None:
    from bgmix.io import check_output_path

    (tmp_path / "in.avi").write_bytes(b"x")
    assert (
        check_output_path(tmp_path / "out.mp4", protect=tmp_path / "in.avi") == tmp_path / "out.mp4"
    )
    with pytest.raises(OutputError, match="is the input"):
        check_output_path(tmp_path / "in.avi", protect=str(tmp_path / "in.avi"))
    with pytest.raises(OutputError, match=r"exists.*overwrite"):
        check_output_path(tmp_path / "in.avi", overwrite=False)


@pytest.mark.parametrize("suffix", [".mov", ".mkv"])
def test_lossless_video_timestamps_follow_frame_numbers(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"m{suffix}"
    numbers = [3, 5, 7, 9]
    with open_sink(target, fps=25) as sink:
        for n, m in zip(numbers, MASKS, strict=False):
            sink.write(m, number=n)
    with av.open(str(target)) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    assert times == pytest.approx([n / 25 for n in numbers])
    with open_source(target) as src:
        np.testing.assert_array_equal(np.stack(list(src)), MASKS[:4])


@pytest.mark.parametrize("suffix", [".mov", ".mkv"])
def test_lossless_video_refuses_decreasing_numbers(tmp_path: Path, suffix: str) -> None:
    with open_sink(tmp_path / f"m{suffix}") as sink:
        sink.write(MASKS[0], number=4)
        with pytest.raises(ParameterError, match="must increase"):
            sink.write(MASKS[1], number=4)
        sink.write(MASKS[1], number=5)
    with open_source(tmp_path / f"m{suffix}") as src:
        assert len(list(src)) == 2


def test_mov_holds_one_png_image_a_frame(tmp_path: Path) -> None:
    target = tmp_path / "m.mov"
    with open_sink(target, fps=25, compress_level=9) as sink:
        for m in MASKS:
            sink.write(m)
    with av.open(str(target)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "png"
        packets = [p for p in container.demux(stream) if p.size]
    assert len(packets) == len(MASKS) and all(p.is_keyframe for p in packets)
    assert bytes(packets[0])[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ParameterError, match="compress_level"):
        open_sink(tmp_path / "n.mov", compress_level=10)


def test_side_by_side_width_shrinks_panels_before_composing() -> None:
    from bgmix.io import side_by_side

    frame = np.repeat(CLIP[0], 10, axis=0).repeat(10, axis=1)  # 320x480
    mask = np.repeat(MASKS[0], 10, axis=0).repeat(10, axis=1)
    full = side_by_side(frame, mask, frame, captions=False)
    small = side_by_side(frame, mask, frame, captions=False, width=960)
    assert full.shape == (320, 4 * 480, 3)
    assert small.shape == (160, 960, 3)
    # the mask panel keeps exact labels (nearest neighbour)
    assert set(np.unique(small[:, 240:480, 0])) <= {0, 127, 255}
