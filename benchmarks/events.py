"""Motion events: bgmix's ``bgmix events`` against DVR-Scan, accuracy and wall time.

Run from the repository root::

    .venv/bin/python benchmarks/events.py                  # everything (about 10 min)
    .venv/bin/python benchmarks/events.py --split tune     # the tuning videos only
    .venv/bin/python benchmarks/events.py --tools dvr-scan --no-speed
    .venv/bin/python benchmarks/events.py --bgmix "env PYTHONPATH=../events/src python -m bgmix"

Accuracy. Every video of the test set (``benchmarks/events_data.py`` makes it in
``benchmarks/_cache/events/``: six synthetic nuisance families and the semi-real
family, tune and held-out splits) is scanned by both tools with their **default
settings** and without clips: ``bgmix events VIDEO -o DIR --no-clips -q`` and
``dvr-scan -i VIDEO -so -q --ignore-user-config`` (DVR-Scan 1.8.2.1 in its own
virtual environment, see ``_peers.py``). DVR-Scan's events are read from its ``-q``
output (start and end timecodes in milliseconds; its start is the first frame, its
end one past the last) and turned into inclusive frame ranges. Both are scored by
``events_score.py``: one-to-one matching of reported (padded) ranges with the true
activity ranges by temporal overlap (at least one shared frame, maximum matching),
precision, recall and F pooled over the videos of a family (counts added first),
start and end errors in frames of the reported range and of its core (the range
minus the tool's configured padding: bgmix's ``pre``/``post`` from its
``events.json``, DVR-Scan's ``-tb 1.5s``/``-tp 2s`` at the video's frame rate). Wall
time and CPU time (user + system of the child processes) of each command, process
start included.

Wall time with clips. A 1080p H.264 file (``vtest.avi`` resized to 1920x1080, 795
frames of pedestrians, made once by ``_peers.h264_video``) is scanned by both tools
with their default clip output (``bgmix events F -o DIR -q``; ``dvr-scan -i F -d DIR
-q``, OpenCV mode, one AVI per event), interleaved, ``--repeats`` times; medians.

Writes ``benchmarks/results/events.json`` (with the load average: the machine is
shared) and prints a table per family, per group and pooled, and the targets of
issue 11: event F at least DVR-Scan's + 0.10 pooled and not below it on any family;
wall time with clips at most 0.5x DVR-Scan's at 1080p.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _peers import DVR_SCAN_VERSION, data_root, dvr_scan, h264_video, machine  # noqa: E402
from events_data import OUT as DATA_DIR  # noqa: E402
from events_data import load_manifest  # noqa: E402
from events_score import predicted_ranges, score_video, totals  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "events.json"
DVR_PRE_S, DVR_POST_S = 1.5, 2.0  # DVR-Scan's defaults (-tb, -tp)
TOOLS = ("bgmix", "dvr-scan")


# --------------------------------------------------------------------------- tools
def _frames_of(value: Any, fps: float) -> int:
    """A padding from bgmix's params (``"1.5s"``, ``"00:00:01.5"``, or frames) in frames."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.endswith("s"):
        return int(float(text[:-1]) * fps + 0.5)
    if ":" in text:
        secs = 0.0
        for part in text.split(":"):
            secs = 60 * secs + float(part)
        return int(secs * fps + 0.5)
    return int(float(text))


