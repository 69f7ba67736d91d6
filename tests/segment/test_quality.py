"""PRI and VoI against hand-computed values and brute-force oracles."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from bgmix.exceptions import FrameFormatError, FrameSizeError, ParameterError
from bgmix.segment import (
    contingency_table,
    probabilistic_rand_index,
    rand_index,
    variation_of_information,
)


def brute_rand(a, b):
    """Fraction of unordered pixel pairs on which the two labelings agree."""
    a, b = np.ravel(a), np.ravel(b)
    pairs = list(itertools.combinations(range(a.size), 2))
    agree = sum((a[i] == a[j]) == (b[i] == b[j]) for i, j in pairs)
    return agree / len(pairs)


def brute_voi(a, b, base=2.0):
    a, b = np.ravel(a), np.ravel(b)
    n = a.size

    def entropy(x):
        _, counts = np.unique(x, return_counts=True)
        p = counts / n
        return -np.sum(p * np.log(p))

    joint = np.array([f"{x}/{y}" for x, y in zip(a, b, strict=True)])
    h_a, h_b, h_ab = entropy(a), entropy(b), entropy(joint)
    return (2 * h_ab - h_a - h_b) / math.log(base)  # H(A|B) + H(B|A)


def test_hand_computed_example():
    # 6 pixels: S = [0 0 0 1 1 1], G = [0 0 1 1 2 2]
    seg = np.array([[0, 0, 0], [1, 1, 1]])
    gt = np.array([[0, 0, 1], [1, 2, 2]])
    # contingency: S0 -> {G0: 2, G1: 1}; S1 -> {G1: 1, G2: 2}
    np.testing.assert_array_equal(contingency_table(seg, gt), [[2, 1, 0], [0, 1, 2]])
    # pairs: 15. same-in-S = 3 + 3 = 6, same-in-G = 1 + 1 + 1 = 3, same-in-both = 1 + 1 = 2
    # disagreements = (6 - 2) + (3 - 2) = 5  ->  RI = 1 - 5/15 = 2/3
    assert rand_index(seg, gt) == pytest.approx(2 / 3, abs=1e-15)
    # H(S) = 1 bit, H(G) = log2(3) bits, joint probabilities (1/3, 1/6, 1/6, 1/3)
    h_s, h_g = 1.0, math.log2(3)
    h_sg = -(2 * (1 / 3) * math.log2(1 / 3) + 2 * (1 / 6) * math.log2(1 / 6))
    assert variation_of_information(seg, gt) == pytest.approx(2 * h_sg - h_s - h_g, abs=1e-12)


def test_identical_and_permuted_partitions():
    seg = np.array([[3, 3, 7], [7, 9, 9]])
    relabelled = np.array([[1, 1, 0], [0, 5, 5]])
    assert rand_index(seg, relabelled) == 1.0
    assert variation_of_information(seg, relabelled) == 0.0


def test_against_brute_force_on_random_maps():
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.integers(0, rng.integers(1, 5), size=(4, 5))
        b = rng.integers(0, rng.integers(1, 5), size=(4, 5))
        assert rand_index(a, b) == pytest.approx(brute_rand(a, b), abs=1e-12)
        assert variation_of_information(a, b) == pytest.approx(brute_voi(a, b), abs=1e-12)
        assert variation_of_information(a, b, base=math.e) == pytest.approx(
            brute_voi(a, b, math.e), abs=1e-12
        )


def test_pri_and_voi_average_over_ground_truths():
    rng = np.random.default_rng(1)
    seg = rng.integers(0, 3, size=(6, 6))
    truths = [rng.integers(0, 4, size=(6, 6)) for _ in range(4)]
    assert probabilistic_rand_index(seg, truths) == pytest.approx(
        np.mean([brute_rand(seg, t) for t in truths]), abs=1e-12
    )
    assert variation_of_information(seg, truths) == pytest.approx(
        np.mean([brute_voi(seg, t) for t in truths]), abs=1e-12
    )
    # a single array is one ground truth
    assert probabilistic_rand_index(seg, truths[0]) == pytest.approx(rand_index(seg, truths[0]))


def test_extremes():
    gt = np.arange(16).reshape(4, 4) // 8  # two halves
    one = np.zeros((4, 4), int)
    singletons = np.arange(16).reshape(4, 4)
    assert variation_of_information(one, gt) == pytest.approx(1.0)  # H(G) = 1 bit
    assert variation_of_information(singletons, gt) == pytest.approx(4.0 - 1.0)
    assert rand_index(one, one) == 1.0
    assert rand_index(np.zeros((1, 1), int), np.zeros((1, 1), int)) == 1.0


@pytest.mark.parametrize(
    ("seg", "gt", "exc", "match"),
    [
        (np.zeros((2, 3), int), np.zeros((3, 2), int), FrameSizeError, "shape"),
        (np.zeros((2, 2)), np.zeros((2, 2), int), FrameFormatError, "integer labels"),
        (np.zeros((0, 2), int), np.zeros((0, 2), int), FrameFormatError, "empty"),
    ],
)
def test_errors(seg, gt, exc, match):
    with pytest.raises(exc, match=match):
        rand_index(seg, gt)


def test_no_truths_and_bad_base():
    with pytest.raises(ParameterError, match="at least one"):
        probabilistic_rand_index(np.zeros((2, 2), int), [])
    with pytest.raises(ParameterError, match="base"):
        variation_of_information(np.zeros((2, 2), int), np.zeros((2, 2), int), base=1.0)
