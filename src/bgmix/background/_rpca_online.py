"""``rpca-online``: incremental principal component pursuit, frame by frame."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bgmix._threads import run_bands
from bgmix.background._base import Param, ThreadedSubtractor, int_in, real_in
from bgmix.background._postprocess import PostProcess

__all__ = ["RPCA_ONLINE_DEFAULT_POSTPROCESS", "RPCAOnline"]

#: Default post-processing of ``rpca-online`` (chosen, with the other defaults, on
#: half of the shared sequences and checked on the other half; see
#: ``benchmarks/lowrank_accuracy.py``).
RPCA_ONLINE_DEFAULT_POSTPROCESS = PostProcess(median=5, close=5, fill_holes=True)

#: The basis is re-orthonormalised every this many model frames (float32 rank-one
#: updates slowly lose orthogonality).
_REORTHO_EVERY = 64
#: A band of work has at least this many blocks (of ``BLOCK`` pixels).
_MIN_BAND_BLOCKS = 4


class RPCAOnline(ThreadedSubtractor):
    r"""Online Robust PCA: incremental principal component pursuit (incPCP).

    A streaming version of :class:`~bgmix.background.RPCASubtractor` after
    Rodriguez and Wohlberg's incremental PCP: every frame is split into a low-rank
    background and a sparse foreground against a rank-``k`` subspace learned from the
    past frames, and the subspace is then updated with the frame's low-rank part by a
    rank-one incremental SVD. Memory is constant: the model is the basis (``k`` values
    per pixel and channel), ``k`` singular values and ``k`` coefficients, whatever
    the length of the video.

    Parameters
    ----------
    rank : int, default 1
        ``k``, the largest dimension of the background subspace (1: one background
        whose brightness may change; more: several backgrounds, at the price of
        absorbing more of the foreground).
    history : int, default 100
        Memory of the subspace in frames: the automatic learning rate is
        :math:`\alpha_n = 1 / \min(n, \text{history})` at the n-th frame.
    lam : float, default 20
        :math:`\lambda`, the shrinkage level on the 0–255 scale: residuals larger
        than it are sparse (foreground), and the background learns at most this
        much of a pixel's residual per frame.
    n_iter : int, default 3
        Alternations of projection and shrinkage per frame before the frame is
        classified (warm-started from the previous frame's background).
    threshold : float, default 35
        :math:`\tau`: foreground where the largest per-channel residual
        :math:`|x - \ell|` exceeds it (0–255 scale), as for ``rpca``.
    absorb_frames : int, default 20
        ``N``: a pixel that has been foreground for more than ``N`` consecutive
        frames is absorbed into the background (a ghost left by an object that was
        there when the model started, or an object that stopped).
    absorb_rate : float, default 0
        :math:`\gamma`: an absorbed pixel's background moves about this fraction of
        its residual per frame; 0 (the default) turns absorption off. It clears
        ghosts, but it also absorbs objects that stop, and on the tuning sequences it
        lowered the mean F-measure, hence off by default.
    n_jobs : int or None, default None
        Threads (bands of pixels); None or -1 uses every available CPU. The result
        does not depend on it.
    postprocess : PostProcess or dict, default ``PostProcess(median=5, close=5, fill_holes=True)``
        Mask post-processing (see :class:`~bgmix.PostProcess`); ``None`` for the
        raw thresholded :math:`|s|`.

    Attributes
    ----------
    state_nbytes : int
        Bytes of the model: ``4 k H W C`` for the basis, 2 per pixel for the
        foreground counts, and ``12 k`` for the singular values and coefficients.

    Notes
    -----
    The frame is a column :math:`x \in \mathbb{R}^D` (``D = H W C``, 0–255 scale).
    The model is an orthonormal basis :math:`U \in \mathbb{R}^{D \times k}` with
    singular values :math:`\sigma`, the rank-``k`` factor of the (forgetting)
    matrix of the past low-rank parts. Each frame is split, as in principal
    component pursuit, into :math:`x = \ell + s` with :math:`\ell = U c` by
    alternating the projection of the de-sparsified frame and the shrinkage of
    the residual (Rodriguez & Wohlberg 2016),

    .. math::

        c \leftarrow U^T (x - s), \qquad
        s \leftarrow \operatorname{shrink}_\lambda(x - U c),

    with :math:`\operatorname{shrink}_\lambda(r) = \operatorname{sign}(r)
    \max(|r| - \lambda, 0)`; since :math:`U^T U = I` one alternation is
    :math:`c \leftarrow c + U^T e` with :math:`e = \operatorname{clip}(x - Uc,
    -\lambda, \lambda)`, a step of the Huber-loss (robust) regression of
    :math:`x` on :math:`U`. After ``n_iter`` alternations the pixel is foreground
    when :math:`\max_c |x - \ell| > \tau` (``rpca``'s rule), and the frame's low-rank
    part :math:`b = x - s = \ell + e` enters the subspace by a rank-one update
    of the SVD (Brand 2002) with the forgetting factor of Ross et al. (2008):

    .. math::

        [\sqrt{1-\alpha}\, U \operatorname{diag}(\sigma),\; \sqrt{\alpha}\, b]
        = [U, q] \, K, \quad
        K = \begin{bmatrix} \sqrt{1-\alpha} \operatorname{diag}(\sigma) &
        \sqrt{\alpha} (c + U^T e) \\ 0 & \sqrt{\alpha}\rho \end{bmatrix},

    with :math:`\rho q = e - U U^T e` (:math:`\|q\| = 1`). With the SVD
    :math:`K = W \Sigma Z^T`, the new basis is the first ``k`` columns of
    :math:`[U, q] W` and :math:`\sigma` the first ``k`` values of :math:`\Sigma`.
    With :math:`\alpha_n = 1/n` the subspace is that of the cumulative matrix of
    every low-rank part so far, and with :math:`\alpha` fixed an exponential
    forgetting of time constant :math:`1/\alpha` frames replaces incPCP's explicit
    downdate of the oldest frame, so that no past frame is stored. Because the
    background learns only :math:`\ell + e` with :math:`|e| \le \lambda`, a
    foreground object is absorbed at most :math:`\alpha\lambda` per frame.

    That also holds for a *ghost*: background uncovered by an object that was in
    the first frames, which incremental PCP is known to keep for long (Rodriguez &
    Wohlberg's ghosting suppression [5] addresses the same effect). Here each
    pixel counts its consecutive foreground frames, and a pixel foreground for more
    than ``N`` frames (``absorb_frames``) enters the update with its whole residual
    scaled by :math:`\gamma / \alpha`, :math:`e_p = (\gamma/\alpha)(x_p - \ell_p)`,
    so that its background moves about :math:`\gamma (x_p - \ell_p)` per frame
    instead of :math:`\alpha \lambda`.

    ``learning_rate=0`` classifies without updating; ``1`` classifies, then
    restarts the model from the frame (rank one, :math:`U = x / \|x\|`); the first
    frame starts the model and is all background.

    References
    ----------
    .. [1] P. Rodriguez and B. Wohlberg, "Incremental principal component pursuit
       for video background modeling", Journal of Mathematical Imaging and Vision
       55(1), 2016.
    .. [2] M. Brand, "Incremental singular value decomposition of uncertain data
       with missing values", ECCV 2002.
    .. [3] D. A. Ross, J. Lim, R.-S. Lin and M.-H. Yang, "Incremental learning for
       robust visual tracking", IJCV 77, 2008.
    .. [4] E. J. Candès, X. Li, Y. Ma and J. Wright, "Robust principal component
       analysis?", Journal of the ACM 58(3), 2011.
    .. [5] P. Rodriguez and B. Wohlberg, "Ghosting suppression for incremental
       principal component pursuit algorithms", IEEE GlobalSIP 2016.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.full((8, 12, 16), 100, np.uint8); frames[-1, 2:6, 2:6] = 250
    >>> sub = RPCAOnline(n_jobs=1)
    >>> masks = [sub.apply(f) for f in frames]
    >>> int(masks[-1][3, 3]), int(masks[-1][10, 10])
    (255, 0)
    """

    _state_attrs = ("_basis", "_sv", "_coef", "_count", "_model_frames")

    rank: int = Param(1, int_in(1, 64))
    history: int = Param(100, int_in(1))
    lam: float = Param(20.0, real_in(0.0, None, closed="right"))
    n_iter: int = Param(3, int_in(0))
    threshold: float = Param(35.0, real_in(0.0, 255.0))
    absorb_frames: int = Param(20, int_in(0, 65534))
    absorb_rate: float = Param(0.0, real_in(0.0, 1.0))
    postprocess: PostProcess | dict[str, Any] | None = Param(RPCA_ONLINE_DEFAULT_POSTPROCESS)

    # ------------------------------------------------------------------ model
    def _initialize(self, frame: np.ndarray) -> None:
        self._basis = np.zeros((0, frame.size), np.float32)
        self._sv = np.zeros(0, np.float64)
        self._coef = np.zeros(0, np.float32)
        self._count = np.zeros(frame.shape[0] * frame.shape[1], np.uint16)
        self._model_frames = 0

    @property
    def state_nbytes(self) -> int:
        """Bytes of model state (0 before the first frame); constant in time."""
        if self.frame_shape is None:
            return 0
        return int(self._basis.nbytes + self._sv.nbytes + self._coef.nbytes + self._count.nbytes)

    def _restart(self, x: np.ndarray) -> None:
        """Rank-one model of the frame ``x`` itself."""
        v = x.astype(np.float64)
        norm = float(np.sqrt(v @ v))
        if norm > 0.0:
            basis = (v / norm).astype(np.float32)
        else:
            basis = np.full(x.size, 1.0 / math.sqrt(x.size), np.float32)
        self._basis = basis[None, :]
        self._sv = np.array([norm])
        self._coef = np.array([norm], np.float32)
        self._count[...] = 0
        self._model_frames = 1

    def _scratch(self, D: int, n_pixels: int, nb: int, k: int) -> None:
        """Work arrays (not state): residual, mask and per-block sums for rank ``k``."""
        e = getattr(self, "_e", None)
        if e is None or e.size != D or self._partial.shape[0] != nb:
            self._e = np.empty(D, np.float32)
            self._mask = np.empty(n_pixels, np.uint8)
            self._partial = np.empty((nb, k + 1), np.float64)
        if self._partial.shape[1] < k + 1:
            self._partial = np.empty((nb, k + 1), np.float64)

    def _apply(self, frame: np.ndarray, learning_rate: float) -> np.ndarray:
        from bgmix._kernels.online_rpca import huber_blocks, n_blocks

        h, w, nch = frame.shape
        x = np.ascontiguousarray(frame).reshape(-1)
        D = x.size
        nb = n_blocks(h * w)
        n = self._model_frames + 1
        alpha = (
            float(learning_rate)
            if learning_rate >= 0.0 and n > 1
            else 1.0 / min(n, int(self.history))
        )
        if self._basis.shape[0] == 0:  # first frame: it is the background
            self._restart(x)
            return np.zeros((h, w), np.uint8)
        threads = self._n_threads
        U = self._basis
        k = U.shape[0]
        self._scratch(D, h * w, nb, k)
        c = self._coef.copy()
        lam = np.float32(self.lam)
        thr = np.float32(self.threshold)
        partial = self._partial[:, : k + 1]
        boost = np.float32(self.absorb_rate / alpha if 0.0 < alpha < 1.0 else 0.0)
        for it in range(int(self.n_iter) + 1):
            last = it == int(self.n_iter)
            run_bands(
                huber_blocks, nb, threads, x, U, c, lam, nch, thr, partial, self._e,
                self._mask, last, self._count, int(self.absorb_frames), boost,
                min_items=_MIN_BAND_BLOCKS,
            )  # fmt: skip
            sums = partial.sum(axis=0)
            if not last:
                c += sums[:k].astype(np.float32)
        mask = self._mask.reshape(h, w).copy()
        self._coef = c
        if alpha >= 1.0:
            self._restart(x)
        elif alpha > 0.0:
            self._update(alpha, sums, threads, nch)
        return mask

    def _update(self, alpha: float, sums: np.ndarray, threads: int, nch: int) -> None:
        """Rank-one update of the basis with the frame's low-rank part ``l + e``."""
        from bgmix._kernels.online_rpca import n_blocks, update_blocks

        U, s, c = self._basis, self._sv, self._coef
        k = U.shape[0]
        g = sums[:k]
        rho2 = max(float(sums[k]) - float(g @ g), 0.0)
        rho = math.sqrt(rho2)
        K = np.zeros((k + 1, k + 1))
        K[:k, :k] = np.diag(math.sqrt(1.0 - alpha) * s)
        K[:k, k] = math.sqrt(alpha) * (c.astype(np.float64) + g)
        K[k, k] = math.sqrt(alpha) * rho
        W, S, _ = np.linalg.svd(K)
        m = min(int(self.rank), k + 1)
        if S[m - 1] <= 1e-6 * S[0]:  # no new direction worth keeping
            m = max(1, m - 1)
        A = np.ascontiguousarray(W[:k, :m], dtype=np.float32)
        v = np.ascontiguousarray(W[k, :m], dtype=np.float32)
        out = np.empty((m, U.shape[1]), np.float32)
        nb = n_blocks(U.shape[1] // nch)
        run_bands(
            update_blocks, nb, threads, U, self._e, g.astype(np.float32), np.float32(rho),
            A, v, nch, out, min_items=_MIN_BAND_BLOCKS,
        )  # fmt: skip
        self._basis = out
        self._sv = S[:m].copy()
        self._coef = (A.T.astype(np.float64) @ c.astype(np.float64)).astype(np.float32)
        self._model_frames += 1
        if self._model_frames % _REORTHO_EVERY == 0:
            self._reorthonormalise()

    def _reorthonormalise(self) -> None:
        """Restore exact orthonormality: ``U^T diag(s) = Q R diag(s)`` re-diagonalised."""
        Q, R = np.linalg.qr(self._basis.T.astype(np.float64))
        W, S, _ = np.linalg.svd(R * self._sv[None, :])
        self._basis = np.ascontiguousarray((Q @ W).T, dtype=np.float32)
        self._coef = (W.T @ (R @ self._coef.astype(np.float64))).astype(np.float32)
        self._sv = S

    def _background(self) -> np.ndarray:
        assert self._frame_shape is not None
        low = self._coef.astype(np.float32) @ self._basis
        return low.reshape(self._frame_shape)
