"""Singular value thresholding (SVT) for the inexact ALM of :func:`bgmix.lowrank.rpca`.

Every ALM iteration replaces the low-rank part by

.. math:: \\mathcal{D}_\\tau(X) = U \\max(\\Sigma - \\tau, 0) V^T,

the proximal operator of :math:`\\tau \\|\\cdot\\|_*`. Only the singular triplets above
:math:`\\tau` matter, which is what the three strategies here exploit:

``"full"``
    LAPACK's thin SVD of ``X`` every time: the textbook method, :math:`O(mn\\min(m,n))`
    with a large constant.
``"gram"``
    The eigendecomposition of the small Gram matrix :math:`G = X^T X` (or
    :math:`X X^T` for a wide ``X``), :math:`G = V \\Lambda V^T`, gives
    :math:`\\sigma_i = \\sqrt{\\lambda_i}` and the same right singular vectors, and

    .. math:: \\mathcal{D}_\\tau(X) = X\\, V\\, \\mathrm{diag}\\big(\\max(1 - \\tau/\\sigma_i,
              0)\\big) V^T,

    so no left singular vector (and no division by a small :math:`\\sigma_i`) is
    ever formed: two matrix products (BLAS 3) and one :math:`n \\times n`
    eigendecomposition. The weights :math:`1 - \\tau/\\sigma_i` vanish at the
    threshold, so the directions whose eigenvalues the Gram matrix resolves least
    well (:math:`\\sigma_i` near :math:`\\tau`) carry almost no weight. Only the
    eigenpairs with :math:`\\lambda_i > \\tau^2` are needed: when the predicted
    rank is small they alone are computed (LAPACK's MRRR), else all of them (divide
    and conquer).
``"partial"``
    A partial SVD with the rank prediction of Lin, Chen & Ma (2010): only the
    predicted number ``sv`` of leading triplets (plus a few extra) is computed, by
    block subspace iteration warm-started from the previous iteration's right
    singular vectors; the block grows until at least 10 of its Ritz values fall
    below :math:`\\tau` (Ritz values bound the true singular values from below), and
    the iteration stops when every triplet above :math:`\\tau` has a residual
    :math:`\\|X v_i - \\sigma_i u_i\\| \\le 10^{-7} \\sigma_1`; after 12 subspace
    iterations with one block size without that (4 with ``"auto"``), the iteration
    uses the Gram route instead. After the step the prediction becomes ``svp + 1``
    if fewer than ``sv`` values passed the threshold, else
    ``svp + round(0.05 min(m, n))``.

``"auto"`` chooses, before every iteration, the cheaper of the two by a cost model
in floating-point operations (see ``Thresholder._partial_is_cheaper``); when the rank
jumps and the partial SVD's block has to grow, it asks the model again for the grown
block at 4 subspace iterations and takes the Gram route at once if that is cheaper.
The model takes the number of subspace iterations from the previous partial SVD (a
partial SVD that did not converge counts as 16, or 4 when its block had to grow
because the rank jumped, and every Gram iteration lowers the count by one: slow
spectra are not retried at once). So the partial SVD runs while the rank is small
compared with ``min(m, n)``, and the Gram route when many singular values pass the
threshold (as they do late in the iterations on real video) or when ``min(m, n)`` is
small anyway (a window of a few hundred frames).

Precision: ``X`` is float64; the matrix products (and the result) run in the dtype of
the output array, so ``rpca(method="fast")`` gets float32 products in its early
iterations by passing a float32 ``L`` (and ``X`` already rounded to float32, which its
element-wise step writes in the same pass as ``X``). The Gram matrix and its
eigendecomposition are always float64, and the partial SVD's residual test accepts
``100 eps`` of the working dtype when that is above :math:`10^{-7}`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SVT_SOLVERS", "Thresholder"]

SVT_SOLVERS = ("auto", "full", "gram", "partial")

#: Relative residual accepted for a triplet of the partial SVD.
_RESIDUAL_TOL = 1e-7
#: Extra columns of the partial SVD's block beyond the predicted rank.
_OVERSAMPLE = 20
#: The block grows until this many of its Ritz values fall below the threshold.
_SLACK = 10
#: Subspace iterations of one partial SVD before it falls back to the Gram route
#: (``svd="partial"``; with ``"auto"``, the Gram route is cheaper long before).
_MAX_STEPS = 12
_AUTO_MAX_STEPS = 4
#: "auto" always uses the Gram route below this min(m, n).
_SMALL = 64
#: The Gram route computes only the eigenpairs above the threshold (LAPACK's MRRR,
#: ``syevr``) when the predicted rank is at most this share of the Gram matrix's
#: order, else all of them by divide and conquer (``syevd``), faster for many: at
#: order 1000, 20 / 50 / 100 / 200 pairs took 0.43 / 0.53 / 0.66 / 1.0 times the
#: full decomposition.
_FEW = 1 / 8


class Thresholder:
    """Singular value thresholding with one of the strategies of this module.

    Parameters
    ----------
    shape : (m, n)
    solver : {"auto", "full", "gram", "partial"}
    rng : numpy.random.Generator
        Random directions of the partial SVD.

    Attributes
    ----------
    used : list of str
        The strategy used at each call ("full", "gram" or "partial").
    """

    def __init__(self, shape: tuple[int, int], solver: str, rng: np.random.Generator) -> None:
        self.m, self.n = shape
        self.nmin = min(shape)
        self.solver = solver
        self.rng = rng
        self.sv = min(10, self.nmin)  # predicted rank (Lin et al. start with 10)
        self._V: np.ndarray | None = None  # previous right singular vectors (n, k)
        self.last_steps = 0  # subspace iterations of the last partial SVD
        self._grew = False  # whether the last partial SVD had to grow its block
        self.used: list[str] = []

    # ------------------------------------------------------------------ dispatch
    def __call__(
        self, X: np.ndarray, tau: float, out: np.ndarray, X_low: np.ndarray | None = None
    ) -> int:
        """Write :math:`\\mathcal{D}_\\tau(X)` to ``out``; return its rank.

        ``X_low``, if given, is ``X`` already rounded to ``out``'s dtype (float32), for
        the matrix products; otherwise they round it when the dtypes differ.
        """
        how = self.solver
        if how == "auto":
            how = "partial" if self._partial_is_cheaper() else "gram"
        rank = -1
        if how == "partial":
            limit = _AUTO_MAX_STEPS if self.solver == "auto" else _MAX_STEPS
            rank = self._partial(_rounded(X, X_low, out.dtype), tau, out, limit)
            if rank < 0:  # did not converge: the exact route for this iteration
                how = "gram"
                # "auto" waits before trying again, long if the spectrum is slow, not
                # if the block had to grow (the rank jumped)
                self.last_steps = limit if self._grew else 4 * limit
        if how == "gram":
            rank = self._gram(X, _rounded(X, X_low, out.dtype), tau, out)
            # the exact right vectors make the next partial SVD's warm start better
            self.last_steps = max(1, self.last_steps - 1)
        elif how == "full":
            rank = self._full(X, tau, out)
        self.used.append(how)
        self._predict(rank)
        return rank

    def closed_form(self, rank: int, V: np.ndarray) -> None:
        """Record an iteration computed in closed form (``rpca``'s rank-one start,
        :mod:`bgmix.lowrank._rank_one`) with rank ``rank`` <= 1: the prediction moves
        as if it had been thresholded here, and the next partial SVD starts from
        ``V``, the matrix's leading right singular vectors ``(n, q)``."""
        self.used.append("rank-one")
        self._V = V
        self._predict(rank)

    def _partial_is_cheaper(self, block: int | None = None, steps: int | None = None) -> bool:
        """Cost model in floating-point operations (divided by ``m``, the long side),
        for a partial SVD with ``block`` columns (default: the predicted rank plus
        ``_OVERSAMPLE``) and ``steps`` subspace iterations (default: as many as the
        last partial SVD needed, 2 at first).

        A partial SVD with block ``l`` and ``q`` subspace iterations makes ``1 + 2q``
        products of ``X`` with ``l`` columns (``2 n l`` each), ``q + 1`` QR
        factorisations of a tall ``l``-column matrix (``4 l^2``, counted 8 times over:
        LAPACK's QR of a thin matrix runs far below the speed of a matrix product),
        and rebuilds a rank-``sv`` matrix (``2 n sv``). The Gram route forms the Gram
        matrix (``n^2``, a symmetric product), its eigendecomposition (about
        ``10 n^3 / m``) and rebuilds with ``2 min(2 sv, n)`` columns.
        """
        if self.nmin < _SMALL:
            return False
        m, n = max(self.m, self.n), self.nmin
        block = min(self.sv + _OVERSAMPLE, n) if block is None else block
        steps = steps or self.last_steps or 2
        partial = (1 + 2 * steps) * 2 * n * block + (steps + 1) * 32 * block**2 + 2 * n * self.sv
        gram = n * n + 10 * n**3 / m + 2 * n * min(2 * self.sv, n)
        return partial < gram

    def _predict(self, svp: int) -> None:
        if svp < self.sv:
            self.sv = min(svp + 1, self.nmin)
        else:
            self.sv = min(svp + max(1, round(0.05 * self.nmin)), self.nmin)

    # ------------------------------------------------------------------ strategies
    def _full(self, X: np.ndarray, tau: float, out: np.ndarray) -> int:
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        r = int(np.count_nonzero(s > tau))
        if r == 0:
            out[:] = 0.0
            return 0
        if out.dtype == X.dtype:
            np.matmul(U[:, :r] * (s[:r] - tau), Vt[:r], out=out)
        else:
            out[:] = (U[:, :r] * (s[:r] - tau)) @ Vt[:r]
        self._V = Vt[:r].T.copy()
        return r

    def _gram(self, X: np.ndarray, X_low: np.ndarray, tau: float, out: np.ndarray) -> int:
        import scipy.linalg as sl

        tall = self.m >= self.n
        G = X.T @ X if tall else X @ X.T
        if self.sv <= G.shape[0] * _FEW:
            # only the eigenpairs above tau^2 (MRRR): cheaper when they are few
            w, V = sl.eigh(
                G, overwrite_a=True, check_finite=False, driver="evr",
                subset_by_value=(tau * tau, np.inf),
            )  # fmt: skip
        else:
            w, V = sl.eigh(G, overwrite_a=True, check_finite=False, driver="evd")
        s = np.sqrt(np.maximum(w, 0.0))
        keep = s > tau
        r = int(np.count_nonzero(keep))
        if r == 0:
            out[:] = 0.0
            return 0
        Vr = V[:, keep]
        g = 1.0 - tau / s[keep]
        k = Vr.shape[0]
        self._V = Vr[:, ::-1].copy() if tall else None  # the right vectors, if formed
        # the products run in out's dtype (float32 in the early iterations of "fast")
        work = out.dtype
        Xw = X_low
        Vr = Vr.astype(work, copy=False)
        g = g.astype(work, copy=False)
        if tall:
            if 2 * r < k:
                np.matmul(Xw @ Vr, g[:, None] * Vr.T, out=out)
            else:
                np.matmul(Xw, (Vr * g) @ Vr.T, out=out)
        else:
            if 2 * r < k:
                np.matmul(Vr * g, Vr.T @ Xw, out=out)
            else:
                np.matmul((Vr * g) @ Vr.T, Xw, out=out)
        return r

    def _partial(self, X: np.ndarray, tau: float, out: np.ndarray, max_steps: int) -> int:
        """Block subspace iteration for the triplets above ``tau``; -1 if it stalls."""
        import scipy.linalg as sl

        n, nmin = self.n, self.nmin
        # X is in out's dtype: products, QR and residuals too (float32 early in "fast")
        res_tol = max(_RESIDUAL_TOL, 100 * float(np.finfo(X.dtype).eps))
        l = min(self.sv + _OVERSAMPLE, nmin)
        start = self._V
        total = 0
        self._grew = False
        while True:
            omega = self.rng.standard_normal((n, l)).astype(X.dtype, copy=False)
            if start is not None:
                k = min(start.shape[1], l)
                omega[:, :k] = start[:, :k]
            Q = sl.qr(X @ omega, mode="economic", check_finite=False)[0]
            grow = False
            steps = 0  # subspace iterations with the current block
            while True:
                steps += 1
                total += 1
                W = X.T @ Q  # = B^T with B = Q^T X
                Vb, s, UbT = sl.svd(W, full_matrices=False, check_finite=False)
                Z = X @ Vb
                U = Q @ UbT.T
                res = np.linalg.norm(Z - U * s, axis=0)
                count = int(np.count_nonzero(s > tau))
                if count > l - _SLACK and l < nmin:
                    grow = True
                    break
                if count == 0 or np.all(res[:count] <= res_tol * s[0]):
                    break
                if steps >= max_steps or total >= 3 * max_steps:
                    self.last_steps = steps
                    return -1
                Q = sl.qr(Z, mode="economic", check_finite=False)[0]
            if not grow:
                break
            self._grew = True
            start = Vb
            l = min(max(2 * l, count + _OVERSAMPLE), nmin)
            if self.solver == "auto" and not self._partial_is_cheaper(l, _AUTO_MAX_STEPS):
                # the rank jumped: a subspace iteration on the grown block, whose
                # convergence is unknown, would likely cost more than the Gram route
                return -1
        self.last_steps = steps
        if count == 0:
            out[:] = 0.0
            self._V = Vb[:, :1].copy()
            return 0
        np.matmul(U[:, :count] * (s[:count] - tau), Vb[:, :count].T, out=out)
        self._V = Vb.copy()
        return count


def _rounded(X: np.ndarray, X_low: np.ndarray | None, dtype: np.dtype) -> np.ndarray:
    """``X_low`` if given, else ``X`` rounded to ``dtype`` (``X`` itself if it is so)."""
    if X_low is not None:
        return X_low
    return X if X.dtype == dtype else X.astype(dtype)
