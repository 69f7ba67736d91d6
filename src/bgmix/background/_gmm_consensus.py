"""``gmm-consensus``: ``gmm-full`` with a start-up learning rate, a neighbourhood
consensus and a shadow test in the decision, and a restart on global changes."""

from __future__ import annotations

from typing import Any

import numpy as np

from bgmix.background._base import Param, int_in, real_in
from bgmix.background._gmm_full import GMMFull
from bgmix.background._postprocess import PostProcess

__all__ = ["GMM_CONSENSUS_DEFAULT_POSTPROCESS", "GMMConsensus"]

#: Largest interquartile range of the foreground's brightness ratios (relative to
#: their median) that a change of the light may have.
_SPREAD = 0.2

#: Default post-processing of ``gmm-consensus`` (chosen on half of the shared
#: sequences and checked on the other half; see ``benchmarks/online_accuracy.py``).
GMM_CONSENSUS_DEFAULT_POSTPROCESS = PostProcess(median=5, close=4, fill_holes=True)


class GMMConsensus(GMMFull):
    r"""``gmm-full`` whose young model learns fast and whose foreground must survive
    a neighbourhood test.

    The per-pixel full-covariance mixture of :class:`~bgmix.background._gmm_full.GMMFull`
    (same model, kernels and parameters) with four changes:

    * **Start-up rate.** The automatic learning rate at the :math:`n`-th frame since
      the model started is :math:`\alpha_n = \max(\alpha, \min(1/2, 1 / (s (n + 1))))`
      with :math:`s` = ``startup`` (the running-mean rate of Stauffer & Grimson's
      on-line EM approximation [1]_, as in Zivkovic's ``mog2`` [4]_). With the
      constant :math:`\alpha = 0.005` the components keep about ``var_init`` for
      hundreds of frames, so a short clip is segmented with a wide, insensitive
      model; with :math:`s = 8` (rate :math:`1/(8(n+1))` for the first 24 frames)
      they narrow to the observed noise within a few dozen frames. ``startup=0``
      keeps the constant :math:`\alpha`.
    * **Neighbourhood consensus** (Elgammal, Harwood & Davis [2]_; Sheikh & Shah
      [3]_). A pixel the mixture calls foreground is tested against the background
      components of its neighbours within Chebyshev distance ``radius``: it is
      *explained* when one of them matches it (Mahalanobis distance below
      :math:`\lambda_c` = ``consensus_threshold``, background components by the
      pixel's rule). A displaced colour is matched only roughly by a model fitted a
      pixel or more away, so, as Elgammal's displacement test has a threshold of
      its own, :math:`\lambda_c` = 5 by default against the mixture's
      ``match_threshold`` of 3. Water,
      foliage and a shaking camera displace background colours by a pixel or two,
      and such pixels are explained. With ``displaced_share`` :math:`\phi = 0` every
      explained pixel is background (Elgammal's displacement probability); with
      :math:`\phi > 0` the test is made per 8-connected blob of the mask (Elgammal's
      component displacement probability): a blob is background when at least
      :math:`\phi` of its pixels are explained, and kept whole otherwise, so an
      object whose edges alone resemble the background stays entire.
    * **Shadows** (Prati, Mikic, Trivedi & Cucchiara [5]_, the test of ``mog2``
      with the full covariance). A foreground pixel of a colour frame that is a
      darker copy of one of its own background components is a cast shadow and is
      labelled 127 (negative under CDnet's rules): with the brightness ratio
      :math:`a = x^\top \mu / \mu^\top \mu` and :math:`r = x - a \mu`, when
      :math:`\tau \le a \le 1` and :math:`r^\top \Sigma^{-1} r < \lambda^2 a^2`
      (:math:`\tau` = ``shadow_threshold``). Grey frames get no shadow test: there
      it is a bare brightness ratio, which removed dark objects rather than shadows
      on the grey UCSD sequences (mean F 0.347 without, 0.343 with
      :math:`\tau = 0.8`, 0.205 with 0.5).
    * **Restart on a change of the light.** When more than ``restart_share`` of a
      frame's pixels are foreground after the neighbourhood test, and their
      brightness ratios to the background image (sum of the channels) have a median
      off 1 by more than ``restart_gain`` and an interquartile range below 0.2 of
      that median (the light scales the whole scene alike; an object does not), the
      start-up rate starts again from the next frame: lights switched, camera gain
      or exposure jumped, and the model relearns the scene in a few frames instead
      of about :math:`1/\alpha`. With the share alone, large objects restarted
      it (F on SBI Foliage 0.86 -> 0.61, Snellen 0.53 -> 0.38).

    Parameters
    ----------
    n_components, alpha, match_threshold, var_init, var_min, background_rule, \
background_ratio, random_state
        As in :class:`~bgmix.background._gmm_full.GMMFull`.
    startup : float, default 8.0
        :math:`s` of the start-up rate (0: off; at most 100).
    radius : int, default 3
        Neighbourhood radius of the consensus test (0: off; at most 4).
    consensus_threshold : float, default 5.0
        :math:`\lambda_c`: the Mahalanobis distance below which a neighbour's
        background component explains a foreground pixel (``match_threshold``'s
        value makes the test as strict as the mixture's own).
    displaced_share : float, default 1.0
        :math:`\phi`: the share of a blob's pixels that must be explained for the
        blob to be background (0: the test is made per pixel).
    shadow_threshold : float, default 0.8
        :math:`\tau`: the lowest brightness ratio of a shadow (0: no shadow test).
    restart_share : float, default 0.5
        Share of foreground pixels above which the start-up rate restarts, if the
        brightness changed too (0: never; no effect with ``startup=0``).
    restart_gain : float, default 0.15
        How far from 1 the median brightness ratio of the foreground to the
        background image must be for a restart (the ratios must also agree: an
        interquartile range below 0.2 of the median).
    hold_frames, n_jobs
        See :class:`~bgmix.background._online.OnlineMixtureSubtractor`.
    postprocess : PostProcess or dict, default ``PostProcess(median=5, close=4, fill_holes=True)``
        Mask post-processing (after the consensus test).

    Attributes
    ----------
    state_nbytes : int
        As ``gmm-full``'s (122 bytes per pixel for RGB and the defaults).

    Notes
    -----
    The mixture's update does not depend on the consensus test (it follows the
    mixture's own decision, as in [2]_), so the test only changes the mask. With
    the ranked rule the background components of a neighbour :math:`y` are those
    ranked by :math:`w_k / \sqrt{|\Sigma_k|}` before which less than ``background_ratio``
    of :math:`y`'s weight comes. The test reads the model after the frame's update
    and writes only the mask, so results do not depend on ``n_jobs``. The blob test
    gives a blob up as soon as more of its pixels are unexplained than
    :math:`\phi` allows, so the cost is that of the displaced blobs (noise, water)
    and a few pixels per object.

    The defaults were chosen by a half-and-half protocol on the 18 shared sequences
    (``benchmarks/online_accuracy.py``, part 5): over ``startup`` (0, 8), ``radius``
    (0, 3), ``consensus_threshold`` (3, 4, 5, 6), ``shadow_threshold`` (off, 0.6,
    0.8) and the post-processing (5x5 median and a closing of radius 2, or of radius
    4 and hole filling), both halves choose ``startup=8``, ``radius=3``,
    ``consensus_threshold=5``, ``shadow_threshold=0.8``, the closing of radius 4 and
    hole filling (an earlier grid chose ``displaced_share=1`` the same way). No
    shared sequence has a change of the light, so the restart changes none of their
    masks; ``restart_share`` and ``restart_gain`` were set on the synthetic
    sudden-illumination scene.

    ``learning_rate=0`` freezes the model; ``learning_rate=1`` restarts it from the
    frame, which is then processed as the first frame (start-up rate again); another
    rate is used as given.

    References
    ----------
    .. [1] C. Stauffer and W. E. L. Grimson, "Adaptive background mixture models for
       real-time tracking", CVPR 1999.
    .. [2] A. Elgammal, D. Harwood and L. Davis, "Non-parametric model for background
       subtraction", ECCV 2000 (displacement and component displacement
       probabilities).
    .. [3] Y. Sheikh and M. Shah, "Bayesian modeling of dynamic scenes for object
       detection", IEEE TPAMI 27(11), 2005.
    .. [4] Z. Zivkovic, "Improved adaptive Gaussian mixture model for background
       subtraction", ICPR 2004.
    .. [5] A. Prati, I. Mikic, M. M. Trivedi and R. Cucchiara, "Detecting moving
       shadows: algorithms and evaluation", IEEE TPAMI 25(7), 2003.

    Examples
    --------
    >>> import numpy as np
    >>> sub = GMMConsensus(random_state=0, n_jobs=1)
    >>> frames = np.full((3, 12, 16, 3), 80, np.uint8)
    >>> masks = [sub.apply(f) for f in frames]
    >>> int(masks[-1].max())
    0
    """

    _state_attrs = (*GMMFull._state_attrs, "_model_frames")

    startup: float = Param(8.0, real_in(0.0, 100.0))
    radius: int = Param(3, int_in(0, 4))
    consensus_threshold: float = Param(5.0, real_in(0.0, None, closed="right"))
    displaced_share: float = Param(1.0, real_in(0.0, 1.0))
    shadow_threshold: float = Param(0.8, real_in(0.0, 1.0))
    restart_share: float = Param(0.5, real_in(0.0, 1.0))
    restart_gain: float = Param(0.15, real_in(0.0, 1.0))
    postprocess: PostProcess | dict[str, Any] | None = Param(GMM_CONSENSUS_DEFAULT_POSTPROCESS)

    def _initialize(self, frame: np.ndarray) -> None:
        super()._initialize(frame)
        self._model_frames = 0

    def _rate(self, learning_rate: float) -> float:
        """Count the frame and return its learning rate (the start-up rate when
        automatic)."""
        n = int(self._model_frames) + 1
        self._model_frames = n
        if learning_rate >= 0.0:
            return learning_rate
        s = float(self.startup)
        if s == 0.0:
            return float(self.alpha)
        return max(float(self.alpha), min(0.5, 1.0 / (s * (n + 1))))

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        if self._weight.shape[0] != self.n_components or learning_rate >= 1.0:
            self._model_frames = 0  # the mixture restarts from this frame
            learning_rate = -1.0
            if self._weight.shape[0] == self.n_components:
                self._restart(frame)
        mask = super()._apply(frame, self._rate(learning_rate))
        if int(self.radius) > 0:
            self._consensus(frame, mask)
        if self._global_change(frame, mask):
            self._model_frames = 0  # the start-up rate again from the next frame
        if float(self.shadow_threshold) > 0.0 and frame.shape[2] == 3:
            self._shadows(frame, mask)
        return mask

    def _global_change(self, frame: np.ndarray, mask: np.ndarray) -> bool:
        """More than ``restart_share`` of the pixels are foreground, and their
        brightness ratios to the background image agree (interquartile range below
        ``_SPREAD`` of the median) on a median off 1 by more than ``restart_gain``."""
        share = float(self.restart_share)
        if share == 0.0:
            return False
        fg = mask == 255
        if np.count_nonzero(fg) <= share * mask.size:
            return False
        lit = np.sum(frame[fg], axis=1, dtype=np.float64)
        ref = np.sum(self._background().reshape(frame.shape)[fg], axis=1, dtype=np.float64)
        ratio = lit / np.maximum(ref, 1.0)
        low, mid, high = np.percentile(ratio, (25.0, 50.0, 75.0))
        # a change of the light scales the whole scene alike; an object does not
        return abs(mid - 1.0) > float(self.restart_gain) and high - low < _SPREAD * mid

    def _shadows(self, frame: np.ndarray, mask: np.ndarray) -> None:
        """Relabel the foreground of ``mask`` (in place) that is a cast shadow as 127."""
        from bgmix._kernels.online_consensus import shadow_rows
        from bgmix._kernels.online_gmm_full import RULE_RANKED

        p = self._params
        tau = np.float32(float(self.shadow_threshold))
        model = (self._weight, self._mean, self._cov)
        self._run(
            shadow_rows, frame, *model, mask, tau, p.lam2, p.tbr, p.rule == RULE_RANKED, p.var_min
        )

    def _consensus(self, frame: np.ndarray, mask: np.ndarray) -> None:
        """Clear the foreground of ``mask`` (in place) that neighbours explain."""
        import cv2

        from bgmix._kernels.online_consensus import (
            blob_budget,
            blob_misses_rows,
            displaced_rows,
            drop_displaced,
        )
        from bgmix._kernels.online_gmm_full import RULE_RANKED

        p = self._params
        model = (self._weight, self._mean, self._cov)
        lam2 = np.float32(float(self.consensus_threshold) ** 2)
        test = (int(self.radius), lam2, p.tbr, p.rule == RULE_RANKED, p.var_min)
        share = float(self.displaced_share)
        if share == 0.0:
            explained = np.empty(mask.shape, np.uint8)
            self._run(displaced_rows, frame, *model, mask, explained, *test)
            mask[explained == 1] = 0
            return
        n, labels = cv2.connectedComponents((mask == 255).astype(np.uint8), connectivity=8)
        if n > 1:
            allowed = blob_budget(labels, n, share)
            missed_at = np.zeros(mask.shape, np.uint8)
            self._run(blob_misses_rows, frame, *model, labels, allowed, missed_at, *test)
            drop_displaced(mask, labels, allowed, missed_at)
