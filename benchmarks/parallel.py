"""Scale-out on Dask: the engine's own scaling, against one worker and the serial run.

Same run, same inputs, wall-clock times with the cluster's start-up included:

(i)   ``evaluate`` of the shared sequences × 3 methods: serial ``bgmix.metrics.evaluate``
      (kernels on both cores) against ``bgmix.parallel.evaluate`` on ``local:1`` (one
      single-threaded worker process) and ``local:2``; the F-measures must be identical.
(ii)  one long H.264 video (vtest.avi at 320x240 looped to >= 20,000 frames): serial
      ``bgmix.subtract`` against ``bgmix.parallel.subtract`` in time segments (``auto``:
      one per worker, of equal cost, unless ``--segments N`` is given), with the mask
      agreement with the serial run after the first warm-up; then serial
      ``bgmix.events.detect_events`` against ``bgmix.parallel.events`` on ``local:2`` in
      the same segments, with the event lists compared (start, end and peak frames).
(iii) scheduler overhead per task (a no-op task on ``local:2``) and bytes sent to the
      scheduler per task (pickled function and arguments of every submitted task).
(iv)  why a segmented run cannot be the serial run exactly: the video of (ii), the
      serial ``mog2`` model against one warmed up from ``warm-up`` frames before the
      middle of the video, both then given the same frames; every 1000 frames, the
      share of pixels whose components in use (count, weights, variances, means)
      still differ bit for bit, and in how many of the last 1000 frames the masks
      differ, by how many pixels.

Besides wall-clock times, every run reports the CPU seconds it used (the benchmark
process's own for the serial runs; the workers' for the cluster runs, read from each
worker process before the cluster stops), so that a noisy machine can still be read.

Writes ``benchmarks/results/parallel.json``; ``--parts`` runs some parts only and
keeps the others' results from the file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from benchmarks._peers import data_root, h264_video, machine  # noqa: E402

import bgmix  # noqa: E402
import bgmix.parallel as bp  # noqa: E402
from bgmix.events import detect_events  # noqa: E402
from bgmix.metrics import evaluate, find_sequences, read_sequence  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "parallel.json"
METHODS = ["mog2", "mog", "opencv-mog2"]


def _worker_cpu(runner: bp.Runner) -> float:
    """CPU seconds (user + system) used so far by the worker processes of a cluster."""
    times = runner.client.run(os.times)
    return sum(t[0] + t[1] for t in times.values())


def _serial_cpu(fn):
    """``fn`` wrapped to record the CPU seconds of this process (all its threads)."""
    cpu = {}

    def run():
        t0 = time.process_time()
        out = fn()
        cpu["s"] = time.process_time() - t0
        return out

    return run, cpu


def _timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def part_evaluate(repeats: int) -> dict:
    seqs = [read_sequence(p) for p in find_sequences(data_root() / "sequences")]
    frames = sum(s.n_frames for s in seqs)
    print(f"\n(i) evaluate: {len(seqs)} sequences ({frames} frames) x {len(METHODS)} methods")
    fn, cpu = _serial_cpu(lambda: evaluate(seqs, METHODS))
    t_serial, serial = _timed(fn, repeats)
    print(f"    serial      {t_serial:7.1f} s  (cpu {cpu['s']:.1f} s)")
    out = {"sequences": len(seqs), "frames": frames, "methods": METHODS, "serial_s": t_serial}
    out["serial_cpu_s"] = cpu["s"]
    f_serial = [(r.sequence, r.method, r.f_measure) for r in serial.results]
    for n in (1, 2):
        stats = {}

        def run(n=n, stats=stats):
            with bp.Runner(f"local:{n}") as runner:
                report = bp.evaluate(seqs, METHODS, runner=runner)
                stats.update(runner.stats, cpu=_worker_cpu(runner))
            return report

        t, report = _timed(run, repeats)
        same = [(r.sequence, r.method, r.f_measure) for r in report.results] == f_serial
        print(f"    local:{n}     {t:7.1f} s  (start-up {stats['startup_seconds']:.1f} s, worker "
              f"cpu {stats['cpu']:.1f} s)  identical F: {same}")  # fmt: skip
        out[f"local{n}_worker_cpu_s"] = stats["cpu"]
        out[f"local{n}_s"] = t
        out[f"local{n}_startup_s"] = stats["startup_seconds"]
        out[f"local{n}_identical_f"] = same
        out["bytes_per_task"] = stats["bytes_sent"] / max(1, stats["tasks"])
        out["tasks"] = stats["tasks"]
    out["local2_vs_local1"] = out["local1_s"] / out["local2_s"]
    out["local2_vs_serial"] = out["serial_s"] / out["local2_s"]
    print(f"    local:2 vs local:1 {out['local2_vs_local1']:.2f}x, "
          f"vs serial {out['local2_vs_serial']:.2f}x")  # fmt: skip
    return out


def _masks(run: Path):
    """The masks of a run folder, in frame order (its ``masks.mov``, read back exactly)."""
    with bgmix.open_source(run / "masks.mov") as video:
        yield from video


def _frames(events: list) -> list[tuple[int, int, int]]:
    return [(e["start_frame"], e["end_frame"], e["peak_frame"]) for e in events]


def _event_runs(video: Path, work: Path, plan: list[dict], out: dict) -> tuple[list, list]:
    """Events of ``video``: serial ``detect_events`` against ``bgmix.parallel.events`` on
    ``local:2`` in ``len(plan)`` segments (clips and thumbnails off: the comparison is
    of the event lists). Times go into ``out``."""
    t0 = time.perf_counter()
    serial = detect_events(video, "mog2")
    out["events_serial_s"] = time.perf_counter() - t0
    shutil.rmtree(work / "events", ignore_errors=True)
    t0 = time.perf_counter()
    bp.events(video, work / "events", scheduler="local:2", segments=len(plan),
              clips=False, thumbnails=False)  # fmt: skip
    out["events_local2_s"] = time.perf_counter() - t0
    doc = json.loads((work / "events" / "events.json").read_text())
    print(f"    events      serial {out['events_serial_s']:.1f} s, local:2 in {len(plan)} "
          f"segments {out['events_local2_s']:.1f} s")  # fmt: skip
    return _frames([e.to_dict() for e in serial]), _frames(doc["events"])


def _agreement(a: Path, b: Path, first: int) -> float:
    equal = total = 0
    for i, (ma, mb) in enumerate(zip(_masks(a), _masks(b), strict=True)):
        if i >= first:
            equal += int(np.count_nonzero(ma == mb))
            total += ma.size
    return equal / total


def part_segments(loops: int, segments: int | str, repeats: int, work: Path) -> dict:
    video = h264_video(data_root() / "videos" / "vtest.avi", (320, 240), loops=loops)
    with bgmix.open_source(video) as src:
        n = src.info.frame_count
    warm = bp.default_warmup("mog2")
    print(f"\n(ii) segments: {video.name}, {n} frames, segments {segments}, warm-up {warm}")
    out = {"video": video.name, "frames": n, "segments": segments, "warmup": warm}

    def serial():
        shutil.rmtree(work / "serial", ignore_errors=True)
        return bgmix.subtract(video, work / "serial", method="mog2")

    fn, cpu = _serial_cpu(serial)
    t, _ = _timed(fn, repeats)
    out["serial_s"] = t
    out["serial_cpu_s"] = cpu["s"]
    print(f"    serial      {t:7.1f} s  ({n / t:.0f} frames/s, cpu {cpu['s']:.1f} s)")
    for k in (1, 2):
        stats = {}

        def run(k=k, stats=stats):
            shutil.rmtree(work / f"local{k}", ignore_errors=True)
            with bp.Runner(f"local:{k}") as runner:
                bp.subtract(video, work / f"local{k}", segments=segments, runner=runner)
                stats.update(runner.stats, cpu=_worker_cpu(runner))
            run_json = json.loads((work / f"local{k}" / "run.json").read_text())
            stats["plan"] = run_json["segments"]

        t, _ = _timed(run, repeats)
        out[f"local{k}_s"] = t
        out[f"local{k}_startup_s"] = stats["startup_seconds"]
        out[f"local{k}_worker_cpu_s"] = stats["cpu"]
        out[f"local{k}_segments"] = stats["plan"]
        out["bytes_per_task"] = stats["bytes_sent"] / max(1, stats["tasks"])
        print(f"    local:{k}     {t:7.1f} s  ({n / t:.0f} frames/s, start-up "
              f"{stats['startup_seconds']:.1f} s, worker cpu {stats['cpu']:.1f} s, "
              f"{len(stats['plan'])} segments)")  # fmt: skip
    out["local2_vs_local1"] = out["local1_s"] / out["local2_s"]
    out["local2_vs_serial"] = out["serial_s"] / out["local2_s"]
    out["mask_agreement_after_first_warmup"] = _agreement(work / "serial", work / "local2", warm)
    out["mask_agreement_all"] = _agreement(work / "serial", work / "local2", 0)
    ev_serial, ev_seg = _event_runs(video, work, stats["plan"], out)
    out["events_serial"] = len(ev_serial)
    out["events_segments"] = len(ev_seg)
    out["events_identical"] = ev_serial == ev_seg
    out["events_differing"] = [  # (start, end, peak): serial, segmented
        [list(a), list(b)] for a, b in zip(ev_serial, ev_seg, strict=False) if a != b
    ]
    agree = 100 * out["mask_agreement_after_first_warmup"]
    print(f"    local:2 vs local:1 {out['local2_vs_local1']:.2f}x, vs serial "
          f"{out['local2_vs_serial']:.2f}x; masks equal {agree:.3f} % after the first "
          f"warm-up; events {len(ev_serial)} / {len(ev_seg)}, identical: "
          f"{out['events_identical']}")  # fmt: skip
    return out


def _components_differ(a, b) -> np.ndarray:
    """Pixels where two ``mog2`` models' components in use differ bit for bit."""
    differ = a._nmodes != b._nmodes
    for k in range(a._weight.shape[0]):
        in_use = k < a._nmodes
        moved = (a._weight[k] != b._weight[k]) | (a._var[k] != b._var[k])
        moved |= np.any(a._mean[k] != b._mean[k], axis=0)
        differ |= in_use & moved
    return differ


