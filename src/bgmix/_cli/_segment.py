"""``bgmix segment``: segment an image with a Gaussian mixture or k-means, and sample it."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import click

log = logging.getLogger(__name__)


def _write_png(path: Path, array: Any, *, palette: Any = None) -> None:
    import numpy as np
    from PIL import Image

    from bgmix._atomic import atomic_output

    if palette is not None:
        indices = np.ascontiguousarray(array, np.uint8)
        img = Image.frombytes("P", (indices.shape[1], indices.shape[0]), indices.tobytes())
        flat = np.zeros(768, np.uint8)
        flat[: palette.size] = palette.reshape(-1)
        img.putpalette(flat.tolist())
    else:
        img = Image.fromarray(array)
    with atomic_output(path, what="output image") as tmp:
        img.save(tmp, format="PNG")


def _write_outputs(
    out_dir: Path,
    stem: str,
    image: Any,
    result: Any,
    other: Any,
    sample: Any,
    *,
    figure: bool,
    timings: dict[str, float],
) -> list[Path]:
    import numpy as np

    from bgmix._atomic import atomic_output
    from bgmix.segment._figure import save_segmentation_figure

    written = []
    k = result.n_components
    palette_path = out_dir / f"{stem}_palette.png"
    if result.palette_image.ndim == 3 and k <= 256:
        _write_png(palette_path, result.labels.astype(np.uint8), palette=result.colors)
    else:
        _write_png(palette_path, result.palette_image)
    written.append(palette_path)

    labels_path = out_dir / f"{stem}_labels.png"
    _write_png(labels_path, result.labels.astype(np.uint8 if k <= 255 else np.uint16))
    written.append(labels_path)

    sample_path = out_dir / f"{stem}_sample.png"
    _write_png(sample_path, sample)
    written.append(sample_path)

    if figure:
        fig_path = out_dir / f"{stem}_figure.png"
        names = {"gmm": "GMM", "kmeans": "k-means"}
        panels = {names[r.method]: r for r in sorted((result, other), key=lambda r: r.method)}
        save_segmentation_figure(
            fig_path,
            image,
            panels,
            sample,
            title=f"{stem}: K={k}, {result.color_space}"
            + (f", spatial weight {result.spatial_weight:g}" if result.spatial_weight else ""),
        )
        written.append(fig_path)

    info = {
        "image": stem,
        "method": result.method,
        "n_components": k,
        "color_space": result.color_space,
        "spatial_weight": result.spatial_weight,
        "shape": list(result.shape),
        "feature_names": _feature_names(result),
        "seconds": timings,
        "model": _model_summary(result.model),
        "components": [
            {
                "label": i,
                "color_rgb": result.colors[i].tolist(),
                "weight": float(result.weights[i]),
                "mean": result.means[i].tolist(),
                "covariance": result.covariances[i].tolist(),
            }
            for i in range(k)
        ],
    }
    json_path = out_dir / f"{stem}_components.json"
    with atomic_output(json_path, what="components file") as tmp:
        tmp.write_text(json.dumps(info, indent=2))
    written.append(json_path)
    return written


def _feature_names(result: Any) -> list[str]:
    colour = {"rgb": ["R", "G", "B"], "lab": ["L*", "a*", "b*"], "hsv": ["H", "S", "V"]}
    names = colour[result.color_space] if result.n_color_features == 3 else ["grey"]
    if result.spatial_scale > 0:
        names = [*names, "row", "col"]
    return names


def _model_summary(model: Any) -> dict[str, Any]:
    if hasattr(model, "lower_bound_"):
        return {
            "lower_bound": model.lower_bound_,
            "n_iter": model.n_iter_,
            "converged": model.converged_,
            "covariance_type": model.covariance_type,
        }
    return {"inertia": model.inertia_, "n_iter": model.n_iter_}


@click.command("segment")
@click.argument("image", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-k",
    "--n-components",
    default=10,
    show_default=True,
    type=int,
    help="Number of regions (mixture components / clusters).",
)
@click.option(
    "-m",
    "--method",
    type=click.Choice(["gmm", "kmeans"]),
    default="gmm",
    show_default=True,
    help="Model for the palette, labels and sample.",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Output folder (created if missing; its parent must exist).",
)
@click.option(
    "--color-space",
    type=click.Choice(["rgb", "lab", "hsv"]),
    default="rgb",
    show_default=True,
    help="Colour features.",
)
@click.option(
    "--spatial-weight",
    type=float,
    default=0.0,
    show_default=True,
    help="Weight of the pixel position (0: colour only; 1: crossing the image "
    "costs as much as the whole lightness range).",
)
@click.option(
    "--covariance-type",
    type=click.Choice(["full", "tied", "diag", "spherical"]),
    default="full",
    show_default=True,
    help="GMM covariance type.",
)
@click.option(
    "--max-samples",
    type=int,
    default=200_000,
    show_default=True,
    help="Fit on at most this many random pixels (0: all), label every pixel.",
)
@click.option("--n-init", type=int, default=1, show_default=True, help="Restarts.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--threads", type=int, default=None, help="Threads (default: all).")
@click.option("--no-figure", is_flag=True, help="Do not write the comparison figure.")
def segment(
    image: Path,
    n_components: int,
    method: str,
    out_dir: Path,
    color_space: str,
    spatial_weight: float,
    covariance_type: str,
    max_samples: int,
    n_init: int,
    seed: int,
    threads: int | None,
    no_figure: bool,
) -> None:
    """Segment IMAGE into K regions and write, into the output folder:

    \b
      <name>_palette.png     every pixel in its region's mean colour
      <name>_labels.png      the label map (uint8, or uint16 when K > 255)
      <name>_sample.png      an image sampled from the fitted mixture
      <name>_figure.png      original | GMM | k-means | sample, with component weights
      <name>_components.json weight, mean and covariance of every component

    The figure fits both models; -m chooses the one behind the other files.
    """
    from bgmix.exceptions import OutputError, ParameterError
    from bgmix.io import read_image
    from bgmix.segment import sample_image, segment_image

    if max_samples < 0:
        raise ParameterError(f"--max-samples must be >= 0 (0: all pixels); got {max_samples}")
    if not out_dir.exists():
        if not out_dir.parent.is_dir():
            raise OutputError(f"output folder {str(out_dir)!r}: its parent folder does not exist")
        out_dir.mkdir()
    elif not out_dir.is_dir():
        raise OutputError(f"output {str(out_dir)!r} exists and is not a folder")
    stem = image.stem
    targets = [
        out_dir / f"{stem}_{s}"
        for s in ("palette.png", "labels.png", "sample.png", "figure.png", "components.json")
    ]
    if image.exists() and any(t.resolve() == image.resolve() for t in targets):
        raise OutputError(f"an output would overwrite the input image {str(image)!r}")

    pixels = read_image(image, mode=None)
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[..., :3]
    if pixels.dtype != "uint8":
        pixels = read_image(image, mode="RGB")
    options = dict(
        n_components=n_components,
        color_space=color_space,
        spatial_weight=spatial_weight,
        covariance_type=covariance_type,
        max_samples=max_samples or None,
        n_init=n_init,
        random_state=seed,
        n_jobs=threads,
    )
    timings: dict[str, float] = {}
    results = {}
    methods = [method] if no_figure else [method, "kmeans" if method == "gmm" else "gmm"]
    for name in methods:
        t0 = time.perf_counter()
        results[name] = segment_image(pixels, method=name, **options)
        timings[f"fit_{name}"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    sample = sample_image(results[method], random_state=seed)
    timings["sample"] = round(time.perf_counter() - t0, 3)
    other = results[methods[-1]]
    written = _write_outputs(
        out_dir, stem, pixels, results[method], other, sample, figure=not no_figure, timings=timings
    )
    for path in written:
        click.echo(str(path))
