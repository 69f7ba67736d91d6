"""Small composed scenes with known motion, and MP4 writing with chosen key frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np

H, W, FPS = 120, 160, 25
OBJ_ROWS = (50, 80)  # the crossing object's rows (y0 inclusive, y1 exclusive)
OBJ_W = 14


def background(seed: int = 0, pad: int = 0) -> np.ndarray:
    """A textured street-like background (blocks of grey-blue), (H + 2 pad, W + 2 pad, 3)."""
    rng = np.random.default_rng(seed)
    h, w = H + 2 * pad, W + 2 * pad
    blocks = rng.integers(50, 190, (h // 8 + 1, w // 8 + 1, 3))
    return blocks.repeat(8, 0).repeat(8, 1)[:h, :w].astype(np.float32)


def scene(
    n: int = 150,
    *,
    cross: tuple[int, int] | None = (60, 100),
    gain_from: int | None = None,
    gain: float = 0.6,
    shake: float = 0.0,
    noise: float = 3.0,
    salt: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """``(n, H, W, 3)`` uint8 frames: an object crossing left to right during ``cross``
    (frames ``[a, b)``), optionally a light switch at ``gain_from``, camera shake of
    up to ``shake`` pixels, Gaussian noise and salt-and-pepper."""
    rng = np.random.default_rng(seed + 1)
    pad = int(np.ceil(shake)) + 1
    bg = background(seed, pad)
    frames = np.empty((n, H, W, 3), np.uint8)
    for t in range(n):
        img = bg.copy()
        if cross is not None and cross[0] <= t < cross[1]:
            a, b = cross
            x = round((t - a) * (W + pad - OBJ_W) / (b - a - 1)) + pad
            img[OBJ_ROWS[0] + pad : OBJ_ROWS[1] + pad, x : x + OBJ_W] = (250, 245, 235)
        dx, dy = rng.uniform(-shake, shake, 2).round().astype(int) if shake else (0, 0)
        img = img[pad + dy : pad + dy + H, pad + dx : pad + dx + W]
        if gain_from is not None and t >= gain_from:
            img = img * gain
        img = img + rng.normal(0, noise, img.shape)
        if salt:
            hit = rng.random(img.shape[:2]) < salt
            img[hit] = rng.choice([0.0, 255.0], size=(int(hit.sum()), 1))
        frames[t] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return frames


def write_mp4(frames: np.ndarray, path: Path, *, fps: int = FPS, gop: int = 250,
              bframes: int = 0) -> Path:  # fmt: skip
    """An H.264 MP4 with a key frame every ``gop`` frames."""
    import av

    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=fps)
        st.width, st.height = frames.shape[2], frames.shape[1]
        st.pix_fmt = "yuv420p"
        st.options = {"crf": "18", "preset": "ultrafast", "g": str(gop), "bf": str(bframes),
                      "keyint_min": str(gop), "sc_threshold": "0"}  # fmt: skip
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in st.encode(None):
            out.mux(p)
    return path


def count_frames(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))
