"""Writing a segmentation to a folder: palette, labels, sample, figure and components."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._atomic import atomic_directory
from bgmix._typing import StrPath
from bgmix.segment._segment import SegmentationResult

__all__ = ["SEGMENTATION_FILES", "write_segmentation"]

#: Files written by :func:`write_segmentation` for an image called ``<name>``.
SEGMENTATION_FILES = {
    "palette": "{name}_palette.png",
    "labels": "{name}_labels.png",
    "sample": "{name}_sample.png",
    "figure": "{name}_figure.png",
    "components": "{name}_components.json",
}


def write_segmentation(
    out_dir: StrPath,
    image: np.ndarray,
    result: SegmentationResult,
    *,
    sample: np.ndarray | None = None,
    compare: SegmentationResult | None = None,
    name: str = "image",
    timings: dict[str, float] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write a segmentation of ``image`` to the folder ``out_dir``.

    Files (``<name>`` is ``name``):

    - ``<name>_palette.png``: every pixel in its region's mean colour (an indexed
      PNG when K <= 256 and the image has colour);
    - ``<name>_labels.png``: the label map (uint8, or uint16 when K > 255);
    - ``<name>_sample.png``: ``sample`` (from :func:`sample_image`), when given;
    - ``<name>_figure.png``: original | ``result`` | ``compare`` | sample, with the
      component weights, when ``compare`` is given (the other model, e.g. k-means
      beside a GMM);
    - ``<name>_components.json``: weight, mean and covariance of every component,
      the model's convergence and ``timings``.

    Parameters
    ----------
    out_dir : path
        Output folder, written as a whole (:func:`bgmix._atomic.atomic_directory`):
        missing parents are created; an existing non-empty folder needs
        ``overwrite=True`` and is replaced only once the new one is complete.
    image : (H, W[, 3]) uint8 ndarray
        The segmented image.
    result : SegmentationResult
        From :func:`segment_image`.
    sample, compare, name, timings
        See above.
    overwrite : bool, default False

    Returns
    -------
    list of Path
        The files written, at their final place.
    """
    from bgmix.segment._figure import save_segmentation_figure

    k = result.n_components
    final = Path(out_dir)
    written: list[str] = []
    with atomic_directory(final, overwrite=overwrite) as tmp:

        def path(kind: str) -> Path:
            written.append(SEGMENTATION_FILES[kind].format(name=name))
            return tmp / written[-1]

        if result.palette_image.ndim == 3 and k <= 256:
            _write_png(path("palette"), result.labels.astype(np.uint8), palette=result.colors)
        else:
            _write_png(path("palette"), result.palette_image)
        _write_png(path("labels"), result.labels.astype(np.uint8 if k <= 255 else np.uint16))
        if sample is not None:
            _write_png(path("sample"), sample)
        if compare is not None:
            names = {"gmm": "GMM", "kmeans": "k-means"}
            panels = {names[r.method]: r for r in sorted((result, compare), key=lambda r: r.method)}
            weight = f", spatial weight {result.spatial_weight:g}" if result.spatial_weight else ""
            save_segmentation_figure(
                path("figure"),
                image,
                panels,
                sample,
                title=f"{name}: K={k}, {result.color_space}{weight}",
            )
        info = _components(result, name, timings or {})
        path("components").write_text(json.dumps(info, indent=2))
    return [final / f for f in written]


def _write_png(path: Path, array: np.ndarray, *, palette: np.ndarray | None = None) -> None:
    from PIL import Image

    if palette is not None:
        indices = np.ascontiguousarray(array, np.uint8)
        img = Image.frombytes("P", (indices.shape[1], indices.shape[0]), indices.tobytes())
        flat = np.zeros(768, np.uint8)
        flat[: palette.size] = palette.reshape(-1)
        img.putpalette(flat.tolist())
    else:
        img = Image.fromarray(array)
    img.save(path, format="PNG")


def _components(result: SegmentationResult, name: str, timings: dict[str, float]) -> dict:
    colour = {"rgb": ["R", "G", "B"], "lab": ["L*", "a*", "b*"], "hsv": ["H", "S", "V"]}
    features = colour[result.color_space] if result.n_color_features == 3 else ["grey"]
    if result.spatial_scale > 0:
        features = [*features, "row", "col"]
    model = result.model
    if hasattr(model, "lower_bound_"):
        summary: dict[str, Any] = {
            "lower_bound": model.lower_bound_,
            "n_iter": model.n_iter_,
            "converged": model.converged_,
            "covariance_type": model.covariance_type,
        }
    else:
        summary = {"inertia": model.inertia_, "n_iter": model.n_iter_}
    return {
        "image": name,
        "method": result.method,
        "n_components": result.n_components,
        "color_space": result.color_space,
        "spatial_weight": result.spatial_weight,
        "shape": list(result.shape),
        "feature_names": features,
        "seconds": timings,
        "model": summary,
        "components": [
            {
                "label": i,
                "color_rgb": result.colors[i].tolist(),
                "weight": float(result.weights[i]),
                "mean": result.means[i].tolist(),
                "covariance": result.covariances[i].tolist(),
            }
            for i in range(result.n_components)
        ],
    }
