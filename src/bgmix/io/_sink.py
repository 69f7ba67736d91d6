"""The frame-sink protocol: :class:`FrameSink`, :func:`open_sink` and input protection.

Every sink writes under a temporary name beside the target (``bgmix._atomic``) and
renames it into place on :meth:`FrameSink.close`; an exception inside the ``with``
block, :meth:`FrameSink.abort` or a sink that is garbage-collected unclosed leaves
nothing at the target.
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from bgmix._typing import Frame, StrPath
from bgmix._validation import as_frame, check_bool, check_int
from bgmix.exceptions import (
    BgmixError,
    FrameFormatError,
    FrameSizeError,
    OutputError,
    ParameterError,
)

__all__ = ["SINK_KINDS", "FrameSink", "check_output_path", "open_sink"]

logger = logging.getLogger(__name__)

#: Values of ``open_sink(kind=...)``.
SINK_KINDS = ("mp4", "mov", "mkv", "gif", "folder", "npz")

_SUFFIX_KIND = {
    ".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "mkv", ".gif": "gif", ".npz": "npz"
}  # fmt: skip


class _Aborted(Exception):
    """Thrown into the atomic-output context to discard the partial output."""


def check_output_path(
    path: StrPath,
    *,
    protect: Iterable[Any] | StrPath = (),
    overwrite: bool = True,
    folder: bool = False,
) -> Path:
    """Check that writing ``path`` would neither clobber nor alter an input.

    Parameters
    ----------
    path : path
        The output file or folder.
    protect : iterable of paths
        Inputs that must not be modified: the output may not be one of them, lie
        inside one of them (a file added to an input image folder), or, for a folder
        output, contain one of them (replacing the folder would delete it). Items
        that are not paths (camera indices, stream URLs, arrays) are ignored, so the
        command line can pass whatever it read from.
    overwrite : bool
        When False, an existing file or non-empty folder at ``path`` is an error.
    folder : bool
        Whether the output is a folder.

    Returns
    -------
    Path

    Raises
    ------
    OutputError
        With the reason.
    """
    target = Path(path)
    resolved = target.resolve()
    if isinstance(protect, str | os.PathLike):
        protect = [protect]
    for item in protect:
        if not isinstance(item, str | os.PathLike) or "://" in os.fspath(item):
            continue  # camera indices, stream URLs and arrays are not files
        p = Path(item)
        rp = p.resolve()
        same = resolved == rp
        if not same and target.exists() and p.exists():
            same = os.path.samefile(target, p)
        if same:
            raise OutputError(
                f"output {str(target)!r} is the input {str(p)!r}; refusing to overwrite an input"
            )
        if rp in resolved.parents:
            raise OutputError(
                f"output {str(target)!r} lies inside the input folder {str(p)!r}; "
                "refusing to write into an input"
            )
        if folder and resolved in rp.parents:
            raise OutputError(
                f"output folder {str(target)!r} contains the input {str(p)!r}; replacing it "
                "would delete the input"
            )
    from bgmix._atomic import check_overwrite

    return check_overwrite(target, overwrite=overwrite)


def as_rate(fps: Any) -> Fraction:
    """A positive frame rate as a Fraction; 29.97, 23.976, 59.94 become N*1000/1001.

    Raises
    ------
    ParameterError
        Not a finite number in (0, 1000].
    """
    if isinstance(fps, Fraction):
        value = fps
    elif isinstance(fps, numbers.Real) and not isinstance(fps, bool) and math.isfinite(fps):
        value = Fraction(float(fps))
    else:
        raise ParameterError(f"fps must be a positive number; got {fps!r}")
    if not 0 < value <= 1000:
        raise ParameterError(f"fps must be in (0, 1000]; got {fps!r}")
    for base in (24, 30, 48, 60, 120):
        ntsc = Fraction(base * 1000, 1001)
        if abs(value - ntsc) < Fraction(1, 200):
            return ntsc
    return value.limit_denominator(1001)


def _as_uint8_frame(frame: Any, label: str) -> np.ndarray:
    if isinstance(frame, np.ndarray) and frame.dtype == np.bool_:
        frame = frame.astype(np.uint8) * np.uint8(255)
    checked = as_frame(frame, name=label)
    if checked.dtype != np.uint8:
        checked = np.rint(checked).astype(np.uint8)
    return checked[:, :, 0] if checked.shape[2] == 1 else checked


class FrameSink(ABC):
    """A writer of frames: context manager with :meth:`write` and :meth:`close`.

    Created by :func:`open_sink`. The first frame fixes the size and the layout
    (grey or RGB); a later frame of another size raises
    :class:`~bgmix.exceptions.FrameSizeError`, a grey frame in an RGB sink is
    replicated to RGB, an RGB frame in a grey sink raises
    :class:`~bgmix.exceptions.FrameFormatError`. Frames are uint8 or float in [0, 1]
    (``(H, W)``, ``(H, W, 1)`` or ``(H, W, 3)``); bool masks are written as 0/255.

    Attributes
    ----------
    path : Path
        The target.
    fps : Fraction
        Frame rate (used by video and GIF sinks, recorded by the NPZ sink).
    frames_written : int
        Frames written so far.
    """

    kind: ClassVar[str] = ""
    #: Whether the output is a folder (else a file).
    folder: ClassVar[bool] = False
    #: Extra keyword options the sink accepts: the arguments of its :meth:`_configure`.
    options: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        params = inspect.signature(cls._configure).parameters.values()
        cls.options = tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY)

    def __init__(
        self,
        path: StrPath,
        *,
        fps: Any = 25.0,
        overwrite: bool = True,
        protect: Iterable[StrPath] = (),
        **options: Any,
    ) -> None:
        from bgmix._atomic import atomic_directory, atomic_output

        self._closed = True  # until the temporary output exists
        self.fps = as_rate(fps)
        check_bool("overwrite", overwrite)
        self._configure(**options)  # the sink's own options, checked before anything exists
        self.path = check_output_path(
            path, protect=protect, overwrite=overwrite, folder=self.folder
        )
        self.frames_written = 0
        self._shape: tuple[int, ...] | None = None
        if self.folder:
            self._atomic = atomic_directory(self.path, overwrite=overwrite)
        else:
            self._atomic = atomic_output(self.path)
        self._tmp: Path = self._atomic.__enter__()
        self._closed = False
        self._opened()

    def write(self, frame: Frame, number: int | None = None) -> None:
        """Append one frame.

        Parameters
        ----------
        frame : (H, W), (H, W, 1) or (H, W, 3) ndarray
            uint8, bool (a mask: 0/255) or float in [0, 1].
        number : int, optional
            Frame number, used by the folder sink (file name), the NPZ sink
            (member name and manifest) and the lossless video sinks (time stamp:
            ``number / fps``); default: one more than the previous frame.
        """
        if self._closed:
            raise OutputError(f"sink {str(self.path)!r} is closed")
        label = f"frame {self.frames_written} written to {str(self.path)!r}"
        arr = _as_uint8_frame(frame, label)
        if number is not None:
            number = check_int("number", number, low=0)
        if self._shape is None:
            self._shape = arr.shape
        elif arr.shape[:2] != self._shape[:2]:
            h, w = self._shape[:2]
            raise FrameSizeError(
                f"{label}: size {arr.shape[1]}x{arr.shape[0]} differs from the first "
                f"frame's {w}x{h}"
            )
        elif arr.ndim != len(self._shape):
            if arr.ndim == 3:
                raise FrameFormatError(
                    f"{label}: an RGB frame cannot be added to a sink of grey frames "
                    "(the first frame fixed the layout)"
                )
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        try:
            self._write(arr, number)
        except BgmixError:
            raise
        except Exception as exc:
            self.abort()
            raise OutputError(f"cannot write {label}: {exc}") from exc
        self.frames_written += 1

    def close(self) -> None:
        """Finish the output and move it to :attr:`path`. Safe to call twice.

        Raises
        ------
        OutputError
            No frame was written (nothing is saved), or the output cannot be finished.
        """
        if self._closed:
            return
        if self.frames_written == 0:
            self.abort()
            raise OutputError(f"no frame was written to {str(self.path)!r}; nothing was saved")
        try:
            self._finish()
        except BaseException as exc:
            self._closed = True
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)
            if isinstance(exc, BgmixError | KeyboardInterrupt):
                raise
            raise OutputError(f"cannot finish {str(self.path)!r}: {exc}") from exc
        self._closed = True
        try:
            self._atomic.__exit__(None, None, None)
        except OSError as exc:
            raise OutputError(f"cannot move the output to {str(self.path)!r}: {exc}") from exc
        logger.debug("wrote %d frames to %s", self.frames_written, self.path)

    def abort(self) -> None:
        """Discard everything written so far; nothing is left at :attr:`path`."""
        if self._closed:
            return
        self._closed = True
        try:
            self._discard()
        except Exception:  # the partial output is deleted anyway
            logger.debug("error while discarding %s", self.path, exc_info=True)
        finally:
            exc = _Aborted()
            self._atomic.__exit__(_Aborted, exc, None)

    @property
    def closed(self) -> bool:
        """True once the sink was closed or aborted."""
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            logger.warning("sink %s was never closed; its partial output was discarded", self.path)
            try:
                self.abort()
            except Exception:  # pragma: no cover - never raise from a finalizer
                pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} {str(self.path)!r} {self.frames_written} frames, {state}>"

    # ---- for subclasses ------------------------------------------------------------------
    def _configure(self) -> None:  # noqa: B027 - optional hook
        """Validate and keep the sink's own keyword options (its signature lists them)."""

    def _opened(self) -> None:  # noqa: B027 - optional hook
        """Called once the temporary output ``self._tmp`` exists."""

    @abstractmethod
    def _write(self, frame: np.ndarray, number: int | None) -> None:
        """Write one validated uint8 ``(H, W)`` or ``(H, W, 3)`` frame."""

    @abstractmethod
    def _finish(self) -> None:
        """Flush and close the writer (the base class then renames the output)."""

    @abstractmethod
    def _discard(self) -> None:
        """Close the writer without finishing (the base class deletes the output)."""


