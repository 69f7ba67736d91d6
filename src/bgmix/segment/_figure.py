"""A comparison figure: original | segmentations | sample, with each component's colour
and weight."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bgmix._atomic import atomic_output
from bgmix._typing import StrPath
from bgmix.segment._segment import SegmentationResult

__all__ = ["save_segmentation_figure"]


def save_segmentation_figure(
    path: StrPath,
    image: np.ndarray,
    results: Mapping[str, SegmentationResult],
    sample: np.ndarray | None = None,
    *,
    title: str | None = None,
    dpi: int = 100,
) -> None:
    """Write a PNG figure comparing segmentations of one image.

    The top row shows the original, each segmentation's palette image and (if given)
    the sampled image; under each segmentation a bar shows its components, one
    segment per component in the component's mean colour, as wide as its weight, and
    labelled with the weight in percent when there is room.

    Parameters
    ----------
    path : path
        The ``.png`` to write (atomically: a temporary file renamed when complete).
    image : (H, W, 3) or (H, W) uint8 ndarray
        The original image.
    results : mapping of str to SegmentationResult
        Panel title -> segmentation, in display order (e.g. ``{"GMM": g, "k-means": k}``).
    sample : (H', W', 3) or (H', W') uint8 ndarray, optional
        An image sampled from one of the mixtures.
    title : str, optional
        Figure title.
    dpi : int, default 100
    """
    # The Agg canvas is attached to this figure only: no pyplot, no global backend change.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels: list[tuple[str, np.ndarray, SegmentationResult | None]] = [("original", image, None)]
    panels += [(name, res.palette_image, res) for name, res in results.items()]
    if sample is not None:
        panels.append(("sample", sample, None))
    h, w = image.shape[:2]
    n = len(panels)
    panel_w = 3.2
    fig = Figure(figsize=(panel_w * n, panel_w * h / w + 1.2), dpi=dpi)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, n, height_ratios=[h / w * 10, 1.6], hspace=0.25, wspace=0.05)
    for col, (name, img, res) in enumerate(panels):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(
            img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest"
        )
        ax.set_title(name if res is None else f"{name} (K={res.n_components})", fontsize=10)
        ax.set_axis_off()
        if res is not None:
            _component_bar(fig.add_subplot(grid[1, col]), res)
    if title:
        fig.suptitle(title, fontsize=11)
    with atomic_output(path, what="figure") as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight")


def _component_bar(ax, res: SegmentationResult) -> None:
    left = 0.0
    for k in range(res.n_components):
        colour = res.colors[k].astype(float) / 255.0
        rgb = np.repeat(colour, 3) if colour.size == 1 else colour
        weight = float(res.weights[k])
        ax.barh(0, weight, left=left, color=rgb, edgecolor="white", linewidth=0.5)
        if weight >= 0.06:
            luminance = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
            ax.text(
                left + weight / 2,
                0,
                f"{100 * weight:.0f}%",
                ha="center",
                va="center",
                fontsize=7,
                color="black" if luminance > 0.5 else "white",
            )
        left += weight
    ax.set_xlim(0, max(left, 1e-9))
    ax.set_ylim(-0.5, 0.5)
    ax.set_axis_off()
    ax.set_title("component colours and weights", fontsize=8)
