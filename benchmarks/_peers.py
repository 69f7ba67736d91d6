"""Shared by the benchmarks: the DVR-Scan peer in its own virtual environment, real
H.264 test files made from the shared videos, and what machine a result comes from.

DVR-Scan brings its own OpenCV build (``opencv-contrib-python``), which must not meet
bgmix's ``opencv-contrib-python-headless`` in one environment, so the benchmark makes
a separate virtual environment for it under ``benchmarks/_cache/`` (ignored by git)
the first time it runs, from the package registry, and calls its command line there.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / "_cache"
DVR_SCAN_VERSION = "1.8.2.1"

sys.path.insert(0, str(ROOT / "src"))


def data_root() -> Path:
    """The shared real data (``$BGMIX_DATA`` or ``../shared/data``)."""
    env = os.environ.get("BGMIX_DATA")
    return Path(env) if env else ROOT.parent / "shared" / "data"


def machine() -> dict:
    """What the figures of a run depend on: CPU model, the instruction set LLVM (so
    Numba) compiles for, and the widest vector extension. The ratios to OpenCV move
    with it: wide vectors favour bgmix's vectorised passes more than OpenCV's
    per-pixel loops."""
    import llvmlite.binding as llvm

    model, flags = "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and not model:
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                flags = set(value.split())
    except OSError:  # not Linux
        model = platform.processor()
    simd = next((f for f in ("avx512f", "avx2", "avx", "sse4_2") if f in flags), "")
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "llvm_cpu": llvm.get_host_cpu_name(),
        "simd": simd,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def dvr_scan() -> Path:
    """The ``dvr-scan`` executable of its own virtual environment, made when missing."""
    env_dir = CACHE / f"dvr-scan-{DVR_SCAN_VERSION}"
    exe = env_dir / "bin" / "dvr-scan"
    if not exe.exists():
        print(f"making the DVR-Scan {DVR_SCAN_VERSION} environment in {env_dir} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
        subprocess.run(
            [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q",
             f"dvr-scan=={DVR_SCAN_VERSION}"],
            check=True,
        )  # fmt: skip
    return exe


def h264_video(
    src: Path,
    size: tuple[int, int],
    *,
    loops: int = 1,
    frames: int | None = None,
    name: str | None = None,
) -> Path:
    """A real H.264 MP4 of ``src`` resized to ``size`` (width, height), played
    ``loops`` times back to back (only its first ``frames`` frames, if given); made
    once and kept in ``benchmarks/_cache/videos``."""
    import bgmix

    w, h = size
    part = "" if frames is None else f"_first{frames}"
    out = CACHE / "videos" / (name or f"{src.stem}_{w}x{h}_x{loops}{part}.mp4")
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with bgmix.open_source(src, size=size) as first:
        fps = first.info.fps or 25.0
    with bgmix.open_sink(out, fps=fps, crf=20, preset="veryfast") as sink:
        for _ in range(loops):
            with bgmix.open_source(src, size=size, stop=frames) as source:
                for frame in source:
                    sink.write(frame)
    return out
