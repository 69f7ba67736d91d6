"""Figures that explain low-rank backgrounds: spectrum, components, compression, two
backgrounds.

Every function builds a :class:`matplotlib.figure.Figure` directly (no ``pyplot``, no
global backend change), optionally writes it to ``path`` as PNG (atomically) and
returns it. matplotlib is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgmix._atomic import atomic_output
from bgmix._typing import StrPath
from bgmix._validation import check_int
from bgmix.exceptions import InputError, ParameterError
from bgmix.lowrank._matrix import frames_from_matrix
from bgmix.lowrank._svd import CompressionRow

__all__ = [
    "TwoBackgrounds",
    "plot_components",
    "plot_compression",
    "plot_singular_values",
    "plot_two_backgrounds",
    "save_figure",
    "two_backgrounds",
]


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Any, path: StrPath, *, dpi: int = 110) -> None:
    """Write ``fig`` to ``path`` as PNG through a temporary file (never half-written)."""
    with atomic_output(path, what="figure") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)


def _display(img: np.ndarray) -> tuple[np.ndarray, str | None]:
    """An (H, W) or (H, W, 3) float image scaled to [0, 1] for ``imshow``."""
    img = np.asarray(img, dtype=np.float64)
    lo, hi = float(img.min()), float(img.max())
    scaled = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return scaled, ("gray" if scaled.ndim == 2 else None)


def plot_singular_values(
    s: np.ndarray,
    *,
    total_energy: float | None = None,
    mark: int | None = None,
    title: str = "Singular values of the frame matrix",
    path: StrPath | None = None,
) -> Any:
    """The singular-value spectrum and the cumulative energy it explains.

    Parameters
    ----------
    s : (r,) ndarray
        Singular values, decreasing (all of them, or the leading ones).
    total_energy : float, optional
        :math:`\\|M\\|_F^2` when ``s`` holds only the leading values (so the cumulative
        energy is a fraction of the whole matrix); default ``sum(s**2)``.
    mark : int, optional
        A rank to mark with a vertical line (the background rank).
    title : str
    path : path, optional
        Write the figure there (PNG).

    Returns
    -------
    matplotlib.figure.Figure
        Left: :math:`\\sigma_i` on a log scale; right: :math:`\\sum_{j \\le i}
        \\sigma_j^2 / \\|M\\|_F^2`.
    """
    s = np.asarray(s, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.isfinite(s).all():
        raise InputError("plot_singular_values: s must be a non-empty 1-D array of finite values")
    total = float(np.sum(s**2)) if total_energy is None else float(total_energy)
    idx = np.arange(1, s.size + 1)
    fig = _figure(10, 3.6)
    ax1, ax2 = fig.subplots(1, 2)
    ax1.semilogy(idx, np.maximum(s, np.finfo(float).tiny), ".-", ms=4)
    ax1.set_xlabel("index i")
    ax1.set_ylabel(r"$\sigma_i$")
    ax1.set_title(title)
    ax1.grid(True, which="both", alpha=0.3)
    energy = np.cumsum(s**2) / total if total > 0 else np.ones_like(s)
    ax2.plot(idx, 100 * energy, ".-", ms=4, color="tab:green")
    ax2.set_xlabel("rank k")
    ax2.set_ylabel("energy kept (%)")
    ax2.set_title(r"$\sum_{i \leq k} \sigma_i^2 \, / \, \|M\|_F^2$")
    ax2.grid(True, alpha=0.3)
    if mark is not None:
        for ax in (ax1, ax2):
            ax.axvline(mark, color="tab:red", ls="--", lw=1, label=f"k = {mark}")
        ax2.legend(loc="lower right")
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_components(
    U: np.ndarray,
    frame_shape: tuple[int, ...],
    *,
    s: np.ndarray | None = None,
    n: int = 6,
    total_energy: float | None = None,
    path: StrPath | None = None,
) -> Any:
    """The first left singular vectors of a frame matrix shown as images.

    Parameters
    ----------
    U : (H * W * C, r) ndarray
        Left singular vectors (columns in the frame-matrix layout).
    frame_shape : (H, W) or (H, W, C)
    s : (r,) ndarray, optional
        Singular values, shown in the titles with the energy share of each component.
    n : int, default 6
        How many components (at most ``r``).
    total_energy : float, optional
        :math:`\\|M\\|_F^2` for the energy shares (default ``sum(s**2)``).
    path : path, optional
        Write the figure there (PNG).

    Returns
    -------
    matplotlib.figure.Figure
        Each component scaled to its own range (dark = most negative). The first is
        the mean-like background; the next ones are the main ways the frames vary
        (illumination, a second background, frequent foreground paths).
    """
    U = np.asarray(U)
    if U.ndim != 2:
        raise InputError(
            f"plot_components: U must be 2-D (pixels, components); got shape {U.shape}"
        )
    k = min(check_int("n", n, low=1), U.shape[1])
    images = frames_from_matrix(U[:, :k], frame_shape)
    cols = min(k, 3)
    rows = -(-k // cols)
    h, w = images.shape[1:3]
    fig = _figure(3.2 * cols, 3.2 * rows * h / w + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    total = None
    if s is not None:
        s = np.asarray(s, dtype=np.float64)
        total = float(np.sum(s**2)) if total_energy is None else float(total_energy)
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= k:
            continue
        img, cmap = _display(images[i])
        ax.imshow(img, cmap=cmap, interpolation="nearest")
        label = f"component {i + 1}"
        if s is not None and total:
            label += f"\n$\\sigma$={s[i]:.3g} ({100 * s[i] ** 2 / total:.2f}% energy)"
        ax.set_title(label, fontsize=9)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_compression(rows: Sequence[CompressionRow], *, path: StrPath | None = None) -> Any:
    """Compression ratio against relative error of the rank-``k`` approximations.

    Parameters
    ----------
    rows : sequence of CompressionRow
        From :func:`bgmix.lowrank.compression_table`.
    path : path, optional
        Write the figure there (PNG).

    Returns
    -------
    matplotlib.figure.Figure
        Left: relative error and compression ratio against the rank; right: the
        trade-off curve, error against ratio, each point labelled with its rank.
    """
    if not rows:
        raise InputError("plot_compression: no rows")
    k = np.array([r.rank for r in rows])
    err = np.array([r.relative_error for r in rows])
    ratio = np.array([r.compression_ratio for r in rows])
    fig = _figure(10, 3.8)
    ax1, ax3 = fig.subplots(1, 2)
    ax1.plot(k, 100 * err, "o-", color="tab:blue")
    ax1.set_xlabel("rank k")
    ax1.set_ylabel("relative error (%)", color="tab:blue")
    ax1.set_xscale("log")
    ax1.grid(True, alpha=0.3)
    ax2 = ax1.twinx()
    ax2.plot(k, ratio, "s--", color="tab:orange")
    ax2.set_ylabel("compression ratio", color="tab:orange")
    ax2.set_yscale("log")
    ax1.set_title(r"$\|M - M_k\|_F / \|M\|_F$ and $mn / (k(m+n+1))$")
    ax3.plot(ratio, 100 * err, "o-")
    for ki, x, y in zip(k, ratio, err, strict=True):
        ax3.annotate(f"k={ki}", (x, 100 * y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax3.set_xscale("log")
    ax3.set_xlabel("compression ratio")
    ax3.set_ylabel("relative error (%)")
    ax3.set_title("trade-off")
    ax3.grid(True, alpha=0.3)
    if path is not None:
        save_figure(fig, path)
    return fig


@dataclass
class TwoBackgrounds:
    """Backgrounds of one video made of two scenes (see :func:`two_backgrounds`).

    Attributes
    ----------
    frame_shape : (H, W, C)
    n_first : int
        Frames of the first scene (the next columns are the second scene).
    samples : (2, H * W * C) ndarray
        One input frame of each scene (the middle frame).
    backgrounds : dict of str to (2, H * W * C) ndarray
        For each model label (``"rank 1"``, ``"rank 2"``, ``"rpca"``), the background
        it gives for the two sample frames.
    errors : dict of str to (float, float)
        For each label, the mean absolute difference (0–255 scale) between the
        background of every frame and its own scene's median image, averaged over the
        frames of the first and of the second scene: a ghost of the other scene
        shows up as a large error.
    """

    frame_shape: tuple[int, ...]
    n_first: int
    samples: np.ndarray
    backgrounds: dict[str, np.ndarray] = field(default_factory=dict)
    errors: dict[str, tuple[float, float]] = field(default_factory=dict)


def two_backgrounds(
    M_first: np.ndarray,
    M_second: np.ndarray,
    frame_shape: tuple[int, ...],
    *,
    ranks: Sequence[int] = (1, 2),
    rpca_options: dict[str, Any] | None = None,
    random_state: int | np.random.Generator | None = 0,
) -> TwoBackgrounds:
    """Rank-1 against rank-``k`` backgrounds of a video that shows two scenes in turn.

    Parameters
    ----------
    M_first, M_second : (D, n1) and (D, n2) ndarray
        Frame matrices of the two scenes (same frame shape).
    frame_shape : (H, W) or (H, W, C)
    ranks : sequence of int, default (1, 2)
        The SVD ranks compared.
    rpca_options : dict, optional
        When given, :func:`bgmix.lowrank.rpca` (with these options) is run on the
        concatenated matrix too and its ``L`` added as ``"rpca"``.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    TwoBackgrounds

    Notes
    -----
    The matrix :math:`M = [M_1 \\; M_2]` has (about) two background directions. The
    rank-1 approximation fits one image per frame up to a scale, a blend of both
    scenes, so each background carries a ghost of the other scene; rank 2 spans both
    backgrounds and separates them.
    """
    from bgmix.lowrank._rpca import rpca
    from bgmix.lowrank._svd import as_matrix, randomized_svd

    A = as_matrix(M_first, name="M_first")
    B = as_matrix(M_second, name="M_second")
    if A.shape[0] != B.shape[0]:
        raise InputError(
            f"two_backgrounds: the scenes have {A.shape[0]} and {B.shape[0]} pixel rows; "
            "resize them to the same frame size"
        )
    ranks = [check_int("rank", r, low=1) for r in ranks]
    if not ranks:
        raise ParameterError("ranks: give at least one rank")
    M = np.concatenate([A, B], axis=1).astype(np.float32, copy=False)
    n1 = A.shape[1]
    top = min(max(ranks), *M.shape)
    U, s, Vt = randomized_svd(M, top, random_state=random_state)
    medians = [np.median(A, axis=1), np.median(B, axis=1)]
    picks = [n1 // 2, n1 + B.shape[1] // 2]
    result = TwoBackgrounds(tuple(frame_shape), n1, M[:, picks].T.copy())
    models: list[tuple[str, np.ndarray]] = []
    for r in ranks:
        r = min(r, top)
        models.append((f"rank {r}", (U[:, :r] * s[:r]) @ Vt[:r]))
    if rpca_options is not None:
        models.append(("rpca", rpca(M, random_state=random_state, **rpca_options).L))
    for label, L in models:
        result.backgrounds[label] = L[:, picks].T.copy()
        err_a = float(np.mean(np.abs(L[:, :n1] - medians[0][:, None])))
        err_b = float(np.mean(np.abs(L[:, n1:] - medians[1][:, None])))
        result.errors[label] = (err_a, err_b)
    return result


def plot_two_backgrounds(result: TwoBackgrounds, *, path: StrPath | None = None) -> Any:
    """Show the sample frame of each scene and every model's background for it.

    Parameters
    ----------
    result : TwoBackgrounds
    path : path, optional
        Write the figure there (PNG).

    Returns
    -------
    matplotlib.figure.Figure
        Two rows (the scenes), one column for the input and one per model, each
        titled with the model's mean absolute error against the scene's median image.
    """
    labels = list(result.backgrounds)
    cols = 1 + len(labels)
    h, w = result.frame_shape[:2]
    fig = _figure(3.0 * cols, 2 * 3.0 * h / w + 0.8)
    axes = np.asarray(fig.subplots(2, cols)).reshape(2, cols)
    for row in range(2):
        images = [result.samples[row]] + [result.backgrounds[lb][row] for lb in labels]
        titles = [f"scene {row + 1}: input"] + [
            f"{lb}: error {result.errors[lb][row]:.1f}" for lb in labels
        ]
        for col, (img, title) in enumerate(zip(images, titles, strict=True)):
            ax = axes[row, col]
            frame = np.clip(frames_from_matrix(img, result.frame_shape)[0], 0, 255) / 255.0
            ax.imshow(frame, cmap="gray" if frame.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_title(title, fontsize=9)
            ax.set_axis_off()
    fig.suptitle("One video, two backgrounds: rank 1 blends them, a higher rank separates them")
    if path is not None:
        save_figure(fig, path)
    return fig
