"""Decode and encode speed of bgmix.io against OpenCV and plain PyAV.

Run: ``.venv/bin/python benchmarks/io_decode.py [--rounds 5] [--frames 300]``

Decoding (frames/s, whole file, frames delivered as uint8 RGB arrays):

* ``bgmix``            ``open_source(path)``
* ``bgmix grey``       ``open_source(path, grey=True)``
* ``bgmix prefetch``   ``open_source(path, prefetch=4)`` (decoding in a background thread)
* ``pyav swscale``     PyAV decode + ``frame.to_ndarray(format="rgb24")``
* ``opencv``           ``cv2.VideoCapture.read()`` + ``cv2.cvtColor(BGR2RGB)`` (the peer)

on a synthetic 640x480 H.264 MP4 written in a temporary folder, and on the shared
``videos/vtest.avi`` (768x576 MS-MPEG4) when the real data is present. Rounds are
interleaved (every reader once per round) and the median is reported, with the
ratio to OpenCV. Encoding: frames/s of ``open_sink`` for each kind at 640x480.

Prints a table and writes ``benchmarks/results/io_decode.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bgmix.io import open_sink, open_source

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _peers import data_root, machine  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "io_decode.json"


def synthetic_frames(n: int, width: int = 640, height: int = 480, seed: int = 0) -> np.ndarray:
    """Textured background with moving blobs and sensor noise (hard enough for x264)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack(
        [
            110 + 60 * np.sin(x / 37.0) * np.cos(y / 23.0),
            120 + 50 * np.sin((x + y) / 51.0),
            100 + 40 * np.cos(x / 19.0),
        ],
        axis=2,
    )
    frames = np.empty((n, height, width, 3), np.uint8)
    for t in range(n):
        img = base + rng.normal(0, 3, base.shape).astype(np.float32)
        for k in range(3):
            cx = (40 + 7 * t + 150 * k) % width
            cy = 100 + 120 * k
            img[max(0, cy - 30) : cy + 30, max(0, cx - 20) : cx + 20] = (
                220 - 60 * k,
                60,
                40 + 80 * k,
            )
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def _count(frames) -> int:
    n = 0
    for _ in frames:
        n += 1
    return n


def read_bgmix(path: Path, **options) -> int:
    with open_source(path, **options) as src:
        return _count(src)


def read_pyav(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return _count(f.to_ndarray(format="rgb24") for f in container.decode(stream))


def read_opencv(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    try:
        while True:
            ok, bgr = cap.read()
            if not ok:
                return n
            cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            n += 1
    finally:
        cap.release()


READERS: dict[str, Callable[[Path], int]] = {
    "bgmix": read_bgmix,
    "bgmix grey": lambda p: read_bgmix(p, grey=True),
    "bgmix prefetch": lambda p: read_bgmix(p, prefetch=4),
    "pyav swscale": read_pyav,
    "opencv": read_opencv,
}


def bench_decode(path: Path, rounds: int) -> dict[str, dict[str, float]]:
    times: dict[str, list[float]] = {name: [] for name in READERS}
    counts: dict[str, int] = {}
    for name, fn in READERS.items():  # warm-up: imports, codec init, file cache
        counts[name] = fn(path)
    for _ in range(rounds):
        for name, fn in READERS.items():
            t0 = time.perf_counter()
            fn(path)
            times[name].append(time.perf_counter() - t0)
    ref = statistics.median(times["opencv"])
    return {
        name: {
            "frames": counts[name],
            "median_s": statistics.median(ts),
            "fps": counts[name] / statistics.median(ts),
            "ratio_to_opencv": ref / statistics.median(ts) * counts[name] / counts["opencv"],
        }
        for name, ts in times.items()
    }


def bench_encode(frames: np.ndarray, folder: Path, rounds: int) -> dict[str, dict[str, float]]:
    targets = {
        "mp4 (crf 18, veryfast)": ("e.mp4", {}),
        "mp4 (crf 18, medium)": ("f.mp4", {"preset": "medium"}),
        "gif": ("e.gif", {}),
        "png folder": ("png", {}),
        "npz": ("e.npz", {}),
    }
    out = {}
    for name, (target, opts) in targets.items():
        ts = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            with open_sink(folder / target, fps=25, **opts) as sink:
                for f in frames:
                    sink.write(f)
            ts.append(time.perf_counter() - t0)
        out[name] = {"frames": len(frames), "fps": len(frames) / statistics.median(ts)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--frames", type=int, default=300, help="frames of the synthetic clip")
    args = parser.parse_args(argv)

    results: dict[str, object] = {
        "benchmark": "io_decode",
        "machine": {**machine(), "opencv": cv2.__version__},
        "rounds": args.rounds,
        "decode": {},
    }
    with tempfile.TemporaryDirectory(prefix="bgmix-bench-") as tmp:
        folder = Path(tmp)
        frames = synthetic_frames(args.frames)
        clip = folder / "synthetic_640x480_h264.mp4"
        with open_sink(clip, fps=25) as sink:
            for f in frames:
                sink.write(f)
        files = {"synthetic 640x480 H.264": clip}
        vtest = data_root() / "videos" / "vtest.avi"
        if vtest.is_file():
            files["vtest.avi 768x576 MS-MPEG4"] = vtest
        for label, path in files.items():
            results["decode"][label] = bench_decode(path, args.rounds)  # type: ignore[index]
        results["encode_640x480"] = bench_encode(frames[:100], folder, max(1, args.rounds // 2))

    for label, table in results["decode"].items():  # type: ignore[union-attr]
        print(f"\ndecode: {label} (median of {args.rounds} rounds)")
        print(f"  {'reader':16s} {'frames':>7s} {'frames/s':>9s} {'vs opencv':>10s}")
        for name, row in table.items():
            print(
                f"  {name:16s} {row['frames']:7d} {row['fps']:9.0f} {row['ratio_to_opencv']:9.2f}x"
            )
    print("\nencode: 100 frames of 640x480 RGB through open_sink")
    for name, row in results["encode_640x480"].items():  # type: ignore[union-attr]
        print(f"  {name:22s} {row['fps']:8.0f} frames/s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
