"""Image-folder and NPZ sinks."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._validation import check_bool, check_int
from bgmix.exceptions import OutputError, ParameterError
from bgmix.io._array import MANIFEST
from bgmix.io._images import IMAGE_SUFFIXES
from bgmix.io._sink import FrameSink

__all__ = ["DEFAULT_PATTERN", "FolderSink", "NpzSink"]

#: CDnet result naming: ``bin000123.png`` for input frame 123.
DEFAULT_PATTERN = "bin{number:06d}.png"


def _check_pattern(pattern: Any) -> str:
    if not isinstance(pattern, str):
        raise ParameterError(f"pattern must be a str such as {DEFAULT_PATTERN!r}; got {pattern!r}")
    try:
        names = {pattern.format(number=n) for n in (0, 1, 12345)}
    except (KeyError, IndexError, ValueError) as exc:
        raise ParameterError(
            f"pattern {pattern!r} must be a format string with one {{number}} field "
            f"(e.g. {DEFAULT_PATTERN!r}): {exc}"
        ) from None
    if len(names) != 3:
        raise ParameterError(
            f"pattern {pattern!r} must contain the frame number, e.g. {{number:06d}}"
        )
    name = pattern.format(number=0)
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ParameterError(f"pattern {pattern!r} must give a file name, not a path")
    if Path(name).suffix.lower() not in IMAGE_SUFFIXES:
        raise ParameterError(
            f"pattern {pattern!r} must end with an image suffix ({', '.join(IMAGE_SUFFIXES)})"
        )
    return pattern


class _NumberedSink(FrameSink):
    """A sink that names each frame by its number."""

    def _start_numbers(self, first_number: int) -> None:
        self._next = first_number
        self._numbers: list[int] = []
        self._used: set[int] = set()

    def _take_number(self, number: int | None) -> int:
        n = self._next if number is None else number
        if n in self._used:
            raise OutputError(
                f"{str(self.path)!r}: frame number {n} was already written "
                "(each frame needs its own number)"
            )
        return n

    def _commit_number(self, n: int) -> None:
        self._used.add(n)
        self._numbers.append(n)
        self._next = n + 1


class FolderSink(_NumberedSink):
    """One image file per frame (PNG by default) in a folder created atomically."""

    kind = "folder"
    folder = True

    def _configure(
        self, *, pattern: str = DEFAULT_PATTERN, first_number: int = 0, compress_level: int = 1
    ) -> None:
        self._pattern = _check_pattern(pattern)
        self._compress = check_int("compress_level", compress_level, low=0, high=9)
        self._start_numbers(check_int("first_number", first_number, low=0))

    def _write(self, frame: np.ndarray, number: int | None) -> None:
        from PIL import Image

        from bgmix.io._png import grey_png

        n = self._take_number(number)
        target = self._tmp / self._pattern.format(number=n)
        suffix = target.suffix.lower()
        if suffix == ".png" and frame.ndim == 2:  # masks, coded as runs
            target.write_bytes(grey_png(frame, self._compress))
        elif suffix == ".png":
            Image.fromarray(frame).save(target, compress_level=self._compress)
        elif suffix in (".jpg", ".jpeg"):
            Image.fromarray(frame).save(target, quality=95)
        else:
            Image.fromarray(frame).save(target)
        self._commit_number(n)

    def _finish(self) -> None:
        pass

    def _discard(self) -> None:
        pass


class NpzSink(_NumberedSink):
    """An ``.npz`` archive with one member per frame, streamed, plus a manifest."""

    kind = "npz"

    def _configure(self, *, compress: bool = True) -> None:
        self._compress = check_bool("compress", compress)
        self._start_numbers(0)
        self._names: list[str] = []

    def _opened(self) -> None:
        self._zip = zipfile.ZipFile(
            self._tmp,
            "w",
            compression=zipfile.ZIP_DEFLATED if self._compress else zipfile.ZIP_STORED,
            compresslevel=1 if self._compress else None,
            allowZip64=True,
        )

    def _write(self, frame: np.ndarray, number: int | None) -> None:
        n = self._take_number(number)
        name = f"frame_{n:06d}"
        with self._zip.open(f"{name}.npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array(fh, np.ascontiguousarray(frame), allow_pickle=False)
        self._names.append(name)
        self._commit_number(n)

    def _finish(self) -> None:
        h, w = self._shape[:2] if self._shape else (0, 0)
        manifest = {
            "format": "bgmix-frames",
            "version": 1,
            "fps": float(self.fps),
            "frame_count": len(self._names),
            "width": w,
            "height": h,
            "channels": 1 if self._shape is None or len(self._shape) == 2 else 3,
            "names": self._names,
            "numbers": self._numbers,
        }
        self._zip.writestr(MANIFEST, json.dumps(manifest))
        self._zip.close()

    def _discard(self) -> None:
        self._zip.close()
