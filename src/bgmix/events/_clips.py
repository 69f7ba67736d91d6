"""Clips and thumbnails of events, cut from the input files.

A clip of a video file is a **stream copy** (the packets remuxed, no decoding) from
the key frame at or before the event's first frame, when that key frame is at most
``max_lead`` frames early; otherwise (sparse key frames, a clip that spans two files,
an image folder) the clip is **re-encoded** with libx264 from exactly its frames.
Thumbnails are the event's peak frame at full resolution with its box drawn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ClipResult", "Segment", "cut_clip", "read_frame", "segments", "thumbnail"]

log = logging.getLogger(__name__)

#: Longest side of a thumbnail, in pixels.
THUMB_SIDE = 640
_BOX_RGB = (255, 40, 40)


@dataclass(frozen=True)
class Segment:
    """Frames ``first..last`` (inclusive, local numbers) of one input."""

    path: Any
    kind: str
    first: int
    last: int
    offset: int = 0  # timeline number of local frame 0


@dataclass(frozen=True)
class ClipResult:
    """How a clip was made and which timeline frames it holds (inclusive)."""

    mode: str  # "copy" or "encode"
    first_frame: int
    last_frame: int


def segments(sources: list[dict[str, Any]], start: int, end: int) -> list[Segment]:
    """Split timeline frames ``start..end`` over the inputs that hold them."""
    out = []
    for s in sources:
        lo, hi = s["first_frame"], s["first_frame"] + s["frames"] - 1
        a, b = max(start, lo), min(end, hi)
        if a <= b:
            off = s.get("offset", 0)
            out.append(Segment(s["path"], s.get("kind", "video"), a - off, b - off, off))
    return out


class _Clock:
    """Frame number <-> stream timestamp for a constant-rate video stream."""

    def __init__(self, stream: Any) -> None:
        rate = stream.average_rate or stream.guessed_rate or 25
        self.tb = Fraction(stream.time_base)
        self.fps = Fraction(rate)
        self.t0 = int(stream.start_time or 0)

    def pts(self, frame: int) -> int:
        return self.t0 + round(frame / (self.fps * self.tb))

    def frame(self, pts: int) -> int:
        return round((pts - self.t0) * self.tb * self.fps)


def _open_video(path: Any) -> tuple[Any, Any, _Clock]:
    import av

    container = av.open(str(path), metadata_errors="ignore")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return container, stream, _Clock(stream)


def _decoded(path: Any, first: int, last: int) -> Iterator[tuple[int, Any]]:
    """``(frame_number, av.VideoFrame)`` for local frames ``first..last`` of a video."""
    container, stream, clock = _open_video(path)
    try:
        container.seek(clock.pts(first), stream=stream, backward=True, any_frame=False)
        started = False
        for packet in container.demux(stream):
            for frame in packet.decode():
                if frame.pts is None:
                    continue
                i = clock.frame(frame.pts)
                if not started and i > first:  # the seek overshot: start again from 0
                    container.seek(0, stream=stream, backward=True)
                    yield from _decoded_from_start(container, stream, clock, first, last)
                    return
                started = True
                if i > last:
                    return
                if i >= first:
                    yield i, frame
    finally:
        container.close()


def _decoded_from_start(
    container: Any, stream: Any, clock: _Clock, first: int, last: int
) -> Iterator[tuple[int, Any]]:
    for frame in container.decode(stream):
        i = clock.frame(frame.pts) if frame.pts is not None else -1
        if i > last:
            return
        if i >= first:
            yield i, frame


def read_frame(segment: Segment) -> np.ndarray | None:
    """The RGB frame ``segment.first`` of an input (None if it cannot be read)."""
    try:
        if segment.kind == "video":
            for _, frame in _decoded(segment.path, segment.first, segment.first):
                return frame.to_ndarray(format="rgb24")
            return None
        from bgmix.io import open_source

        with open_source(segment.path, start=segment.first, stop=segment.first + 1) as src:
            for frame in src:
                return frame if frame.ndim == 3 else np.repeat(frame[:, :, None], 3, axis=2)
    except Exception as exc:  # a thumbnail is never worth failing the run
        log.warning("cannot read frame %d of %s: %s", segment.first, segment.path, exc)
    return None


def thumbnail(
    frame: np.ndarray, bbox: list[int] | None, path: Path, *, side: int = THUMB_SIDE
) -> None:
    """Save ``frame`` (RGB) with ``bbox`` drawn, scaled to at most ``side`` pixels, as JPEG."""
    import cv2
    from PIL import Image

    img = np.ascontiguousarray(frame)
    h, w = img.shape[:2]
    f = min(1.0, side / max(h, w))
    if f < 1.0:
        img = cv2.resize(img, (round(w * f), round(h * f)), interpolation=cv2.INTER_AREA)
    if bbox is not None:
        x0, y0, x1, y1 = (round(v * f) for v in bbox)
        thick = max(2, round(max(img.shape[:2]) / 240))
        cv2.rectangle(img, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), _BOX_RGB, thick)
    Image.fromarray(img).save(path, format="JPEG", quality=88)


def cut_clip(
    segs: list[Segment],
    path: Path,
    *,
    mode: str = "auto",
    max_lead: int = 0,
    fps: float = 25.0,
) -> ClipResult:
    """Write the frames of ``segs`` as one H.264 MP4 at ``path``.

    Parameters
    ----------
    segs : list of Segment
        Local frame ranges, in timeline order.
    mode : {"auto", "copy", "encode"}
        ``auto``: copy when possible (one video segment, H.264 or another MP4-able
        codec, a key frame at most ``max_lead`` frames before the start), else encode.
    max_lead : int
        Largest number of frames a copied clip may start before the event.
    fps : float
        Frame rate of encoded clips of image sequences.
    """
    if mode in ("auto", "copy") and len(segs) == 1 and segs[0].kind == "video":
        done = _copy(segs[0], path, max_lead=max_lead if mode == "auto" else None)
        if done is not None:
            return ClipResult("copy", done[0] + segs[0].offset, done[1] + segs[0].offset)
    return _encode(segs, path, fps=fps)


def _copy(seg: Segment, path: Path, *, max_lead: int | None) -> tuple[int, int] | None:
    """Remux packets from the key frame at or before ``seg.first``; None when not possible."""
    import av

    container, stream, clock = _open_video(seg.path)
    out = None
    try:
        if stream.codec_context.name not in ("h264", "hevc", "mpeg4", "av1", "vp9"):
            return None
        container.seek(clock.pts(seg.first), stream=stream, backward=True, any_frame=False)
        end_pts = clock.pts(seg.last)
        base = None
        lo = hi = None
        for packet in container.demux(stream):
            if packet.dts is None or packet.pts is None:
                continue
            if base is None:
                if not packet.is_keyframe:
                    continue
                kf = clock.frame(packet.pts)
                if kf > seg.first or (max_lead is not None and seg.first - kf > max_lead):
                    return None
                base = packet.dts
                out = av.open(str(path), mode="w", format="mp4")
                ostream = out.add_stream_from_template(stream)
            if packet.dts > end_pts:
                break
            i = clock.frame(packet.pts)
            lo = i if lo is None else min(lo, i)
            hi = i if hi is None else max(hi, i)
            packet.pts -= base
            packet.dts -= base
            packet.stream = ostream
            out.mux(packet)
        if out is None or lo is None:
            return None
        out.close()
        out = None
        return lo, hi
    except (av.FFmpegError, OSError, ValueError) as exc:
        log.info("stream copy of %s failed (%s); re-encoding", seg.path, exc)
        return None
    finally:
        if out is not None:
            out.close()
            Path(path).unlink(missing_ok=True)
        container.close()


def _encode(segs: list[Segment], path: Path, *, fps: float) -> ClipResult:
    import av

    out = av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"})
    ostream = None
    rate = Fraction(25)
    n = 0
    try:
        for seg in segs:
            for frame in _frames_of(seg, fps):
                if ostream is None:
                    rate = Fraction(frame[1]).limit_denominator(1001)
                    ostream = out.add_stream("libx264", rate=rate)
                    ostream.width = frame[0].width - frame[0].width % 2
                    ostream.height = frame[0].height - frame[0].height % 2
                    ostream.pix_fmt = "yuv420p"
                    ostream.options = {"crf": "20", "preset": "veryfast"}
                vf = frame[0]
                if vf.format.name != "yuv420p" or vf.width != ostream.width:
                    vf = vf.reformat(width=ostream.width, height=ostream.height, format="yuv420p")
                vf.pts = n
                vf.time_base = 1 / rate
                n += 1
                for packet in ostream.encode(vf):
                    out.mux(packet)
        if ostream is not None:
            for packet in ostream.encode(None):
                out.mux(packet)
    finally:
        out.close()
    first = segs[0].first + segs[0].offset
    return ClipResult("encode", first, first + n - 1)


def _frames_of(seg: Segment, fps: float) -> Iterator[tuple[Any, float]]:
    """``(av.VideoFrame, fps)`` for the frames of one segment."""
    import av

    if seg.kind == "video":
        container, _stream, clock = _open_video(seg.path)
        container.close()
        for _, frame in _decoded(seg.path, seg.first, seg.last):
            yield frame, float(clock.fps)
        return
    from bgmix.io import open_source

    with open_source(seg.path, start=seg.first, stop=seg.last + 1) as src:
        for frame in src:
            fmt = "rgb24" if frame.ndim == 3 else "gray"
            yield av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format=fmt), fps
