"""Cost of the HTML report: an evaluation of the 18 shared sequences with 3 methods,
without and with ``--report`` (recording the videos while streaming, then building the
page), and the size of what it writes.

Run from the repository root::

    .venv/bin/python benchmarks/report_build.py [--methods mog2 opencv-mog2 mog]

Wall-clock and CPU time (``time.process_time``, all threads of the process: less
sensitive to other jobs on a shared machine) are both reported. Both runs are in the
same process, one after the other (plain first, so that Numba's
compilation is paid before either is timed: a short warm-up evaluation runs first).
The default methods are deterministic, so both runs must give the same scores
(``same_scores``; OpenCV's KNN is randomised and would differ between any two runs).
Prints the times and sizes and writes ``benchmarks/results/report_build.json``
(with ``os.getloadavg()``; the development machine is shared by several jobs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _size(folder: Path, *, videos: bool) -> int:
    total = 0
    for p in folder.rglob("*"):
        if p.is_file() and (videos or p.suffix != ".mp4"):
            total += p.stat().st_size
    return total


def main() -> None:
    from _peers import data_root
    from bgmix.metrics import evaluate, find_sequences
    from bgmix.viz import evaluate_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=["mog2", "opencv-mog2", "mog"])
    args = parser.parse_args()
    seqs = find_sequences(data_root() / "sequences")
    print(f"{len(seqs)} sequences x {len(args.methods)} methods: {', '.join(args.methods)}")
    evaluate(seqs[:1], args.methods)  # warm-up (Numba compilation, OpenCV start-up)

    load_before = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    plain = evaluate(seqs, args.methods)
    t_plain, c_plain = time.perf_counter() - t0, time.process_time() - c0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report"
        t0, c0 = time.perf_counter(), time.process_time()
        recorded = evaluate_report(seqs, args.methods, out_dir=out)
        t_report, c_report = time.perf_counter() - t0, time.process_time() - c0
        index = (out / "index.html").stat().st_size
        no_video = _size(out, videos=False)
        no_video_no_counts = no_video - sum(p.stat().st_size for p in out.rglob("*.npy"))
        no_video_no_counts -= (out / "results.json").stat().st_size
        with_video = _size(out, videos=True)
        n_videos = len(list(out.rglob("*.mp4")))
    load_after = os.getloadavg()
    same = [a.counts for a in plain.results] == [b.counts for b in recorded.results]
    frames = sum(r.n_frames for r in plain.results)
    result = {
        "sequences": len(seqs),
        "methods": args.methods,
        "frames_classified": frames,
        "evaluate_seconds": round(t_plain, 2),
        "evaluate_with_report_seconds": round(t_report, 2),
        "report_extra_seconds": round(t_report - t_plain, 2),
        "evaluate_cpu_seconds": round(c_plain, 2),
        "evaluate_with_report_cpu_seconds": round(c_report, 2),
        "report_extra_cpu_seconds": round(c_report - c_plain, 2),
        "index_html_bytes": index,
        "page_bytes_without_videos": no_video_no_counts,
        "folder_bytes_without_videos": no_video,
        "folder_bytes_with_videos": with_video,
        "videos": n_videos,
        "same_scores": same,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "note": "2-core machine shared with other jobs; one run each",
    }
    print(json.dumps(result, indent=2))
    dest = ROOT / "benchmarks" / "results" / "report_build.json"
    dest.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {dest}")


if __name__ == "__main__":
    main()
