"""Low-rank background subtractors: ``svd`` (truncated SVD) and ``rpca`` (Robust PCA).

Both learn a **background subspace** from a batch of frames (``fit``) and classify a
frame by comparing it with its projection onto that subspace (``apply``).

Frames become columns of a frame matrix in the layout of
:mod:`bgmix.lowrank._matrix` (channel planes stacked, 0–255 scale, float32), so a
model of ``(H, W, C)`` frames works in dimension ``D = H W C``.

Model
-----
The model is an orthonormal basis :math:`U \\in \\mathbb{R}^{D \\times r}` with weights
:math:`s_1 \\ge \\dots \\ge s_r` (singular values), and a per-pixel noise scale
:math:`\\hat\\sigma_p` (zero unless ``noise`` asks for it). ``get_background_image()``
is the low-rank part :math:`\\ell` of the last frame classified (after ``fit``: of the
last frame fitted).

Windows and memory
------------------
``fit`` reads the frames once. With ``window=None`` every frame goes into one matrix
(``4 D T`` bytes, plus the decomposition's work space: about 5 float64 copies,
``40 D T`` bytes, for ``rpca``). With ``window=W`` the frames are processed in
consecutive windows of ``W`` frames, each decomposed on its own, and the windows are
merged into the basis by incremental SVD (Brand 2002): with :math:`U_w \\Sigma_w` the
window's low-rank factor (its rank-``r`` truncated SVD for ``svd``, the SVD of its
``L`` for ``rpca``),

.. math:: [\\, f\\, U \\operatorname{diag}(s),\\; U_w \\Sigma_w \\,] = U' \\Sigma' V'^T,
          \\qquad U \\leftarrow U'_{:, :r},\\; s \\leftarrow \\operatorname{diag}(\\Sigma')_{:r},

which is exact for the left singular vectors of the concatenated low-rank parts
(the right factors are orthonormal and block diagonal) before the truncation to
rank ``r``. In ``fit``, :math:`f = 1`: every window counts by its energy, and with one
window (``window=None``, or a window as long as the video) the basis is exactly
the rank-``r`` SVD of the whole frame matrix. Memory is bounded by ``W`` whatever
the length of the video: about ``4 D (W + r)`` bytes for ``svd`` and ``40 D W`` for
``rpca``.

Learning rate
-------------
``apply(frame)`` with the automatic rate (-1) or 0 classifies the frame with the
fitted model and leaves it unchanged (the model is the decomposition of the training
frames). A rate :math:`\\alpha \\in (0, 1)` makes it a streaming model: the frame goes
to a buffer of ``W`` frames (``window``, 50 when None), and when the buffer is full
it is decomposed and merged as above with the old factor down-weighted by
:math:`f = (1 - \\alpha)^{W/2}`, so the old energy decays by :math:`(1 - \\alpha)` per
frame, as in an exponential running average (Ross et al. 2008 call ``f`` the
forgetting factor). A rate of 1 makes the frame itself the rank-1 background.

Threshold
---------
With :math:`d_p = \\max_c |x_{c,p} - \\ell_{c,p}|` the largest per-channel residual of
pixel ``p`` of a frame ``x`` against its low-rank part :math:`\\ell`, the pixel is
foreground when :math:`d_p > \\max(\\tau, k \\hat\\sigma_p)` (``threshold`` = :math:`\\tau`
on the 0–255 scale, ``n_sigma`` = ``k``). With ``noise="none"`` (the default)
:math:`\\hat\\sigma_p = 0`: a fixed threshold, like the other difference-based
subtractors. ``noise="global"`` and ``"pixel"`` estimate the noise scale of the
residuals of the training frames robustly, from their lower quartile: for ``C``
channels of Gaussian noise :math:`\\sigma`, the ``q`` quantile of :math:`d` is
:math:`\\sigma\\, \\Phi^{-1}((q^{1/C} + 1)/2)`, so

.. math:: \\hat\\sigma = Q_{0.25}(d) \\,/\\, \\Phi^{-1}\\big((0.25^{1/C} + 1)/2\\big),

taken over every pixel and frame (``"global"``: one value for the frame, for noisy
cameras) or over the frames of each pixel (``"pixel"``: higher thresholds where the
background itself moves). A quartile stays valid while foreground covers less than
three quarters of the samples (a median, less than half); windows are averaged,
weighted by their frame counts.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any, ClassVar, Self

import numpy as np

from bgmix._typing import Frame
from bgmix._validation import Options, check_random_state
from bgmix.background._base import FOREGROUND, BackgroundSubtractor, Param, int_in, real_in
from bgmix.exceptions import EmptySourceError, FrameFormatError, InputError

__all__ = ["LowRankSubtractor", "RPCASubtractor", "SVDSubtractor"]

logger = logging.getLogger(__name__)

#: The noise scale is read from this quantile of the residuals, which stays valid
#: while foreground covers up to 1 - _NOISE_QUANTILE of the samples.
_NOISE_QUANTILE = 0.25
#: Update buffer of a streaming model without a window.
_DEFAULT_BUFFER = 50
#: The values of ``noise``.
_NOISE_MODES = ("none", "global", "pixel")


def _quantile_to_sigma(channels: int) -> float:
    """:math:`\\Phi^{-1}((q^{1/C} + 1)/2)`: the ``q`` quantile of the largest of ``C``
    absolute values of independent :math:`N(0, 1)` residuals."""
    from statistics import NormalDist

    return NormalDist().inv_cdf((_NOISE_QUANTILE ** (1.0 / channels) + 1.0) / 2.0)


def _columns(x: np.ndarray) -> np.ndarray:
    """Validated ``(H, W, C)`` frame -> ``(C*H*W,)`` float32 column (planes stacked)."""
    return np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32).reshape(-1)


class LowRankSubtractor(BackgroundSubtractor):
    """Shared machinery of :class:`SVDSubtractor` and :class:`RPCASubtractor`.

    Subclasses define :meth:`_window_factor` (the low-rank factor and residual of one
    window) and :meth:`_coefficients` (how a new frame is projected on the basis).
    """

    requires_fit: ClassVar[bool] = True
    _state_attrs = (
        "_basis",
        "_weights",
        "_scale",
        "_scale_count",
        "_buffer",
        "_n_buffered",
        "_low",
        "_rng",
    )

    # ------------------------------------------------------------------ parameters
    def _target_rank(self, old_rank: int, new_rank: int) -> int:
        """Rank of the merged basis."""
        return int(self.rank) if self.rank is not None else max(old_rank, new_rank)

    def _window_factor(
        self, X: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(U_w Sigma_w (D, k) float32, residual (D, n) float32)`` of one window."""
        raise NotImplementedError  # pragma: no cover

    def _coefficients(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover

    # ------------------------------------------------------------------ fitting
    def fit(self, frames: Iterable[Frame] | np.ndarray) -> Self:
        """Learn the background subspace from a batch of frames.

        Parameters
        ----------
        frames : (T, H, W) or (T, H, W, 3) ndarray, or iterable of frames
            uint8, or float in [0, 1]; RGB. For example an open
            :func:`bgmix.open_source`. Read once; with ``window`` set, at most
            ``window`` frames are held at a time.

        Returns
        -------
        self

        Raises
        ------
        EmptySourceError
            No frames.
        FrameFormatError, FrameSizeError
            An invalid frame, or one whose size differs from frame 0.

        Notes
        -----
        A failed fit leaves the previous model untouched. After the fit,
        :meth:`get_background_image` is the low-rank part of the last frame fitted.
        """
        from bgmix.lowrank._matrix import _Converter

        if isinstance(frames, (str, bytes)) or hasattr(frames, "__fspath__"):
            raise InputError(
                f"{self.name}.fit: got the path {str(frames)!r}; open it first, e.g. "
                "fit(bgmix.open_source(path)), or pass an array of frames"
            )
        if isinstance(frames, np.ndarray) and frames.ndim not in (3, 4):
            raise FrameFormatError(
                f"{self.name}.fit: expected frames as an array of shape (T, H, W) or "
                f"(T, H, W, 3), got shape {frames.shape}"
            )
        if not isinstance(frames, Iterable):
            raise FrameFormatError(
                f"{self.name}.fit: expected an array or an iterable of frames, got "
                f"{type(frames).__name__}"
            )
        rs = self.random_state
        rng = check_random_state(rs)
        conv = _Converter(False, None, None, np.dtype(np.float32))
        window = None if self.window is None else int(self.window)
        state: dict[str, Any] = {
            "_basis": None,
            "_weights": None,
            "_scale": None,
            "_scale_count": 0,
        }
        cols: list[np.ndarray] = []
        last = None
        n = 0
        for n, frame in enumerate(frames, start=1):
            cols.append(conv(frame, n - 1))
            if window is not None and len(cols) == window:
                last = self._merge(state, np.stack(cols, axis=1), conv.in_shape[2], rng)
                cols = []
        if n == 0:
            raise EmptySourceError(f"{self.name}.fit: no frames given")
        if cols:
            last = self._merge(state, np.stack(cols, axis=1), conv.in_shape[2], rng)
        assert last is not None and conv.in_shape is not None
        D = last.size
        self._basis = state["_basis"]
        self._weights = state["_weights"]
        self._scale = state["_scale"]
        self._scale_count = state["_scale_count"]
        self._buffer = np.zeros((window or _DEFAULT_BUFFER, D), np.float32)
        self._n_buffered = 0
        self._low = self._basis @ self._coefficients(last)
        self._rng = rng
        self._frame_shape = conv.in_shape
        self._n_frames = 0
        logger.debug("%s.fit: %d frames, basis of rank %d", self.name, n, self._basis.shape[1])
        return self

    def _merge(
        self,
        state: dict[str, Any],
        X: np.ndarray,
        channels: int,
        rng: np.random.Generator,
        forgetting: float = 1.0,
    ) -> np.ndarray:
        """Decompose one window ``X`` (D, n), merge it into ``state``; return its last column."""
        from bgmix.lowrank._svd import truncated_svd

        factor, residual = self._window_factor(X, rng)
        old = state["_basis"]
        if old is None:  # the columns of U_w Sigma_w are already orthogonal
            s = np.linalg.norm(factor, axis=0).astype(np.float64)
            U = factor / np.maximum(s, 1e-30).astype(np.float32)
        else:
            k = min(
                self._target_rank(old.shape[1], factor.shape[1]),
                old.shape[0],
                old.shape[1] + factor.shape[1],
            )
            f = forgetting * state["_weights"]
            stacked = np.concatenate([old * f.astype(np.float32), factor], axis=1)
            U, s, _ = truncated_svd(stacked, k, solver="full")
        keep = np.asarray(s) > max(float(s[0]) * 1e-6, 1e-12)  # drop null directions
        keep[0] = True
        U, s = U[:, keep], s[keep]
        state["_basis"] = np.ascontiguousarray(U, dtype=np.float32)
        state["_weights"] = np.asarray(s, dtype=np.float64)
        n = X.shape[1]
        if self.noise == "none":
            state["_scale"] = np.zeros(X.shape[0] // channels, np.float32)
            state["_scale_count"] += n
            return X[:, -1].copy()
        dist = np.abs(residual).reshape(channels, -1, n).max(axis=0)
        if self.noise == "pixel":
            quant = np.quantile(dist, _NOISE_QUANTILE, axis=1)
        else:
            quant = np.full(dist.shape[0], np.quantile(dist, _NOISE_QUANTILE))
        sigma = (quant / _quantile_to_sigma(channels)).astype(np.float32)
        count = state["_scale_count"]
        if state["_scale"] is not None:
            sigma = ((count * state["_scale"] + n * sigma) / (count + n)).astype(np.float32)
        state["_scale"] = sigma
        state["_scale_count"] = count + n
        return X[:, -1].copy()

    # ------------------------------------------------------------------ streaming
    def _initialize(self, frame: np.ndarray) -> None:  # pragma: no cover - requires_fit
        raise AssertionError("low-rank models are created by fit()")

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        x = _columns(frame)
        coef = self._coefficients(x)
        low = self._basis @ coef
        H, W, C = frame.shape
        dist = np.abs(x - low).reshape(C, H * W).max(axis=0)
        threshold = np.maximum(np.float32(self.n_sigma) * self._scale, np.float32(self.threshold))
        mask = np.where(dist > threshold, FOREGROUND, 0).astype(np.uint8).reshape(H, W)
        self._low = low
        if learning_rate == 1.0:
            norm = float(np.linalg.norm(x))
            self._basis = (x / norm if norm > 0 else np.full_like(x, 1 / math.sqrt(x.size)))[
                :, None
            ]
            self._weights = np.array([norm], np.float64)
            self._n_buffered = 0
            self._low = x.copy()
        elif 0.0 < learning_rate < 1.0:
            self._buffer[self._n_buffered] = x
            self._n_buffered += 1
            if self._n_buffered == self._buffer.shape[0]:
                state = {
                    "_basis": self._basis,
                    "_weights": self._weights,
                    "_scale": self._scale,
                    "_scale_count": self._scale_count,
                }
                n = self._buffer.shape[0]
                forget = (1.0 - learning_rate) ** (n / 2)
                self._merge(state, np.ascontiguousarray(self._buffer.T), C, self._rng, forget)
                self._basis, self._weights = state["_basis"], state["_weights"]
                self._scale, self._scale_count = state["_scale"], state["_scale_count"]
                self._n_buffered = 0
        return mask

    def _background(self) -> np.ndarray:
        H, W, C = self._frame_shape  # type: ignore[misc]
        return self._low.reshape(C, H, W).transpose(1, 2, 0)

    @property
    def basis_(self) -> np.ndarray:
        """The background basis ``(D, r)``, orthonormal columns (frame-matrix layout)."""
        if self._frame_shape is None:
            from bgmix.exceptions import NotFittedError

            raise NotFittedError(f"{self.name} is not fitted: call fit(frames) first")
        return self._basis


class SVDSubtractor(LowRankSubtractor):
    """Rank-``k`` SVD background: the frames' best rank-``k`` approximation.

    Parameters
    ----------
    rank : int, default 1
        ``k``, the dimension of the background subspace (1: one static background;
        more: illumination changes, several backgrounds, at the price of absorbing
        more of the foreground).
    solver : {"randomized", "full"}, default "randomized"
        :func:`bgmix.lowrank.randomized_svd` or LAPACK's SVD for each window.
    window : int, optional
        Frames per window of ``fit`` (bounded memory, see the module notes) and of the
        update buffer of a streaming model; None: one matrix of every frame.
    threshold : float, default 30
        :math:`\\tau`: foreground where the largest per-channel residual exceeds it
        (0–255 scale).
    noise : {"none", "global", "pixel"}, default "none"
        Raise the threshold to :math:`k \\hat\\sigma` with a robust noise scale of the
        training residuals, one for the frame or one per pixel (module notes).
    n_sigma : float, default 4
        :math:`k`, used when ``noise`` is not "none".
    random_state : None, int or numpy.random.Generator, default 0
        Seed of the randomized SVD.
    postprocess : PostProcess or dict, optional
        Mask post-processing.

    Notes
    -----
    With the frame matrix :math:`M` (pixels x frames) of the training frames and its
    SVD :math:`M = U \\Sigma V^T`, the background is the rank-``k`` truncation
    :math:`L = U_k \\Sigma_k V_k^T` (Eckart–Young: the closest rank-``k`` matrix in the
    Frobenius norm) and the foreground is where :math:`|M - L|` is large. A frame
    ``x`` given to ``apply`` is projected orthogonally on the basis,
    :math:`\\ell = U_k U_k^T x`, which for a training frame is exactly its column of
    ``L``; its mask is :math:`\\max_c |x - \\ell| > \\max(\\tau, k\\hat\\sigma_p)`.
    Least squares is not robust: a bright object pulls the whole background of its
    frame (and, in the training frames, leaves a ghost along its path), which is
    what :class:`RPCASubtractor` corrects.
    ``get_background_image`` is :math:`\\ell` of the last frame. For ``learning_rate``
    see the module notes (-1 and 0 leave the fitted model unchanged).

    References
    ----------
    .. [1] C. Eckart and G. Young, "The approximation of one matrix by another of
       lower rank", Psychometrika 1(3), 1936.
    .. [2] N. Oliver, B. Rosario and A. Pentland, "A Bayesian computer vision system
       for modeling human interactions", IEEE TPAMI 22(8), 2000 (eigen-backgrounds).
    .. [3] M. Brand, "Incremental singular value decomposition of uncertain data with
       missing values", ECCV 2002.
    .. [4] D. A. Ross, J. Lim, R.-S. Lin and M.-H. Yang, "Incremental learning for
       robust visual tracking", IJCV 77, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.full((20, 8, 8), 100, np.uint8); frames[-1, 2:5, 2:5] = 250
    >>> sub = SVDSubtractor(rank=1).fit(frames)
    >>> int(sub.apply(frames[-1])[3, 3]), int(sub.apply(frames[0])[3, 3])
    (255, 0)
    """

    rank: int = Param(1, int_in(1))
    solver: str = Param("randomized", Options(("randomized", "full")))
    window: int | None = Param(None, int_in(1), optional=True)
    threshold: float = Param(30.0, real_in(0.0, 255.0))
    noise: str = Param("none", Options(_NOISE_MODES))
    n_sigma: float = Param(4.0, real_in(0.0))
    random_state: int | np.random.Generator | None = Param(0, "random_state")

    def _window_factor(
        self, X: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        from bgmix.lowrank._svd import truncated_svd

        k = min(int(self.rank), *X.shape)
        U, s, Vt = truncated_svd(X, k, solver=self.solver, random_state=rng)
        U = U.astype(np.float32, copy=False)
        residual = X - (U * s.astype(np.float32)) @ Vt.astype(np.float32)
        return U * s.astype(np.float32), residual

    def _coefficients(self, x: np.ndarray) -> np.ndarray:
        return self._basis.T @ x


class RPCASubtractor(LowRankSubtractor):
    """Robust PCA background: principal component pursuit on windows of frames.

    Parameters
    ----------
    rank : int, optional, default 1
        Dimension of the background subspace kept from the low-rank part ``L`` (its
        leading left singular vectors); None keeps all of ``L``'s rank (on real video
        PCP leaves ``L`` with a high rank, which also absorbs foreground).
    window : int, optional, default 200
        Frames per window: each window is decomposed by :func:`bgmix.lowrank.rpca`
        (about ``40 D W`` bytes) and merged into the basis; also the update buffer of
        a streaming model. None: one window of every frame.
    lam : float, optional
        :math:`\\lambda` of :func:`~bgmix.lowrank.rpca` (default
        :math:`1/\\sqrt{\\max(D, W)}`).
    tol : float, default 1e-7
        Tolerance of :func:`~bgmix.lowrank.rpca`.
    max_iter : int, default 500
        Iteration limit of :func:`~bgmix.lowrank.rpca`.
    threshold : float, default 30
        :math:`\\tau`: foreground where the largest per-channel residual
        :math:`|x - \\ell|` (the frame's sparse part) exceeds it (0–255 scale).
    noise : {"none", "global", "pixel"}, default "none"
        Raise the threshold to :math:`k \\hat\\sigma` with a robust noise scale of the
        training frames' ``S`` (module notes).
    n_sigma : float, default 4
        :math:`k`, used when ``noise`` is not "none".
    irls_iter : int, default 10
        Iterations of the robust projection of new frames.
    random_state : None, int or numpy.random.Generator, default 0
        Seed of the partial SVDs.
    postprocess : PostProcess or dict, optional
        Mask post-processing.

    Notes
    -----
    Each window's frame matrix is split by principal component pursuit,
    :math:`M = L + S` with :math:`\\min \\|L\\|_* + \\lambda\\|S\\|_1` (see
    :func:`bgmix.lowrank.rpca`): ``L`` is the background, ``S`` the moving
    foreground. The basis is the leading left singular vectors of ``L``. A frame ``x``
    given to ``apply`` is split the same way against the basis, by the robust (least
    absolute deviations) projection

    .. math:: c = \\arg\\min_c \\|x - U c\\|_1, \\qquad \\ell = U c, \\qquad s = x - \\ell,

    computed by iteratively reweighted least squares (weights
    :math:`1/\\max(|x - Uc|, 1)`), so a foreground object does not pull the
    background towards itself as an orthogonal projection would. The mask is
    :math:`\\max_c |s| > \\max(\\tau, k\\hat\\sigma_p)`;
    ``get_background_image`` is :math:`\\ell` of the last frame.

    References
    ----------
    .. [1] E. J. Candès, X. Li, Y. Ma and J. Wright, "Robust principal component
       analysis?", Journal of the ACM 58(3), 2011.
    .. [2] Z. Lin, M. Chen and Y. Ma, "The augmented Lagrange multiplier method for
       exact recovery of corrupted low-rank matrices", arXiv:1009.5055, 2010.
    .. [3] T. Bouwmans and E. H. Zahzah, "Robust PCA via principal component pursuit:
       a review for a comparative evaluation in video surveillance", CVIU 122, 2014.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.full((6, 8, 8), 100, np.uint8); frames[-1, 2:5, 2:5] = 250
    >>> sub = RPCASubtractor(rank=1).fit(frames)
    >>> int(sub.apply(frames[-1])[3, 3]), int(sub.apply(frames[0])[3, 3])
    (255, 0)
    """

    rank: int | None = Param(1, int_in(1), optional=True)
    window: int | None = Param(200, int_in(1), optional=True)
    lam: float | None = Param(None, real_in(0.0, None, closed="right"), optional=True)
    tol: float = Param(1e-7, real_in(0.0, 1.0, closed="neither"))
    max_iter: int = Param(500, int_in(1))
    threshold: float = Param(30.0, real_in(0.0, 255.0))
    noise: str = Param("none", Options(_NOISE_MODES))
    n_sigma: float = Param(4.0, real_in(0.0))
    irls_iter: int = Param(10, int_in(0))
    random_state: int | np.random.Generator | None = Param(0, "random_state")

    def _window_factor(
        self, X: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        import warnings

        from bgmix.exceptions import ConvergenceWarning
        from bgmix.lowrank._rpca import rpca
        from bgmix.lowrank._svd import truncated_svd

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            res = rpca(X, lam=self.lam, tol=self.tol, max_iter=self.max_iter, random_state=rng)
        for w in caught:
            logger.warning("%s.fit: %s", self.name, w.message)
        L = res.L
        r = max(1, res.rank)
        k = min(r if self.rank is None else min(r, int(self.rank)), *X.shape)
        U, s, _ = truncated_svd(L, k, solver="full")
        return (U * s).astype(np.float32), res.S.astype(np.float32)

    def _coefficients(self, x: np.ndarray) -> np.ndarray:
        U = self._basis
        c = U.T @ x
        for _ in range(int(self.irls_iter)):
            w = 1.0 / np.maximum(np.abs(x - U @ c), np.float32(1.0))
            Uw = U * w[:, None]
            G = U.T @ Uw
            rhs = Uw.T @ x
            c = np.linalg.lstsq(G.astype(np.float64), rhs.astype(np.float64), rcond=None)[0]
            c = c.astype(np.float32)
        return c
