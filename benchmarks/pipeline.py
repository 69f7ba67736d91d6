"""End-to-end speed of ``bgmix subtract`` against DVR-Scan and a plain OpenCV loop.

Run: ``.venv/bin/python benchmarks/pipeline.py [--repeats 3] [--sizes 1920x1080 ...]``

Each command is timed as a user runs it, as a whole process (start-up included), on
real H.264 files made from the shared ``videos/vtest.avi`` (768x576, 795 frames)
resized to 1920x1080, 1280x720 and 640x480:

* ``bgmix default``   ``bgmix subtract F -o D`` (masks.mov + side_by_side.mp4 +
  background.png + run.json)
* ``bgmix none``      ``bgmix subtract F -o D --no-video --no-masks``
* ``bgmix grey none`` ``bgmix subtract F -o D --grey --no-video --no-masks``: the same
  work as DVR-Scan's (MOG2 on the luma plane, nothing written but the summary)
* ``dvr-scan``        ``dvr-scan -i F -so`` (DVR-Scan 1.8, OpenCV MOG2 on grey frames,
  scan only; in its own virtual environment, made by ``_peers.dvr_scan()``)
* ``opencv loop``     ``cv2.VideoCapture`` + ``createBackgroundSubtractorMOG2().apply``
  on every frame (colour, as bgmix), the floor

Runs are interleaved (every command once per round) and medians are reported, as
frames/s of the whole command and as ratios to DVR-Scan from the same rounds. Each
round also runs every command on the video's first ``SHORT_FRAMES`` frames (a file of
its own), which is nearly all start-up (imports, Numba's cached kernels, opening the
outputs); the *steady* rate ``(N - SHORT_FRAMES) / (t_N - t_short)`` is the speed on
long footage, where the start-up is paid once. Peak
memory is the child's maximum resident set size (``os.wait4``) for the default run
on a video and on the same video three times as long.

Prints a table and writes ``benchmarks/results/pipeline.json`` (with the load average:
on a shared machine the absolute figures are noisy, the ratios less so).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _peers import ROOT, data_root, dvr_scan, h264_video, machine

RESULTS = ROOT / "benchmarks" / "results" / "pipeline.json"
SIZES = ((1920, 1080), (1280, 720), (640, 480))
N_FRAMES = 795
#: Frames of the short clip that measures each command's start-up.
SHORT_FRAMES = 25

_OPENCV_LOOP = """
import sys, cv2
cap = cv2.VideoCapture(sys.argv[1])
mog2 = cv2.createBackgroundSubtractorMOG2()
n = 0
while True:
    ok, frame = cap.read()
    if not ok:
        break
    mog2.apply(frame)
    n += 1
