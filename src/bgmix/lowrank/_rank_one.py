"""The rank-one start of the inexact ALM (``rpca(method="fast")``), in closed form.

On a frame matrix the first iterations of Lin, Chen & Ma's inexact ALM change
little: the threshold :math:`\\tau_k = 1/\\mu_k` of the singular value thresholding is
so large that only the leading singular triplet :math:`(\\sigma_1, u, v)` of ``D``
passes it, and the shrinkage threshold :math:`\\lambda/\\mu_k` so large that the sparse
part stays zero (on 1000 CDnet highway frames, the first four iterations, with the
residual stuck at 0.176). While that holds, every matrix of the iteration lies in the span of ``D``
and :math:`P = u v^T`:

.. math::

    Y_k = c_k D + d_k P, \\qquad L_{k-1} = e_{k-1} P, \\qquad S_k = 0,

with :math:`c_0 = 1/J(D)`, :math:`d_0 = e_{-1} = 0`. At iteration ``k`` the sparse
part is the shrinkage of :math:`T_k = D - L_{k-1} + Y_k/\\mu_k = \\alpha_k D +
(\\beta_k - e_{k-1}) P` and, while it is zero, the matrix thresholded is

.. math::

    X_k = D - S_k + Y_k/\\mu_k = \\alpha_k D + \\beta_k P, \\qquad
    \\alpha_k = 1 + c_k/\\mu_k, \\quad \\beta_k = d_k/\\mu_k,

whose singular values are :math:`\\alpha_k\\sigma_1 + \\beta_k` along :math:`(u, v)`
and :math:`\\alpha_k\\sigma_j` along the others, so

.. math::

    e_k = \\mathrm{sign}(\\gamma_k)\\max(|\\gamma_k| - \\tau_k, 0), \\quad
    \\gamma_k = \\alpha_k\\sigma_1 + \\beta_k, \\qquad
    c_{k+1} = c_k + \\mu_k, \\quad d_{k+1} = d_k - \\mu_k e_k,

and the residual is :math:`\\|D - e_k P\\|_F^2 = (\\|D\\|_F^2 - \\sigma_1^2) +
(\\sigma_1 - e_k)^2`. The recurrence is exact as long as two conditions hold, both
checked before each step: the sparse part stays zero, :math:`\\max|T_k| \\le
\\lambda/\\mu_k` (one pass over ``D``), and no other singular value passes,
:math:`\\alpha_k \\sigma_2 < \\tau_k`. So each of these iterations costs a few scalar
operations and one read of ``D`` instead of two passes over five matrices and a
partial SVD; the iteration goes on from the state they reach, as the plain iteration
would (the same iterates, up to rounding). On a matrix without such a start the first
check fails at once and nothing changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Leading", "RankOneStart", "leading_triplets", "rank_one_start"]


@dataclass(frozen=True)
class Leading:
    """The largest singular values of a matrix, in decreasing order, its leading left
    singular vector and its leading right singular vectors.

    Attributes
    ----------
    sigmas : (q,) ndarray
    u : (m,) ndarray
    V : (n, q) ndarray
        Column-major, so that ``u`` and every column are contiguous (one Numba
        signature for the kernels that take them, whatever the matrix's shape).
    """

    sigmas: np.ndarray
    u: np.ndarray
    V: np.ndarray

    @property
    def sigma1(self) -> float:
        return float(self.sigmas[0])

    @property
    def sigma2(self) -> float:
        return float(self.sigmas[1]) if self.sigmas.size > 1 else 0.0

    @property
    def v(self) -> np.ndarray:
        return self.V[:, 0]


def leading_triplets(D: np.ndarray, q: int, rng: np.random.Generator, gram_limit: int) -> Leading:
    """The ``q`` largest singular values of a float64 matrix ``D`` (fewer if
    ``min(m, n) < q``) with their right singular vectors and the first left one: from
    the largest eigenpairs of the smaller Gram matrix when ``min(m, n) <= gram_limit``,
    else by ARPACK's Lanczos iteration (``scipy.sparse.linalg.svds``) from a seeded
    vector."""
    import scipy.linalg as sl

    m, n = D.shape
    k = min(m, n)
    q = max(1, min(q, k if k <= gram_limit else k - 1))
    if k <= gram_limit:
        tall = m >= n
        G = D.T @ D if tall else D @ D.T
        w, E = sl.eigh(G, subset_by_index=[k - q, k - 1], check_finite=False)
        sigmas = np.sqrt(np.maximum(w[::-1], 0.0))
        E = E[:, ::-1]
        scale = np.where(sigmas > 0, sigmas, 1.0)
        if tall:
            V, u = E, (D @ E[:, 0]) / scale[0]
        else:  # E holds the left vectors: the right ones are D^T u_i / sigma_i
            V, u = (D.T @ E) / scale, E[:, 0]
        return Leading(sigmas, np.ascontiguousarray(u), np.asfortranarray(V))
    from scipy.sparse.linalg import svds

    U, s, Vt = svds(D, k=q, v0=rng.standard_normal(k))
    order = np.argsort(s)[::-1]
    return Leading(s[order], np.ascontiguousarray(U[:, order[0]]), np.asfortranarray(Vt[order].T))


@dataclass
class RankOneStart:
    """Where the closed-form start stopped: ``Y = c D + d u v^T``, ``L = e u v^T``,
    the next penalty ``mu``, and the history of the iterations it covered."""

    c: float
    d: float
    e: float
    mu: float
    errors: list[float] = field(default_factory=list)
    ranks: list[int] = field(default_factory=list)
    mus: list[float] = field(default_factory=list)

    @property
    def n_iter(self) -> int:
        return len(self.errors)


def rank_one_start(
    top: Leading,
    *,
    d_norm: float,
    lam: float,
    mu: float,
    c0: float,
    tol: float,
    max_iter: int,
    grow: Callable[[float, float], float],
    largest: Callable[[float, float], float],
) -> RankOneStart:
    """Run the iterations of the rank-one start (see the module's docstring) while
    they are exact, at most ``max_iter``, stopping before one that would converge.

    ``d_norm`` is :math:`\\|D\\|_F`, ``c0`` :math:`1/J(D)`
    (so that :math:`Y_0 = c_0 D`), ``grow(mu, error)`` the penalty of the next
    iteration, ``largest(a, b)`` :math:`\\max|a D + b u v^T|` (one pass over ``D``).
    """
    rest = max(d_norm * d_norm - top.sigma1 * top.sigma1, 0.0)  # sum of sigma_j^2, j >= 2
    state = RankOneStart(c=c0, d=0.0, e=0.0, mu=mu)
    while state.n_iter < max_iter:
        mu_k = state.mu
        tau = 1.0 / mu_k
        alpha = 1.0 + state.c / mu_k
        beta = state.d / mu_k
        if largest(alpha, beta - state.e) > lam * tau:
            break  # an entry passes the shrinkage: S would not stay zero
        if alpha * top.sigma2 >= tau:
            break  # a second singular value may pass the threshold
        gamma = alpha * top.sigma1 + beta
        e = math.copysign(max(abs(gamma) - tau, 0.0), gamma)
        error = math.sqrt(rest + (top.sigma1 - e) ** 2) / d_norm
        if error < tol:
            break  # the plain iteration runs (and stops at) this one
        state.errors.append(error)
        state.ranks.append(int(e != 0.0))
        state.mus.append(mu_k)
        state.c += mu_k
        state.d -= mu_k * e
        state.e = e
        state.mu = grow(mu_k, error)
    return state