def open_sink(
    path: StrPath,
    *,
    fps: float | Fraction = 25.0,
    kind: str | None = None,
    overwrite: bool = True,
    protect: Iterable[StrPath] | StrPath = (),
    **opts: Any,
) -> FrameSink:
    """Open a writer of frames: MP4 (H.264), lossless MOV or MKV, GIF, PNG folder or NPZ
    archive.

    Parameters
    ----------
    path : path
        The output. Its suffix chooses the kind: ``.mp4``/``.m4v`` (H.264 video),
        ``.mov`` (lossless video of PNG images: masks), ``.mkv`` (lossless FFV1
        video), ``.gif``, ``.npz``; a path without
        suffix (or an existing folder) is a folder of images.
    fps : float or Fraction, default 25
        Frame rate; NTSC rates (29.97, 23.976, 59.94) are stored exactly as N/1001.
    kind : {"mp4", "mov", "mkv", "gif", "folder", "npz"}, optional
        Override the choice from the suffix.
    overwrite : bool, default True
        Replace an existing output (only once the new one is complete); when False,
        an existing file or non-empty folder raises :class:`OutputError` at once.
    protect : path or iterable of paths
        Inputs the output must not overwrite, enter or contain (see
        :func:`check_output_path`); pass the paths you read frames from.
    **opts
        Options of the kind:

        * mp4: ``crf`` (int 0–51, default 18: visually lossless), ``preset``
          (x264 preset, default ``"veryfast"``: about 3x faster than ``"medium"``
          for slightly larger files), ``threads`` (x264 threads, default 0: x264
          chooses; 1 encodes in the writing thread, the least CPU per frame);
        * mov: ``compress_level`` (PNG zlib level 0–9, default 1: the fastest, at
          which grey images made of runs, masks, are coded as runs);
        * mkv: ``threads`` (FFV1 encoder threads, default 1);
        * gif: ``dither`` (bool, default False);
        * folder: ``pattern`` (default ``"bin{number:06d}.png"``, the CDnet result
          naming; the suffix chooses the image format), ``first_number`` (default 0),
          ``compress_level`` (PNG zlib level 0–9, default 1, as for mov);
        * npz: ``compress`` (bool, default True).

    Returns
    -------
    FrameSink
        Use it as a context manager: ``with open_sink("out.mp4", fps=30) as sink:
        sink.write(frame)``. The output appears at ``path`` only when the block ends
        without an exception.

    Notes
    -----
    * MP4: libx264, yuv420p, BT.601 limited range (tagged), ``+faststart`` (the index
      is at the front, so browsers start playing at once); it plays in Chromium,
      Firefox and Safari. 4:2:0 needs even sizes: an odd width or height is padded by
      repeating the last column or row (the video is then one pixel larger; nothing
      is cropped).
    * MOV and MKV: lossless (read back bit for bit by :func:`open_source`), grey or
      RGB as the first frame; frame numbers are time stamps (``number / fps``). MOV
      holds one PNG image a frame (2.5x faster to write than MKV's FFV1, 1-2x the
      size on masks: see :class:`bgmix.io._sink_video.MovSink`).
    * GIF: PyAV's GIF encoder, one 256-colour palette per frame (exact for grey
      frames, masks and any frame of at most 256 colours; others are quantised by
      Pillow's fast octree), loops forever; delays are in
      1/100 s, so rates above 50 fps are played slower by browsers. Frames are
      encoded one at a time: memory stays constant.
    * Folder: one image per frame named ``pattern.format(number=n)``.
    * NPZ: one ``frame_NNNNNN.npy`` member per frame streamed into the archive plus a
      ``manifest.json`` (names, numbers, fps, size); read it back with
      :func:`open_source`, or with ``numpy.load``.

    Raises
    ------
    ParameterError
        Unknown kind, suffix or option, or an option out of range.
    OutputError
        The parent folder does not exist, the output would overwrite or enter a
        protected input, or exists with ``overwrite=False``.
    """
    from bgmix.io._sink_files import FolderSink, NpzSink
    from bgmix.io._sink_video import GifSink, MkvSink, MovSink, Mp4Sink

    classes: dict[str, type[FrameSink]] = {
        "mp4": Mp4Sink,
        "mov": MovSink,
        "mkv": MkvSink,
        "gif": GifSink,
        "folder": FolderSink,
        "npz": NpzSink,
    }
    p = Path(path)
    if kind is None:
        suffix = p.suffix.lower()
        if p.is_dir() or not suffix:
            kind = "folder"
        elif suffix in _SUFFIX_KIND:
            kind = _SUFFIX_KIND[suffix]
        else:
            raise ParameterError(
                f"output {str(p)!r}: unknown output type {suffix!r}; expected .mp4, .mov, .mkv, "
                ".gif, .npz, or a folder (or pass kind=)"
            )
    elif kind not in classes:
        choices = ", ".join(map(repr, SINK_KINDS))
        raise ParameterError(f"kind must be one of {choices}; got {kind!r}")
    cls = classes[kind]
    unknown = sorted(set(opts) - set(cls.options))
    if unknown:
        allowed = ", ".join(cls.options) or "none"
        raise ParameterError(
            f"open_sink(kind={kind!r}) got unknown option(s) {', '.join(unknown)}; "
            f"its options are: {allowed}"
        )
    return cls(p, fps=fps, overwrite=overwrite, protect=protect, **opts)