cap.release()
print(n)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    env.pop("BGMIX_DEBUG", None)
    # as after an install: bytecode written once and reused, not recompiled per run
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run(cmd: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of one command;
    raises if it fails."""
    # stderr to a file, not a pipe: a progress bar would fill a pipe nobody reads
    with tempfile.TemporaryFile("w+") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=_env())
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        err = log.read()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    return seconds, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime


def commands(video: Path, out: Path, dvr: Path) -> dict[str, list[str]]:
    bgmix = [sys.executable, "-m", "bgmix", "subtract", str(video), "-o", str(out)]
    return {
        "bgmix default": bgmix,
        "bgmix none": [*bgmix, "--no-video", "--no-masks"],
        "bgmix grey none": [*bgmix, "--grey", "--no-video", "--no-masks"],
        "dvr-scan": [str(dvr), "-i", str(video), "-so"],
        "opencv loop": [sys.executable, "-c", _OPENCV_LOOP, str(video)],
    }


def bench_size(size: tuple[int, int], repeats: int, dvr: Path, work: Path) -> dict:
    src = data_root() / "videos" / "vtest.avi"
    video = h264_video(src, size)
    cmds = commands(video, work / "out", dvr)
    short_cmds = commands(h264_video(src, size, frames=SHORT_FRAMES), work / "out", dvr)
    times: dict[str, list[float]] = {k: [] for k in cmds}
    short: dict[str, list[float]] = {k: [] for k in cmds}
    rss: dict[str, list[int]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for r in range(repeats):
        for name, cmd in cmds.items():
            shutil.rmtree(work / "out", ignore_errors=True)
            seconds, peak, cpu_s = run(cmd)
            times[name].append(seconds)
            rss[name].append(peak)
            cpu[name].append(cpu_s)
            shutil.rmtree(work / "out", ignore_errors=True)
            short[name].append(run(short_cmds[name])[0])
            print(
                f"  {size[0]}x{size[1]} round {r + 1}: {name:14s} {seconds:7.2f} s wall, "
                f"{cpu_s:7.2f} s CPU, {short[name][-1]:5.2f} s on {SHORT_FRAMES} frames, "
                f"load {os.getloadavg()[0]:.1f}",
                flush=True,
            )
    dvr_rates = [N_FRAMES / t for t in times["dvr-scan"]]
    steady = {
        k: [(N_FRAMES - SHORT_FRAMES) / (t - s) for t, s in zip(times[k], short[k], strict=True)]
        for k in cmds
    }
    out: dict = {"video": str(video.name), "frames": N_FRAMES, "commands": {}}
    for name in cmds:
        rates = [N_FRAMES / t for t in times[name]]
        ratios = [a / b for a, b in zip(rates, dvr_rates, strict=True)]
        out["commands"][name] = {
            "command": " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmds[name])),
            "seconds": times[name],
            "median_seconds": statistics.median(times[name]),
            "median_fps": statistics.median(rates),
            "ratio_to_dvr_scan_per_round": ratios,
            "median_ratio_to_dvr_scan": statistics.median(ratios),
            "peak_rss_mib": max(rss[name]) / 1024,
            "cpu_seconds": cpu[name],
            "median_cpu_ms_per_frame": 1000 * statistics.median(cpu[name]) / N_FRAMES,
            "median_cpu_ratio_dvr_scan_to_this": statistics.median(
                [d / c for d, c in zip(cpu["dvr-scan"], cpu[name], strict=True)]
            ),
            f"seconds_first_{SHORT_FRAMES}_frames": short[name],
            "median_steady_fps": statistics.median(steady[name]),
            "median_steady_ratio_to_dvr_scan": statistics.median(
                [a / b for a, b in zip(steady[name], steady["dvr-scan"], strict=True)]
            ),
        }
    return out


def bench_memory(size: tuple[int, int], dvr: Path, work: Path) -> dict:
    src = data_root() / "videos" / "vtest.avi"
    out = {}
    for loops in (1, 3):
        video = h264_video(src, size, loops=loops)
        shutil.rmtree(work / "out", ignore_errors=True)
        seconds, peak, _ = run(commands(video, work / "out", dvr)["bgmix default"])
        out[f"x{loops}"] = {
            "frames": N_FRAMES * loops,
            "seconds": seconds,
            "peak_rss_mib": peak / 1024,
        }
        print(f"  memory {size[0]}x{size[1]} x{loops}: {peak / 1024:.0f} MiB", flush=True)
    out["ratio_x3_to_x1"] = out["x3"]["peak_rss_mib"] / out["x1"]["peak_rss_mib"]
    return out


def _write(report: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", nargs="*", default=[f"{w}x{h}" for w, h in SIZES])
    ap.add_argument("--memory-size", default="640x480", help="size of the memory runs")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--no-warm-up", dest="warm_up", action="store_false")
    args = ap.parse_args()
    if not (data_root() / "videos" / "vtest.avi").exists():
        sys.exit(f"the shared video is missing under {data_root()} (set BGMIX_DATA)")
    dvr = dvr_scan()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # warm-up: Numba's on-disk cache, OpenCV's first import, DVR-Scan's start
        small = h264_video(data_root() / "videos" / "vtest.avi", (640, 480))
        for cmd in list(commands(small, work / "out", dvr).values()) if args.warm_up else []:
            shutil.rmtree(work / "out", ignore_errors=True)
            run(cmd)
        results = {}
        for w, h in sizes:
            results[f"{w}x{h}"] = bench_size((w, h), args.repeats, dvr, work)
            _write({"partial": True, "sizes": results})
        memory = None
        if not args.no_memory:
            w, h = (int(v) for v in args.memory_size.split("x"))
            memory = bench_memory((w, h), dvr, work)
    report = {
        "machine": {
            **machine(),
            "affinity": len(os.sched_getaffinity(0)),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "shared": True,
        },
        "repeats": args.repeats,
        "sizes": results,
        "memory": memory,
    }
    _write(report)
    print(f"\nload average {load_before} -> {report['machine']['loadavg_after']}")
    names = list(next(iter(results.values()))["commands"])
    print(f"{'size':10s} " + " ".join(f"{n:>22s}" for n in names))
    for size, r in results.items():
        cells = []
        for n in names:
            c = r["commands"][n]
            cells.append(f"{c['median_fps']:7.1f} fps ({c['median_ratio_to_dvr_scan']:.2f}x)")
        print(f"{size:10s} " + " ".join(f"{c:>22s}" for c in cells))
    print(f"steady frames/s, start-up ({SHORT_FRAMES}-frame run) taken out:")
    for size, r in results.items():
        cells = []
        for n in names:
            c = r["commands"][n]
            cells.append(
                f"{c['median_steady_fps']:7.1f} fps ({c['median_steady_ratio_to_dvr_scan']:.2f}x)"
            )
        print(f"{size:10s} " + " ".join(f"{c:>22s}" for c in cells))
    print("CPU ms per frame (DVR-Scan's CPU time / this one's):")
    for size, r in results.items():
        cells = []
        for n in names:
            c = r["commands"][n]
            ms, ratio = c["median_cpu_ms_per_frame"], c["median_cpu_ratio_dvr_scan_to_this"]
            cells.append(f"{ms:6.1f} ms ({ratio:.2f}x)")
        print(f"{size:10s} " + " ".join(f"{c:>22s}" for c in cells))
    if memory:
        print(
            f"peak memory, default run at {args.memory_size}: {memory['x1']['peak_rss_mib']:.0f} "
            f"MiB ({N_FRAMES} frames), {memory['x3']['peak_rss_mib']:.0f} MiB "
            f"({3 * N_FRAMES} frames): x{memory['ratio_x3_to_x1']:.3f}"
        )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
