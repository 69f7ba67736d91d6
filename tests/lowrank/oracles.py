"""Slow, obviously-correct NumPy references for the low-rank tests."""

from __future__ import annotations

import numpy as np


def shrink(x: np.ndarray, t: float) -> np.ndarray:
    """Soft thresholding ``sign(x) max(|x| - t, 0)``."""
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


def plain_ialm(D, lam=None, tol=1e-7, max_iter=1000, rho=1.5):
    """Inexact ALM for principal component pursuit, a full SVD at every iteration.

    Algorithm 5 of Lin, Chen & Ma (2010), written as plainly as possible.
    Returns ``(L, S, n_iter)``.
    """
    D = np.asarray(D, dtype=np.float64)
    m, n = D.shape
    lam = 1.0 / np.sqrt(max(m, n)) if lam is None else lam
    norm_two = np.linalg.norm(D, 2)
    Y = D / max(norm_two, np.abs(D).max() / lam)
    mu = 1.25 / norm_two
    mu_bar = mu * 1e7
    d_norm = np.linalg.norm(D)
    L = np.zeros_like(D)
    S = np.zeros_like(D)
    n_iter = 0
    for _ in range(max_iter):
        n_iter += 1
        S = shrink(D - L + Y / mu, lam / mu)
        U, s, Vt = np.linalg.svd(D - S + Y / mu, full_matrices=False)
        r = int(np.sum(s > 1 / mu))
        L = (U[:, :r] * (s[:r] - 1 / mu)) @ Vt[:r]
        Z = D - L - S
        Y = Y + mu * Z
        mu = min(mu * rho, mu_bar)
        if np.linalg.norm(Z) / d_norm < tol:
            break
    return L, S, n_iter


def planted(m=200, n=60, rank=3, frac=0.05, seed=0):
    """A low-rank matrix plus sparse gross errors: ``(D, L0, S0)``."""
    rng = np.random.default_rng(seed)
    L0 = rng.normal(size=(m, rank)) @ rng.normal(size=(rank, n))
    S0 = np.where(rng.random((m, n)) < frac, rng.uniform(-50, 50, (m, n)), 0.0)
    return L0 + S0, L0, S0


def video_like(m_side=(12, 16), n=50, seed=0):
    """A small grey 'video' matrix: a textured background with slow illumination drift
    and a moving bright block (pixels x frames, 0-255 scale)."""
    rng = np.random.default_rng(seed)
    h, w = m_side
    bg = rng.uniform(40, 200, size=(h, w))
    cols = []
    for t in range(n):
        f = bg * (1 + 0.1 * np.sin(t / 7)) + rng.normal(0, 2, size=(h, w))
        x = (t * 3) % (w - 4)
        f[4:8, x : x + 4] = 250
        cols.append(np.clip(f, 0, 255).reshape(-1))
    return np.stack(cols, axis=1)
