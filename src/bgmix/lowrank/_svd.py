"""Truncated and randomized singular value decompositions of frame matrices.

The rank-``k`` truncated SVD :math:`M_k = U_k \\Sigma_k V_k^T` is the best rank-``k``
approximation of ``M`` in the Frobenius and spectral norms (Eckart–Young), which is why
the first few components of a video's frame matrix are its background.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bgmix._validation import check_choice, check_int, check_random_state
from bgmix.exceptions import InputError, ParameterError

__all__ = [
    "CompressionRow",
    "compression_table",
    "randomized_svd",
    "reconstruct",
    "truncated_svd",
]

_NORMALIZERS = ("auto", "qr", "lu", "none")
#: ``n_iter="auto"`` needs only 3 power iterations with at least this many oversamples.
_WIDE_SKETCH = 40


def as_matrix(M: Any, *, name: str = "M", check_finite: bool = True) -> np.ndarray:
    """Validate a real 2-D finite matrix; float32 stays float32, other types become float64.

    ``check_finite=False`` skips the pass over every entry that looks for NaN and
    infinity; the caller then checks a product of the matrix instead (NaN and infinity
    propagate through it) and calls :func:`check_finite_matrix` when that is not finite.

    Raises
    ------
    InputError
        Not 2-D, empty, complex or not numeric, or holding NaN/inf.
    """
    if not isinstance(M, np.ndarray):
        try:
            M = np.asarray(M)
        except (TypeError, ValueError) as exc:
            raise InputError(
                f"{name}: expected a 2-D numeric array, got {type(M).__name__} ({exc})"
            ) from None
    if M.ndim != 2:
        raise InputError(f"{name}: expected a 2-D array (pixels x frames), got shape {M.shape}")
    if M.shape[0] == 0 or M.shape[1] == 0:
        raise InputError(f"{name}: the matrix is empty, shape {M.shape}")
    if M.dtype == np.bool_ or not (
        np.issubdtype(M.dtype, np.integer) or np.issubdtype(M.dtype, np.floating)
    ):
        raise InputError(f"{name}: expected a real numeric dtype, got {M.dtype}")
    if M.dtype not in (np.float32, np.float64):
        M = M.astype(np.float32 if M.dtype == np.float16 else np.float64)
    if check_finite:
        check_finite_matrix(M, name=name)
    return M


def check_finite_matrix(M: np.ndarray, *, name: str = "M") -> None:
    """Raise :class:`InputError` naming how many entries of ``M`` are NaN or infinite."""
    if not np.isfinite(M).all():
        bad = int(M.size - np.count_nonzero(np.isfinite(M)))
        raise InputError(f"{name}: {bad} entries are NaN or infinite")


def svd_flip(U: np.ndarray, Vt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Make the signs deterministic: the largest-magnitude entry of each column of ``U``
    is positive (the rows of ``Vt`` change sign with their column)."""
    rows = np.argmax(np.abs(U), axis=0)
    signs = np.sign(U[rows, np.arange(U.shape[1])])
    signs[signs == 0] = 1
    return U * signs.astype(U.dtype), Vt * signs.astype(Vt.dtype)[:, None]


def _normalize(Y: np.ndarray, how: str) -> np.ndarray:
    import scipy.linalg as sl

    if how == "qr":
        return sl.qr(Y, mode="economic", check_finite=False)[0]
    if how == "lu":
        return sl.lu(Y, permute_l=True, check_finite=False)[0]
    return Y


