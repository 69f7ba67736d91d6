"""Image folders and single still images as frame sources (Pillow)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from bgmix.exceptions import EmptySourceError, FrameFormatError, InputError, SourceOpenError
from bgmix.io._images import list_numbered_images, read_image
from bgmix.io._source import FrameSource, _Options

__all__ = ["ImageFileSource", "ImageFolderSource", "image_to_uint8"]


def image_to_uint8(arr: np.ndarray, label: str) -> np.ndarray:
    """An image array as read by :func:`read_image` (``mode=None``) -> uint8 frame.

    16-bit images are scaled to 8 bits (``round(v / 257)``), bilevel images become
    0/255, float images must lie in [0, 1] or [0, 255].

    Raises
    ------
    FrameFormatError
        Values that do not fit any 8-bit interpretation, or an unexpected layout.
    """
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] != 3):
        raise FrameFormatError(f"{label}: unexpected image shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(arr.dtype, np.integer):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 65535:
            raise FrameFormatError(
                f"{label}: {arr.dtype} values in [{lo}, {hi}] do not fit 8 or 16 bits"
            )
        if arr.dtype != np.uint16 and hi <= 255:
            return arr.astype(np.uint8)
        return ((arr.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise FrameFormatError(f"{label}: float image holds NaN or infinite values")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 255:
            raise FrameFormatError(
                f"{label}: float image values in [{lo:g}, {hi:g}]; expected [0, 1] or [0, 255]"
            )
        factor = 255.0 if hi <= 1.0 else 1.0
        return np.clip(np.rint(arr * factor), 0, 255).astype(np.uint8)
    raise FrameFormatError(f"{label}: image dtype {arr.dtype} is not supported")


class _ImageListSource(FrameSource):
    """Frames from a list of ``(number, path)`` image files, read one at a time."""

    def __init__(
        self, name: str, files: list[tuple[int, Path]], options: _Options, *, what: str
    ) -> None:
        super().__init__(name, options)
        self._what = what
        total = len(files)
        self._files = files[options.start : options.stop : options.stride]
        if not self._files:
            raise EmptySourceError(
                f"{what} {name!r}: start={options.start} selects none of its {total} images"
            )
        # Read the first readable selected image now: it fixes size and layout, and a
        # source whose every image is damaged fails here rather than mid-loop.
        self._first: tuple[int, np.ndarray] | None = None
        errors: list[str] = []
        for pos, (_, path) in enumerate(self._files):
            try:
                frame = self._read(path)
            except InputError as exc:
                errors.append(str(exc))
                if len(self._files) == 1:
                    raise SourceOpenError(str(exc)) from None
                self._corrupt(self._label(path), _reason(exc))
                continue
            self._first = (pos, frame)
            break
        if self._first is None:
            raise SourceOpenError(
                f"{what} {name!r}: none of its {len(self._files)} selected images can be read "
                f"(first error: {errors[0]})"
            )
        self._setup(self._first[1], fps=None, frame_count=total)

    def _label(self, path: Path) -> str:
        return f"image {path.name!r} of {self._what} {self._name!r}"

    def _read(self, path: Path) -> np.ndarray:
        return image_to_uint8(read_image(path, mode=None), self._label(path))

    def _raw(self) -> Iterator[tuple[int, np.ndarray, str]]:
        first, self._first = self._first, None
        start = 0
        if first is not None:
            pos, frame = first
            number, path = self._files[pos]
            yield number, frame, self._label(path)
            start = pos + 1
        for number, path in self._files[start:]:
            label = self._label(path)
            try:
                frame = self._read(path)
            except InputError as exc:
                self._corrupt(label, _reason(exc))
                continue
            yield number, frame, label

    def _release(self) -> None:
        self._first = None


class ImageFolderSource(_ImageListSource):
    """Every image of a folder, ordered by the last integer in the file name.

    ``numbered()`` yields the file's number (``in000123.png`` is frame 123). A damaged
    image follows the ``on_error`` policy; an image of another size raises
    :class:`~bgmix.exceptions.FrameSizeError` naming the file, unless ``size=`` is
    given, in which case every image is resized to that size.
    """

    kind = "folder"

    def __init__(self, folder: Path, options: _Options) -> None:
        files = list_numbered_images(folder)
        super().__init__(str(folder), files, options, what="image folder")


class ImageFileSource(_ImageListSource):
    """One still image as a one-frame source (frame number 0)."""

    kind = "image"

    def __init__(self, path: Path, options: _Options) -> None:
        super().__init__(str(path), [(0, Path(path))], options, what="image")

    def _label(self, path: Path) -> str:
        return f"image {str(path)!r}"


def _reason(exc: BaseException) -> str:
    text = str(exc)
    _, sep, tail = text.partition(": ")
    return tail if sep else text
