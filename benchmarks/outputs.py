"""CPU cost per frame of the work around the model in ``bgmix subtract``.

Run: ``.venv/bin/python benchmarks/outputs.py [--frames 120] [--rounds 3] [--sizes 640x480 ...]``

On the real H.264 files of ``benchmarks/pipeline.py`` (``videos/vtest.avi`` resized
to 1920x1080, 1280x720 and 640x480), the first ``--frames`` frames are decoded and
classified by ``mog2`` once; then each piece is timed alone, as CPU seconds of the
whole process (``time.process_time``: encoder and decoder threads included), rounds
interleaved, medians reported in CPU milliseconds per frame:

* ``decode``          ``open_source(path)``: H.264 decoding + swscale to RGB
* ``mask video``      the mask writer into ``masks.mov`` (PNG images, masks coded as runs)
* ``compose``         the side-by-side writer with a sink that drops the images
* ``side-by-side``    the side-by-side writer into ``side_by_side.mp4`` (x264)
* ``background.png``  the background image saved as ``subtract`` does (per image)

Prints a table and writes ``benchmarks/results/outputs.json`` (with the load
average: on a shared machine CPU times are inflated too, less than wall times).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peers import ROOT, data_root, h264_video, machine
from bgmix._subtract_stages import FrameResult, mask_writer, side_by_side_writer
from bgmix.background import make_subtractor
from bgmix.io import open_sink, open_source
from bgmix.io._png import write_png

RESULTS = ROOT / "benchmarks" / "results" / "outputs.json"
SIZES = ("1920x1080", "1280x720", "640x480")


class _Drop:
    """A sink that drops what it is given (the composition alone)."""

    path = Path("drop")

    def write(self, frame: np.ndarray, number: int | None = None) -> None:
        pass


def _cpu(function: Callable[[], None]) -> float:
    t0 = time.process_time()
    function()
    return time.process_time() - t0


def bench_size(size: str, n_frames: int, rounds: int, work: Path) -> dict[str, float]:
    w, h = (int(v) for v in size.split("x"))
    video = h264_video(data_root() / "videos" / "vtest.avi", (w, h))
    sub = make_subtractor("mog2")
    frames: list[np.ndarray] = []

    with open_source(video, stop=n_frames, prefetch=0) as source:
        frames.extend(source)

    def decode() -> None:  # streamed, as in a run: each frame dropped once read
        with open_source(video, stop=n_frames, prefetch=0) as source:
            for _ in source:
                pass

    masks = [sub.apply(f) for f in frames]
    background = sub.get_background_image()
    results = [
        FrameResult(i, f, m, background) for i, (f, m) in enumerate(zip(frames, masks, strict=True))
    ]

    def mask_video() -> None:
        with open_sink(work / "masks.mov", fps=25, overwrite=True) as sink:
            mask_writer(sink)(iter(results))

    def compose() -> None:
        side_by_side_writer(_Drop())(iter(results))

    def side_by_side() -> None:
        with open_sink(work / "sbs.mp4", fps=25, preset="ultrafast", crf=23) as sink:
            side_by_side_writer(sink)(iter(results))

    def png() -> None:
        write_png(work / "background.png", background)

    pieces = {
        "decode": decode,
        "mask video": mask_video,
        "compose": compose,
        "side-by-side": side_by_side,
    }
    cpu: dict[str, list[float]] = {k: [] for k in (*pieces, "background.png")}
    for _ in range(rounds):
        for name, function in pieces.items():
            cpu[name].append(_cpu(function) / n_frames)
        cpu["background.png"].append(_cpu(png))
    return {k: round(1000 * statistics.median(v), 2) for k, v in cpu.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", nargs="+", default=list(SIZES))
    args = parser.parse_args(argv)
    out: dict = {
        "frames": args.frames,
        "rounds": args.rounds,
        "unit": "CPU ms per frame (background.png: per image)",
        "machine": machine(),
        "sizes": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            out["sizes"][size] = bench_size(size, args.frames, args.rounds, Path(tmp))
            print(size, out["sizes"][size], flush=True)
    out["load_average"] = round(os.getloadavg()[0], 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    names = list(next(iter(out["sizes"].values())))
    print(f"\n{'size':10s}" + "".join(f"{n:>16s}" for n in names))
    for size, row in out["sizes"].items():
        print(f"{size:10s}" + "".join(f"{row[n]:16.2f}" for n in names))
    print(f"(CPU ms per frame, medians of {args.rounds} rounds; load {out['load_average']})")
    return out


if __name__ == "__main__":
    main()
