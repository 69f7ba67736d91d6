"""Video files as frame sources, decoded with PyAV (FFmpeg).

A ``start`` far into a video seeks: the demuxer jumps to the key frame at or before
it and decodes forward from there, and frames are numbered from their presentation
time stamps, so a source opened at ``start=N`` yields the same frames with the same
numbers as sequential decoding would (checked on H.264 MP4, MPEG-4 AVI and Matroska).
Where that numbering cannot be trusted (no frame rate, missing or irregular time
stamps, a key frame that cannot be reached) the file is decoded sequentially from its
first frame instead. ``stride`` and a short ``start`` decode the frames they skip but
do not convert them. RGB frames come from FFmpeg's swscale (single-threaded, which
measured faster than its slice threads), using the stream's own colour space and range
(BT.601, BT.709, full range...): 1.2 CPU ms per 1080p frame and 0.24 per 480p one,
against 7 and 1.1 for the H.264 decoding itself. OpenCV's I420 conversion, which knows
only BT.601 limited range, costs as much at 1080p once the planes are packed for it,
so swscale is kept. The decoder uses FFmpeg's own thread choice (``AUTO``). One
decoder thread costs 15-21 % less CPU in a loop that only decodes and converts (0.99
against 1.25 ms a 480p frame, 5.8 against 6.8 at 1080p, 2 cores), but frame threads
decode while the caller works (0.83 against 0.99 ms of wall time at 480p), and in
``bgmix subtract``, whose decoding has a thread of its own, one thread made no
measurable difference at 480p, 720p or 1080p (shuffled A/B runs). Grey frames of
BT.601 YUV streams are the decoder's luma plane expanded to full range (a 256-entry
lookup, no colour conversion at all); other streams go through RGB.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from bgmix.exceptions import EmptySourceError, SourceOpenError
from bgmix.io._source import FrameSource, _Options

__all__ = ["VIDEO_SUFFIXES", "VideoFileSource", "frame_to_array"]

logger = logging.getLogger(__name__)

#: File suffixes opened as video files (compared case-insensitively).
VIDEO_SUFFIXES: tuple[str, ...] = (
    ".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".m2v", ".ts",
    ".mts", ".m2ts", ".wmv", ".asf", ".flv", ".3gp", ".ogv", ".y4m", ".mjpeg", ".mjpg",
    ".h264", ".264", ".h265", ".hevc", ".vob", ".dv", ".mxf", ".nut", ".divx",
)  # fmt: skip

# Planar (or semi-planar) YUV formats whose first plane is the 8-bit luma.
_YUV8 = frozenset(
    {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p",
     "yuvj440p", "yuv411p", "yuvj411p", "yuv410p", "nv12", "nv21", "nv16", "nv24"}
)  # fmt: skip
# AVColorSpace values that mean BT.601 (or unspecified, which FFmpeg also reads as 601).
_BT601 = frozenset({2, 5, 6})
_AVCOL_RANGE_JPEG = 2

#: ``start`` from which a video is opened by seeking rather than decoded from frame 0
#: (below it, decoding the skipped frames costs less than a seek to a key frame).
SEEK_MIN_START = 48
# A frame's time stamp, converted to frames, must lie this close to an integer.
_PTS_TOLERANCE = Fraction(1, 4)

# (Y - 16) * 255 / 219: limited-range luma to full-range grey.
_LIMITED_TO_FULL = np.clip(np.rint((np.arange(256) - 16) * (255.0 / 219.0)), 0, 255).astype(
    np.uint8
)


def _is_grey_format(name: str) -> bool:
    return name.startswith(("gray", "ya")) or name in ("monow", "monob")


def _plane(frame: Any, i: int, height: int, width: int) -> np.ndarray:
    plane = frame.planes[i]
    ls = plane.line_size
    return np.frombuffer(plane, np.uint8, count=height * ls).reshape(height, ls)[:, :width]


def frame_to_array(frame: Any, channels: int) -> np.ndarray:
    """A decoded PyAV ``VideoFrame`` -> uint8 ``(H, W, 3)`` RGB or ``(H, W)`` grey.

    Parameters
    ----------
    frame : av.VideoFrame
    channels : {1, 3}

    Returns
    -------
    ndarray
        A new array (never a view into the decoder's own buffers).
    """
    import cv2

    fmt = frame.format.name
    h, w = frame.height, frame.width
    full_range = fmt.startswith("yuvj") or frame.color_range == _AVCOL_RANGE_JPEG
    bt601 = frame.colorspace in _BT601
    if channels == 1:
        # The luma plane is the BT.601 grey of the RGB frame only for BT.601 streams;
        # other streams go through RGB so that grey means the same for every source.
        if fmt in _YUV8 and bt601:
            y = _plane(frame, 0, h, w)
            return np.ascontiguousarray(y) if full_range else cv2.LUT(y, _LIMITED_TO_FULL)
        if fmt == "gray":
            return np.ascontiguousarray(_plane(frame, 0, h, w))
        if _is_grey_format(fmt):
            return np.array(frame.to_ndarray(format="gray", threads=1))
        rgb = frame.to_ndarray(format="rgb24", threads=1)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if fmt == "rgb24":  # no conversion: copy out of the decoder's frame
        return np.array(frame.to_ndarray())
    if _is_grey_format(fmt):
        grey = frame.to_ndarray(format="gray", threads=1)
        return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    # swscale into a new frame, honouring the stream's colour space and range. One
    # thread: swscale's own slice threads cost more than they save at these sizes.
    return frame.to_ndarray(format="rgb24", threads=1)


@dataclass(frozen=True)
class _Failure:
    """A packet that could not be decoded, in place of its frame."""

    reason: str
    fatal: bool = False  # the demuxer failed: nothing after it can be read


class VideoFileSource(FrameSource):
    """A video file decoded with PyAV.

    ``fps`` is the stream's average frame rate (else FFmpeg's guessed rate) as a
    float; ``frame_count`` is the number of frames the container announces, or None
    when it does not say (Matroska/WebM, raw streams). A corrupt packet follows the
    ``on_error`` policy; a stream that ends more than 2 frames (and 1%) short of the
    announced count logs a warning (a truncated file, or a header that is wrong: that
    is not treated as an error, since the frames that were there are all delivered).
    """

    kind = "video"

    def __init__(self, path: Path, options: _Options) -> None:
        super().__init__(str(path), options)
        self._path = Path(path)
        container, stream = self._open()
        try:
            frames_declared = _announced_frames(container, stream)
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate else None
            container, frames = self._frames(container, stream, frames_declared)
            index, first = self._first_selected(frames)
            self._channels = 1 if options.grey or _is_grey_format(first.format.name) else 3
            array = frame_to_array(first, self._channels)
        except BaseException:
            container.close()
            raise
        self._primed: tuple[Any, Iterator[tuple[int, Any]], int, np.ndarray] | None = (
            container,
            frames,
            index,
            array,
        )
        self._setup(array, fps=fps, frame_count=frames_declared)

    # ---- opening and decoding ----------------------------------------------------------
    def _open(self) -> tuple[Any, Any]:
        import av

        name = self._name
        try:
            container = av.open(name, mode="r", metadata_errors="ignore")
        except av.EOFError:
            raise EmptySourceError(
                f"video {name!r} holds no frames (the file ends before its first frame: "
                "empty or truncated)"
            ) from None
        except (av.FFmpegError, OSError, UnicodeDecodeError, ValueError) as exc:
            raise SourceOpenError(f"video {name!r} cannot be opened: {_why(exc)}") from None
        streams = container.streams
        if len(streams) == 0:
            container.close()
            raise EmptySourceError(f"video {name!r} holds no frames (the container has no stream)")
        if not streams.video:
            kinds = ", ".join(sorted({s.type for s in streams})) or "none"
            container.close()
            raise SourceOpenError(f"video {name!r} has no video stream (streams found: {kinds})")
        stream = streams.video[0]
        if stream.codec_context is None:
            container.close()
            raise SourceOpenError(
                f"video {name!r}: its video stream cannot be decoded (unknown codec or "
                "missing codec parameters; is the file truncated?)"
            )
        stream.thread_type = "AUTO"
        return container, stream

    def _decode(
        self,
        container: Any,
        stream: Any,
        declared: int | None,
        index_of: Callable[[Any], int | None] | None = None,
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, av.VideoFrame or _Failure)`` for every frame of the stream
        from where the demuxer stands; ``index_of(frame)`` numbers the frames after a
        seek (None: one more than the previous frame)."""
        import av

        index = 0
        demux = container.demux(stream)
        while True:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except (av.FFmpegError, OSError) as exc:
                yield index, _Failure(f"the file cannot be read further: {_why(exc)}", True)
                return
            try:
                decoded = packet.decode()
            except (av.FFmpegError, OSError) as exc:
                yield index, _Failure(_why(exc))
                index += 1
                continue
            for frame in decoded:
                if index_of is not None:
                    index = _or(index_of(frame), index)
                yield index, frame
                index += 1
        if declared is not None and declared - index > max(2, declared // 100):
            logger.warning(
                "video %r ended after %d frames, but its container announces %d "
                "(truncated file or inexact header)",
                self._name,
                index,
                declared,
            )

    def _frames(
        self, container: Any, stream: Any, declared: int | None
    ) -> tuple[Any, Iterator[tuple[int, Any]]]:
        """The frames from the first selected one: by seeking when ``start`` is far
        into the file and the time stamps number frames exactly, else sequentially
        (on a freshly opened container)."""
        import av

        start = self._options.start
        if start >= SEEK_MIN_START:
            try:
                frames = self._seek(container, stream, start, declared)
            except (av.FFmpegError, OSError, ValueError) as exc:  # decode sequentially
                logger.debug("%s: seeking failed (%s)", self._name, exc)
                frames = None
            if frames is not None:
                return container, frames
            logger.debug("%s: cannot seek exactly to frame %d; decoding from 0", self._name, start)
            container.close()
            container, stream = self._open()
        return container, self._decode(container, stream, declared)

    def _seek(
        self, container: Any, stream: Any, start: int, declared: int | None
    ) -> Iterator[tuple[int, Any]] | None:
        """Seek to the key frame at or before frame ``start``; None when that cannot be
        done exactly.

        Frame ``i`` is the frame presented ``i / fps`` after the first one:
        ``i = (pts - pts_0) * time_base * fps``, which must be an integer (to within
        1/4 frame) for every frame decoded up to ``start``, without gaps after the key
        frame. A key frame found past ``start`` (the demuxer seeks by decoding time
        stamp) makes it seek again from further back. The stream's average frame rate
        must equal FFmpeg's guess of its base rate and, when the container announces a
        frame count, its duration must span that many frames; a variable frame rate
        that neither reveals (possible in Matroska, which announces no count) is not
        detected.
        """
        rate, base = stream.average_rate, stream.time_base
        if not rate or not base or rate != stream.guessed_rate:
            return None  # no rate, or a variable one: FFmpeg's two estimates differ
        frames_per_tick = Fraction(base) * Fraction(rate)
        if declared is not None and stream.duration:
            if abs(stream.duration * frames_per_tick - declared) > 1:
                return None  # the time stamps span more (or fewer) frames than there are
        pts0 = _first_pts(container, stream)
        if pts0 is None:
            return None

        def index_of(frame: Any) -> int | None:
            if frame.pts is None:
                return None
            x = (frame.pts - pts0) * frames_per_tick
            i = round(x)
            return i if abs(x - i) <= _PTS_TOLERANCE else None

        back = 0
        while start - back > 0:
            target = pts0 + int((start - back) / frames_per_tick)
            container.seek(target, backward=True, any_frame=False, stream=stream)
            frames = self._decode(container, stream, declared, index_of)
            found = _probe(frames, start, index_of)
            if found is None:
                frames.close()  # type: ignore[attr-defined]
                return None
            if found == "earlier":
                frames.close()  # type: ignore[attr-defined]
                back = max(2 * back, 16)
                continue
            return _resume(found, frames)
        return None

    def _label(self, index: int) -> str:
        return f"frame {index} of video {self._name!r}"

    def _first_selected(self, frames: Iterator[tuple[int, Any]]) -> tuple[int, Any]:
        opts = self._options
        decoded = 0
        first_error: str | None = None
        for index, item in frames:
            if isinstance(item, _Failure):
                first_error = first_error or item.reason
                if item.fatal or opts.wants(index):
                    self._corrupt(self._label(index), item.reason)
                continue
            decoded += 1
            if opts.past_end(index):
                break
            if opts.wants(index):
                return index, item
        if decoded == 0 and first_error is not None:
            raise SourceOpenError(
                f"video {self._name!r} has no decodable frame (first error: {first_error})"
            )
        if decoded == 0:
            raise EmptySourceError(f"video {self._name!r} holds no frames")
        raise EmptySourceError(
            f"video {self._name!r}: start={opts.start} selects none of its {decoded} frames"
        )

    # ---- the FrameSource hooks ----------------------------------------------------------
    def _raw(self) -> Iterator[tuple[int, np.ndarray, str]]:
        with self._lock:
            primed, self._primed = self._primed, None
        if primed is not None:
            container, frames, first_index, first = primed
        else:
            container, frames = self._frames(*self._open(), None)
            first_index, first = -1, None
        opts = self._options
        try:
            if first is not None:
                yield first_index, first, self._label(first_index)
            for index, item in frames:
                if index <= first_index:
                    continue
                if opts.past_end(index):
                    break
                if isinstance(item, _Failure):
                    if item.fatal or opts.wants(index):
                        self._corrupt(self._label(index), item.reason)
                    continue
                if not opts.wants(index):
                    continue
                yield index, frame_to_array(item, self._channels), self._label(index)
        finally:
            frames.close()  # type: ignore[attr-defined]
            container.close()

    def _release(self) -> None:
        primed, self._primed = self._primed, None
        if primed is not None:
            primed[1].close()  # type: ignore[attr-defined]
            primed[0].close()


def _first_pts(container: Any, stream: Any) -> int | None:
    """Presentation time stamp of the stream's first frame (None: not known)."""
    for packet in container.demux(stream):
        for frame in packet.decode():
            return None if frame.pts is None else int(frame.pts)
    return None


def _probe(
    frames: Iterator[tuple[int, Any]], start: int, index_of: Callable[[Any], int | None]
) -> tuple[int, Any] | str | None:
    """Decode after a seek up to frame ``start``: the ``(start, frame)`` pair when the
    frames from a key frame at or before ``start`` are numbered exactly and without a
    gap, ``"earlier"`` when the seek landed past ``start``, None when the numbering
    cannot be trusted."""
    key: int | None = None
    previous: int | None = None
    for index, item in frames:
        if isinstance(item, _Failure) or index_of(item) is None:
            return None
        if key is None:
            if item.key_frame:
                if index > start:
                    return "earlier"
                key = previous = index
                if index == start:
                    return index, item
            elif index >= start:
                return "earlier"
            continue
        if index != previous + 1:
            return None
        previous = index
        if index == start:
            return index, item
    return None  # the stream ends before ``start``


def _resume(first: tuple[int, Any], rest: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    try:
        yield first
        yield from rest
    finally:
        rest.close()  # type: ignore[attr-defined]


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


def _announced_frames(container: Any, stream: Any) -> int | None:
    """The number of frames the container announces, None when it does not say.

    AVI headers are sometimes wrong (OpenCV's ``tree.avi`` claims 444 frames and holds
    68), so for AVI the count of non-empty packets in its index is used when smaller.
    """
    declared = int(stream.frames or 0) or None
    if declared is not None and container.format.name == "avi":
        try:
            indexed = sum(1 for entry in stream.index_entries if entry.size > 0)
        except (AttributeError, TypeError):  # an older PyAV without index_entries
            indexed = 0
        if 0 < indexed < declared:
            declared = indexed
    return declared


def _why(exc: BaseException) -> str:
    """FFmpeg's reason without the errno prefix and the repeated file name."""
    import av

    if isinstance(exc, av.FFmpegError) and exc.strerror:
        return str(exc.strerror)
    return str(exc) or type(exc).__name__
