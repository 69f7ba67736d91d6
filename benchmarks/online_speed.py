"""Frames per second of bgmix's online mixtures against OpenCV, and gmm-full vs NumPy.

Run from the repository root::

    .venv/bin/python benchmarks/online_speed.py            # full run (a few minutes)
    .venv/bin/python benchmarks/online_speed.py --quick    # fewer frames and repeats

Part 1: ``mog2`` (with OpenCV's parameters, so both do the same work: shadows on, no
post-processing), ``mog2`` with bgmix's defaults, ``mog`` and ``gmm-full`` (kernels
only, no post-processing) against OpenCV's MOG2, KNN and bgsegm MOG at 320x240,
640x480, 1280x720 and 1920x1080, with 1 and 2 threads (OpenCV through
``cv2.setNumThreads``, bgmix through ``n_jobs``). bgmix is timed through its public
``apply`` (RGB frames, validation included); OpenCV is called directly on BGR frames
(no adapter, no colour conversion), so any overhead counts against bgmix.

Part 2: ``gmm-full`` against a plain NumPy implementation of the same full-covariance
model (vectorised over pixels) at 160x120.

Input: real footage (``vtest.avi`` from the shared data, pedestrians, resized to each
size) when available, else the synthetic ``baseline`` scene. Every method is warmed
up first (Numba compilation excluded); each figure is the median over repeats of the
mean time per frame. Frames/s come from wall-clock time; the CPU time per frame (all
threads of the process) is recorded too, as it is much less disturbed by other work
on a shared machine. The load average is recorded with the results. Prints tables
and writes ``benchmarks/results/online_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import cv2  # noqa: E402

import bgmix  # noqa: E402
from _peers import data_root, machine  # noqa: E402
from bgmix._atomic import atomic_output  # noqa: E402
from bgmix.background import make_subtractor  # noqa: E402
from bgmix.background._mog2 import MOG2  # noqa: E402

SIZES = [(320, 240), (640, 480), (1280, 720), (1920, 1080)]
THREADS = [1, 2]
RESULTS = ROOT / "benchmarks" / "results" / "online_speed.json"


# --------------------------------------------------------------------------- input
def load_source(n: int) -> tuple[list[np.ndarray], str]:
    """``n`` RGB frames of real footage (or synthetic ones) at their native size."""
    video = data_root() / "videos" / "vtest.avi"
    if video.is_file():
        cap = cv2.VideoCapture(str(video))
        frames = []
        while len(frames) < n:
            ok, bgr = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        cap.release()
        if len(frames) == n:
            return frames, f"real: {video.name} (768x576 pedestrians), resized"
    from bgmix.synthetic import generate

    frames, _ = generate("baseline", width=640, height=480, n_frames=n, seed=0).to_arrays()
    return list(frames), "synthetic: bgmix.synthetic 'baseline' scene, resized"


def resized(frames: list[np.ndarray], size: tuple[int, int]) -> list[np.ndarray]:
    w, h = size
    interp = cv2.INTER_AREA if w <= frames[0].shape[1] else cv2.INTER_LINEAR
    return [np.ascontiguousarray(cv2.resize(f, (w, h), interpolation=interp)) for f in frames]


# --------------------------------------------------------------------------- timing
def opencv_runner(kind: str):
    def make():
        if kind == "opencv-mog2":
            return cv2.createBackgroundSubtractorMOG2()
        if kind == "opencv-knn":
            return cv2.createBackgroundSubtractorKNN()
        return cv2.bgsegm.createBackgroundSubtractorMOG()

    return make


def bgmix_runner(name: str, params: dict, threads: int):
    def make():
        return make_subtractor(name, **params, n_jobs=threads)

    return make


def time_method(make, frames, warmup, repeats, bgr: bool) -> tuple[float, float]:
    """Median over repeats of the mean seconds per frame (model warmed up first):
    wall-clock time, and the process's CPU time (all threads), which is less
    sensitive to other processes on a shared machine."""
    model = make()
    seq = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in frames] if bgr else frames
    for f in seq[:warmup]:
        model.apply(f)
    timed = seq[warmup:]
    wall, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for f in timed:
            model.apply(f)
        wall.append((time.perf_counter() - t0) / len(timed))
        cpu.append((time.process_time() - c0) / len(timed))
    return statistics.median(wall), statistics.median(cpu)


def speed_table(frames_src, quick: bool) -> list[dict]:
    methods = [
        ("opencv-mog2", None, {}),
        ("opencv-knn", None, {}),
        ("opencv-mog", None, {}),
        ("mog2 (OpenCV params)", "mog2", dict(MOG2.OPENCV_PARAMS)),
        ("mog2 (defaults)", "mog2", {}),
        ("mog (no post-proc.)", "mog", {"postprocess": None}),
        ("gmm-full (no post-proc.)", "gmm-full", {"postprocess": None, "random_state": 0}),
    ]
    rows = []
    for size in SIZES:
        frames = resized(frames_src, size)
        n_px = size[0] * size[1]
        n_timed = max(10, int((20 if quick else 60) * 76800 / n_px) + 10)
        n_timed = min(n_timed, len(frames) - 20)
        warmup = 20
        seq = frames[: warmup + n_timed]
        repeats = 3 if quick else 5
        for threads in THREADS:
            cv2.setNumThreads(threads)
            for label, name, params in methods:
                if name is None:
                    sec, cpu = time_method(opencv_runner(label), seq, warmup, repeats, bgr=True)
                else:
                    sec, cpu = time_method(
                        bgmix_runner(name, params, threads), seq, warmup, repeats, bgr=False
                    )
                rows.append(
                    {
                        "size": f"{size[0]}x{size[1]}",
                        "threads": threads,
                        "method": label,
                        "ms_per_frame": sec * 1e3,
                        "fps": 1.0 / sec,
                        "cpu_ms_per_frame": cpu * 1e3,
                    }
                )
                print(
                    f"  {size[0]}x{size[1]} {threads}T {label:26s} {1.0 / sec:8.1f} fps", flush=True
                )
    cv2.setNumThreads(cv2.getNumberOfCPUs())
    ref = {(r["size"], r["threads"]): r for r in rows if r["method"] == "opencv-mog2"}
    for r in rows:
        peer = ref[(r["size"], r["threads"])]
        r["ratio_vs_opencv_mog2"] = r["fps"] / peer["fps"]
        # CPU time per frame (all threads): the work done, whatever else runs.
        r["cpu_ratio_vs_opencv_mog2"] = peer["cpu_ms_per_frame"] / r["cpu_ms_per_frame"]
    return rows


# --------------------------------------------------------------------------- NumPy model
class NumpyGMMFull:
    """The ``gmm-full`` model in plain NumPy, vectorised over pixels (float32).

    Same equations and parameters as :class:`bgmix.background._gmm_full.GMMFull`:
    Mahalanobis match test with ``np.linalg.solve``, owner = the matching component
    of highest ``w / sqrt(det Σ)``, ranked background rule, regularised covariance
    update, re-initialisation of the lightest component for unmatched pixels.
    """

    def __init__(
        self,
        first: np.ndarray,
        *,
        k=3,
        alpha=0.005,
        lam=3.0,
        var_init=100.0,
        var_min=4.0,
        ratio=0.7,
        seed=0,
    ):
        h, w, c = first.shape
        self.shape = (h, w)
        x = first.reshape(-1, c).astype(np.float32)
        n = x.shape[0]
        rng = np.random.default_rng(seed)
        self.w = -np.sort(-rng.dirichlet(np.ones(k), size=n), axis=1).astype(np.float32)
        self.mu = np.repeat(x[:, None, :], k, axis=1)
        self.cov = np.tile(np.eye(c, dtype=np.float32) * np.float32(var_init), (n, k, 1, 1))
        self.eye = np.eye(c, dtype=np.float32)
        self.alpha, self.lam2 = np.float32(alpha), np.float32(lam * lam)
        self.var_init, self.var_min, self.ratio = np.float32(var_init), np.float32(var_min), ratio

    def apply(self, frame: np.ndarray) -> np.ndarray:
        n, k, c = self.mu.shape
        x = frame.reshape(-1, c).astype(np.float32)
        e = x[:, None, :] - self.mu  # (n, k, c)
        sol = np.linalg.solve(self.cov, e[..., None])[..., 0]
        d2 = np.einsum("nkc,nkc->nk", e, sol)
        key = self.w / np.sqrt(np.linalg.det(self.cov))
        match = d2 < self.lam2
        masked_key = np.where(match, key, -np.inf)
        owner = masked_key.argmax(axis=1)
        matched = match.any(axis=1)
        kb = key[np.arange(n), owner]
        idx = np.arange(k)[None, :]
        before = (key > kb[:, None]) | ((key == kb[:, None]) & (idx < owner[:, None]))
        cum = (self.w * before).sum(axis=1)
        background = matched & (cum < self.ratio)
        lightest = self.w.argmin(axis=1)
        own = np.where(matched, owner, lightest)
        # A re-initialised component starts from weight 0; the others share its weight.
        rows = np.arange(n)
        ui = rows[~matched]
        if k > 1:
            spare = self.w[ui, lightest[ui]]
            self.w[ui] /= (1.0 - spare)[:, None]
            self.w[ui, lightest[ui]] = 0.0
        onehot = np.zeros((n, k), np.float32)
        onehot[np.arange(n), own] = 1.0
        self.w += self.alpha * (onehot - self.w)
        mi = rows[matched]
        em = e[mi, own[mi]]
        rho = (self.alpha / self.w[mi, own[mi]])[:, None]
        self.mu[mi, own[mi]] += rho * em
        outer = em[:, :, None] * em[:, None, :] + self.var_min * self.eye
        self.cov[mi, own[mi]] += rho[:, :, None] * (outer - self.cov[mi, own[mi]])
        self.mu[ui, own[ui]] = x[ui]
        self.cov[ui, own[ui]] = self.var_init * self.eye
        return np.where(background, 0, 255).astype(np.uint8).reshape(self.shape)


def numpy_vs_gmm_full(frames_src, quick: bool) -> dict:
    """gmm-full (1 and 2 threads) first, then NumPy: NumPy's BLAS threads keep
    spinning for a while after each call and would slow down whatever runs next."""
    size = (160, 120)
    frames = resized(frames_src, size)
    warmup = 10
    out: dict = {"size": "160x120"}
    seq = frames[: warmup + (60 if quick else 200)]
    bgmix_sec = {}
    for threads in THREADS:
        bgmix_sec[threads] = time_method(
            bgmix_runner("gmm-full", {"postprocess": None, "random_state": 0}, threads),
            seq,
            warmup,
            3 if quick else 5,
            bgr=False,
        )
    n_np = 8 if quick else 20
    ref = NumpyGMMFull(frames[0])
    for f in frames[1:warmup]:
        ref.apply(f)
    t0, c0 = time.perf_counter(), time.process_time()
    for f in frames[warmup : warmup + n_np]:
        ref.apply(f)
    np_sec = (time.perf_counter() - t0) / n_np
    np_cpu = (time.process_time() - c0) / n_np
    out.update(
        numpy_fps=1.0 / np_sec, numpy_ms_per_frame=np_sec * 1e3, numpy_cpu_ms_per_frame=np_cpu * 1e3
    )
    for threads, (sec, cpu) in bgmix_sec.items():
        out[f"gmm_full_fps_{threads}T"] = 1.0 / sec
        out[f"ratio_{threads}T"] = np_sec / sec
        out[f"cpu_ratio_{threads}T"] = np_cpu / cpu
    # Same model, same input: how often do the masks agree?
    ours = make_subtractor("gmm-full", postprocess=None, random_state=0, n_jobs=1)
    ref = NumpyGMMFull(frames[0])
    agree = []
    for f in frames[:40]:
        agree.append(float(np.mean(ours.apply(f) == ref.apply(f))))
    out["mask_agreement_numpy_vs_gmm_full"] = float(np.mean(agree))
    return out


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames and repeats")
    args = parser.parse_args()
    frames_src, source = load_source(200)
    print(f"input: {source}; {len(frames_src)} frames; cpus: {os.cpu_count()}")
    rows = speed_table(frames_src, args.quick)
    numpy_cmp = numpy_vs_gmm_full(frames_src, args.quick)

    print("\nframes/s (ratio to OpenCV MOG2 with the same number of threads)")
    labels = list(dict.fromkeys(r["method"] for r in rows))
    head = f"{'method':26s}" + "".join(
        f"{s[0]}x{s[1]} {t}T".rjust(19) for s in SIZES for t in THREADS
    )
    print(head)
    for label in labels:
        cells = []
        for s in SIZES:
            for t in THREADS:
                r = next(
                    r
                    for r in rows
                    if r["method"] == label and r["threads"] == t and r["size"] == f"{s[0]}x{s[1]}"
                )
                cells.append(f"{r['fps']:8.0f} ({r['ratio_vs_opencv_mog2']:4.2f}x)".rjust(19))
        print(f"{label:26s}" + "".join(cells))
    print("\nCPU time per frame, ratio to OpenCV MOG2 (1 thread)")
    for label in labels:
        cells = []
        for s in SIZES:
            r = next(
                r
                for r in rows
                if r["method"] == label and r["threads"] == 1 and r["size"] == f"{s[0]}x{s[1]}"
            )
            cells.append(f"{r['cpu_ms_per_frame']:7.2f} ms ({r['cpu_ratio_vs_opencv_mog2']:4.2f}x)")
        print(f"{label:26s}" + "".join(c.rjust(19) for c in cells))
    print(
        f"\ngmm-full vs NumPy at 160x120: NumPy {numpy_cmp['numpy_fps']:.1f} fps; gmm-full "
        f"{numpy_cmp['gmm_full_fps_1T']:.0f} fps 1T ({numpy_cmp['ratio_1T']:.0f}x, CPU time "
        f"{numpy_cmp['cpu_ratio_1T']:.0f}x), {numpy_cmp['gmm_full_fps_2T']:.0f} fps 2T "
        f"({numpy_cmp['ratio_2T']:.0f}x); "
        f"mask agreement {100 * numpy_cmp['mask_agreement_numpy_vs_gmm_full']:.2f}%"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "online_speed",
        "input": source,
        "quick": args.quick,
        "machine": machine(),
        "versions": {
            "bgmix": bgmix.__version__,
            "opencv": cv2.__version__,
            "numpy": np.__version__,
        },
        "timing": "median over repeats of the mean time per frame after warm-up; bgmix through "
        "apply() on RGB frames, OpenCV called directly on BGR frames; fps from wall-clock "
        "time, cpu_ms_per_frame from the process's CPU time (all threads)",
        "load_average_at_end": list(os.getloadavg()),
        "rows": rows,
        "gmm_full_vs_numpy": numpy_cmp,
    }
    with atomic_output(RESULTS, what="benchmark results") as tmp:
        tmp.write_text(json.dumps(payload, indent=2))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
