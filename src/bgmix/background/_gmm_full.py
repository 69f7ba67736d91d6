"""``gmm-full``: per-pixel Gaussian mixture with a full covariance per component."""

from __future__ import annotations

from typing import Any

import numpy as np

from bgmix._kernels.online_params import GMMFullParams
from bgmix._validation import Options, check_random_state
from bgmix.background._base import Param, bound, int_in, real_in
from bgmix.background._online import OnlineMixtureSubtractor
from bgmix.background._postprocess import PostProcess

__all__ = ["GMM_FULL_DEFAULT_POSTPROCESS", "GMMFull"]

_RULES = ("ranked", "any")
#: Largest variance accepted (255 squared): with ``var_min >= 0.1`` float32 rounding
#: cannot break the positive definiteness of the covariances.
_VAR_MAX = 255.0**2

#: Default post-processing of ``gmm-full`` (chosen with ``alpha=0.005`` on half of the
#: shared sequences; see ``benchmarks/online_accuracy.py``).
GMM_FULL_DEFAULT_POSTPROCESS = PostProcess(median=5)


class GMMFull(OnlineMixtureSubtractor):
    r"""Per-pixel Gaussian mixture with full :math:`C \times C` covariances.

    Every pixel keeps ``n_components`` Gaussians with weight :math:`w_k`, mean
    :math:`\mu_k` and full covariance :math:`\Sigma_k` (a 3x3 matrix for RGB: the
    channels' correlations are modelled, unlike ``mog`` and ``mog2``). Numba kernels
    process rows of pixels in vectorised passes; the covariances are factorised
    (Cholesky) afresh at every frame. The defaults ``alpha=0.005``, the ranked
    background rule and a 5x5 median filter of the mask were chosen on half of the
    real test sequences and checked on the other half (see the benchmarks).

    Parameters
    ----------
    n_components : int, default 3
        Gaussians per pixel :math:`K` (1–32).
    alpha : float, default 0.005
        Learning rate :math:`\alpha` used when ``apply`` is given the automatic rate.
    match_threshold : float, default 3.0
        :math:`\lambda`: a pixel matches a component when its Mahalanobis distance is
        below this.
    var_init : float, default 100.0
        :math:`\sigma_0^2`: a re-initialised component has covariance
        :math:`\sigma_0^2 I` (0–255 scale, per channel; at most :math:`255^2`).
    var_min : float, default 4.0
        Regularisation: every eigenvalue of every covariance stays at least this
        (up to float32 rounding; at least 0.1 so that rounding cannot matter).
    background_rule : {"ranked", "any"}, default "ranked"
        ``"ranked"``: components ranked by :math:`w_k / \sqrt{|\Sigma_k|}`, the
        first ones whose weights exceed ``background_ratio`` are background
        (Stauffer & Grimson). ``"any"``: a pixel matching any component is
        background (the original per-pixel full-covariance article).
    background_ratio : float, default 0.7
        :math:`T` of the ranked rule.
    random_state : int, Generator or None, default None
        Seed of the Dirichlet draw of the initial weights.
    hold_frames, n_jobs, postprocess
        See :class:`~bgmix.background._online.OnlineMixtureSubtractor`.

    Attributes
    ----------
    state_nbytes : int
        Model bytes: :math:`4K(1 + C + S) + 2` per pixel with :math:`S = 6` entries
        of the symmetric covariance for RGB (:math:`S = 1` for grey): 122 for RGB and
        the defaults.

    Notes
    -----
    With :math:`e_k = x - \mu_k`, pixel :math:`x` matches component :math:`k` when

    .. math:: \sqrt{e_k^\top \Sigma_k^{-1} e_k} < \lambda .

    The owner is the matching component ranked first by
    :math:`w_k / \sqrt{|\Sigma_k|}` (:math:`M_k = 1` for it, 0 for the others), and

    .. math::

        w_k &\leftarrow w_k + \alpha (M_k - w_k), \\
        \mu_k &\leftarrow \mu_k + M_k \frac{\alpha}{w_k} e_k, \\
        \Sigma_k &\leftarrow \Sigma_k + M_k \frac{\alpha}{w_k}
            \left(e_k e_k^\top + v_{\min} I - \Sigma_k\right),

    with the updated weight in :math:`\alpha / w_k \le 1`. The term
    :math:`v_{\min} I` (``var_min``) regularises the covariance: as a convex
    combination of :math:`\Sigma_k \succeq v_{\min} I` and
    :math:`e e^\top + v_{\min} I`, it stays symmetric positive definite with every
    eigenvalue at least :math:`v_{\min}`, whatever the input. A pixel that matches
    nothing re-initialises its lightest component (:math:`\mu = x`,
    :math:`\Sigma = \sigma_0^2 I`, weight 0 -- its old weight is shared by the others
    in proportion), which then owns the pixel for the weight update, so it starts
    with the low prior weight :math:`\alpha`; the weights keep summing to 1. The
    means start from the first frame and the weights from a Dirichlet(1, ..., 1) draw
    (``random_state``), assigned heaviest first (the components are identical at the
    start, so this only labels them).

    Background: with ``"any"``, a pixel that matches a component; with
    ``"ranked"``, a pixel whose owner is among the first :math:`B` components in
    the ranking, :math:`B = \arg\min_b (\sum_{k \le b} w_k > T)`. The background
    image is the mean of each pixel's heaviest component.

    ``learning_rate=0`` freezes the model; ``learning_rate=1`` restarts it from the
    frame (new Dirichlet weights), which is then processed with the automatic rate
    like a first frame.

    References
    ----------
    .. [1] C. Stauffer and W. E. L. Grimson, "Adaptive background mixture models for
       real-time tracking", CVPR 1999.
    .. [2] N. Friedman and S. Russell, "Image segmentation in video sequences: a
       probabilistic approach", UAI 1997 (per-pixel mixtures with full covariances).

    Examples
    --------
    >>> import numpy as np
    >>> sub = GMMFull(random_state=0, n_jobs=1)
    >>> frames = np.full((3, 12, 16, 3), 80, np.uint8)
    >>> masks = [sub.apply(f) for f in frames]
    >>> int(masks[-1].max()), sub.bytes_per_pixel
    (0, 122.0)
    """

    _state_attrs = ("_weight", "_mean", "_cov", "_hold", "_rng")

    n_components: int = Param(3, int_in(1, 32))
    alpha: float = Param(0.005, real_in(0.0, 1.0, closed="right"))
    match_threshold: float = Param(3.0, real_in(0.0, None, closed="right"))
    var_init: float = Param(100.0, lambda s: real_in(bound(s, "var_min"), _VAR_MAX))
    var_min: float = Param(4.0, real_in(0.1, _VAR_MAX))
    background_rule: str = Param("ranked", Options(_RULES))
    background_ratio: float = Param(0.7, real_in(0.0, 1.0))
    random_state: int | np.random.Generator | None = Param(None, "random_state")
    postprocess: PostProcess | dict[str, Any] | None = Param(GMM_FULL_DEFAULT_POSTPROCESS)

    def _validate_params(self) -> None:
        super()._validate_params()
        lam = float(self.match_threshold)
        rule = 1 if self.background_rule == "ranked" else 0  # RULE_RANKED / RULE_ANY
        f32 = np.float32
        self._params = GMMFullParams(
            alpha=f32(0.0),
            lam2=f32(lam * lam),
            var_init=f32(float(self.var_init)),
            var_min=f32(float(self.var_min)),
            rule=rule,
            tbr=f32(float(self.background_ratio)),
            hold_frames=int(self.hold_frames),
        )

    # ------------------------------------------------------------------ model
    def _initialize(self, frame: np.ndarray) -> None:
        self._rng = check_random_state(self.random_state)
        h, w, c = frame.shape
        k = int(self.n_components)
        self._weight = np.empty((k, h, w), np.float32)
        self._mean = np.empty((k, c, h, w), np.float32)
        self._cov = np.empty((k, 6 if c == 3 else 1, h, w), np.float32)
        self._hold = np.zeros((h, w), np.uint16)
        self._restart(frame)

    def _restart(self, frame: np.ndarray) -> None:
        """Means from ``frame``, covariances ``var_init * I``, Dirichlet weights."""
        k, h, w = self._weight.shape
        draw = self._rng.dirichlet(np.ones(k), size=(h, w))
        # The components are identical at the start, so their order is arbitrary:
        # heaviest first puts most pixels' owner in the same plane, and the update
        # passes skip the planes that no pixel of a row owns.
        draw = -np.sort(-draw, axis=-1)
        self._weight[...] = np.moveaxis(draw, -1, 0)
        self._mean[...] = np.moveaxis(frame, -1, 0)[None]
        self._cov[...] = 0.0
        diag = (0, 3, 5) if self._cov.shape[1] == 6 else (0,)
        self._cov[:, diag] = np.float32(self.var_init)
        self._hold[...] = 0

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        from bgmix._kernels.online_gmm_full import GMMFullState, gmm_full_rows

        if self._weight.shape[0] != self.n_components:
            k, h, w = int(self.n_components), *self._weight.shape[1:]
            self._weight = np.empty((k, h, w), np.float32)
            self._mean = np.empty((k, self._mean.shape[1], h, w), np.float32)
            self._cov = np.empty((k, self._cov.shape[1], h, w), np.float32)
            self._restart(frame)
        elif learning_rate >= 1.0:
            self._restart(frame)
        # After a restart the frame is processed like a first frame: automatic rate.
        alpha = self.alpha if learning_rate < 0.0 or learning_rate >= 1.0 else learning_rate
        h, w, _ = frame.shape
        mask = np.empty((h, w), np.uint8)
        state = GMMFullState(self._weight, self._mean, self._cov, self._hold)
        params = self._params._replace(alpha=np.float32(alpha))
        self._run(gmm_full_rows, frame, state, mask, params)
        return mask

    def _background(self) -> np.ndarray:
        from bgmix._kernels.online_gmm_full import gmm_full_background

        return gmm_full_background(self._weight, self._mean)

    def covariances(self) -> np.ndarray:
        """The covariance matrices, ``(K, H, W, C, C)`` float32 (symmetric).

        Raises
        ------
        NotFittedError
            Before the first frame.
        """
        self.get_background_image()  # raises NotFittedError before the first frame
        k, s, h, w = self._cov.shape
        if s == 1:
            return self._cov.transpose(0, 2, 3, 1)[..., None].copy()
        out = np.empty((k, h, w, 3, 3), np.float32)
        for j, (a, b) in enumerate(((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))):
            out[..., a, b] = self._cov[:, j]
            out[..., b, a] = self._cov[:, j]
        return out
