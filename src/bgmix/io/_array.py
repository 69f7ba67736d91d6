"""NumPy arrays, ``.npy`` files and ``.npz`` archives as frame sources."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._validation import as_frame
from bgmix.exceptions import EmptySourceError, FrameFormatError, SourceOpenError
from bgmix.io._images import frame_number
from bgmix.io._source import FrameSource, _Options

__all__ = ["MANIFEST", "ArraySource", "NpzSource", "open_npy"]

#: Name of the manifest member that :class:`~bgmix.io.open_sink` writes into ``.npz``.
MANIFEST = "manifest.json"


class _Unreadable(Exception):
    """A lazily loaded frame cannot be read (corrupt archive member)."""


def _check_stack(frames: np.ndarray, name: str) -> None:
    if frames.ndim not in (3, 4):
        raise FrameFormatError(
            f"{name}: expected an array of shape (T, H, W) or (T, H, W, C), got {frames.shape}"
        )
    if frames.ndim == 4 and frames.shape[3] not in (1, 3):
        hint = " (drop the alpha channel: frames[..., :3])" if frames.shape[3] == 4 else ""
        raise FrameFormatError(
            f"{name}: expected 1 or 3 channels, got {frames.shape[3]} in shape {frames.shape}{hint}"
        )
    if frames.dtype == np.bool_:
        raise FrameFormatError(
            f"{name}: dtype bool is not an image; convert with frames.astype(np.uint8) * 255"
        )
    if frames.dtype != np.uint8 and not np.issubdtype(frames.dtype, np.floating):
        raise FrameFormatError(
            f"{name}: dtype {frames.dtype} is not supported; expected uint8, or float in [0, 1]"
        )
    if frames.shape[0] == 0:
        raise EmptySourceError(f"{name}: the array holds no frames (shape {frames.shape})")
    if frames.shape[1] == 0 or frames.shape[2] == 0:
        raise FrameFormatError(f"{name}: frames are empty, shape {frames.shape}")


def _to_uint8(frame: Any, label: str) -> np.ndarray:
    """Validate one frame with :func:`as_frame` and return a new uint8 array."""
    checked = as_frame(frame, name=label)
    if checked.dtype != np.uint8:
        checked = np.rint(checked).astype(np.uint8)
    else:  # a new base-class array, never a view of the caller's data or a memmap
        checked = np.array(checked, copy=True, subok=False)
    return checked[:, :, 0] if checked.shape[2] == 1 else checked


class ArraySource(FrameSource):
    """Frames from an array ``(T, H, W)`` / ``(T, H, W, C)`` or a sequence of frames.

    Frames are validated one at a time with the rules of
    :func:`bgmix._validation.as_frame` (uint8, or float in [0, 1] without NaN) and
    copied one at a time, so a memory-mapped array is never read whole. ``(T, H, W)``
    and ``C = 1`` arrays are grey sources. An invalid frame always raises
    :class:`~bgmix.exceptions.FrameFormatError` (``on_error`` applies only to frames
    that cannot be read from a file).
    """

    kind = "array"

    def __init__(
        self,
        frames: np.ndarray | Sequence[Any],
        options: _Options,
        *,
        name: str = "array",
        fps: float | None = None,
        numbers: Sequence[int] | None = None,
    ) -> None:
        super().__init__(name, options)
        if isinstance(frames, np.ndarray):
            _check_stack(frames, name)
        elif len(frames) == 0:
            raise EmptySourceError(f"{name}: the sequence holds no frames")
        self._frames = frames
        self._numbers = list(numbers) if numbers is not None else None
        n = len(frames)
        self._positions = range(n)[options.start : options.stop : options.stride]
        if len(self._positions) == 0:
            raise EmptySourceError(f"{name}: start={options.start} selects none of its {n} frames")
        first = None
        for pos in self._positions:
            item = self._get(pos)
            if item is not None:
                first = item
                break
        if first is None:
            raise SourceOpenError(f"{name}: none of the selected frames can be read")
        self._setup(first, fps=fps, frame_count=n)

    def _number(self, pos: int) -> int:
        return self._numbers[pos] if self._numbers is not None else pos

    def _label(self, pos: int) -> str:
        return f"frame {self._number(pos)} of {self._name}"

    def _get(self, pos: int) -> np.ndarray | None:
        try:
            frame = self._frames[pos]
        except _Unreadable as exc:
            self._corrupt(self._label(pos), str(exc))
            return None
        return _to_uint8(frame, self._label(pos))

    def _raw(self) -> Iterator[tuple[int, np.ndarray, str]]:
        for pos in self._positions:
            frame = self._get(pos)
            if frame is not None:
                yield self._number(pos), frame, self._label(pos)

    def _release(self) -> None:
        frames, self._frames = self._frames, ()
        close = getattr(frames, "close", None)  # an .npz archive
        if close is not None:
            close()
        # A memory-mapped .npy is unmapped (and its file closed) when its last
        # reference, this one, goes: frames handed out are copies.


class _NpzFrames:
    """Lazy sequence over members of an ``.npz`` archive."""

    def __init__(self, npz: Any, names: list[str]) -> None:
        self._npz = npz
        self._names = names

    def __len__(self) -> int:
        return len(self._names)

    def __getitem__(self, pos: int) -> Any:
        try:
            return self._npz[self._names[pos]]
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
            raise _Unreadable(f"member {self._names[pos]!r}: {exc}") from None

    def close(self) -> None:
        self._npz.close()


class NpzSource(ArraySource):
    """An ``.npz`` archive: the frame archive :func:`~bgmix.io.open_sink` writes
    (one member per frame, ordered and numbered by its ``manifest.json``), an archive
    of one ``(T, H, W[, C])`` array, or an archive of frames named with a number
    (``frame_000012``), ordered by that number."""

    kind = "npz"

    def __init__(self, path: Path, options: _Options) -> None:
        name = str(path)
        try:
            npz = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise SourceOpenError(f"npz {name!r} cannot be opened: {exc}") from None
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise SourceOpenError(f"npz {name!r} is a .npy array file, not an .npz archive")
        try:
            frames, numbers, fps = _npz_layout(npz, name)
            super().__init__(frames, options, name=name, fps=fps, numbers=numbers)
        except BaseException:
            npz.close()
            raise


def _npz_layout(npz: Any, name: str) -> tuple[Any, list[int] | None, float | None]:
    members = npz.zip.namelist()
    if MANIFEST in members:
        try:
            manifest = json.loads(npz.zip.read(MANIFEST))
            names = [str(n) for n in manifest["names"]]
            numbers = [int(n) for n in manifest["numbers"]]
            fps = manifest.get("fps")
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise SourceOpenError(f"npz {name!r}: its {MANIFEST} is invalid: {exc}") from None
        if len(names) != len(numbers):
            raise SourceOpenError(f"npz {name!r}: its {MANIFEST} lists names and numbers apart")
        return _NpzFrames(npz, names), numbers, (float(fps) if fps else None)
    arrays = [f for f in npz.files if f"{f}.npy" in members]
    if not arrays:
        raise EmptySourceError(f"npz {name!r} holds no arrays")
    if len(arrays) == 1:
        try:
            stack = npz[arrays[0]]
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise SourceOpenError(f"npz {name!r}: array {arrays[0]!r}: {exc}") from None
        if stack.ndim in (3, 4) and not (stack.ndim == 3 and stack.shape[2] in (1, 3)):
            _check_stack(stack, f"npz {name!r} array {arrays[0]!r}")
            return stack, None, None
    numbered = [(frame_number(a), a) for a in arrays]
    unnumbered = [a for n, a in numbered if n is None]
    if unnumbered:
        raise SourceOpenError(
            f"npz {name!r}: member {unnumbered[0]!r} has no frame number in its name "
            "(expected one (T, H, W[, C]) array, or frames named like 'frame_000012')"
        )
    numbered.sort(key=lambda t: t[0])
    names = [a for _, a in numbered]
    return _NpzFrames(npz, names), [n for n, _ in numbered], None


def open_npy(path: Path, options: _Options) -> ArraySource:
    """A ``.npy`` file, memory-mapped, as an :class:`ArraySource`."""
    try:
        frames = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise SourceOpenError(f"npy {str(path)!r} cannot be opened: {exc}") from None
    return ArraySource(frames, options, name=str(path))
