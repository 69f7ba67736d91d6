"""``lowrank_report``: every picture of the low-rank lesson for one video, in one folder.

This is the engine of ``bgmix lowrank SRC -o DIR``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from bgmix._atomic import atomic_directory
from bgmix._typing import StrPath
from bgmix._validation import check_choice, check_int, check_real
from bgmix.exceptions import ParameterError

__all__ = ["REPORT_FILES", "lowrank_report"]

logger = logging.getLogger(__name__)

#: The files :func:`lowrank_report` writes, and what each one shows.
REPORT_FILES: dict[str, str] = {
    "singular_values.png": "singular-value spectrum and cumulative energy",
    "components.png": "the first left singular vectors as images",
    "compression.png": "compression ratio against relative error for rank k",
    "compression.csv": "the same as a table",
    "background.png": "median over the frames of the low-rank background",
    "lowrank.mp4": "input | mask | foreground | low-rank background, side by side",
    "two_backgrounds.png": "two scenes in one video: rank 1 against rank k",
    "summary.json": "options, shapes, timings, the tables above as numbers",
}


def _default_ranks(n: int) -> list[int]:
    ranks = [k for k in (1, 2, 3, 5, 10, 20, 50, 100, 200, 500) if k <= n]
    return ranks or [1]


def _fps(src: Any, stride: int) -> float:
    if isinstance(src, (str, os.PathLike)):
        from bgmix.io import open_source

        with open_source(src) as source:
            fps = source.info.fps
        if fps:
            return float(fps) / stride
    return 25.0


def lowrank_report(
    src: StrPath | np.ndarray,
    out_dir: StrPath,
    *,
    method: str = "svd",
    rank: int = 1,
    grey: bool = True,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    start: int = 0,
    stop: int | None = None,
    stride: int = 1,
    second: StrPath | np.ndarray | None = None,
    threshold: float = 30.0,
    n_components: int = 6,
    n_singular_values: int = 100,
    ranks: list[int] | None = None,
    fps: float | None = None,
    rpca_options: dict[str, Any] | None = None,
    cache: StrPath | None = None,
    random_state: int | None = 0,
    progress: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Decompose a video into a low-rank background and a foreground, and write the
    pictures that explain it to ``out_dir`` (see :data:`REPORT_FILES`).

    Parameters
    ----------
    src : path or ndarray
        The video: anything :func:`frame_matrix` reads.
    out_dir : path
        Output folder, written as a whole (missing parents are created); an existing
        non-empty folder needs ``overwrite=True``; it may not be an input or hold one.
    method : {"svd", "rpca"}, default "svd"
        Background of the video: the rank-``rank`` truncated SVD, or Robust PCA's
        ``L`` (:func:`rpca`; the foreground is then ``S``).
    rank : int, default 1
        Rank of the SVD background (``method="svd"``). Robust PCA finds the rank of
        its background itself (``summary["background"]["rank"]``); with either method
        the two-backgrounds figure compares rank 1 with rank ``max(2, rank)``.
    grey, scale, size, start, stop, stride
        Frame-matrix options (:func:`frame_matrix`).
    second : path or ndarray, optional
        The second scene of the two-backgrounds figure (resized to the first's frame
        size); default: the video mirrored left to right, a different background of
        the same statistics.
    threshold : float, default 30
        A pixel is foreground when its largest per-channel residual
        (:math:`|M - L|`, or :math:`|S|` for rpca) exceeds this (0–255 scale).
    n_components : int, default 6
        Components shown as images.
    n_singular_values : int, default 100
        Leading singular values computed (randomized SVD) for the spectrum and the
        compression table; the table's errors use the exact total energy.
    ranks : list of int, optional
        Ranks of the compression table (default 1, 2, 3, 5, 10, 20, 50, 100...).
    fps : float, optional
        Frame rate of the video (default: the source's, divided by ``stride``; 25
        for arrays and image folders).
    rpca_options : dict, optional
        Options of :func:`rpca` (``lam``, ``tol``, ``max_iter``...).
    cache : path, optional
        ``.npy`` cache of the frame matrix (:func:`frame_matrix`).
    random_state : int, optional
    progress : bool, default False
        Progress reports on stderr (:func:`bgmix._progress.progress_bar`).
    overwrite : bool, default False
        Replace an existing non-empty ``out_dir`` as a whole.

    Returns
    -------
    dict
        The content of ``summary.json``.

    Notes
    -----
    Memory: the frame matrix (``4 D T`` bytes for ``D`` pixel values per frame and
    ``T`` frames), its background and residual; ``rpca`` adds about ``40 D T``
    bytes. Use ``scale`` (or ``stride``) for long or large videos.
    """
    from bgmix._progress import progress_bar
    from bgmix.io import open_sink, side_by_side
    from bgmix.lowrank._matrix import frame_matrix, to_frame
    from bgmix.lowrank._plots import (
        plot_components,
        plot_compression,
        plot_singular_values,
        plot_two_backgrounds,
        two_backgrounds,
    )
    from bgmix.lowrank._rpca import check_rpca_options, rpca
    from bgmix.lowrank._svd import compression_table, randomized_svd

    check_choice("method", method, ("svd", "rpca"))
    rank = check_int("rank", rank, low=1)
    threshold = check_real("threshold", threshold, low=0.0, high=255.0)
    n_components = check_int("n_components", n_components, low=1)
    n_singular_values = check_int("n_singular_values", n_singular_values, low=1)
    if fps is not None:
        fps = check_real("fps", fps, low=0.0, low_inclusive=False)
    if rpca_options is not None:
        if not isinstance(rpca_options, dict):
            raise ParameterError(f"rpca_options must be a dict; got {rpca_options!r}")
        check_rpca_options(**rpca_options)
    from bgmix.io import check_output_path

    check_output_path(
        out_dir,
        protect=[p for p in (src, second, cache) if p is not None],
        overwrite=overwrite,
        folder=True,
    )
    opts = {
        "grey": grey,
        "scale": scale,
        "size": size,
        "start": start,
        "stop": stop,
        "stride": stride,
    }
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    M, shape = frame_matrix(src, **opts, cache=cache, return_shape=True, progress=progress)
    timings["frame_matrix_s"] = time.perf_counter() - t0
    D, T = M.shape
    if method == "rpca" and 40 * D * T * 2 > 4 * 2**30:
        logger.warning(
            "rpca on a %d x %d matrix needs about %.1f GiB (and twice that for the "
            "two-backgrounds figure); use scale or stride to reduce it",
            D,
            T,
            40 * D * T / 2**30,
        )
    if rank > min(D, T):
        raise ParameterError(f"rank must be at most min(pixels, frames) = {min(D, T)}; got {rank}")
    h, w = shape[:2]
    video_fps = fps if fps is not None else _fps(src, int(stride))
    if second is None:
        M2 = _mirror(M, shape)
        second_label = "the video mirrored left to right"
    else:
        M2 = frame_matrix(second, **{**opts, "size": (w, h), "scale": None}, progress=progress)
        second_label = str(second) if isinstance(second, (str, os.PathLike)) else "array"

    # spectrum, components, compression
    t0 = time.perf_counter()
    top = min(max(n_singular_values, rank), D, T)
    U, s, Vt = randomized_svd(M, top, random_state=random_state)
    total_energy = _squared_norm(M)
    timings["randomized_svd_s"] = time.perf_counter() - t0
    table_ranks = ranks if ranks is not None else _default_ranks(top)
    table = compression_table(
        s, (D, T), [k for k in table_ranks if k <= top], total_energy=total_energy
    )

    # background and foreground
    t0 = time.perf_counter()
    summary_method: dict[str, Any] = {"method": method}
    if method == "svd":
        L = (U[:, :rank] * s[:rank]) @ Vt[:rank]
        R = M - L
        summary_method["rank"] = rank
    else:
        res = rpca(M, random_state=random_state, **(rpca_options or {}))
        L, R = res.L, res.S
        summary_method.update(
            rank=res.rank,
            n_iter=res.n_iter,
            converged=res.converged,
            final_error=float(res.errors[-1]) if res.n_iter else 0.0,
            lam=res.lam,
        )
    timings["background_s"] = time.perf_counter() - t0
    C = shape[2]
    masks = np.abs(R).reshape(C, h * w, T).max(axis=0) > threshold
    fg_fraction = float(masks.mean())

    ranks2 = (1, max(2, rank))
    t0 = time.perf_counter()
    two = two_backgrounds(
        M,
        M2,
        shape,
        ranks=ranks2,
        rpca_options=(rpca_options or {}) if method == "rpca" else None,
        random_state=random_state,
    )
    timings["two_backgrounds_s"] = time.perf_counter() - t0

    with atomic_directory(out_dir, overwrite=overwrite) as tmp:
        tmp = Path(tmp)
        plot_singular_values(
            s,
            total_energy=total_energy,
            mark=rank if method == "svd" else None,
            path=tmp / "singular_values.png",
        )
        plot_components(
            U, shape, s=s, n=n_components, total_energy=total_energy, path=tmp / "components.png"
        )
        plot_compression(table, path=tmp / "compression.png")
        with open(tmp / "compression.csv", "w", encoding="utf-8") as fh:
            fh.write("rank,stored_values,compression_ratio,relative_error,energy\n")
            for row in table:
                fh.write(
                    f"{row.rank},{row.stored},{row.compression_ratio:.6g},"
                    f"{row.relative_error:.6g},{row.energy:.6g}\n"
                )
        median_bg = to_frame(np.median(L, axis=1), shape)
        _save_image(median_bg, tmp / "background.png")
        plot_two_backgrounds(two, path=tmp / "two_backgrounds.png")
        with (
            open_sink(tmp / "lowrank.mp4", fps=video_fps) as sink,
            progress_bar(T, "writing video", enabled=progress) as bar,
        ):
            for t in range(T):
                bar.update(1)
                frame = to_frame(M[:, t], shape)
                mask = np.where(masks[:, t], 255, 0).astype(np.uint8).reshape(h, w)
                sink.write(
                    side_by_side(
                        frame,
                        mask,
                        to_frame(L[:, t], shape),
                        captions=("input", "mask", "foreground", f"{method} background"),
                    )
                )
        summary = {
            "source": str(src) if isinstance(src, (str, os.PathLike)) else "array",
            "frame_shape": list(shape),
            "matrix_shape": [D, T],
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.items()},
            "threshold": threshold,
            "fps": video_fps,
            "background": summary_method,
            "foreground_fraction": fg_fraction,
            "singular_values": [float(x) for x in s],
            "total_energy": total_energy,
            "compression": [row.__dict__ for row in table],
            "two_backgrounds": {
                "second_scene": second_label,
                "frames": [two.n_first, int(M2.shape[1])],
                "mean_abs_error_vs_scene_median": {k: list(v) for k, v in two.errors.items()},
            },
            "timings": timings,
            "files": REPORT_FILES,
        }
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=1)
    logger.info("lowrank report written to %s", out_dir)
    return summary


def _mirror(M: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The frame matrix of the same frames mirrored left to right."""
    h, w, c = shape
    T = M.shape[1]
    return np.asfortranarray(M.T.reshape(T, c, h, w)[:, :, :, ::-1].reshape(T, -1).T)


def _squared_norm(M: np.ndarray, block: int = 256) -> float:
    """Sum of squares of a matrix in float64, a block of columns at a time."""
    return float(
        sum(
            np.sum(np.square(M[:, j : j + block], dtype=np.float64))
            for j in range(0, M.shape[1], block)
        )
    )


def _save_image(img: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(img).save(path)