def part_convergence(loops: int, horizon: int = 9000) -> dict:
    video = h264_video(data_root() / "videos" / "vtest.avi", (320, 240), loops=loops)
    with bgmix.open_source(video) as src:
        n = src.info.frame_count
    warm = bp.default_warmup("mog2")
    border = n // 2
    horizon = min(horizon, n - border - 1)
    print(f"\n(iv) convergence: {video.name}, border {border}, warm-up {warm}")
    serial = bgmix.make_subtractor("mog2", n_jobs=1)
    warmed = None
    rows, masks_differ = [], []
    with bgmix.open_source(video, stop=border + horizon + 1) as src:
        for i, frame in enumerate(src):
            if i == border - warm:
                warmed = bgmix.make_subtractor("mog2", n_jobs=1)
            a = serial.postprocess_mask(serial.apply_raw(frame))
            if warmed is None:
                continue
            b = warmed.postprocess_mask(warmed.apply_raw(frame))
            if i < border:
                continue
            masks_differ.append(int(np.count_nonzero(a != b)))
            after = i - border
            if after % 1000 == 0 and after:
                last = masks_differ[-1000:]
                row = {
                    "frames_after_border": after,
                    "pixels_with_differing_components": float(
                        _components_differ(serial, warmed).mean()
                    ),
                    "frames_with_differing_masks_of_last_1000": sum(x > 0 for x in last),
                    "differing_mask_pixels_in_last_1000": sum(last),
                }
                rows.append(row)
                print(f"    +{after:5d}: components differ at "
                      f"{100 * row['pixels_with_differing_components']:.1f} % of pixels; "
                      f"masks differ in {row['frames_with_differing_masks_of_last_1000']} "
                      f"of the last 1000 frames ({sum(last)} pixels)")  # fmt: skip
    return {"video": video.name, "frames": n, "border": border, "warmup": warm, "rows": rows}


