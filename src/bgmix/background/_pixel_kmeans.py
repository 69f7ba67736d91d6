"""``kmeans``: per-pixel k-means over the training frames; the largest cluster is background."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from bgmix._validation import Options
from bgmix.background._base import Param, int_in, real_in
from bgmix.background._clusters import INITS, PixelClusterSubtractor

__all__ = ["PixelKMeans"]


class PixelKMeans(PixelClusterSubtractor):
    """Per-pixel k-means background model.

    Every pixel's training samples :math:`x_1, \\dots, x_T \\in \\mathbb{R}^C` are
    clustered into K groups; the clusters are ordered by size, the largest one's centre
    is the background image, and a new sample is foreground when it is far from every
    background cluster.

    Parameters
    ----------
    n_clusters : int, default 3
        Clusters per pixel, K (1–16).
    init : {"quantile", "random"}, default "quantile"
        Initial centres: the means of K brightness-quantile groups of the pixel's
        samples (deterministic), or K distinct frames drawn with ``random_state``.
    max_iter : int, default 30
        Maximum Lloyd iterations per pixel (a pixel stops when no label changes).
    threshold : float, default 30.0
        Euclidean colour distance (0–255 scale) beyond which a sample does not belong
        to a cluster.
    background_ratio : float, default 0.7
        The background clusters are the largest ones whose cumulative share of the
        training samples first reaches this.
    online_rate, random_state, max_memory, block_rows, n_jobs, postprocess
        See :class:`~bgmix.background._clusters.PixelClusterSubtractor`.

    Attributes
    ----------
    centers_ : (H, W, K, C) float32 ndarray
        Cluster centres, largest cluster first.
    weights_ : (H, W, K) float32 ndarray
        Share of the training samples in each cluster (updated by online learning).
    n_iter_ : (H, W) int32 ndarray
        Lloyd iterations run per pixel.

    Notes
    -----
    Lloyd's algorithm per pixel alternates the assignment
    :math:`c_t = \\arg\\min_k \\lVert x_t - \\mu_k \\rVert^2` (ties to the lower k)
    and the update :math:`\\mu_k = \\operatorname{mean}\\{x_t : c_t = k\\}` (an empty
    cluster keeps its centre) until no assignment changes, minimising
    :math:`\\sum_t \\lVert x_t - \\mu_{c_t} \\rVert^2`. With weights
    :math:`w_k = |\\{t : c_t = k\\}| / T` sorted decreasingly, the background clusters
    are the first :math:`B = \\arg\\min_b \\{\\sum_{k \\le b} w_k \\ge T_{bg}\\}`, and
    a sample is foreground when :math:`\\lVert x - \\mu_k \\rVert \\ge \\tau` for all of
    them. Online learning (rate α) moves the nearest cluster within τ by
    :math:`\\mu \\leftarrow \\mu + \\alpha (x - \\mu)` and updates
    :math:`w_k \\leftarrow (1 - \\alpha) w_k + \\alpha M_k` (sequential k-means); an
    unmatched sample replaces the smallest cluster; α = 1 re-initialises each pixel to
    one cluster at the frame.

    References
    ----------
    .. [1] S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Information
       Theory 28(2), 1982.
    .. [2] D. Butler, S. Sridharan and V. M. Bove, "Real-time adaptive background
       segmentation", ICASSP 2003.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.full((10, 4, 4, 3), 80, np.uint8)
    >>> frames[7:] = 200                     # a passing object in 3 of 10 frames
    >>> km = PixelKMeans(n_clusters=2).fit(frames)
    >>> km.get_background_image()[0, 0].tolist()
    [80, 80, 80]
    """

    min_fit_frames: ClassVar[int] = 2
    _state_attrs = ("centers_", "weights_", "n_iter_")

    n_clusters: int = Param(3, int_in(1, 16))
    init: str = Param("quantile", Options(INITS))
    max_iter: int = Param(30, int_in(1))
    threshold: float = Param(30.0, real_in(0.0, None, closed="right"))
    background_ratio: float = Param(0.7, real_in(0.0, 1.0, closed="right"))
    online_rate: float = Param(0.0, real_in(0.0, 1.0))
    random_state: int | np.random.Generator | None = Param(None, "random_state")

    def _allocate_model(self, H: int, W: int, C: int) -> dict[str, Any]:
        K = int(self.n_clusters)
        return {
            "centers_": np.empty((H, W, K, C), np.float32),
            "weights_": np.empty((H, W, K), np.float32),
            "n_iter_": np.empty((H, W), np.int32),
        }

    def _fit_block(self, block: np.ndarray, r0: int, r1: int, state: dict[str, Any]) -> None:
        from bgmix._kernels import batch_kmeans

        batch_kmeans.kmeans_fit(
            block,
            int(self.n_clusters),
            self._init_code,
            self._seed,
            r0,
            block.shape[2],
            int(self.max_iter),
            state["centers_"][r0:r1],
            state["weights_"][r0:r1],
            state["n_iter_"][r0:r1],
            n_threads=self._n_threads,
        )

    def _update(self, frame: np.ndarray, alpha: float, mask: np.ndarray) -> None:
        from bgmix._kernels import batch_kmeans

        batch_kmeans.kmeans_apply(
            frame,
            self.centers_,
            self.weights_,
            float(self.background_ratio),
            float(self.threshold) ** 2,
            alpha,
            mask,
            n_threads=self._n_threads,
        )

    def _background(self) -> np.ndarray:
        return self.centers_[:, :, 0, :]
