"""Segmentation quality against human segmentations: Rand index, PRI and VoI.

The formulas follow the BSDS500 benchmark code (``match_segmentations2.m``, after
Allen Yang's implementation): for a contingency table ``n_ij`` (pixels with label
``i`` in the segmentation and ``j`` in the ground truth), ``a_i = sum_j n_ij``,
``b_j = sum_i n_ij`` and ``N`` pixels,

* Rand index ``RI = 1 - (sum_i a_i^2 / 2 + sum_j b_j^2 / 2 - sum_ij n_ij^2) / C(N, 2)``,
  the fraction of pixel pairs on which both labelings agree (same region or not);
* Probabilistic Rand Index: the mean RI over all human segmentations of the image;
* Variation of information ``VoI = H(S) + H(G) - 2 I(S; G)`` in bits (log base 2,
  as the benchmark code), averaged over the human segmentations.

PRI lies in [0, 1] (higher is better); VoI is 0 for identical segmentations (lower
is better).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bgmix.exceptions import FrameFormatError, FrameSizeError, ParameterError

__all__ = [
    "contingency_table",
    "probabilistic_rand_index",
    "rand_index",
    "variation_of_information",
]


def _as_labels(labels: object, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.size == 0:
        raise FrameFormatError(f"{name}: empty label map, shape {arr.shape}")
    if arr.dtype.kind not in "biu":
        raise FrameFormatError(
            f"{name}: expected integer labels, got dtype {arr.dtype} (round or cast first)"
        )
    return arr


def contingency_table(segmentation: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Pixel counts ``n[i, j]`` of segment ``i`` of ``segmentation`` and ``j`` of ``truth``.

    Parameters
    ----------
    segmentation, truth : (H, W) integer ndarrays (any shape, equal shapes)
        Label maps; label values need not be consecutive.

    Returns
    -------
    (S, G) int64 ndarray
        Rows follow the sorted distinct labels of ``segmentation``, columns those of
        ``truth``.

    Raises
    ------
    FrameSizeError
        The shapes differ.
    FrameFormatError
        A label map is empty or not integer.
    """
    seg = _as_labels(segmentation, "segmentation")
    gt = _as_labels(truth, "truth")
    if seg.shape != gt.shape:
        raise FrameSizeError(
            f"segmentation shape {seg.shape} differs from the ground truth's {gt.shape}"
        )
    _, s = np.unique(seg.ravel(), return_inverse=True)
    _, g = np.unique(gt.ravel(), return_inverse=True)
    n_s, n_g = int(s.max()) + 1, int(g.max()) + 1
    return np.bincount(s * n_g + g, minlength=n_s * n_g).reshape(n_s, n_g)


def _rand_from_table(n: np.ndarray) -> float:
    total = float(n.sum())
    if total < 2:
        return 1.0
    a = n.sum(axis=1).astype(np.float64)
    b = n.sum(axis=0).astype(np.float64)
    nf = n.astype(np.float64)
    pairs = total * (total - 1.0) / 2.0
    return float(1.0 - (np.dot(a, a) / 2.0 + np.dot(b, b) / 2.0 - np.sum(nf * nf)) / pairs)


def _voi_from_table(n: np.ndarray, base: float) -> float:
    joint = n.astype(np.float64) / float(n.sum())
    p = joint.sum(axis=1)
    q = joint.sum(axis=0)
    nz = joint > 0
    h_p = -np.sum(p[p > 0] * np.log(p[p > 0]))
    h_q = -np.sum(q[q > 0] * np.log(q[q > 0]))
    outer = np.outer(p, q)
    mi = np.sum(joint[nz] * np.log(joint[nz] / outer[nz]))
    return float(max(h_p + h_q - 2.0 * mi, 0.0) / np.log(base))


def _truths(truths: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(truths, np.ndarray) and truths.dtype != object:
        return [truths]
    items = list(truths)
    if not items:
        raise ParameterError("truths: expected at least one ground-truth label map")
    return items


def rand_index(segmentation: np.ndarray, truth: np.ndarray) -> float:
    """Rand index of two label maps: the fraction of pixel pairs they agree on.

    Parameters
    ----------
    segmentation, truth : integer ndarrays of equal shape

    Returns
    -------
    float in [0, 1]

    Examples
    --------
    >>> rand_index(np.array([0, 0, 1, 1]), np.array([5, 5, 7, 7]))
    1.0
    >>> round(rand_index(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])), 4)
    0.3333
    """
    return _rand_from_table(contingency_table(segmentation, truth))


def probabilistic_rand_index(
    segmentation: np.ndarray, truths: np.ndarray | Sequence[np.ndarray]
) -> float:
    """Probabilistic Rand Index: the mean Rand index over several human segmentations.

    Parameters
    ----------
    segmentation : (H, W) integer ndarray
    truths : (H, W) integer ndarray, or a sequence of them
        The human segmentations of the same image.

    Returns
    -------
    float in [0, 1], higher is better

    References
    ----------
    .. [1] R. Unnikrishnan, C. Pantofaru and M. Hebert, "Toward objective evaluation
       of image segmentation algorithms", IEEE TPAMI 29(6), 2007.
    .. [2] P. Arbelaez, M. Maire, C. Fowlkes and J. Malik, "Contour detection and
       hierarchical image segmentation", IEEE TPAMI 33(5), 2011.
    """
    return float(np.mean([rand_index(segmentation, t) for t in _truths(truths)]))


def variation_of_information(
    segmentation: np.ndarray,
    truths: np.ndarray | Sequence[np.ndarray],
    *,
    base: float = 2.0,
) -> float:
    """Variation of information ``H(S) + H(G) - 2 I(S; G)``, averaged over ground truths.

    Parameters
    ----------
    segmentation : (H, W) integer ndarray
    truths : (H, W) integer ndarray, or a sequence of them
    base : float, default 2
        Logarithm base: 2 gives bits, as the BSDS500 benchmark code; ``np.e`` nats.

    Returns
    -------
    float >= 0, lower is better (0 for identical partitions)

    References
    ----------
    .. [1] M. Meila, "Comparing clusterings: an axiomatic view", ICML 2005.

    Examples
    --------
    >>> variation_of_information(np.array([0, 0, 1, 1]), np.array([3, 3, 9, 9]))
    0.0
    >>> variation_of_information(np.array([0, 0, 0, 0]), np.array([0, 0, 1, 1]))
    1.0
    """
    if not (np.isfinite(base) and base > 1.0):
        raise ParameterError(f"base must be a number > 1; got {base!r}")
    return float(
        np.mean(
            [_voi_from_table(contingency_table(segmentation, t), base) for t in _truths(truths)]
        )
    )
