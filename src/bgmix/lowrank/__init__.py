"""Low-rank backgrounds: frame matrices, truncated and randomized SVD, Robust PCA.

A video of ``T`` frames becomes a (pixels x frames) matrix ``M`` (:func:`frame_matrix`).
Its background is low-rank: the first singular vectors of ``M``
(:func:`truncated_svd`, :func:`randomized_svd`), or the low-rank part ``L`` of Robust
PCA, ``M = L + S`` with a sparse foreground ``S`` (:func:`rpca`). The plotting
functions draw the singular-value spectrum, the components as images, the
compression/error trade-off and the two-backgrounds case; :func:`lowrank_report`
writes all of them for one video (``bgmix lowrank``).

>>> import numpy as np
>>> from bgmix.lowrank import frame_matrix, randomized_svd
>>> frames = np.random.default_rng(0).integers(0, 255, (20, 12, 16), dtype=np.uint8)
>>> M = frame_matrix(frames)
>>> M.shape
(192, 20)
>>> U, s, Vt = randomized_svd(M, 2, random_state=0)
>>> U.shape, s.shape, Vt.shape
((192, 2), (2,), (2, 20))
"""

from bgmix.lowrank._matrix import LUMA, frame_matrix, frames_from_matrix, to_frame
from bgmix.lowrank._plots import (
    TwoBackgrounds,
    plot_components,
    plot_compression,
    plot_singular_values,
    plot_two_backgrounds,
    two_backgrounds,
)
from bgmix.lowrank._report import REPORT_FILES, lowrank_report
from bgmix.lowrank._rpca import RPCAResult, rpca, spectral_norm
from bgmix.lowrank._svd import (
    CompressionRow,
    compression_table,
    randomized_svd,
    reconstruct,
    truncated_svd,
)

__all__ = [
    "LUMA",
    "REPORT_FILES",
    "CompressionRow",
    "RPCAResult",
    "TwoBackgrounds",
    "compression_table",
    "frame_matrix",
    "frames_from_matrix",
    "lowrank_report",
    "plot_components",
    "plot_compression",
    "plot_singular_values",
    "plot_two_backgrounds",
    "randomized_svd",
    "reconstruct",
    "rpca",
    "spectral_norm",
    "to_frame",
    "truncated_svd",
    "two_backgrounds",
]
