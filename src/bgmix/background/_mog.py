"""``mog``: Stauffer and Grimson's adaptive Gaussian mixture (CVPR 1999), in Numba."""

from __future__ import annotations

from typing import Any

import numpy as np

from bgmix._kernels.online_params import MOGParams
from bgmix._validation import Options
from bgmix.background._base import Param, bound, int_in, real_in
from bgmix.background._online import OnlineMixtureSubtractor
from bgmix.background._postprocess import PostProcess

__all__ = ["MOG", "MOG_DEFAULT_POSTPROCESS"]

_COVARIANCES = ("spherical", "diagonal")

#: Default post-processing of ``mog`` (chosen with ``n_mixtures=3`` and
#: ``var_min=16`` on half of the shared sequences; see ``benchmarks/online_accuracy.py``).
MOG_DEFAULT_POSTPROCESS = PostProcess(median=5)


class MOG(OnlineMixtureSubtractor):
    r"""Stauffer and Grimson's adaptive mixture of Gaussians per pixel (1999).

    A scalar Numba kernel walks each pixel's components in ranking order, on bands
    of rows in parallel. The defaults ``n_mixtures=3``, ``var_min=16`` and a 5x5
    median filter of the mask were chosen on half of the real test sequences and
    checked on the other half (see the benchmarks).

    Parameters
    ----------
    n_mixtures : int, default 3
        Gaussians per pixel :math:`K` (1–64; the paper used 3 to 5).
    history : int, default 200
        The automatic learning rate is :math:`\alpha_n = 1 / \min(n, \text{history})`
        at the n-th frame since the model started (the first frame initialises it).
    background_ratio : float, default 0.7
        :math:`T`: the first components in the ranking whose weights exceed it are
        background.
    match_threshold : float, default 2.5
        :math:`\lambda`: a pixel matches a component within this many standard
        deviations.
    covariance : {"spherical", "diagonal"}, default "spherical"
        One variance for every channel (:math:`\Sigma = \sigma^2 I`, the paper's
        choice), or one per channel (:math:`\Sigma = \mathrm{diag}(\sigma_c^2)`).
    var_init : float, default 225.0
        Variance of a new component (per channel; :math:`\sigma_0 = 15`), "initially
        high".
    var_min : float, default 16.0
        Floor of every variance (:math:`\sigma \ge 4`: sensor noise).
    weight_init : float, default 0.05
        "Low prior weight" of a new component, before the weights are renormalised.
    hold_frames, n_jobs, postprocess
        See :class:`~bgmix.background._online.OnlineMixtureSubtractor`.

    Attributes
    ----------
    state_nbytes : int
        Model bytes: :math:`4K(1 + C + V) + 2` per pixel, :math:`V = 1` (spherical)
        or :math:`C` (diagonal): 62 for RGB and the defaults.

    Notes
    -----
    Each pixel keeps :math:`K` Gaussians ranked by :math:`w_k / \sigma_k`. The
    sample :math:`x \in \mathbb{R}^C` is matched against them in ranking order; the
    first with :math:`\|x - \mu_k\|^2 < \lambda^2 C \sigma_k^2` (spherical) or
    :math:`|x_c - \mu_{k,c}| < \lambda \sigma_{k,c}` for every channel (diagonal)
    is the match (:math:`M_k = 1`). Then

    .. math::

        w_k &\leftarrow (1 - \alpha) w_k + \alpha M_k, \\
        \rho &= \alpha / w_k, \qquad
        \mu_k \leftarrow (1 - \rho) \mu_k + \rho x, \\
        \sigma_k^2 &\leftarrow (1 - \rho) \sigma_k^2
            + \rho \, (x - \mu_k)^\top (x - \mu_k) / C

    for the matched component (diagonal: per channel, without the :math:`1/C`),
    every variance floored at ``var_min``. The paper's :math:`\rho = \alpha
    \eta(x | \mu_k, \sigma_k)` is replaced by :math:`\alpha / w_k`, the usual
    online-EM step (Power & Schoonees 2002), and its variance update is divided by
    :math:`C` so that :math:`\sigma^2` stays a per-channel variance. When nothing
    matches, the least probable component is replaced by one with mean :math:`x`,
    variance ``var_init`` and weight ``weight_init``, and the weights are
    renormalised. The first :math:`B` components are the background model,

    .. math:: B = \arg\min_b \Big( \sum_{k=1}^{b} w_k > T \Big),

    and a pixel is background when it matches one of them. The background image is
    the mean of each pixel's first-ranked component. ``learning_rate=0`` freezes the
    model and ``learning_rate=1`` restarts it from the frame.

    References
    ----------
    .. [1] C. Stauffer and W. E. L. Grimson, "Adaptive background mixture models for
       real-time tracking", CVPR 1999.
    .. [2] P. W. Power and J. A. Schoonees, "Understanding background mixture
       models for foreground segmentation", IVCNZ 2002.

    Examples
    --------
    >>> import numpy as np
    >>> sub = MOG(n_jobs=1)
    >>> frames = np.full((3, 12, 16, 3), 80, np.uint8)
    >>> masks = [sub.apply(f) for f in frames]
    >>> int(masks[0].max()), int(masks[-1].max())
    (255, 0)
    """

    _state_attrs = ("_weight", "_mean", "_var", "_hold", "_model_frames")

    n_mixtures: int = Param(3, int_in(1, 64))
    history: int = Param(200, int_in(1))
    background_ratio: float = Param(0.7, real_in(0.0, 1.0))
    match_threshold: float = Param(2.5, real_in(0.0, None, closed="right"))
    covariance: str = Param("spherical", Options(_COVARIANCES))
    var_init: float = Param(225.0, lambda s: real_in(bound(s, "var_min")))
    var_min: float = Param(16.0, real_in(0.0, None, closed="right"))
    weight_init: float = Param(0.05, real_in(0.0, 1.0, closed="right"))
    postprocess: PostProcess | dict[str, Any] | None = Param(MOG_DEFAULT_POSTPROCESS)

    def _validate_params(self) -> None:
        super()._validate_params()
        lam = float(self.match_threshold)
        f32 = np.float32
        self._params = MOGParams(
            alpha=f32(0.0),
            lam2=f32(lam * lam),
            var_init=f32(float(self.var_init)),
            var_min=f32(float(self.var_min)),
            w_init=f32(float(self.weight_init)),
            tbr=f32(float(self.background_ratio)),
            hold_frames=int(self.hold_frames),
        )

    # ------------------------------------------------------------------ model
    def _allocate(self, h: int, w: int, c: int) -> None:
        k = int(self.n_mixtures)
        v = c if self.covariance == "diagonal" else 1
        self._weight = np.zeros((h, w, k), np.float32)
        self._mean = np.zeros((h, w, k, c), np.float32)
        self._var = np.zeros((h, w, k, v), np.float32)
        self._hold = np.zeros((h, w), np.uint16)
        self._model_frames = 0

    def _initialize(self, frame: np.ndarray) -> None:
        self._allocate(*frame.shape)

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        from bgmix._kernels.online_mog import MOGState, mog_rows

        h, w, c = frame.shape
        shape_changed = self._weight.shape[2] != self.n_mixtures or self._var.shape[3] != (
            c if self.covariance == "diagonal" else 1
        )
        if shape_changed or learning_rate >= 1.0:
            self._allocate(h, w, c)
        alpha = self._automatic_rate(learning_rate, 1)
        mask = np.empty((h, w), np.uint8)
        state = MOGState(self._weight, self._mean, self._var, self._hold)
        self._run(mog_rows, frame, state, mask, self._params._replace(alpha=np.float32(alpha)))
        return mask

    def _background(self) -> np.ndarray:
        from bgmix._kernels.online_mog import mog_background

        return mog_background(self._weight, self._mean)
