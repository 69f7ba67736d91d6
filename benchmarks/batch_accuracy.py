"""F-measure of the batch methods on the shared real sequences, fitted on 40% and on all frames.

Every sequence of ``../shared/data/sequences`` (or ``$BGMIX_DATA/sequences``) is
evaluated with :func:`bgmix.metrics.evaluate` (CDnet metrics over each sequence's
temporal ROI and ROI) for the batch methods ``em``, ``kmeans``, ``median`` and
``mean`` with their default parameters, in two modes:

* ``train=0.4``: ``fit`` on the first 40% of the frames, then every frame is
  classified with ``apply`` (the fitted models stay frozen; ``median`` and ``mean``
  keep updating online, as they do by default);
* ``train="all"``: ``fit`` on every frame (offline), then every frame is classified.

The evaluated frames are the same in both modes. Run as
``.venv/bin/python benchmarks/batch_accuracy.py [method ...]``; prints the F-measure
per sequence and method, and the overall (CDnet-style category average) F-measure, and
writes ``benchmarks/results/batch_accuracy.json``.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _peers import data_root  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
METHODS = ["em", "kmeans", "median", "mean"]
MODES = [("train=0.4", 0.4), ("train=all", "all")]


def main(argv: list[str]) -> dict:
    from bgmix.metrics import evaluate, find_sequences

    methods = argv or METHODS
    seq_root = data_root() / "sequences"
    if not seq_root.is_dir():
        raise SystemExit(f"no sequences at {seq_root} (set BGMIX_DATA)")
    sequences = find_sequences(seq_root)
    out: dict = {"data": str(seq_root), "methods": methods, "modes": {}}
    for label, train in MODES:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ConvergenceWarning of short sequences
            report = evaluate(sequences, methods, train=train)
        seconds = time.perf_counter() - t0
        per_seq = {}
        for name in methods:
            for res in report.for_method(name):
                per_seq.setdefault(res.sequence, {})[name] = res.f_measure
        overall = {name: report.overall(name)["f_measure"] for name in methods}
        seq_mean = {name: report.sequence_mean(name)["f_measure"] for name in methods}
        out["modes"][label] = {
            "train": train,
            "seconds": seconds,
            "f_measure": per_seq,
            "overall_f_measure": overall,
            "sequence_mean_f_measure": seq_mean,
            "report": report.to_dict(),
        }
        print(f"\nF-measure, {label} ({seconds:.0f} s)")
        print(f"| {'sequence':<26} | " + " | ".join(f"{m:>7}" for m in methods) + " |")
        print("|" + "-" * 28 + "|" + "|".join("-" * 9 for _ in methods) + "|")
        for seq in sorted(per_seq):
            print(
                f"| {seq:<26} | "
                + " | ".join(f"{per_seq[seq].get(m, float('nan')):7.3f}" for m in methods)
                + " |"
            )
        print(
            f"| {'overall (category mean)':<26} | "
            + " | ".join(f"{overall[m]:7.3f}" for m in methods)
            + " |"
        )
        print(
            f"| {'mean over sequences':<26} | "
            + " | ".join(f"{seq_mean[m]:7.3f}" for m in methods)
            + " |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "batch_accuracy.json").write_text(json.dumps(out, indent=2, default=str))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
