"""Segmentation quality on BSDS500 (train, 200 images): PRI and VoI against human segmentations.

For every image of ``../shared/data/images/bsds500_train`` (or ``$BGMIX_DATA``) and
every configuration (GMM with full covariances and k-means; K in {2, 5, 10};
colour only and colour + position with ``--spatial-weight``), the image is segmented
with :func:`bgmix.segment.segment_image` in ``--color-space`` (default CIE Lab),
fitting on at most ``--max-samples`` random pixels (default 50,000 of the 154,401)
and labelling **every** pixel; the label map is scored with
:func:`bgmix.segment.probabilistic_rand_index` and
:func:`bgmix.segment.variation_of_information` (bits) against all the human
segmentations of the image (5.4 per image on average), and the scores are averaged
over the images, as the BSDS500 benchmark reports them.

Reference rows: a single region (K=1) and each human segmentation scored against the
other humans of the same image (leave one out), to bracket the scale.

Run as ``.venv/bin/python benchmarks/segmentation_quality.py [--limit N]``; prints
the table and writes ``benchmarks/results/segmentation_quality.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _peers import data_root  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BSDS = data_root() / "images" / "bsds500_train"
KS = (2, 5, 10)


def load_bsds(folder: Path, limit: int | None):
    """Yield ``(image_id, rgb uint8 image, [ground-truth label maps])``."""
    from bgmix.io import read_image

    images = sorted((folder / "images").glob("*.jpg"), key=lambda p: int(p.stem))
    if limit:
        images = images[:limit]
    for path in images:
        truths = sorted(
            (folder / "groundtruth_png").glob(f"{path.stem}_*.png"),
            key=lambda p: int(p.stem.split("_")[-1]),
        )
        if not truths:
            raise SystemExit(f"no ground truth for {path.name} in {folder / 'groundtruth_png'}")
        gts = [read_image(t, mode=None) for t in truths]
        yield path.stem, read_image(path), gts


def _threads() -> int:
    import numba

    return int(numba.get_num_threads())


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N images")
    parser.add_argument("--color-space", default="lab", choices=["rgb", "lab", "hsv"])
    parser.add_argument("--spatial-weight", type=float, default=1.0)
    parser.add_argument("--max-samples", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not (BSDS / "images").is_dir():
        print(f"BSDS500 not found at {BSDS}: nothing to do (set BGMIX_DATA)")
        return {}

    from bgmix.exceptions import ConvergenceWarning
    from bgmix.segment import probabilistic_rand_index, segment_image, variation_of_information

    configs = [
        (m, k, sw) for m in ("gmm", "kmeans") for sw in (0.0, args.spatial_weight) for k in KS
    ]
    scores: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, float] = {}
    not_converged: dict[str, int] = {}

    def key(m, k, sw):
        return f"{m} K={k} {'colour+position' if sw else 'colour'}"

    t_start = time.perf_counter()
    n_images = 0
    for _image_id, img, gts in load_bsds(BSDS, args.limit):
        n_images += 1
        for name, value in (("single region (K=1)", np.zeros(gts[0].shape, np.int32)),):
            s = scores.setdefault(name, {"pri": [], "voi": []})
            s["pri"].append(probabilistic_rand_index(value, gts))
            s["voi"].append(variation_of_information(value, gts))
        if len(gts) > 1:
            s = scores.setdefault("human vs other humans", {"pri": [], "voi": []})
            s["pri"].append(
                np.mean(
                    [probabilistic_rand_index(g, gts[:i] + gts[i + 1 :]) for i, g in enumerate(gts)]
                )
            )
            s["voi"].append(
                np.mean(
                    [variation_of_information(g, gts[:i] + gts[i + 1 :]) for i, g in enumerate(gts)]
                )
            )
        for m, k, sw in configs:
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                res = segment_image(
                    img,
                    k,
                    method=m,
                    color_space=args.color_space,
                    spatial_weight=sw,
                    max_samples=args.max_samples,
                    random_state=args.seed,
                )
            name = key(m, k, sw)
            seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0
            not_converged[name] = not_converged.get(name, 0) + sum(
                issubclass(w.category, ConvergenceWarning) and "max_iter" in str(w.message)
                for w in caught
            )
            s = scores.setdefault(name, {"pri": [], "voi": []})
            s["pri"].append(probabilistic_rand_index(res.labels, gts))
            s["voi"].append(variation_of_information(res.labels, gts))
        if n_images % 20 == 0:
            print(f"  {n_images} images, {time.perf_counter() - t_start:.0f} s", file=sys.stderr)
    elapsed = time.perf_counter() - t_start

    table = []
    for name, s in scores.items():
        table.append(
            {
                "config": name,
                "pri_mean": float(np.mean(s["pri"])),
                "voi_mean": float(np.mean(s["voi"])),
                "pri_median": float(statistics.median(s["pri"])),
                "voi_median": float(statistics.median(s["voi"])),
                "n_images": len(s["pri"]),
                "seconds_per_image": seconds.get(name, 0.0) / max(1, len(s["pri"])),
                "not_converged": not_converged.get(name, 0),
            }
        )
    out = {
        "data": f"BSDS500 train, {n_images} images (481x321), all human segmentations",
        "color_space": args.color_space,
        "spatial_weight": args.spatial_weight,
        "max_samples": args.max_samples,
        "seed": args.seed,
        "gmm": "GaussianMixture(covariance_type='full', init k-means, tol 1e-3, max_iter 100)",
        "kmeans": "KMeans(k-means++, n_init 1, tol 1e-4, max_iter 300)",
        "voi_units": "bits (log2), as the BSDS500 benchmark code",
        "elapsed_seconds": elapsed,
        "threads": _threads(),
        "table": table,
    }
    print(
        f"BSDS500 train: {n_images} images, colour space {args.color_space}, spatial weight "
        f"{args.spatial_weight:g}, fit on <= {args.max_samples} pixels, every pixel labelled; "
        f"{elapsed:.0f} s"
    )
    header = f"{'configuration':<30} {'PRI':>6} {'VoI':>6}   {'s/image':>7}"
    print(header)
    print("-" * len(header))
    for row in table:
        print(
            f"{row['config']:<30} {row['pri_mean']:6.3f} {row['voi_mean']:6.3f}   "
            f"{row['seconds_per_image']:7.3f}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "segmentation_quality.json").write_text(json.dumps(out, indent=2))
    print(f"wrote {RESULTS / 'segmentation_quality.json'}")
    return out


if __name__ == "__main__":
    main()
