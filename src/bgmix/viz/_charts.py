"""The report's charts, drawn with matplotlib as small SVG files (text kept as text).

No pyplot: each chart is a :class:`matplotlib.figure.Figure` of its own, so nothing
global changes and nothing opens a window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["frame_f_measure", "pareto_front", "per_frame_chart", "speed_chart"]

#: Per-frame curves are binned to at most this many points (counts summed per bin).
MAX_POINTS = 300

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "bgmix",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both coordinates (higher is
    better for both), ordered by the first coordinate; NaN points are never on it.

    >>> pareto_front([(1, 0.9), (10, 0.5), (5, 0.4), (20, 0.2)])
    [0, 1, 3]
    """
    ok = [i for i, (x, y) in enumerate(points) if math.isfinite(x) and math.isfinite(y)]
    front = []
    for i in ok:
        xi, yi = points[i]
        beaten = any(
            points[j][0] >= xi and points[j][1] >= yi and points[j] != points[i] for j in ok
        )
        if not beaten:
            front.append(i)
    return sorted(front, key=lambda i: points[i][0])


def _save(fig, path: Path) -> None:
    fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")


def speed_chart(
    methods: Sequence[str], fps: Sequence[float], f_measure: Sequence[float], path: Path
) -> list[int]:
    """F-measure against frames/s (log scale), one point per method, the Pareto front
    drawn as a line through the methods nothing beats on both; returns its indices."""
    import matplotlib
    from matplotlib.figure import Figure

    points = [(float(x), float(y)) for x, y in zip(fps, f_measure, strict=True)]
    front = pareto_front(points)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(6.4, 3.6))
        ax = fig.add_subplot()
        for i, (name, (x, y)) in enumerate(zip(methods, points, strict=True)):
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            on = i in front
            ax.plot(x, y, marker="*" if on else "o", ms=11 if on else 7, color="C1" if on else "C0")
            ax.annotate(name, (x, y), xytext=(5, 4), textcoords="offset points")
        if len(front) > 1:
            ax.plot([points[i][0] for i in front], [points[i][1] for i in front], "--", c="C1")
        if any(math.isfinite(x) and x > 0 for x, _ in points):
            ax.set_xscale("log")
        ax.set_xlabel("frames per second (method time)")
        ax.set_ylabel("F-measure")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.set_title("Accuracy against speed (stars and dashes: Pareto front)")
        _save(fig, path)
    return front


def frame_f_measure(counts: np.ndarray, max_points: int = MAX_POINTS) -> tuple[np.ndarray, ...]:
    """Frame numbers and F-measure per frame from recorded counts.

    Parameters
    ----------
    counts : (N, 7) int ndarray
        Rows of frame number, TP, FP, FN, TN, shadow FP, shadow.
    max_points : int
        With more frames, consecutive frames are pooled into at most this many bins
        (their counts summed, as CDnet sums a sequence's counts).

    Returns
    -------
    frames, f : (M,) ndarray
        Frame number (of the bin's first frame) and F-measure; NaN where undefined
        (no foreground in the ground truth nor in the mask).
    """
    counts = np.asarray(counts, np.int64).reshape(-1, 7)
    if len(counts) > max_points:
        edges = np.linspace(0, len(counts), max_points + 1).astype(int)
        frames = counts[edges[:-1], 0]
        sums = np.add.reduceat(counts[:, 1:4], edges[:-1], axis=0)
    else:
        frames, sums = counts[:, 0], counts[:, 1:4]
    tp, fp, fn = (sums[:, k].astype(float) for k in range(3))
    den = 2 * tp + fp + fn
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(den > 0, 2 * tp / den, np.nan)
    return frames, f


def per_frame_chart(
    methods: Sequence[str], counts: Sequence[np.ndarray], title: str, path: Path
) -> None:
    """One line per method: F-measure of each scored frame (binned past
    :data:`MAX_POINTS` frames)."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(6.4, 2.4))
        ax = fig.add_subplot()
        defined = False
        for name, c in zip(methods, counts, strict=True):
            frames, f = frame_f_measure(c)
            ax.plot(frames, f, lw=1.2, label=name)
            defined |= bool(np.isfinite(f).any())
        if not defined:
            ax.text(0.5, 0.5, "F undefined on every frame (no foreground in truth or masks)",
                    ha="center", va="center", transform=ax.transAxes)  # fmt: skip
        ax.set_ylim(0, 1)
        ax.set_xlabel("frame")
        ax.set_ylabel("F-measure")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8, frameon=False, ncol=min(4, len(methods)))
        _save(fig, path)
