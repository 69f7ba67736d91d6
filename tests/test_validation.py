"""The shared parameter validators of bgmix._validation."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix._validation import as_generator, check_random_state
from bgmix.exceptions import ParameterError


@pytest.mark.parametrize("value", [None, 0, 7, np.int64(3), np.random.default_rng(1)])
def test_check_random_state_accepts_seeds_and_generators(value):
    check_random_state("random_state", value)


@pytest.mark.parametrize("value", [-1, 1.5, "3", True, np.random.RandomState(0)])
def test_check_random_state_names_the_parameter(value):
    with pytest.raises(ParameterError, match="seed"):
        check_random_state("seed", value)


def test_as_generator_seeds_reproducibly_and_passes_generators_through():
    assert as_generator(5).integers(10**9) == as_generator(5).integers(10**9)
    g = np.random.default_rng(2)
    assert as_generator(g) is g
    assert isinstance(as_generator(None), np.random.Generator)
    with pytest.raises(ParameterError, match="random_state"):
        as_generator(-3)
