"""Robust PCA by principal component pursuit, solved with the inexact ALM method
(the textbook schedule, or a faster one that reaches the same objective)."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from bgmix._threads import check_n_jobs
from bgmix._validation import check_choice, check_int, check_random_state, check_real
from bgmix.exceptions import ConvergenceWarning
from bgmix.lowrank._rank_one import RankOneStart, leading_triplets, rank_one_start
from bgmix.lowrank._svd import as_matrix
from bgmix.lowrank._svt import SVT_SOLVERS, Thresholder

__all__ = [
    "RPCA_METHODS",
    "RPCA_OPTIONS",
    "RPCAResult",
    "check_rpca_options",
    "rpca",
    "spectral_norm",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RPCAResult:
    """The decomposition :math:`M = L + S` found by :func:`rpca`.

    Attributes
    ----------
    L : (m, n) ndarray
        Low-rank part (the background of a frame matrix).
    S : (m, n) ndarray
        Sparse part (the moving foreground).
    n_iter : int
        ALM iterations run.
    converged : bool
        True when :math:`\\|M - L - S\\|_F / \\|M\\|_F` fell below ``tol``.
    errors : (n_iter,) ndarray
        That relative residual after every iteration.
    ranks : (n_iter,) ndarray
        Rank of ``L`` after every iteration.
    lam : float
        The weight :math:`\\lambda` of the sparse term.
    mu : float
        The initial penalty :math:`\\mu_0`.
    mus : (n_iter,) ndarray
        The penalty :math:`\\mu_k` of every iteration.
    svd_used : tuple of str
        The SVT strategy of every iteration ("partial", "gram" or "full"; "rank-one"
        for the first iterations of ``method="fast"`` computed in closed form, see
        :mod:`bgmix.lowrank._rank_one`).
    method : str
        The ``method`` of :func:`rpca` that produced it ("fast" or "textbook").
    """

    L: np.ndarray
    S: np.ndarray
    n_iter: int
    converged: bool
    errors: np.ndarray
    ranks: np.ndarray
    lam: float
    mu: float
    svd_used: tuple[str, ...] = field(default=())
    method: str = "fast"
    mus: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def rank(self) -> int:
        """Rank of ``L``."""
        return int(self.ranks[-1]) if self.ranks.size else 0


#: Keyword options of :func:`rpca` besides the matrix and the seed.
RPCA_OPTIONS = ("method", "lam", "mu", "rho", "tol", "max_iter", "svd", "n_jobs")

#: Values of ``rpca(method=...)``: the accelerated inexact ALM, or Algorithm 5 of
#: Lin, Chen & Ma (2010) as written.
RPCA_METHODS = ("fast", "textbook")

#: "fast": once the relative residual is below this, :math:`\mu` grows by
#: ``_LATE_RHO`` per iteration (the end phase only enforces the constraint).
_LATE_ERROR = 1e-4
_LATE_RHO = 5.0
#: "fast": the singular value thresholding's matrix products run in float32 while the
#: relative residual is above this (float32 rounding, about 1e-7, stays 100 times
#: below it), in float64 afterwards.
_SINGLE_ERROR = 1e-5
#: The leading singular pairs come from the Gram matrix up to this min(m, n), from
#: ARPACK above.
_GRAM_LIMIT = 4000
#: Leading singular triplets of M computed at the start (two for the rank-one start;
#: the right vectors warm-start the partial SVD after it).
_LEADING = 24


def check_rpca_options(**options: object) -> None:
    """Validate keyword options of :func:`rpca` (names and values) without running it.

    Raises
    ------
    ParameterError
        An unknown option or an invalid value, named.
    """
    from bgmix.exceptions import ParameterError

    for key in options:
        if key not in RPCA_OPTIONS:
            raise ParameterError(
                f"rpca has no option {key!r}; its options are: {', '.join(RPCA_OPTIONS)}"
            )
    if options.get("lam") is not None:
        check_real("lam", options["lam"], low=0.0, low_inclusive=False)
    if options.get("mu") is not None:
        check_real("mu", options["mu"], low=0.0, low_inclusive=False)
    if "method" in options:
        check_choice("method", options["method"], RPCA_METHODS)
    if "rho" in options:
        check_real("rho", options["rho"], low=1.0, low_inclusive=False)
    if "tol" in options:
        check_real(
            "tol", options["tol"], low=0.0, high=1.0, low_inclusive=False, high_inclusive=False
        )
    if "max_iter" in options:
        check_int("max_iter", options["max_iter"], low=1)
    if "svd" in options:
        check_choice("svd", options["svd"], SVT_SOLVERS)
    if "n_jobs" in options:
        check_n_jobs(options["n_jobs"])


def spectral_norm(M: np.ndarray, *, random_state: int | np.random.Generator | None = 0) -> float:
    """The largest singular value :math:`\\|M\\|_2` of a matrix, to machine precision.

    From the largest eigenvalue of the smaller Gram matrix when ``min(m, n) <= 4000``,
    else by ARPACK's Lanczos iteration (``scipy.sparse.linalg.svds``) started from a
    seeded vector.

    Parameters
    ----------
    M : (m, n) ndarray
    random_state : None, int or numpy.random.Generator
        Start vector of the Lanczos iteration.
    """
    M = as_matrix(M)
    D = np.asarray(M, dtype=np.float64)
    return leading_triplets(D, 1, check_random_state(random_state), _GRAM_LIMIT).sigma1


def _add_outer(out: np.ndarray, a: float, u: np.ndarray, v: np.ndarray) -> None:
    """``out += a u v^T`` in blocks of rows (no ``(m, n)`` temporary)."""
    if a == 0.0:
        return
    au = a * u
    for r0 in range(0, out.shape[0], 4096):
        r1 = min(r0 + 4096, out.shape[0])
        out[r0:r1] += np.multiply.outer(au[r0:r1], v).astype(out.dtype, copy=False)


def rpca(
    M: np.ndarray,
    *,
    method: str = "fast",
    lam: float | None = None,
    mu: float | None = None,
    rho: float = 1.5,
    tol: float = 1e-7,
    max_iter: int = 1000,
    svd: str = "auto",
    random_state: int | np.random.Generator | None = None,
    n_jobs: int | None = None,
) -> RPCAResult:
    """Robust PCA: split ``M`` into a low-rank ``L`` and a sparse ``S`` (principal
    component pursuit, inexact augmented Lagrange multipliers).

    Parameters
    ----------
    M : (m, n) ndarray
        Real matrix, for example a frame matrix (pixels x frames) from
        :func:`frame_matrix`. The iteration runs in float64 (with float32 matrix
        products early on with ``method="fast"``); ``L`` and ``S`` are returned in
        ``M``'s dtype when it is float32 or float64 (float64 otherwise).
    method : {"fast", "textbook"}, default "fast"
        ``"textbook"``: Algorithm 5 of [2]_ as written, :math:`\\mu` multiplied by
        ``rho`` every iteration, every product in float64. ``"fast"``: the same
        iteration with a faster growth of :math:`\\mu` once the residual is small and
        float32 products while it is large (see Notes); it stops by the same rule and
        reaches the same objective (within 1e-3 relative in the tests and the
        benchmark) in fewer, cheaper iterations.
    lam : float, optional
        Weight :math:`\\lambda` of the sparse term; default :math:`1/\\sqrt{\\max(m, n)}`.
    mu : float, optional
        Initial penalty :math:`\\mu_0`; default :math:`1.25 / \\|M\\|_2`. It grows by
        ``rho`` every iteration up to :math:`10^7 \\mu_0`.
    rho : float, default 1.5
        Growth factor of :math:`\\mu`, > 1.
    tol : float, default 1e-7
        Stop when :math:`\\|M - L - S\\|_F / \\|M\\|_F <` ``tol``.
    max_iter : int, default 1000
        Iteration limit; reaching it without convergence emits a
        :class:`~bgmix.exceptions.ConvergenceWarning`.
    svd : {"auto", "partial", "gram", "full"}, default "auto"
        How the singular value thresholding is computed (see Notes). All give the same
        result up to rounding; "full" (a LAPACK SVD per iteration) is the slow
        textbook method.
    random_state : None, int or numpy.random.Generator
        Random directions of the partial SVD (the result does not depend on them
        beyond rounding).
    n_jobs : int, optional
        Threads of the element-wise kernels (None: all).

    Returns
    -------
    RPCAResult
        ``L``, ``S``, ``n_iter``, ``converged``, ``errors``, ``ranks``.

    Raises
    ------
    InputError
        ``M`` is not a finite real 2-D array.
    ParameterError
        A parameter is out of range.

    Warns
    -----
    ConvergenceWarning
        When ``max_iter`` iterations did not reach ``tol``.

    Notes
    -----
    Principal component pursuit [1]_ solves

    .. math:: \\min_{L, S} \\|L\\|_* + \\lambda \\|S\\|_1 \\quad
              \\text{subject to} \\quad L + S = M,

    which recovers a low-rank ``L`` and a sparse ``S`` exactly under incoherence
    conditions with :math:`\\lambda = 1/\\sqrt{\\max(m, n)}`. The inexact ALM method
    (Algorithm 5 of [2]_) minimises the augmented Lagrangian
    :math:`\\|L\\|_* + \\lambda\\|S\\|_1 + \\langle Y, M - L - S\\rangle +
    \\tfrac{\\mu}{2}\\|M - L - S\\|_F^2` one block at a time, with a single pass each:

    .. math::
        S_{k+1} &= \\mathcal{S}_{\\lambda/\\mu_k}(M - L_k + Y_k/\\mu_k), \\\\
        L_{k+1} &= \\mathcal{D}_{1/\\mu_k}(M - S_{k+1} + Y_k/\\mu_k), \\\\
        Y_{k+1} &= Y_k + \\mu_k (M - L_{k+1} - S_{k+1}), \\qquad
        \\mu_{k+1} = \\min(\\rho \\mu_k, 10^7 \\mu_0),

    where :math:`\\mathcal{S}_c(x) = \\operatorname{sign}(x)\\max(|x| - c, 0)` acts on every
    entry and :math:`\\mathcal{D}_\\tau` is singular value thresholding. The start is
    :math:`Y_0 = M / \\max(\\|M\\|_2, \\|M\\|_\\infty/\\lambda)`, :math:`L_0 = S_0 = 0`.
    Only the singular values above :math:`1/\\mu_k` matter: ``svd="partial"`` computes
    just those with the rank prediction of [2]_ (block subspace iteration,
    warm-started, grown until one computed value falls below the threshold),
    ``"gram"`` thresholds through the eigendecomposition of the smaller Gram matrix
    (exact, BLAS-3 bound, best when many singular values pass), and ``"auto"`` uses
    the first while the predicted rank is small and the second otherwise; see
    :mod:`bgmix.lowrank._svt`. The element-wise steps run in fused parallel kernels.

    ``method="fast"`` changes the path, not the problem, the update rules or the
    stopping rule. (1) Once :math:`\\|M - L - S\\|_F / \\|M\\|_F < 10^{-4}`, :math:`\\mu`
    grows by :math:`\\max(\\rho, 5)` per iteration: by then ``L`` and ``S`` move
    little and the last iterations mostly enforce the constraint, which a larger
    :math:`\\mu` does in fewer steps. A fast growth from the start would freeze ``L``
    and ``S`` before they settle (on a small video matrix :math:`\\rho = 2`
    throughout raised the objective :math:`\\|L\\|_* + \\lambda\\|S\\|_1` by 5e-4
    relative, the late growth by 8e-5); :math:`\\mu` stays bounded by
    :math:`10^7 \\mu_0`, as the convergence theorem of [2]_ assumes. (2) While the
    residual is above :math:`10^{-5}` (and ``tol`` below it), the singular value
    thresholding's matrix products and the stored ``L`` are float32 (twice the
    speed of BLAS and half the memory traffic; the rounding, about 1e-7 relative,
    stays 100 times below the residual); the Gram matrix and its eigenvalues stay
    float64 (float32 would square its rounding error into the small singular
    values), and ``S``, ``Y`` and the residual are always float64. The iterations
    that reach ``tol`` are float64. (3) The first iterations, while only the leading
    singular triplet of ``M`` passes the threshold and ``S`` stays zero (four on
    1000 CDnet highway frames), are computed in closed form: the same iterates, from
    scalar recurrences (:mod:`bgmix.lowrank._rank_one`).

    Memory: five float64 ``(m, n)`` matrices (about ``40 m n`` bytes; plus a float32
    copy of the thresholded matrix early in ``"fast"``) and the Gram matrix. Speed:
    the element-wise kernels run on bgmix's threads between OpenBLAS calls, so
    OpenBLAS's long spin after each call (its default) slows them;
    ``import bgmix`` before NumPy sets a short one (``OPENBLAS_THREAD_TIMEOUT=16``),
    otherwise set that variable before starting Python.

    References
    ----------
    .. [1] E. J. Candès, X. Li, Y. Ma and J. Wright, "Robust principal component
       analysis?", Journal of the ACM 58(3), 11, 2011.
    .. [2] Z. Lin, M. Chen and Y. Ma, "The augmented Lagrange multiplier method for
       exact recovery of corrupted low-rank matrices", UIUC Technical Report
       UILU-ENG-09-2215, 2010 (arXiv:1009.5055).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> low = rng.normal(size=(60, 2)) @ rng.normal(size=(2, 40))
    >>> sparse = np.where(rng.random((60, 40)) < 0.05, 10.0, 0.0)
    >>> res = rpca(low + sparse, random_state=0)
    >>> res.converged, res.rank
    (True, 2)
    >>> bool(np.abs(res.L - low).max() < 1e-3)
    True
    """
    from bgmix._kernels.lowrank import dual_step, max_abs_rank_one, sparse_step
    from bgmix._threads import resolve_n_jobs

    check_rpca_options(
        method=method, lam=lam, mu=mu, rho=rho, tol=tol, max_iter=max_iter, svd=svd, n_jobs=n_jobs
    )
    fast = method == "fast"
    M = as_matrix(M)
    m, n = M.shape
    lam_v = 1.0 / math.sqrt(max(m, n)) if lam is None else float(lam)
    rho_v, tol_v, max_iter_v = float(rho), float(tol), int(max_iter)
    rng = check_random_state(random_state)
    out_dtype = M.dtype

    D = np.ascontiguousarray(M, dtype=np.float64)
    d_norm = float(np.linalg.norm(D))
    if d_norm == 0.0:
        zero = np.zeros((m, n), out_dtype)
        return RPCAResult(
            zero,
            zero.copy(),
            0,
            True,
            np.zeros(0),
            np.zeros(0, np.int64),
            lam_v,
            0.0 if mu is None else float(mu),
            method=method,
        )
    top = leading_triplets(D, _LEADING if fast else 1, rng, _GRAM_LIMIT)
    norm_two = top.sigma1
    threads = resolve_n_jobs(n_jobs)
    d_max = max_abs_rank_one(D, 1.0, 0.0, top.u, top.v, threads)  # max|D|, no temporary
    J = max(norm_two, d_max / lam_v)
    c0 = 1.0 / J  # Y_0 = D / J(D)
    mu_v = 1.25 / norm_two if mu is None else float(mu)
    mu0 = mu_v
    mu_bar = mu_v * 1e7

    def next_mu(mu_k: float, err: float) -> float:
        grow = max(rho_v, _LATE_RHO) if fast and err < _LATE_ERROR else rho_v
        return min(mu_k * grow, mu_bar)

    single = fast and tol_v < _SINGLE_ERROR
    svt = Thresholder((m, n), svd, rng)
    start = RankOneStart(c=c0, d=0.0, e=0.0, mu=mu_v)
    if fast:  # the first iterations in closed form while they are rank one
        start = rank_one_start(
            top, d_norm=d_norm, lam=lam_v, mu=mu_v, c0=c0, tol=tol_v,
            max_iter=max_iter_v, grow=next_mu,
            largest=lambda a, b: max_abs_rank_one(D, a, b, top.u, top.v, threads),
        )  # fmt: skip
        single = single and not (start.errors and start.errors[-1] < _SINGLE_ERROR)
    A = np.zeros((m, n), np.float32 if single else np.float64)
    if start.n_iter:
        Y = np.multiply(D, start.c)
        _add_outer(Y, start.d, top.u, top.v)
        _add_outer(A, start.e, top.u, top.v)
        for it, (err, rank) in enumerate(zip(start.errors, start.ranks, strict=True), 1):
            svt.closed_form(rank, top.V)
            logger.debug("rpca iteration %d: rank %d, error %.3e (rank-one)", it, rank, err)
        mu_v = start.mu
    else:
        Y = D / J
    E = np.zeros_like(D)
    X = np.empty_like(D)
    X32 = np.empty((m, n), np.float32) if single else None  # X for the float32 products
    row_sumsq = np.empty(m)
    errors: list[float] = list(start.errors)
    ranks: list[int] = list(start.ranks)
    mus: list[float] = list(start.mus)
    converged = False
    for it in range(start.n_iter + 1, max_iter_v + 1):
        sparse_step(D, A, Y, 1.0 / mu_v, lam_v / mu_v, E, X, threads, X32_out=X32)
        rank = svt(X, 1.0 / mu_v, A, X32)
        dual_step(D, A, E, Y, mu_v, row_sumsq, threads)
        err = math.sqrt(float(np.sum(row_sumsq))) / d_norm
        errors.append(err)
        ranks.append(rank)
        mus.append(mu_v)
        logger.debug("rpca iteration %d: rank %d, error %.3e (%s)", it, rank, err, svt.used[-1])
        if err < tol_v:
            converged = True
            break
        mu_v = next_mu(mu_v, err)
        if single and err < _SINGLE_ERROR:
            single = False
            A = A.astype(np.float64)
            X32 = None
    if not converged:
        warnings.warn(
            f"rpca did not converge in max_iter={max_iter_v} iterations: relative residual "
            f"{errors[-1]:.3e} is above tol={tol_v:g} (raise max_iter or tol)",
            ConvergenceWarning,
            stacklevel=2,
        )
    return RPCAResult(
        L=A.astype(out_dtype, copy=False),  # float32 only if it converged in that phase
        S=E.astype(out_dtype, copy=False),
        n_iter=len(errors),
        converged=converged,
        errors=np.asarray(errors),
        ranks=np.asarray(ranks, dtype=np.int64),
        lam=lam_v,
        mu=mu0,
        svd_used=tuple(svt.used),
        method=method,
        mus=np.asarray(mus),
    )
