"""Signed distance functions (SDF) of simple shapes, and anti-aliased coverage.

A signed distance is negative inside a shape, positive outside, and measured in
pixels. The coverage of a pixel by a shape is ``clip(0.5 - d, 0, 1)`` (a one-pixel
box filter across the boundary): 1 for pixels whose centre lies at least half a pixel
inside, 0 for those at least half a pixel outside, and a linear ramp across the
one-pixel band in between. That band is exactly what the ground truth labels 170.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["coverage", "sd_box", "sd_ellipse", "sd_polygon", "union"]

_HALF = np.float32(0.5)


def sd_box(
    y: np.ndarray,
    x: np.ndarray,
    cy: float,
    cx: float,
    half_h: float,
    half_w: float,
    radius: float = 0.0,
    angle: float = 0.0,
) -> np.ndarray:
    """Rounded rectangle centred at ``(cy, cx)``, optionally rotated by ``angle`` radians.

    ``radius`` rounds the corners (clipped to the half sizes). Exact distance.
    """
    dy = y - np.float32(cy)
    dx = x - np.float32(cx)
    if angle:
        c, s = np.float32(np.cos(angle)), np.float32(np.sin(angle))
        dx, dy = c * dx + s * dy, -s * dx + c * dy
    r = np.float32(max(0.0, min(radius, half_h, half_w)))
    qy = np.abs(dy) - np.float32(half_h - r)
    qx = np.abs(dx) - np.float32(half_w - r)
    outside = np.hypot(np.maximum(qy, 0), np.maximum(qx, 0))
    inside = np.minimum(np.maximum(qy, qx), 0)
    return (outside + inside - r).astype(np.float32, copy=False)


def sd_ellipse(
    y: np.ndarray, x: np.ndarray, cy: float, cx: float, ry: float, rx: float
) -> np.ndarray:
    """Ellipse with semi-axes ``ry``, ``rx``; the usual first-order distance estimate.

    ``d = k0 (k0 - 1) / k1`` with ``k0 = |p / r|`` and ``k1 = |p / r²|``: exact on the
    boundary and accurate within a pixel of it, which is what anti-aliasing needs.
    """
    ry = np.float32(max(ry, 1e-3))
    rx = np.float32(max(rx, 1e-3))
    py = (y - np.float32(cy)) / ry
    px = (x - np.float32(cx)) / rx
    k0 = np.hypot(py, px)
    k1 = np.hypot(py / ry, px / rx)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = k0 * (k0 - 1) / k1
    return np.where(k1 > 0, d, -min(ry, rx)).astype(np.float32, copy=False)


def sd_polygon(y: np.ndarray, x: np.ndarray, vertices: Sequence[tuple[float, float]]) -> np.ndarray:
    """Convex polygon given by ``(y, x)`` vertices in either winding order.

    The largest signed distance to the edge lines: exact inside and along the edges,
    slightly below the true distance just outside a vertex (harmless for coverage).
    """
    v = np.asarray(vertices, dtype=np.float64)
    centre = v.mean(axis=0)
    d = None
    for k in range(len(v)):
        (y0, x0), (y1, x1) = v[k], v[(k + 1) % len(v)]
        ny, nx = x1 - x0, -(y1 - y0)
        norm = float(np.hypot(ny, nx))
        if norm == 0:
            continue
        ny, nx = ny / norm, nx / norm
        if (centre[0] - y0) * ny + (centre[1] - x0) * nx > 0:  # make the normal point out
            ny, nx = -ny, -nx
        dk = (y - np.float32(y0)) * np.float32(ny) + (x - np.float32(x0)) * np.float32(nx)
        d = dk if d is None else np.maximum(d, dk)
    return np.asarray(d, dtype=np.float32)


def union(*distances: np.ndarray) -> np.ndarray:
    """Union of shapes: the smallest signed distance."""
    out = distances[0]
    for d in distances[1:]:
        out = np.minimum(out, d)
    return out


def coverage(distance: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage ``clip(0.5 - d, 0, 1)`` (float32, exactly 0 and 1 at the ends)."""
    return np.clip(_HALF - distance, 0, 1).astype(np.float32, copy=False)
