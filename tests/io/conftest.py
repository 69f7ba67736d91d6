"""Helpers for the frame I/O tests: tiny clips written with PyAV, Pillow or NumPy."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest


def smooth_clip(n: int = 8, height: int = 32, width: int = 48, *, grey: bool = False) -> np.ndarray:
    """Smooth colour gradients with a bright square moving right: codec-friendly content.

    Returns ``(T, H, W, 3)`` (or ``(T, H, W)`` when ``grey``) uint8.
    """
    y, x = np.mgrid[0:height, 0:width]
    frames = np.empty((n, height, width, 3), np.uint8)
    for t in range(n):
        frames[t, ..., 0] = 40 + (150 * x / max(1, width - 1)).astype(np.uint8)
        frames[t, ..., 1] = 60 + (120 * y / max(1, height - 1)).astype(np.uint8)
        frames[t, ..., 2] = 90 + 10 * t
        s = 2 * max(2, height // 8)
        x0 = 2 * ((2 * t) % max(1, (width - s) // 2))  # even: aligned with 4:2:0 chroma
        frames[t, 4 : 4 + s, x0 : x0 + s] = (230, 40, 40)
    if grey:
        return frames.mean(axis=3).astype(np.uint8)
    return frames


def write_video(
    path: Path,
    frames: np.ndarray,
    *,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    fps: float | Fraction = 25,
    fmt: str | None = None,
    options: dict[str, str] | None = None,
    stream_options: dict[str, str] | None = None,
) -> Path:
    """Encode ``frames`` (T, H, W, 3) RGB or (T, H, W) grey with PyAV, independently of
    bgmix's own sinks."""
    import av

    container = av.open(str(path), mode="w", format=fmt, options=options or {})
    rate = fps if isinstance(fps, Fraction) else Fraction(fps).limit_denominator(1001)
    stream = container.add_stream(codec, rate=rate)
    stream.height, stream.width = frames.shape[1:3]
    stream.pix_fmt = pix_fmt
    if stream_options:
        stream.options = stream_options
    if len(frames) == 0:
        container.start_encoding()  # a valid file with an empty video stream
    for f in frames:
        layout = "gray" if f.ndim == 2 else "rgb24"
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), layout)):
            container.mux(packet)
    for packet in stream.encode(None):
        container.mux(packet)
    container.close()
    return path


def write_images(folder: Path, frames: np.ndarray, pattern: str = "in{:06d}.png", first: int = 1):
    """One image per frame, written with Pillow; returns the folder."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(folder / pattern.format(i + first))
    return folder


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server over ``tmp_path/www``: yields (base URL, folder)."""
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
