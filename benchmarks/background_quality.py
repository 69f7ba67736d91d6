"""Background-image quality (SBMnet metrics) of every method on the synthetic scenarios.

For every scenario of :data:`bgmix.synthetic.SCENARIOS` (default size and length,
seed 0) and every registered method present at run time:

* batch methods (family ``"batch"``, or any method with ``requires_fit``) are fitted
  on all the frames (offline);
* online methods (bgmix's own and OpenCV's peers) see every frame once through
  ``apply`` with their automatic learning rate;

then the method's ``get_background_image()`` is compared with the scene's true
background (``scene.background``: the static scene under the light of the last
frame) with :func:`bgmix.metrics.background_metrics`: AGE, pEPs, pCEPs (lower is
better), PSNR and MS-SSIM (higher is better). A method that has no background image
(an OpenCV peer that does not expose one) is listed as skipped with the reason.

Run as ``.venv/bin/python benchmarks/background_quality.py [method ...]``; prints one
table per scenario and a summary (mean over scenarios), and writes
``benchmarks/results/background_quality.json``.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
METRICS = ("age", "peps", "pceps", "psnr", "ms_ssim")
HEADERS = ("AGE", "pEPs %", "pCEPs %", "PSNR dB", "MS-SSIM")


def methods_to_run(requested: list[str]) -> list[str]:
    from bgmix.background import available_methods

    names = available_methods()
    if requested:
        unknown = sorted(set(requested) - set(names))
        if unknown:
            raise SystemExit(f"unknown methods: {', '.join(unknown)}")
        return requested
    return names


def background_of(name: str, frames: np.ndarray) -> tuple[np.ndarray, str, float]:
    """The method's background image after seeing ``frames``, its mode and the seconds."""
    from bgmix.background import make_subtractor, method_info

    sub = make_subtractor(name)
    batch = method_info(name).family == "batch" or sub.requires_fit
    t0 = time.perf_counter()
    if batch:
        sub.fit(frames)
    else:
        for f in frames:
            sub.apply(f)
    bg = sub.get_background_image()
    return bg, ("fit on all frames" if batch else "online"), time.perf_counter() - t0


def main(argv: list[str]) -> dict:
    import warnings

    from bgmix.exceptions import BgmixError
    from bgmix.metrics import background_metrics
    from bgmix.synthetic import SCENARIOS, generate

    names = methods_to_run(argv)
    results: dict = {"scenarios": {}, "skipped": {}, "modes": {}, "seconds": {}}
    for kind in SCENARIOS:
        scene = generate(kind, seed=0)
        frames, _ = scene.to_arrays()
        truth = np.asarray(scene.background)
        rows = {}
        for name in names:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    bg, mode, sec = background_of(name, frames)
            except BgmixError as exc:
                results["skipped"][name] = " ".join(str(exc).split())
                continue
            if bg.ndim == 2:
                bg = np.repeat(bg[:, :, None], 3, axis=2)
            m = background_metrics(bg, truth)
            rows[name] = {k: float(m[k]) for k in METRICS}
            results["modes"][name] = mode
            results["seconds"].setdefault(name, {})[kind] = sec
        results["scenarios"][kind] = {
            "size": f"{frames.shape[2]}x{frames.shape[1]}",
            "frames": int(frames.shape[0]),
            "methods": rows,
        }
        print(f"\n{kind} ({frames.shape[2]}x{frames.shape[1]}, {frames.shape[0]} frames)")
        print_table(rows, results["modes"])
        save(results)  # after every scenario: a long run keeps what it measured
    summary = {}
    for name in names:
        per = [sc["methods"][name] for sc in results["scenarios"].values() if name in sc["methods"]]
        if per:
            summary[name] = {
                k: float(np.mean([p[k] for p in per if math.isfinite(p[k])] or [math.nan]))
                for k in METRICS
            }
    results["summary_mean_over_scenarios"] = summary
    print(f"\nmean over the {len(results['scenarios'])} scenarios")
    print_table(summary, results["modes"])
    for name, why in results["skipped"].items():
        print(f"skipped {name}: {why}")
    save(results)
    return results


def save(results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "background_quality.json").write_text(json.dumps(results, indent=2))


def print_table(rows: dict, modes: dict) -> None:
    print(f"| {'method':<18} | {'mode':<17} | " + " | ".join(f"{h:>8}" for h in HEADERS) + " |")
    print("|" + "-" * 20 + "|" + "-" * 19 + "|" + "|".join("-" * 10 for _ in HEADERS) + "|")
    for name, m in sorted(rows.items(), key=lambda kv: kv[1]["age"]):
        cells = [
            f"{m['age']:8.2f}",
            f"{m['peps']:8.2f}",
            f"{m['pceps']:8.2f}",
            f"{m['psnr']:8.2f}",
            f"{m['ms_ssim']:8.4f}",
        ]
        print(f"| {name:<18} | {modes.get(name, ''):<17} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