def _noop(unit: dict) -> dict:
    return {"ok": True}


def part_overhead(n_tasks: int) -> dict:
    print(f"\n(iii) scheduler overhead: {n_tasks} no-op tasks on local:2")
    with bp.Runner("local:2") as runner:
        runner.map(_noop, [{"i": i} for i in range(50)])  # warm the workers
        t0 = time.perf_counter()
        runner.map(_noop, [{"i": i} for i in range(n_tasks)])
        t = time.perf_counter() - t0
        sent = runner.stats["bytes_sent"] / runner.stats["tasks"]
    print(f"    {1000 * t / n_tasks:.2f} ms per task, {sent:.0f} bytes sent per no-op task")
    return {"tasks": n_tasks, "ms_per_task": 1000 * t / n_tasks, "noop_bytes_per_task": sent}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=26, help="vtest.avi loops (795 frames each)")
    ap.add_argument("--segments", default="auto", help="N, or auto (one per worker)")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--parts", default="i,ii,iii,iv")
    args = ap.parse_args()
    parts = args.parts.split(",")
    result = {
        "machine": {**machine(), "loadavg_start": os.getloadavg()},
        "note": "wall-clock seconds, cluster start-up included; medians of --repeats",
        "repeats": args.repeats,
    }
    with tempfile.TemporaryDirectory(prefix="bgmix-parallel-") as tmp:
        if "i" in parts:
            result["evaluate"] = part_evaluate(args.repeats)
        if "ii" in parts:
            segments = int(args.segments) if args.segments.isdigit() else args.segments
            result["segments"] = part_segments(args.loops, segments, args.repeats, Path(tmp))
        if "iii" in parts:
            result["overhead"] = part_overhead(500)
        if "iv" in parts:
            result["convergence"] = part_convergence(args.loops)
    result["machine"]["loadavg_end"] = os.getloadavg()
    if RESULTS.exists() and set(parts) != {"i", "ii", "iii", "iv"}:  # keep the parts not run
        earlier = json.loads(RESULTS.read_text())
        for key in ("evaluate", "segments", "overhead", "convergence"):
            if key in earlier and key not in result:
                result[key] = earlier[key]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
