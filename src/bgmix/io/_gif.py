"""Animated GIFs as frame sources (Pillow, one frame decoded at a time)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bgmix.exceptions import EmptySourceError, SourceOpenError
from bgmix.io._source import FrameSource, _Options

__all__ = ["GifSource", "gif_delays", "scan_gif"]


def scan_gif(path: str | Path) -> tuple[list[int], bool]:
    """Read a GIF's blocks without decoding: per-frame delays and whether it is grey.

    Returns
    -------
    delays : list of int
        Delay of every frame in milliseconds (0 without a Graphic Control Extension).
        A truncated file yields the frames whose descriptor was reached.
    grey : bool
        True when every colour table of the file (global and local) holds only grey
        entries (R = G = B), so no frame can show colour.

    Raises
    ------
    SourceOpenError
        The file is not a GIF.
    """
    delays: list[int] = []
    grey = True
    tables = 0
    with open(path, "rb") as f:
        if f.read(6) not in (b"GIF87a", b"GIF89a"):
            raise SourceOpenError(f"GIF {str(path)!r} is not a GIF file (bad signature)")
        screen = f.read(7)
        if len(screen) < 7:
            raise SourceOpenError(f"GIF {str(path)!r} is truncated (no screen descriptor)")
        if screen[4] & 0x80:
            grey &= _grey_table(f.read(3 << ((screen[4] & 7) + 1)))
            tables += 1
        pending = 0
        while True:
            tag = f.read(1)
            if tag == b"!":
                label = f.read(1)
                if label == b"\xf9":  # Graphic Control Extension: delay in 1/100 s
                    size = f.read(1)
                    body = f.read(size[0]) if size else b""
                    if len(body) >= 3:
                        pending = int.from_bytes(body[1:3], "little") * 10
                _skip_sub_blocks(f)
            elif tag == b",":
                desc = f.read(9)
                if len(desc) < 9:
                    break
                if desc[8] & 0x80:
                    grey &= _grey_table(f.read(3 << ((desc[8] & 7) + 1)))
                    tables += 1
                f.read(1)  # LZW minimum code size
                delays.append(pending)
                pending = 0
                _skip_sub_blocks(f)
            else:  # b";" trailer, end of file, or garbage
                break
    return delays, grey and tables > 0


def gif_delays(path: str | Path) -> list[int]:
    """Per-frame delays of a GIF in milliseconds (see :func:`scan_gif`)."""
    return scan_gif(path)[0]


def _grey_table(table: bytes) -> bool:
    rgb = np.frombuffer(table[: len(table) - len(table) % 3], np.uint8).reshape(-1, 3)
    return bool((rgb[:, 0] == rgb[:, 1]).all() and (rgb[:, 1] == rgb[:, 2]).all())


def _skip_sub_blocks(f: Any) -> None:
    while True:
        n = f.read(1)
        if not n or n[0] == 0:
            return
        f.seek(n[0], 1)


class GifSource(FrameSource):
    """An animated (or still) GIF, composited frame by frame by Pillow.

    Frames are RGB, or grey when every colour table of the GIF is grey.
    ``fps`` is ``frame_count / total delay``, None when the GIF has no delays; the
    per-frame delays are in :attr:`delays_ms`. A damaged frame follows ``on_error``;
    as later frames are drawn on top of it, the rest of the GIF is then dropped.

    Attributes
    ----------
    delays_ms : list of int
        Delay of every frame of the file, in milliseconds.
    """

    kind = "gif"

    def __init__(self, path: Path, options: _Options) -> None:
        super().__init__(str(path), options)
        self._path = Path(path)
        self.delays_ms, grey = scan_gif(path)
        n = len(self.delays_ms)
        if n == 0:
            raise EmptySourceError(f"GIF {self._name!r} holds no frames")
        total = sum(self.delays_ms)
        fps = n * 1000.0 / total if total > 0 else None
        self._image = self._open_image()
        try:
            self._channels = 1 if (options.grey or grey or self._image.mode == "L") else 3
            first = self._first_selected(n)
        except BaseException:
            self._image.close()
            raise
        self._primed: tuple[int, np.ndarray] | None = first
        self._n = n
        self._setup(first[1], fps=fps, frame_count=n)

    def _open_image(self) -> Any:
        from PIL import Image, UnidentifiedImageError

        try:
            im = Image.open(self._path)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise SourceOpenError(f"GIF {self._name!r} cannot be opened: {exc}") from None
        if im.format != "GIF":
            im.close()
            raise SourceOpenError(f"GIF {self._name!r} is a {im.format} image, not a GIF")
        return im

    def _label(self, index: int) -> str:
        return f"frame {index} of GIF {self._name!r}"

    def _frames(self, im: Any, n: int, begin: int = 0) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, array | exception)`` for the selected frames from ``begin``."""
        opts = self._options
        mode = "L" if self._channels == 1 else "RGB"
        for index in range(begin, n):
            if opts.past_end(index):
                return
            try:
                im.seek(index)
                if not opts.wants(index):
                    continue
                yield index, np.asarray(im.convert(mode))
            except EOFError:
                return
            except (OSError, ValueError, SyntaxError) as exc:
                yield index, exc
                return

    def _first_selected(self, n: int) -> tuple[int, np.ndarray]:
        for index, item in self._frames(self._image, n):
            if isinstance(item, BaseException):
                raise SourceOpenError(
                    f"GIF {self._name!r}: {self._label(index)} cannot be decoded: {item}"
                )
            return index, item
        raise EmptySourceError(
            f"GIF {self._name!r}: start={self._options.start} selects none of its {n} frames"
        )

    def _raw(self) -> Iterator[tuple[int, np.ndarray, str]]:
        with self._lock:
            primed, self._primed = self._primed, None
            im, self._image = self._image, None
        if im is None:
            im = self._open_image()
        try:
            begin = 0
            if primed is not None:
                index, frame = primed
                yield index, frame, self._label(index)
                begin = index + 1
            for index, item in self._frames(im, self._n, begin):
                if isinstance(item, BaseException):
                    self._corrupt(self._label(index), f"{item} (the rest of the GIF is dropped)")
                    return
                yield index, item, self._label(index)
        finally:
            im.close()

    def _release(self) -> None:
        im, self._image = self._image, None
        self._primed = None
        if im is not None:
            im.close()
