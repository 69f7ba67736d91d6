"""Small inputs for the command-line tests: a video, a frame folder, a photo, a dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import moving_square
from tests.metrics._cdnet import square_sequence

N_FRAMES = 16


def frames_folder(path: Path, *, n_frames: int = N_FRAMES, bad_frame: int | None = None) -> Path:
    """Numbered PNG frames (48x36); ``bad_frame`` gets another size (fails midway)."""
    frames, _ = moving_square(n_frames=n_frames, height=36, width=48)
    path.mkdir(parents=True)
    for i, frame in enumerate(frames):
        if i == bad_frame:
            frame = frame[:20, :30]
        Image.fromarray(frame).save(path / f"in{i + 1:06d}.png")
    return path


def video(path: Path, *, n_frames: int = N_FRAMES, height: int = 36, width: int = 48) -> Path:
    """An H.264 MP4 (48x36 by default) of the moving square."""
    from bgmix.io import open_sink

    frames, _ = moving_square(n_frames=n_frames, height=height, width=width)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_sink(path, fps=10) as sink:
        for frame in frames:
            sink.write(frame)
    return path


def photo(path: Path, *, height: int = 36, width: int = 48) -> np.ndarray:
    """Save an image of three noisy colour bands (red, green, blue) to ``path`` and
    return it (as written: a .jpg reads back slightly different)."""
    rng = np.random.default_rng(0)
    img = np.zeros((height, width, 3), np.uint8)
    third = width // 3
    img[:, :third] = (210, 40, 30)
    img[:, third : 2 * third] = (40, 170, 60)
    img[:, 2 * third :] = (30, 50, 200)
    img = np.clip(img + rng.normal(0, 4, img.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(img).save(path)
    return img


def dataset(path: Path) -> Path:
    """A CDnet-layout dataset folder: two categories, one small sequence each."""
    square_sequence(path / "baseline" / "a", n_frames=8, seed=1)
    square_sequence(path / "shadow" / "b", n_frames=8, seed=2)
    return path
