"""The frame-source protocol: :class:`VideoInfo`, :class:`FrameSource` and the shared
per-frame pipeline (colour layout, resizing, frame selection).

Every backend (image folder, video file, GIF, camera or stream, array) subclasses
:class:`FrameSource` and only implements :meth:`FrameSource._raw`, a generator of the
*selected* raw frames, and :meth:`FrameSource._release`. The base class turns raw
frames into the output layout, tracks the active iteration so that :meth:`close`
always releases the decoder, and runs the optional prefetch thread.
"""

from __future__ import annotations

import logging
import math
import numbers
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from bgmix._typing import ImageU8
from bgmix.exceptions import (
    CorruptFrameError,
    FrameSizeError,
    ParameterError,
    UnsupportedOperationError,
)

__all__ = ["FrameSource", "VideoInfo"]

logger = logging.getLogger(__name__)

#: Skipped frames logged at WARNING level before switching to DEBUG.
_LOUD_SKIPS = 10


@dataclass(frozen=True)
class VideoInfo:
    """What a frame source delivers, after resizing and frame selection.

    Attributes
    ----------
    width, height : int
        Size of the frames the source yields, in pixels.
    fps : float or None
        Frames per second (a float: 29.97 stays 29.97), None when the source has no
        frame rate (image folders, arrays, GIFs without delays).
    frame_count : int or None
        Number of frames the source will yield after ``start``/``stop``/``stride``,
        as announced by the container; None when unknown (live cameras, some
        containers). Frames skipped because they are corrupt are not subtracted.
    channels : int
        1 for ``(H, W)`` grey frames, 3 for ``(H, W, 3)`` RGB frames.
    source : str
        The source as text (path, URL, ``"camera 0"``, ``"array"``).
    kind : str
        The backend: ``"folder"``, ``"image"``, ``"video"``, ``"gif"``, ``"camera"``,
        ``"array"`` or ``"npz"``.
    """

    width: int
    height: int
    fps: float | None
    frame_count: int | None
    channels: int
    source: str
    kind: str = "unknown"

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one frame: ``(H, W)`` or ``(H, W, 3)``."""
        if self.channels == 1:
            return (self.height, self.width)
        return (self.height, self.width, self.channels)

    @property
    def duration(self) -> float | None:
        """``frame_count / fps`` in seconds, None when either is unknown."""
        if self.fps is None or self.frame_count is None:
            return None
        return self.frame_count / self.fps


@dataclass(frozen=True)
class _Options:
    """Validated keyword options of :func:`bgmix.io.open_source`."""

    grey: bool = False
    size: tuple[int, int] | None = None
    scale: float | None = None
    start: int = 0
    stop: int | None = None
    stride: int = 1
    on_error: str = "skip"
    prefetch: int = 0

    @classmethod
    def validate(
        cls,
        *,
        grey: Any = False,
        size: Any = None,
        scale: Any = None,
        start: Any = 0,
        stop: Any = None,
        stride: Any = 1,
        on_error: Any = "skip",
        prefetch: Any = 0,
    ) -> _Options:
        from bgmix._validation import check_choice, check_int, check_real

        if not isinstance(grey, bool | np.bool_):
            raise ParameterError(f"grey must be True or False; got {grey!r}")
        if size is not None and scale is not None:
            raise ParameterError(
                f"give size or scale, not both; got size={size!r} and scale={scale!r}"
            )
        if size is not None:
            if (
                isinstance(size, str | bytes)
                or not hasattr(size, "__len__")
                or len(size) != 2
                or not all(
                    isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in size
                )
                or min(size) < 1
            ):
                raise ParameterError(
                    f"size must be (width, height) with two positive integers; got {size!r}"
                )
            size = (int(size[0]), int(size[1]))
        if scale is not None:
            scale = check_real("scale", scale, low=0.0, low_inclusive=False, high=64.0)
        start = check_int("start", start, low=0)
        if stop is not None:
            stop = check_int("stop", stop, low=0)
            if stop <= start:
                raise ParameterError(
                    f"stop must be greater than start; got start={start}, stop={stop}"
                )
        stride = check_int("stride", stride, low=1)
        check_choice("on_error", on_error, ("skip", "raise"))
        prefetch = check_int("prefetch", prefetch, low=0, high=4096)
        return cls(bool(grey), size, scale, start, stop, stride, on_error, prefetch)

    def selected(self, n: int | None) -> int | None:
        """How many of ``n`` source frames the selection keeps (None if ``n`` is)."""
        if n is None:
            return None
        end = n if self.stop is None else min(self.stop, n)
        return len(range(self.start, end, self.stride)) if end > self.start else 0

    def wants(self, index: int) -> bool:
        """Whether the frame at 0-based position ``index`` is selected."""
        return (
            index >= self.start
            and (self.stop is None or index < self.stop)
            and (index - self.start) % self.stride == 0
        )

    def past_end(self, index: int) -> bool:
        """Whether position ``index`` and every later one lie past ``stop``."""
        return self.stop is not None and index >= self.stop


class _Shaper:
    """Turns raw decoded frames into the source's output layout.

    Raw frames are uint8 ``(H, W)`` or ``(H, W, 3)``. The first one fixes the native
    size and colour layout; the output is grey when ``grey=True`` or when the native
    layout is grey, RGB otherwise.
    """

    def __init__(self, first: np.ndarray, options: _Options) -> None:
        self.native_hw = first.shape[:2]
        self.native_channels = 1 if first.ndim == 2 else 3
        self.channels = 1 if (options.grey or self.native_channels == 1) else 3
        h, w = self.native_hw
        if options.size is not None:
            self.out_wh = options.size
        elif options.scale is not None:
            self.out_wh = (max(1, round(w * options.scale)), max(1, round(h * options.scale)))
        else:
            self.out_wh = (w, h)
        self._fixed_size = options.size is not None

    def finish(self, frame: np.ndarray, label: str) -> ImageU8:
        import cv2

        h, w = frame.shape[:2]
        if (h, w) != self.native_hw and not self._fixed_size:
            nh, nw = self.native_hw
            raise FrameSizeError(
                f"{label}: size {w}x{h} differs from the first frame's {nw}x{nh} "
                "(pass size=(width, height) to resize every frame to one size)"
            )
        ow, oh = self.out_wh
        if self.channels == 1 and frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if (w, h) != (ow, oh):
            shrink = ow <= w and oh <= h
            frame = cv2.resize(
                frame, (ow, oh), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            )
        if self.channels == 3 and frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
        if not (frame.flags.c_contiguous and frame.flags.writeable):
            frame = np.array(frame, order="C")  # the caller owns a writable array
        return frame


class FrameSource(ABC):
    """A stream of video frames: iterable, context manager, with :attr:`info`.

    Created by :func:`bgmix.io.open_source`; every backend (image folder, video file,
    GIF, still image, camera or stream, array) implements this protocol.

    Frames are uint8 ``(H, W, 3)`` RGB, or ``(H, W)`` grey when ``grey=True`` or when
    the source itself is grey (an image folder of 'L' images, a grey video, a 3-D
    array): grey sources stay grey rather than gaining invented colour. The first
    frame fixes the layout; a later frame of the other layout is converted to it.

    Attributes
    ----------
    skipped : int
        Frames skipped so far because they could not be decoded (``on_error="skip"``).

    Notes
    -----
    * Iterating (``for frame in source``) or calling :meth:`numbered` starts from the
      first selected frame; starting a new iteration ends the previous one. File and
      array sources can be iterated again; cameras and streams only once.
    * :meth:`close` (or leaving the ``with`` block) releases the decoder or capture,
      also after an exception or an early ``break``; a closed source cannot be read.
    * With ``prefetch=N`` frames are decoded by a background thread into a queue of at
      most N frames, so decoding overlaps the consumer's work; an error in the thread
      is raised in the consumer.
    """

    #: Backend name, copied to :attr:`VideoInfo.kind`.
    kind: ClassVar[str] = "unknown"
    #: Whether a second iteration can start over (False for live streams).
    restartable: ClassVar[bool] = True

    def __init__(self, name: str, options: _Options) -> None:
        self._name = name
        self._options = options
        self.skipped = 0
        self._closed = False
        self._active: Iterator[tuple[int, ImageU8]] | None = None
        self._iterations = 0
        self._shaper: _Shaper | None = None
        self._info: VideoInfo | None = None
        self._lock = threading.RLock()

    # ---- the protocol -------------------------------------------------------------
    @property
    def info(self) -> VideoInfo:
        """:class:`VideoInfo` of the frames this source yields."""
        assert self._info is not None
        return self._info

    @property
    def name(self) -> str:
        """The source as text, used in messages."""
        return self._name

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def __iter__(self) -> Iterator[ImageU8]:
        """Yield every selected frame, uint8 ``(H, W, 3)`` or ``(H, W)``."""
        frames = self.numbered()
        try:
            for _, frame in frames:
                yield frame
        finally:
            frames.close()  # type: ignore[attr-defined]

    def numbered(self) -> Iterator[tuple[int, ImageU8]]:
        """Yield ``(frame_number, frame)`` pairs.

        The number is the file's number for image folders (``in000123.png`` is 123)
        and the 0-based position in the source otherwise (before ``stride``; a
        skipped corrupt frame keeps its number, so later numbers do not shift).

        Raises
        ------
        UnsupportedOperationError
            The source is closed, or it is a live stream that was already read.
        """
        if self._closed:
            raise UnsupportedOperationError(f"source {self._name!r} is closed")
        if self._iterations and not self.restartable:
            raise UnsupportedOperationError(
                f"source {self._name!r} is a live stream and can be read only once"
            )
        self._end_active()
        self._iterations += 1
        gen: Iterator[tuple[int, ImageU8]] = self._produce()
        if self._options.prefetch:
            from bgmix.io._prefetch import prefetched

            gen = prefetched(gen, self._options.prefetch, name=f"bgmix-prefetch {self._name}")
        self._active = gen
        return gen

    def close(self) -> None:
        """Release the decoder, file handles or capture device. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self._end_active()
        finally:
            with self._lock:
                self._release()
        if self.skipped:
            logger.warning("%s: %d corrupt frame(s) were skipped", self._name, self.skipped)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:  # pragma: no cover - never raise from a finalizer
            pass

    def __repr__(self) -> str:
        if self._info is None:
            return f"<{type(self).__name__} {self._name!r}>"
        i = self._info
        n = "?" if i.frame_count is None else i.frame_count
        fps = "?" if i.fps is None else f"{i.fps:g}"
        state = " closed" if self._closed else ""
        return (
            f"<{type(self).__name__} {self._name!r} {i.width}x{i.height}x{i.channels} "
            f"{n} frames @ {fps} fps{state}>"
        )

    # ---- for backends --------------------------------------------------------------
    @abstractmethod
    def _raw(self) -> Iterator[tuple[int, np.ndarray, str]]:
        """Yield ``(number, raw_frame, label)`` for the selected frames only.

        ``raw_frame`` is uint8 ``(H, W)`` or ``(H, W, 3)`` RGB; ``label`` names the
        frame in error messages. The generator releases whatever it opened in its
        ``finally`` clause.
        """

    @abstractmethod
    def _release(self) -> None:
        """Release resources held outside an iteration (called once, by close)."""

    def _setup(self, first: np.ndarray, *, fps: float | None, frame_count: int | None) -> None:
        """Fix the output layout from the first raw frame and publish :attr:`info`."""
        self._shaper = _Shaper(first, self._options)
        ow, oh = self._shaper.out_wh
        self._info = VideoInfo(
            width=int(ow),
            height=int(oh),
            fps=_clean_fps(fps),
            frame_count=self._options.selected(frame_count),
            channels=self._shaper.channels,
            source=self._name,
            kind=self.kind,
        )

    def _corrupt(self, label: str, reason: str) -> None:
        """A frame cannot be decoded: raise or log and count it, per ``on_error``."""
        message = f"{label} cannot be decoded: {reason}"
        if self._options.on_error == "raise":
            raise CorruptFrameError(message)
        self.skipped += 1
        if self.skipped < _LOUD_SKIPS:
            logger.warning("skipping %s", message)
        elif self.skipped == _LOUD_SKIPS:
            logger.warning("skipping %s (further skips are logged at DEBUG level)", message)
        else:
            logger.debug("skipping %s", message)

    # ---- internals -------------------------------------------------------------------
    def _produce(self) -> Iterator[tuple[int, ImageU8]]:
        shaper = self._shaper
        assert shaper is not None
        raw = self._raw()
        try:
            for number, frame, label in raw:
                yield number, shaper.finish(frame, label)
        finally:
            raw.close()  # type: ignore[attr-defined]

    def _end_active(self) -> None:
        active, self._active = self._active, None
        if active is None:
            return
        try:
            active.close()  # type: ignore[attr-defined]
        except ValueError:  # "generator already executing": closed from another thread
            logger.debug("%s: iteration still running in another thread", self._name)


def _clean_fps(fps: float | None) -> float | None:
    if fps is None:
        return None
    fps = float(fps)
    return fps if math.isfinite(fps) and fps > 0 else None
