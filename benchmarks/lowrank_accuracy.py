"""F-measure of the low-rank subtractors (offline) next to the online methods.

Run from the repository root::

    .venv/bin/python benchmarks/lowrank_accuracy.py [--sequences a,b,...] [--online m1,m2]
    .venv/bin/python benchmarks/lowrank_accuracy.py --speed-only   # the 320x240 timing alone

Every shared sequence with ground truth (``../shared/data/sequences``) is scored with
CDnet's rules by :func:`bgmix.metrics.evaluate`:

* ``svd`` and ``rpca`` with their defaults, **offline** (``train="all"``: fitted on every
  frame of the sequence, then every frame classified);
* the online methods (default: ``opencv-mog2``, ``opencv-knn``, and bgmix's ``mog2``
  and ``rpca-online`` when they are registered) with their defaults, **online**
  (``train=None``: every frame from the first is given to ``apply``);
* ``median`` (the per-pixel median of all frames, offline) as the simplest offline
  baseline, when it is registered.

The evaluated frames are the same in both modes (the temporal ROI). The low-rank
defaults (``rank=1``, ``threshold=30``; ``rpca`` windows of 200 frames) were chosen on
``wallflower_WavingTrees``, the seven ``sbi2015_*`` sequences and ``ucsd_birds``,
``ucsd_boats``, ``ucsd_freeway``, ``ucsd_ocean`` (the "tuning" set); the table also
gives the means over the other sequences (``cdnet_baseline_highway`` and five UCSD
ones, the "held-out" set).

``rpca-online``'s defaults were chosen on the same tuning set and are checked on the
held-out one.

Speed at 320x240: ``rpca-online``, ``mog2`` and ``opencv-mog2`` are timed on the first
frames of ``cdnet_baseline_highway`` (320x240 RGB, decoded beforehand), ``n_jobs=2``,
interleaved in one process (``--speed-repeats`` rounds, each a fresh model warmed up
on 20 frames and then timed over the next frames); medians are reported, with the
model's state size.

Prints a table (F-measure per sequence and method, means) and writes
``benchmarks/results/lowrank_accuracy.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _peers import data_root  # noqa: E402
from bgmix._atomic import atomic_output  # noqa: E402
from bgmix.background import available_methods  # noqa: E402
from bgmix.metrics import evaluate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
TUNING = {
    "wallflower_WavingTrees",
    "sbi2015_Board",
    "sbi2015_CAVIAR2",
    "sbi2015_CaVignal",
    "sbi2015_Foliage",
    "sbi2015_HighwayI",
    "sbi2015_IBMtest2",
    "sbi2015_Snellen",
    "ucsd_birds",
    "ucsd_boats",
    "ucsd_freeway",
    "ucsd_ocean",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", default=None, help="comma-separated sequence names")
    parser.add_argument("--online", default=None, help="comma-separated online methods")
    parser.add_argument("--speed-repeats", type=int, default=5, help="rounds of the 320x240 timing")
    parser.add_argument("--speed-frames", type=int, default=200, help="frames timed per round")
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="run the 320x240 timing only and keep the accuracy figures already in the JSON",
    )
    args = parser.parse_args()
    root = data_root() / "sequences"
    if not root.is_dir():
        raise SystemExit(f"shared data not found at {root} (set BGMIX_DATA)")
    path = RESULTS / "lowrank_accuracy.json"
    if args.speed_only:
        if not path.is_file():
            raise SystemExit(f"--speed-only needs the accuracy figures of a full run in {path}")
        out = json.loads(path.read_text())
        registered = set(available_methods())
        out["speed_320x240"] = speed_320x240(
            root, registered, args.speed_repeats, args.speed_frames
        )
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(out, indent=1))
        print(f"\nwritten {path}")
        return
    names = sorted(p.name for p in root.iterdir() if (p / "groundtruth").is_dir())
    if args.sequences:
        names = [n for n in args.sequences.split(",") if n in names]
    registered = set(available_methods())
    online = (
        args.online.split(",")
        if args.online
        else [m for m in ("opencv-mog2", "opencv-knn", "mog2", "rpca-online") if m in registered]
    )
    offline = ["svd", "rpca"] + (["median"] if "median" in registered else [])
    seqs = [root / n for n in names]

    per_seq: dict[str, dict[str, float]] = {}
    fps: dict[str, float] = {}
    seconds: dict[str, float] = {}
    for methods, train in ((offline, "all"), (online, None)):
        for method in methods:
            t0 = time.perf_counter()
            report = evaluate(seqs, [method], train=train)
            seconds[method] = time.perf_counter() - t0
            per_seq[method] = {r.sequence: r.f_measure for r in report.for_method(method)}
            fps[method] = report.throughput(method)
            print(
                f"{method:<12} ({'offline' if train else 'online'}): mean F "
                f"{np.mean(list(per_seq[method].values())):.3f} in {seconds[method]:.0f} s",
                flush=True,
            )

    methods = offline + online
    held = [n for n in names if n not in TUNING]
    tuned = [n for n in names if n in TUNING]

    def mean(method: str, subset: list[str]) -> float:
        vals = [per_seq[method][n] for n in subset if n in per_seq[method]]
        return float(np.mean(vals)) if vals else float("nan")

    width = max(len(n) for n in names) + 2
    print()
    print(f"{'sequence':<{width}}" + "".join(f"{m:>13}" for m in methods))
    for n in names:
        print(
            f"{n:<{width}}" + "".join(f"{per_seq[m].get(n, float('nan')):13.3f}" for m in methods)
        )
    for label, subset in (
        ("mean (all)", names),
        ("mean (tuning)", tuned),
        ("mean (held-out)", held),
    ):
        print(f"{label:<{width}}" + "".join(f"{mean(m, subset):13.3f}" for m in methods))
    print(f"{'frames/s':<{width}}" + "".join(f"{fps[m]:13.1f}" for m in methods))
    speed = speed_320x240(root, registered, args.speed_repeats, args.speed_frames)

    out = {
        "benchmark": "lowrank_accuracy",
        "protocol": (
            "CDnet rules via bgmix.metrics.evaluate; svd/rpca/median offline "
            "(train='all'), the others online (train=None); mean F = mean over "
            "sequences of each sequence's F"
        ),
        "modes": {m: ("offline" if m in offline else "online") for m in methods},
        "per_sequence": per_seq,
        "mean": {m: mean(m, names) for m in methods},
        "mean_tuning": {m: mean(m, tuned) for m in methods},
        "mean_held_out": {m: mean(m, held) for m in methods},
        "tuning_sequences": tuned,
        "held_out_sequences": held,
        "frames_per_second": fps,
        "seconds": seconds,
        "speed_320x240": speed,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(out, indent=1))
    print(f"\nwritten {path}")


def speed_320x240(root: Path, registered: set[str], repeats: int, n_frames: int) -> dict:
    """Frames/s of the online methods on 320x240 RGB frames, interleaved, 2 threads."""
    from bgmix.background import make_subtractor
    from bgmix.io import read_image
    from bgmix.metrics import read_sequence

    seq = read_sequence(root / "cdnet_baseline_highway")
    warm = 20
    frames = np.stack([read_image(p) for _, p in seq.input_frames[: warm + n_frames]])
    methods = [m for m in ("rpca-online", "mog2", "opencv-mog2") if m in registered]
    runs: dict[str, list[float]] = {m: [] for m in methods}
    nbytes: dict[str, int] = {}
    for _ in range(repeats):
        for method in methods:
            # OpenCV runs on its own thread pool (every CPU, here 2)
            sub = make_subtractor(method, **({} if method.startswith("opencv") else {"n_jobs": 2}))
            for frame in frames[:warm]:
                sub.apply(frame)
            t0 = time.perf_counter()
            for frame in frames[warm:]:
                sub.apply(frame)
            runs[method].append((len(frames) - warm) / (time.perf_counter() - t0))
            nbytes[method] = int(getattr(sub, "state_nbytes", 0))
    med = {m: float(np.median(v)) for m, v in runs.items()}
    print(f"\n320x240 RGB, n_jobs=2, {repeats} interleaved rounds of {len(frames) - warm} frames:")
    for m in methods:
        each = ", ".join(f"{v:.0f}" for v in runs[m])
        print(f"  {m:<12} median {med[m]:7.1f} frames/s  (runs {each})")
    return {
        "frame_size": [int(s) for s in frames.shape[1:]],
        "n_jobs": 2,
        "frames_timed": int(len(frames) - warm),
        "median_fps": med,
        "runs_fps": runs,
        "state_nbytes": nbytes,
        "ratio_to_mog2": {m: med[m] / med["mog2"] for m in methods} if "mog2" in med else {},
    }


if __name__ == "__main__":
    main()