def _timed(args: list[str], what: str) -> tuple[str, float, float]:
    """Run a command; its stdout, wall time and CPU time (user + system, children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed: {proc.stderr.strip()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.stdout, wall, cpu


def run_bgmix(cmd: list[str], video: Path, out: Path, *, clips: bool) -> tuple[dict, float, float]:
    """``bgmix events VIDEO -o OUT`` with defaults: events.json, wall and CPU time."""
    out.parent.mkdir(parents=True, exist_ok=True)
    args = [*cmd, "events", str(video), "-o", str(out), "-q"]
    if not clips:
        args.append("--no-clips")
    _, wall, cpu = _timed(args, f"bgmix events on {video.name}")
    return json.loads((out / "events.json").read_text()), wall, cpu


_TIMECODE = re.compile(r"^\d+:\d\d:\d\d(\.\d+)?$")


def _seconds(tc: str) -> float:
    h, m, s = tc.split(":")
    return 3600 * int(h) + 60 * int(m) + float(s)


def parse_dvr_scan(stdout: str, fps: float) -> list[list[int]]:
    """DVR-Scan's ``-q`` output (``start,end,start,end,...`` timecodes) as inclusive
    frame ranges: start frame = round(start * fps), end frame = round(end * fps) - 1
    (DVR-Scan's end timecode includes the last frame's duration).

    >>> parse_dvr_scan("00:00:07.067,00:00:12.733,00:01:19.000,00:01:25.400\\n", 15.0)
    [[106, 190], [1185, 1280]]
    >>> parse_dvr_scan("", 25.0)
    []
    """
    lines = [ln.strip() for ln in stdout.strip().splitlines() if ln.strip()]
    if not lines:
        return []
    codes = lines[-1].split(",")
    if not all(_TIMECODE.match(c) for c in codes) or len(codes) % 2:
        raise RuntimeError(f"unexpected DVR-Scan output: {lines[-1][:200]!r}")
    frames = [round(_seconds(c) * fps) for c in codes]
    return [[a, max(a, b - 1)] for a, b in zip(frames[::2], frames[1::2], strict=True)]


def run_dvr_scan(
    exe: Path, video: Path, fps: float, out: Path | None
) -> tuple[list[list[int]], float, float]:
    """DVR-Scan with defaults, scan only (``out`` None) or writing its clips to ``out``:
    the events, wall and CPU time."""
    args = [str(exe), "-i", str(video), "-q", "--ignore-user-config"]
    args += ["-so"] if out is None else ["-d", str(out)]
    stdout, wall, cpu = _timed(args, f"dvr-scan on {video.name}")
    return parse_dvr_scan(stdout, fps), wall, cpu


# --------------------------------------------------------------------------- accuracy
def accuracy(
    videos: list[dict], tools: list[str], bgmix_cmd: list[str], work: Path
) -> dict[str, list[dict]]:
    """Run every tool on every video; per-tool list of per-video records."""
    exe = dvr_scan() if "dvr-scan" in tools else None
    out: dict[str, list[dict]] = {t: [] for t in tools}
    for k, v in enumerate(videos, 1):
        path, fps = Path(v["path"]), float(v["fps"])
        line = [f"[{k}/{len(videos)}] {v['name']:<36}"]
        for tool in tools:
            if tool == "bgmix":
                doc, wall, cpu = run_bgmix(bgmix_cmd, path, work / "bgmix" / v["name"], clips=False)
                pred = predicted_ranges(doc)
                params = doc.get("params", {})
                pre = _frames_of(params.get("pre", 0), fps)
                post = _frames_of(params.get("post", 0), fps)
            else:
                assert exe is not None
                pred, wall, cpu = run_dvr_scan(exe, path, fps, None)
                pre, post = round(DVR_PRE_S * fps), round(DVR_POST_S * fps)
            s = score_video(v["events"], pred, pre=pre, post=post)
            rec = {
                "video": v["name"],
                "family": v["family"],
                "group": v["group"],
                "split": v["split"],
                "frames": v["frames"],
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "pre": pre,
                "post": post,
                "truth": v["events"],
                "pred": pred,
            } | s
            out[tool].append(rec)
            line.append(f"{tool} TP {s['tp']} FP {s['fp']} FN {s['fn']} {wall:5.1f}s")
        print("  ".join(line), flush=True)
    return out


def summarise(records: list[dict]) -> dict[str, dict]:
    """Totals per family, per group, per split and pooled (``all``)."""
    keys: dict[str, list[dict]] = {}
    for r in records:
        for k in (f"family:{r['family']}", f"group:{r['group']}", f"split:{r['split']}", "all"):
            keys.setdefault(k, []).append(r)
    out = {}
    for k, rs in keys.items():
        t = totals(rs)
        t["wall_s"] = round(sum(r["wall_s"] for r in rs), 2)
        t["cpu_s"] = round(sum(r["cpu_s"] for r in rs), 2)
        t["frames"] = sum(r["frames"] for r in rs)
        out[k] = t
    return out


def _shown(path: Path) -> str:
    """``path`` relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _fmt(x: Any, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def print_table(summary: dict[str, dict[str, dict]], tools: list[str]) -> None:
    keys = sorted(
        next(iter(summary.values())),
        key=lambda k: ({"family": 0, "group": 1, "split": 2}.get(k.split(":")[0], 3), k),
    )
    head = f"{'scenarios':<20}{'tool':<10}{'TP':>4}{'FP':>4}{'FN':>4}{'P':>6}{'R':>6}{'F':>6}"
    head += f"{'|ds|':>7}{'|de|':>7}{'|ds|c':>7}{'|de|c':>7}{'wall s':>8}{'cpu s':>8}"
    print(head)
    for k in keys:
        for tool in tools:
            t = summary[tool][k]
            print(
                f"{k:<20}{tool:<10}{t['tp']:>4}{t['fp']:>4}{t['fn']:>4}"
                f"{t['precision']:>6.2f}{t['recall']:>6.2f}{t['f']:>6.2f}"
                f"{_fmt(t['mae_start_raw'], '.1f'):>7}{_fmt(t['mae_end_raw'], '.1f'):>7}"
                f"{_fmt(t['mae_start_core'], '.1f'):>7}{_fmt(t['mae_end_core'], '.1f'):>7}"
                f"{t['wall_s']:>8.1f}{t['cpu_s']:>8.1f}"
            )


# --------------------------------------------------------------------------- speed
def speed(tools: list[str], bgmix_cmd: list[str], work: Path, repeats: int) -> dict[str, Any]:
    """Wall time with clips written, on a 1080p H.264 file, interleaved; medians."""
    src = data_root() / "videos" / "vtest.avi"
    if not src.exists():
        print(f"speed: {src} missing, skipped")
        return {"skipped": f"{src} missing"}
    video = h264_video(src, (1920, 1080))
    exe = dvr_scan() if "dvr-scan" in tools else None
    times: dict[str, list[float]] = {t: [] for t in tools}
    cpus: dict[str, list[float]] = {t: [] for t in tools}
    n_events: dict[str, int] = {}
    frames = 0
    for r in range(repeats):
        for tool in tools if r % 2 == 0 else tools[::-1]:
            out = work / "speed" / f"{tool}_{r}"
            shutil.rmtree(out, ignore_errors=True)
            if tool == "bgmix":
                doc, wall, cpu = run_bgmix(bgmix_cmd, video, out, clips=True)
                n_events[tool] = len(doc["events"])
                frames = int(doc.get("frames") or 0)
            else:
                assert exe is not None
                out.mkdir(parents=True)
                pred, wall, cpu = run_dvr_scan(exe, video, 10.0, out)
                n_events[tool] = len(pred)
            size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
            times[tool].append(wall)
            cpus[tool].append(cpu)
            print(
                f"  speed {tool:<9} run {r + 1}: {wall:6.1f} s wall, {cpu:6.1f} s CPU,"
                f" {size / 1e6:.1f} MB written"
            )
            shutil.rmtree(out, ignore_errors=True)
    res: dict[str, Any] = {
        "video": str(video.relative_to(ROOT)),
        "size": [1920, 1080],
        "frames": frames or None,
        "repeats": repeats,
        "times_s": {t: [round(x, 3) for x in v] for t, v in times.items()},
        "median_s": {t: round(statistics.median(v), 3) for t, v in times.items()},
        "cpu_s": {t: [round(x, 3) for x in v] for t, v in cpus.items()},
        "median_cpu_s": {t: round(statistics.median(v), 3) for t, v in cpus.items()},
        "events": n_events,
    }
    if len(tools) == 2:
        med, cpu = res["median_s"], res["median_cpu_s"]
        res["ratio_bgmix_over_dvr"] = round(med["bgmix"] / med["dvr-scan"], 3)
        res["cpu_ratio_bgmix_over_dvr"] = round(cpu["bgmix"] / cpu["dvr-scan"], 3)
    return res


# --------------------------------------------------------------------------- main
def targets(summary: dict[str, dict[str, dict]], speed_res: dict[str, Any]) -> dict[str, Any]:
    b, d = summary["bgmix"], summary["dvr-scan"]
    fams = sorted(k for k in b if k.startswith("family:"))
    out = {
        "pooled_f": {"bgmix": b["all"]["f"], "dvr-scan": d["all"]["f"]},
        "pooled_margin": b["all"]["f"] - d["all"]["f"],
        "pooled_met": b["all"]["f"] >= d["all"]["f"] + 0.10,
        "families_below": [k for k in fams if b[k]["f"] < d[k]["f"]],
    }
    out["families_met"] = not out["families_below"]
    if "ratio_bgmix_over_dvr" in speed_res:
        out["speed_ratio"] = speed_res["ratio_bgmix_over_dvr"]
        out["speed_cpu_ratio"] = speed_res["cpu_ratio_bgmix_over_dvr"]
        out["speed_met"] = speed_res["ratio_bgmix_over_dvr"] <= 0.5
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--manifest", type=Path, default=DATA_DIR / "manifest.json")
    ap.add_argument("--split", choices=("all", "tune", "heldout"), default="all")
    ap.add_argument("--family", action="append", help="only these families (repeatable)")
    ap.add_argument("--tools", default=",".join(TOOLS), help="bgmix,dvr-scan (default both)")
    ap.add_argument(
        "--bgmix",
        default=f"{shlex.quote(sys.executable)} -m bgmix",
        help="command that runs bgmix (default: this interpreter's bgmix)",
    )
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--repeats", type=int, default=3, help="speed repeats (default 3)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    if unknown := set(tools) - set(TOOLS):
        raise SystemExit(f"error: unknown tools {sorted(unknown)}; expected {', '.join(TOOLS)}")
    bgmix_cmd = shlex.split(args.bgmix)
    if not args.manifest.exists():
        raise SystemExit(f"error: {args.manifest} missing: run benchmarks/events_data.py first")
    manifest = load_manifest(args.manifest)
    videos = [
        v
        for v in manifest["videos"]
        if args.split in ("all", v["split"]) and (not args.family or v["family"] in args.family)
    ]
    result: dict[str, Any] = {
        "benchmark": "benchmarks/events.py",
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "machine": {
            **machine(),
            "loadavg_start": os.getloadavg(),
            "note": "shared machine: other jobs ran at the same time",
        },
        "tools": {
            "bgmix": {"command": bgmix_cmd, "settings": "defaults; accuracy runs with --no-clips"},
            "dvr-scan": {
                "version": DVR_SCAN_VERSION,
                "settings": "defaults (MOG2, -t 0.15, -l 0.1s, -tb 1.5s, -tp 2s);"
                " accuracy runs with -so",
            },
        },
        "set": {
            "manifest": _shown(args.manifest),
            "split": args.split,
            "videos": len(videos),
            "frames": sum(v["frames"] for v in videos),
            "events": sum(len(v["events"]) for v in videos),
        },
        "rule": (
            "one-to-one maximum matching of reported (padded) ranges and true activity"
            " ranges sharing >= 1 frame (ties: max total IoU); counts pooled before P/R/F;"
            " errors in frames, raw = reported range, core = reported range minus the"
            " tool's configured padding"
        ),
    }
    with tempfile.TemporaryDirectory(prefix="events-bench-") as tmp:
        work = Path(tmp)
        if not args.no_accuracy:
            t0 = time.perf_counter()
            per_video = accuracy(videos, tools, bgmix_cmd, work)
            summary = {t: summarise(r) for t, r in per_video.items()}
            print()
            print_table(summary, tools)
            result["accuracy"] = {"summary": summary, "videos": per_video}
            result["accuracy_wall_s"] = round(time.perf_counter() - t0, 1)
        speed_res: dict[str, Any] = {}
        if not args.no_speed:
            print("\nwall time with clips, 1080p:")
            speed_res = speed(tools, bgmix_cmd, work, args.repeats)
            result["speed_1080p"] = speed_res
            if "median_s" in speed_res:
                print(
                    "  median wall s:", speed_res["median_s"], "CPU s:", speed_res["median_cpu_s"]
                )
    if "accuracy" in result and set(tools) == set(TOOLS):
        result["targets"] = targets(result["accuracy"]["summary"], speed_res)
        print("\ntargets:", json.dumps(result["targets"]))
    result["machine"]["loadavg_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
