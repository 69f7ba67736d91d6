"""Shared by the online kernels' oracle tests: run a row kernel band by band."""

from __future__ import annotations

import itertools

import numpy as np


def run_in_bands(kernel, frame, state, params, bands=1):
    """Call ``kernel(y0, y1, frame, state, mask, params)`` on ``bands`` equal bands of
    rows and return the mask, which starts at 7 so that a pixel no band wrote shows."""
    mask = np.full(frame.shape[:2], 7, np.uint8)
    edges = np.linspace(0, frame.shape[0], bands + 1).astype(int)
    for y0, y1 in itertools.pairwise(edges):
        kernel(y0, y1, frame, state, mask, params)
    return mask
