"""``em``: a Gaussian mixture fitted by EM to every pixel's colour history."""

from __future__ import annotations

import logging
import warnings
from typing import Any, ClassVar

import numpy as np

from bgmix._validation import Options
from bgmix.background._base import Param, int_in, real_in
from bgmix.background._clusters import INITS, PixelClusterSubtractor
from bgmix.exceptions import ConvergenceWarning

__all__ = ["PixelEM"]

logger = logging.getLogger(__name__)

#: ConvergenceWarning when more than this share of the pixels stop at max_iter.
_WARN_FRACTION = 0.01


class PixelEM(PixelClusterSubtractor):
    """Per-pixel Gaussian mixture fitted by EM over a batch of training frames.

    Every pixel's samples :math:`x_1, \\dots, x_T \\in \\mathbb{R}^C` (C = 3 for RGB,
    1 for grey, on the 0–255 scale) get their own ``n_components``-component mixture.
    The background image is the mean of each pixel's heaviest component.

    Parameters
    ----------
    n_components : int, default 3
        Components per pixel, K (1–16).
    covariance_type : {"full", "diag"}, default "full"
        A full C×C covariance per component, or a diagonal one (identical for grey).
    tol : float, default 1e-3
        A pixel stops when its mean log-likelihood changes by less than ``tol``
        between iterations (0: always run ``max_iter`` iterations).
    max_iter : int, default 100
        Maximum EM iterations per pixel.
    init : {"quantile", "random"}, default "quantile"
        Initial parameters per pixel: ``"quantile"`` sorts the pixel's samples by
        brightness and splits them into K equal groups (means and covariances of the
        groups; deterministic); ``"random"`` puts the means at K distinct frames drawn
        with ``random_state`` and gives every component the pixel's overall
        covariance. Weights start at 1/K.
    reg_covar : float, default 25.0
        Added to the covariance diagonal (grey levels squared) in every M-step, so
        that constant or saturated pixels keep a finite density; it is also the
        smallest variance a component can have (a standard deviation of 5 grey levels
        by default: compressed video rarely varies less, and a tighter floor turns
        small lighting changes into foreground).
    rule : {"mahalanobis", "difference"}, default "mahalanobis"
        Foreground test of :meth:`apply`: no background component within Mahalanobis
        distance ``threshold``, or (the EM notebooks' rule) the grey-level difference
        to the background image above ``grey_threshold``.
    threshold : float, default 4.0
        Mahalanobis distance λ of a match (also used by online learning).
    background_ratio : float, default 0.5
        T: the background components are the heaviest ones whose cumulative weight
        first reaches T. A larger T accepts more modes as background (waving trees,
        water) but also the colours of objects that stayed long in the training
        frames.
    grey_threshold : float, default 30.0
        Grey-level threshold of ``rule="difference"``.
    var_init : float, default 225.0
        Variance of a component created by online learning.
    online_rate, random_state, max_memory, block_rows, n_jobs, postprocess
        See :class:`~bgmix.background._clusters.PixelClusterSubtractor`.

    Attributes
    ----------
    weights_ : (H, W, K) float32 ndarray
        Mixing weights, ordered by decreasing weight per pixel.
    means_ : (H, W, K, C) float32 ndarray
    covariances_ : (H, W, K, C, C) float32 ndarray
        Zero off the diagonal when ``covariance_type="diag"``.
    n_iter_ : (H, W) int32 ndarray
        EM iterations run per pixel.
    converged_ : (H, W) bool ndarray
        Whether the pixel reached ``tol``. :meth:`fit` warns
        (:class:`~bgmix.exceptions.ConvergenceWarning`) when more than 1% of the pixels
        stop at ``max_iter`` with ``tol`` > 0, and logs the count otherwise.
    lower_bound_ : (H, W) float32 ndarray
        Mean log-likelihood of the pixel's samples at the last E-step.

    Notes
    -----
    The E-step computes responsibilities

    .. math:: r_{tk} = \\frac{w_k\\, \\mathcal{N}(x_t \\mid \\mu_k, \\Sigma_k)}
              {\\sum_j w_j\\, \\mathcal{N}(x_t \\mid \\mu_j, \\Sigma_j)},

    the M-step, with :math:`N_k = \\sum_t r_{tk}`,

    .. math:: w_k = N_k / T, \\quad \\mu_k = \\frac{1}{N_k} \\sum_t r_{tk} x_t, \\quad
              \\Sigma_k = \\frac{1}{N_k} \\sum_t r_{tk} (x_t - \\mu_k)(x_t - \\mu_k)^T
              + \\epsilon I,

    until :math:`|\\bar\\ell^{(i)} - \\bar\\ell^{(i-1)}| < \\mathrm{tol}` for the mean
    log-likelihood :math:`\\bar\\ell = \\frac1T \\sum_t \\log \\sum_k w_k
    \\mathcal{N}(x_t \\mid \\mu_k, \\Sigma_k)` (the loop of scikit-learn's
    ``GaussianMixture``, one independent mixture per pixel, evaluated with the
    Cholesky factor of :math:`\\Sigma_k`). A component whose responsibility mass
    vanishes keeps its mean and covariance. Components are then sorted by weight and
    the first :math:`B = \\arg\\min_b \\{\\sum_{k \\le b} w_k \\ge T\\}` are the
    background. A pixel of a new frame is foreground when
    :math:`\\sqrt{(x - \\mu_k)^T \\Sigma_k^{-1} (x - \\mu_k)} \\ge \\lambda` for every
    background component (``rule="mahalanobis"``), or when
    :math:`|Y(x) - Y(\\mu_1)| > \\tau` with the luma :math:`Y = 0.299R + 0.587G +
    0.114B` (``rule="difference"``).

    Online learning after the fit (rate :math:`\\alpha`) follows Stauffer & Grimson
    with :math:`\\rho = \\alpha`: the first component (by weight) within distance
    λ is matched, :math:`w_k \\leftarrow (1-\\alpha) w_k + \\alpha M_k`,
    :math:`\\mu \\leftarrow \\mu + \\alpha e`, :math:`\\Sigma \\leftarrow \\Sigma +
    \\alpha (e e^T - \\Sigma)` with :math:`e = x - \\mu`; an unmatched sample replaces
    the lightest component (mean x, variance ``var_init``). :math:`\\alpha = 1`
    re-initialises each pixel to one component at the frame.

    References
    ----------
    .. [1] A. P. Dempster, N. M. Laird and D. B. Rubin, "Maximum likelihood from
       incomplete data via the EM algorithm", J. Royal Stat. Soc. B 39(1), 1977.
    .. [2] N. Friedman and S. Russell, "Image segmentation in video sequences: a
       probabilistic approach", UAI 1997.
    .. [3] C. Stauffer and W. E. L. Grimson, "Adaptive background mixture models for
       real-time tracking", CVPR 1999.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> frames = rng.normal(100, 3, size=(20, 8, 8, 3)).clip(0, 255).astype(np.uint8)
    >>> em = PixelEM(n_components=2).fit(frames)
    >>> em.means_.shape
    (8, 8, 2, 3)
    >>> mask = em.apply(np.full((8, 8, 3), 200, np.uint8))
    >>> int(mask.min())
    255
    """

    min_fit_frames: ClassVar[int] = 2
    _state_attrs = (
        "weights_",
        "means_",
        "covariances_",
        "n_iter_",
        "converged_",
        "lower_bound_",
    )

    n_components: int = Param(3, int_in(1, 16))
    covariance_type: str = Param("full", Options(("full", "diag")))
    tol: float = Param(1e-3, real_in(0.0))
    max_iter: int = Param(100, int_in(1))
    init: str = Param("quantile", Options(INITS))
    reg_covar: float = Param(25.0, real_in(0.0, None, closed="right"))
    rule: str = Param("mahalanobis", Options(("mahalanobis", "difference")))
    threshold: float = Param(4.0, real_in(0.0, None, closed="right"))
    background_ratio: float = Param(0.5, real_in(0.0, 1.0, closed="right"))
    grey_threshold: float = Param(30.0, real_in(0.0, 255.0))
    online_rate: float = Param(0.0, real_in(0.0, 1.0))
    var_init: float = Param(225.0, real_in(0.0, None, closed="right"))
    random_state: int | np.random.Generator | None = Param(None, "random_state")

    # ------------------------------------------------------------------ fit
    def _allocate_model(self, H: int, W: int, C: int) -> dict[str, Any]:
        K = int(self.n_components)
        return {
            "weights_": np.empty((H, W, K), np.float32),
            "means_": np.empty((H, W, K, C), np.float32),
            "covariances_": np.empty((H, W, K, C, C), np.float32),
            "n_iter_": np.empty((H, W), np.int32),
            "converged_": np.empty((H, W), np.bool_),
            "lower_bound_": np.empty((H, W), np.float32),
        }

    def _fit_block(self, block: np.ndarray, r0: int, r1: int, state: dict[str, Any]) -> None:
        from bgmix._kernels import batch_em

        diag = self.covariance_type == "diag"
        reg = float(self.reg_covar)
        w, m, c = state["weights_"][r0:r1], state["means_"][r0:r1], state["covariances_"][r0:r1]
        width = block.shape[2]
        batch_em.em_fit(
            block,
            int(self.n_components),
            self._init_code,
            self._seed,
            r0,
            width,
            float(self.tol),
            int(self.max_iter),
            reg,
            diag,
            w,
            m,
            c,
            state["n_iter_"][r0:r1],
            state["converged_"][r0:r1],
            state["lower_bound_"][r0:r1],
            n_threads=self._n_threads,
        )
        batch_em.em_sort(w, m, c, n_threads=self._n_threads)

    def _fit_finish(self, state: dict[str, Any], shape: tuple[int, int, int, int]) -> None:
        converged = state["converged_"]
        missed = int(converged.size - np.count_nonzero(converged))
        logger.debug("em.fit: median %d iterations per pixel", int(np.median(state["n_iter_"])))
        if not missed or float(self.tol) == 0.0:
            return
        if missed <= _WARN_FRACTION * converged.size:
            logger.info(
                "em.fit: %d of %d pixels stopped at max_iter=%s before tol=%s",
                missed,
                converged.size,
                self.max_iter,
                self.tol,
            )
        else:
            warnings.warn(
                f"em.fit: {missed} of {converged.size} pixels "
                f"({100.0 * missed / converged.size:.2f}%) "
                f"did not converge within max_iter={self.max_iter} (tol={self.tol}); "
                "increase max_iter or tol",
                ConvergenceWarning,
                stacklevel=4,
            )

    # ------------------------------------------------------------------ streaming
    def _update(self, frame: np.ndarray, alpha: float, mask: np.ndarray) -> None:
        from bgmix._kernels import batch_em

        batch_em.em_apply(
            frame,
            self.weights_,
            self.means_,
            self.covariances_,
            float(self.background_ratio),
            float(self.threshold) ** 2,
            self.rule == "difference",
            float(self.grey_threshold),
            alpha,
            float(self.var_init),
            float(self.reg_covar),
            self.covariance_type == "diag",
            mask,
            n_threads=self._n_threads,
        )

    def _background(self) -> np.ndarray:
        return self.means_[:, :, 0, :]
