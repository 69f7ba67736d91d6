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

__all__ = ["LeadingPair", "RankOneStart", "leading_pair", "rank_one_start"]


@dataclass(frozen=True)
class LeadingPair:
    """The two largest singular values of a matrix and the leading singular vectors."""

    sigma1: float
    sigma2: float
    u: np.ndarray
    v: np.ndarray


def leading_pair(D: np.ndarray, rng: np.random.Generator, gram_limit: int) -> LeadingPair:
    """:math:`\\sigma_1, \\sigma_2, u, v` of a float64 matrix ``D``: from the two largest
    eigenpairs of the smaller Gram matrix when ``min(m, n) <= gram_limit``, else by
    ARPACK's Lanczos iteration (``scipy.sparse.linalg.svds``) from a seeded vector."""
    import scipy.linalg as sl

    m, n = D.shape
    k = min(m, n)
    if k == 1:
        s = float(np.linalg.norm(D))
        u = D[:, 0] / s if (n == 1 and s > 0) else np.ones(m) / math.sqrt(m)
        v = D[0, :] / s if (m == 1 and s > 0) else np.ones(n) / math.sqrt(n)
        return LeadingPair(s, 0.0, u, v)
    if k <= gram_limit:
        tall = m >= n
        G = D.T @ D if tall else D @ D.T
        w, V = sl.eigh(G, subset_by_index=[k - 2, k - 1], check_finite=False)
        s1, s2 = (math.sqrt(max(float(x), 0.0)) for x in (w[1], w[0]))
        side = V[:, 1]
        other = (D @ side) if tall else (D.T @ side)
        other = other / s1 if s1 > 0 else other
        u, v = (other, side) if tall else (side, other)
        return LeadingPair(s1, s2, u, v)
    from scipy.sparse.linalg import svds

    U, s, Vt = svds(D, k=2, v0=rng.standard_normal(k))
    order = np.argsort(s)[::-1]
    return LeadingPair(float(s[order[0]]), float(s[order[1]]), U[:, order[0]], Vt[order[0]])


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
    top: LeadingPair,
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
