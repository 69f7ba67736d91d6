"""Shared fixtures: where the real data is, and small deterministic scenes."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    """The shared real data: $BGMIX_DATA, else ../shared/data beside the checkout."""
    env = os.environ.get("BGMIX_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of the shared real data; skips the test with the reason when it is absent."""
    root = data_root()
    if not (root / "sequences").is_dir():
        pytest.skip(f"real data not found at {root} (set BGMIX_DATA to the shared data folder)")
    return root


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Python's own Ctrl-C handler (``KeyboardInterrupt``) for the test, then the one
    before. A process started in the background by a non-interactive shell
    (``make test &`` in a script) inherits SIGINT ignored, and Python then installs no
    handler of its own, so a test of what Ctrl-C does must set it."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def moving_square(
    n_frames: int = 12, height: int = 24, width: int = 32, *, channels: int = 3, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A noisy static background with a bright square moving left to right.

    Returns frames ``(T, H, W[, C])`` uint8 and ground truth ``(T, H, W)`` bool.
    """
    rng = np.random.default_rng(seed)
    shape = (height, width) if channels == 1 else (height, width, channels)
    background = rng.integers(40, 90, size=shape).astype(np.float32)
    frames = np.empty((n_frames, *shape), np.uint8)
    truth = np.zeros((n_frames, height, width), bool)
    side = max(3, height // 4)
    for t in range(n_frames):
        img = background + rng.normal(0, 2.0, size=shape)
        x0 = (t * 2) % max(1, width - side)
        y0 = height // 2 - side // 2
        img[y0 : y0 + side, x0 : x0 + side] = 220.0
        truth[t, y0 : y0 + side, x0 : x0 + side] = True
        frames[t] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return frames, truth


@pytest.fixture
def square_clip() -> tuple[np.ndarray, np.ndarray]:
    return moving_square()
