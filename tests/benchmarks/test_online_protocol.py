"""The every-split check of the half-and-half protocol (benchmarks/online_accuracy.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from benchmarks.online_accuracy import every_split

NAMES = ["x_1", "x_2", "x_3", "x_4", "y_1", "z_1"]


def _rows(table: list[list[float]]) -> list[dict]:
    return [
        {"params": {"c": i}, "per_sequence": dict(zip(NAMES, r, strict=True))}
        for i, r in enumerate(table)
    ]


def _brute(table: np.ndarray) -> tuple[list[float], list[float]]:
    """Gap and loss of every 3/3 split with the x family split 2/2, computed directly."""
    gaps, losses = [], []
    for a in itertools.combinations(range(6), 3):
        if sum(1 for i in a if i < 4) != 2:
            continue
        b = [i for i in range(6) if i not in a]
        on_a = table[:, list(a)].mean(axis=1)
        on_b = table[:, b].mean(axis=1)
        k = int(np.argmax(on_a))
        gaps.append(on_a[k] - on_b[k])
        losses.append(on_b.max() - on_b[k])
    return gaps, losses


def test_every_split_matches_a_direct_count_of_the_splits():
    rng = np.random.default_rng(0)
    table = rng.uniform(0.2, 0.9, size=(5, 6))
    out = every_split(_rows(table.tolist()))
    gaps, losses = _brute(table)
    assert out["n_splits"] == len(gaps) == 12
    assert out["mean_difference"] == pytest.approx(np.mean(gaps))
    assert out["mean_loss_against_the_tested_half_best"] == pytest.approx(np.mean(losses))
    assert out["difference_percentiles_5_50_95"] == pytest.approx(
        list(np.percentile(gaps, [5, 50, 95]))
    )


def test_a_configuration_best_everywhere_has_no_optimism_and_one_good_on_one_clip_has_some():
    even = [[0.6] * 6, [0.5] * 6]
    out = every_split(_rows(even))
    assert out["mean_difference"] == pytest.approx(0.0)
    assert out["most_chosen"] == {"params": {"c": 0}, "share": 1.0}
    # configuration 1 wins big on one clip only: chosen on halves holding it, it then
    # loses on the other half, so choosing is optimistic
    lucky = [[0.6] * 6, [0.6, 0.6, 0.6, 0.9, 0.55, 0.55]]
    out = every_split(_rows(lucky))
    assert out["mean_difference"] > 0.02
    assert out["mean_loss_against_the_tested_half_best"] > 0.0
