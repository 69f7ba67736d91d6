"""Cameras and network streams as frame sources, through OpenCV's ``VideoCapture``.

A camera is an integer index (``0`` is the first webcam) or a device path
(``/dev/video0``); a stream is a URL (``rtsp://``, ``http(s)://``, ``udp://``, ...) or
any string OpenCV's FFmpeg backend opens. Opening never hangs: on Linux a camera
index is checked against ``/dev/video<N>`` first, and URLs are opened with
``timeout`` seconds for connecting and for each read. OpenCV delivers BGR; frames
are converted to RGB here.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bgmix.exceptions import EmptySourceError, SourceOpenError
from bgmix.io._source import FrameSource, _Options

__all__ = ["CaptureSource", "is_stream_url"]

logger = logging.getLogger(__name__)

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


def is_stream_url(text: str) -> bool:
    """Whether ``text`` looks like a URL (``scheme://...``) rather than a path."""
    return bool(_URL.match(text)) and not text.lower().startswith("file://")


class CaptureSource(FrameSource):
    """Frames from a camera or a network stream, read once, in real time.

    ``fps`` is what the device or stream reports (None when it reports nothing);
    ``frame_count`` is None for live sources. ``start`` frames are read and dropped;
    the stream ends when the capture stops delivering frames (camera unplugged,
    stream closed, read timeout). A capture can be iterated only once.
    """

    kind = "camera"
    restartable = False

    def __init__(self, target: int | str, options: _Options, *, timeout: float = 10.0) -> None:
        name = f"camera {target}" if isinstance(target, int) else str(target)
        super().__init__(name, options)
        self._cap: Any = _open_capture(target, name, timeout)
        try:
            import cv2

            fps = self._cap.get(cv2.CAP_PROP_FPS)
            count = self._cap.get(cv2.CAP_PROP_FRAME_COUNT)
            live = isinstance(target, int)
            frame_count = int(count) if count and count > 0 and not live else None
            fps = fps if fps and 0 < fps < 1000 else None
            self._index = 0
            self._channels = 1 if options.grey else 3
            first = None
            while first is None:
                ok, bgr = self._cap.read()
                if not ok or bgr is None:
                    if self._index == 0:
                        raise SourceOpenError(
                            f"{name} opened but delivered no frame within {timeout:g} s"
                        )
                    raise EmptySourceError(
                        f"{name}: the stream ended after {self._index} frames, before "
                        f"start={options.start}"
                    )
                if options.wants(self._index):
                    first = (self._index, self._convert(bgr))
                self._index += 1
        except BaseException:
            self._cap.release()
            raise
        self._first: tuple[int, np.ndarray] | None = first
        self._setup(first[1], fps=fps, frame_count=frame_count)

    def _convert(self, bgr: np.ndarray) -> np.ndarray:
        import cv2

        if bgr.ndim == 2:
            return bgr if self._channels == 1 else cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
        if bgr.shape[2] == 4:
            code = cv2.COLOR_BGRA2GRAY if self._channels == 1 else cv2.COLOR_BGRA2RGB
        else:
            code = cv2.COLOR_BGR2GRAY if self._channels == 1 else cv2.COLOR_BGR2RGB
        return cv2.cvtColor(bgr, code)

    def _label(self, index: int) -> str:
        return f"frame {index} of {self._name}"

    def _raw(self) -> Iterator[tuple[int, np.ndarray, str]]:
        with self._lock:
            first, self._first = self._first, None
            cap = self._cap
        if cap is None:
            return
        opts = self._options
        try:
            if first is not None:
                yield first[0], first[1], self._label(first[0])
            while not opts.past_end(self._index):
                ok, bgr = cap.read()
                index = self._index
                self._index += 1
                if not ok or bgr is None:
                    logger.info("%s: no more frames after %d", self._name, index)
                    return
                if opts.wants(index):
                    yield index, self._convert(bgr), self._label(index)
        finally:
            with self._lock:
                self._cap = None
            cap.release()

    def _release(self) -> None:
        cap, self._cap = self._cap, None
        self._first = None
        if cap is not None:
            cap.release()


def _open_capture(target: int | str, name: str, timeout: float) -> Any:
    import cv2

    ms = max(1, round(timeout * 1000))
    if isinstance(target, int):
        device = Path(f"/dev/video{target}")
        if sys.platform.startswith("linux") and not device.exists():
            raise SourceOpenError(f"{name} cannot be opened: {device} does not exist")
        args: tuple[Any, ...] = (target,)
    elif is_stream_url(target):
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
        args = (target, cv2.CAP_FFMPEG, params)
    else:
        args = (target,)
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        cap = cv2.VideoCapture(*args)
    except cv2.error as exc:
        raise SourceOpenError(f"{name} cannot be opened: {exc}") from None
    finally:
        cv2.utils.logging.setLogLevel(previous)
    if not cap.isOpened():
        cap.release()
        what = "camera" if isinstance(target, int) else "stream"
        raise SourceOpenError(
            f"{name} cannot be opened (the {what} is unavailable, busy, unreachable within "
            f"{timeout:g} s, or not a format OpenCV reads)"
        )
    return cap