def randomized_svd(
    M: np.ndarray,
    rank: int,
    *,
    n_oversamples: int = 40,
    n_iter: int | str = "auto",
    power_iteration_normalizer: str = "auto",
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Randomized truncated SVD of ``M`` (Halko, Martinsson & Tropp 2011).

    Parameters
    ----------
    M : (m, n) ndarray
        Real matrix, for example a frame matrix (pixels x frames). float32 is kept
        float32 (the whole computation runs in float32); other types run in float64.
    rank : int
        Number of singular triplets returned, ``1 <= rank <= min(m, n)``.
    n_oversamples : int, default 40
        Extra random directions ``p``: the sketch has ``l = min(rank + p, min(m, n))``
        columns. More oversampling, more accuracy at the same number of passes; and a
        pass over a large ``M`` with 50 columns costs only about 1.3 times one with 12,
        so a wide sketch with few passes is the cheaper way to an accuracy (see Notes).
    n_iter : int or "auto", default "auto"
        Power (subspace) iterations ``q``; each costs two passes over ``M``.
        ``"auto"``: 3 with at least 40 oversamples (the default); with fewer,
        scikit-learn's choice: 7 when ``rank < 0.1 min(m, n)``, else 4.
    power_iteration_normalizer : {"auto", "qr", "lu", "none"}, default "auto"
        How the sketch is re-orthonormalised between the passes of a power iteration:
        a QR factorisation (most stable), an LU factorisation (cheaper, still
        prevents the columns from collapsing onto the first singular vector), or
        nothing (fastest; accurate only for a few iterations). ``"auto"``: "none"
        when ``n_iter <= 2``, else "lu" (as accurate as "qr" here, and LAPACK's QR of
        a tall, thin matrix is slow on many threads). The basis of the last step is
        always orthonormalised by QR.
    random_state : None, int or numpy.random.Generator
        Seed of the Gaussian test matrix; the result is deterministic for a given seed.

    Returns
    -------
    U : (m, rank) ndarray
        Left singular vectors (orthonormal columns).
    s : (rank,) ndarray
        Singular values, decreasing.
    Vt : (rank, n) ndarray
        Right singular vectors as rows. Signs follow one convention: the largest
        entry (in magnitude) of each column of ``U`` is positive.

    Raises
    ------
    InputError
        ``M`` is not a finite real 2-D array.
    ParameterError
        A parameter is out of range.

    Notes
    -----
    Stage A finds an orthonormal basis :math:`Q` of the range of :math:`M` from a
    Gaussian test matrix :math:`\\Omega \\in \\mathbb{R}^{n \\times l}`, sharpened by
    :math:`q` power iterations (Algorithm 4.4 of [1]_):

    .. math:: Y = (M M^T)^q M \\Omega, \\qquad Q R = Y,

    re-orthonormalising after every product. Stage B (Algorithm 5.1) takes the exact
    SVD of the small matrix :math:`B = Q^T M \\in \\mathbb{R}^{l \\times n}`,
    :math:`B = \\tilde U \\Sigma V^T`, and returns :math:`U = Q \\tilde U`. The expected
    error satisfies (Theorem 10.6 of [1]_, with :math:`p \\ge 2`)

    .. math:: \\mathbb{E} \\|M - Q Q^T M\\| \\le \\Big[\\big(1 + \\sqrt{\\tfrac{k}{p-1}}\\big)
              \\sigma_{k+1}^{2q+1} + \\tfrac{e\\sqrt{k+p}}{p}
              \\big(\\sum_{j>k}\\sigma_j^{2(2q+1)}\\big)^{1/2}\\Big]^{1/(2q+1)},

    so the power iterations make the error approach :math:`\\sigma_{k+1}` even when the
    spectrum decays slowly. The cost is :math:`2(q+1)` passes over :math:`M`
    (:math:`O(mnl)` each) instead of the :math:`O(mn \\min(m, n))` of a full SVD.
    Oversampling shrinks the constants of that bound, the power iterations its
    exponent; since a pass over a large ``M`` costs little more for a few dozen
    columns than for ten, the defaults spend on oversampling (``p = 40``, ``q = 3``:
    8 passes) rather than on passes (scikit-learn's ``p = 10``, ``q = 7``: 16
    passes). On a
    19200×6000 video matrix that is 1.3× (rank 2) and 1.5× (rank 10) faster, with a
    smaller error (``benchmarks/lowrank.py``).
    NaN and infinity are detected in the first sketch :math:`M\\Omega` (they reach
    it through every product) rather than by a separate pass over ``M``, which would
    cost about as much as one of those passes.

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
       randomness: probabilistic algorithms for constructing approximate matrix
       decompositions", SIAM Review 53(2), 217–288, 2011.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> M = rng.normal(size=(200, 3)) @ rng.normal(size=(3, 50))
    >>> U, s, Vt = randomized_svd(M, 3, random_state=0)
    >>> bool(np.allclose((U * s) @ Vt, M))
    True
    """
    M = as_matrix(M, check_finite=False)  # checked through the first sketch below
    m, n = M.shape
    k = check_int("rank", rank, low=1, high=min(m, n))
    p = check_int("n_oversamples", n_oversamples, low=0)
    if isinstance(n_iter, str):
        check_choice("n_iter", n_iter, ("auto",))
        q = 3 if p >= _WIDE_SKETCH else 7 if k < 0.1 * min(m, n) else 4
    else:
        q = check_int("n_iter", n_iter, low=0)
    how = check_choice("power_iteration_normalizer", power_iteration_normalizer, _NORMALIZERS)
    if how == "auto":
        how = "none" if q <= 2 else "lu"
    rng = check_random_state(random_state)
    import scipy.linalg as sl

    l = min(k + p, m, n)
    omega = rng.standard_normal((n, l)).astype(M.dtype, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):  # reported below, by name
        Y = M @ omega
    if not np.isfinite(Y).all():  # NaN/inf in M reach every column of Y
        check_finite_matrix(M)
        raise InputError(
            f"M: the product with a Gaussian matrix overflows {M.dtype} (largest magnitude "
            f"{float(np.abs(M).max()):.3g}); scale M down or pass it as float64"
        )
    for _ in range(q):
        Y = _normalize(Y, how)
        Z = _normalize(M.T @ Y, how)
        Y = M @ Z
    Q = sl.qr(Y, mode="economic", check_finite=False)[0]
    B = Q.T @ M
    Ub, s, Vt = sl.svd(B, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    U = Q @ Ub[:, :k]
    U, Vt = svd_flip(U, Vt[:k])
    return U, s[:k].astype(M.dtype, copy=False), Vt


def truncated_svd(
    M: np.ndarray,
    rank: int,
    *,
    solver: str = "randomized",
    random_state: int | np.random.Generator | None = None,
    **options: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``rank`` singular triplets of ``M``, by a full or a randomized SVD.

    Parameters
    ----------
    M : (m, n) ndarray
        Real matrix.
    rank : int
        ``1 <= rank <= min(m, n)``.
    solver : {"randomized", "full"}, default "randomized"
        ``"full"``: LAPACK's divide-and-conquer SVD (``numpy.linalg.svd``, thin),
        exact to rounding, :math:`O(mn \\min(m, n))`. ``"randomized"``:
        :func:`randomized_svd` (``options`` are passed to it).
    random_state : None, int or numpy.random.Generator
        Seed of the randomized solver.

    Returns
    -------
    U : (m, rank) ndarray
    s : (rank,) ndarray
    Vt : (rank, n) ndarray
        With the sign convention of :func:`randomized_svd`.
    """
    check_choice("solver", solver, ("randomized", "full"))
    if solver == "randomized":
        return randomized_svd(M, rank, random_state=random_state, **options)
    if options:
        raise ParameterError(f"solver='full' takes no options; got {', '.join(sorted(options))}")
    M = as_matrix(M)
    k = check_int("rank", rank, low=1, high=min(M.shape))
    U, s, Vt = np.linalg.svd(M, full_matrices=False)
    U, Vt = svd_flip(U[:, :k], Vt[:k])
    return U, s[:k], Vt


def reconstruct(U: np.ndarray, s: np.ndarray, Vt: np.ndarray) -> np.ndarray:
    """The low-rank matrix :math:`U \\operatorname{diag}(s) V^T`, ``(m, n)``.

    Parameters
    ----------
    U : (m, k) ndarray
    s : (k,) ndarray
    Vt : (k, n) ndarray
    """
    U, s, Vt = np.asarray(U), np.asarray(s), np.asarray(Vt)
    if U.ndim != 2 or s.ndim != 1 or Vt.ndim != 2 or not (U.shape[1] == s.size == Vt.shape[0]):
        raise InputError(
            "reconstruct: expected U (m, k), s (k,), Vt (k, n); "
            f"got {U.shape}, {s.shape}, {Vt.shape}"
        )
    return (U * s) @ Vt


@dataclass(frozen=True)
class CompressionRow:
    """One row of :func:`compression_table`.

    Attributes
    ----------
    rank : int
        ``k``.
    stored : int
        Numbers stored by the rank-``k`` factors: :math:`k (m + n + 1)`.
    compression_ratio : float
        :math:`mn / (k (m + n + 1))`: how many times smaller than the matrix.
    relative_error : float
        :math:`\\|M - M_k\\|_F / \\|M\\|_F`.
    energy : float
        Fraction of :math:`\\|M\\|_F^2` kept: :math:`\\sum_{i \\le k} \\sigma_i^2 /
        \\sum_i \\sigma_i^2`.
    """

    rank: int
    stored: int
    compression_ratio: float
    relative_error: float
    energy: float


def compression_table(
    singular_values: np.ndarray,
    shape: tuple[int, int],
    ranks: list[int] | tuple[int, ...] | np.ndarray,
    *,
    total_energy: float | None = None,
) -> list[CompressionRow]:
    """Compression ratio against relative error of the rank-``k`` approximations.

    Parameters
    ----------
    singular_values : (r,) ndarray
        Singular values of ``M``, decreasing: all of them, or the leading ones together
        with ``total_energy``.
    shape : (m, n)
        Shape of ``M``.
    ranks : sequence of int
        The ranks ``k`` to tabulate (each ``1 <= k <= len(singular_values)``).
    total_energy : float, optional
        :math:`\\|M\\|_F^2`, needed when only the leading singular values are given.
        Default: the sum of the squares of ``singular_values``.

    Returns
    -------
    list of CompressionRow

    Notes
    -----
    By the Eckart–Young theorem the error of the best rank-``k`` approximation is
    given by the discarded singular values,

    .. math:: \\frac{\\|M - M_k\\|_F}{\\|M\\|_F} =
              \\sqrt{\\frac{\\|M\\|_F^2 - \\sum_{i \\le k} \\sigma_i^2}{\\|M\\|_F^2}},

    while storing :math:`U_k, \\Sigma_k, V_k` takes :math:`k (m + n + 1)` numbers
    instead of :math:`mn`.

    References
    ----------
    .. [1] C. Eckart and G. Young, "The approximation of one matrix by another of
       lower rank", Psychometrika 1(3), 211–218, 1936.

    Examples
    --------
    >>> rows = compression_table(np.array([3.0, 4.0]), (100, 20), [1])
    >>> round(rows[0].relative_error, 3), round(rows[0].compression_ratio, 2)
    (0.6, 16.53)
    """
    s = np.asarray(singular_values, dtype=np.float64)
    if s.ndim != 1 or s.size == 0 or not np.isfinite(s).all() or (s < 0).any():
        raise InputError("singular_values: expected a non-empty 1-D array of finite values >= 0")
    m = check_int("shape[0]", shape[0], low=1)
    n = check_int("shape[1]", shape[1], low=1)
    energy = np.cumsum(np.sort(s)[::-1] ** 2)
    total = float(energy[-1]) if total_energy is None else float(total_energy)
    if not np.isfinite(total) or total < energy[-1] * (1 - 1e-6):
        raise ParameterError(
            f"total_energy must be at least the sum of the squared singular values "
            f"({energy[-1]:.6g}); got {total_energy!r}"
        )
    rows = []
    for k in ranks:
        k = check_int("rank", k, low=1, high=s.size)
        kept = float(energy[k - 1])
        frac = kept / total if total > 0 else 1.0
        stored = k * (m + n + 1)
        rows.append(
            CompressionRow(
                rank=k,
                stored=stored,
                compression_ratio=m * n / stored,
                relative_error=float(np.sqrt(max(0.0, 1.0 - frac))),
                energy=frac,
            )
        )
    return rows
