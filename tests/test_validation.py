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


# ---------------------------------------------------------------------- n_jobs
@pytest.mark.parametrize("n_jobs", [None, -1, -2, 1, 2, 10_000])
def test_n_jobs_rule_is_joblib_s(n_jobs):
    from bgmix._threads import available_cpus, resolve_n_jobs

    cpus = available_cpus()
    expected = {None: cpus, -1: cpus, -2: max(1, cpus - 1)}.get(n_jobs, min(n_jobs or 1, cpus))
    assert resolve_n_jobs(n_jobs) == expected


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2", True])
def test_bad_n_jobs_is_named(n_jobs):
    from bgmix._threads import resolve_n_jobs

    with pytest.raises(ParameterError, match="n_jobs"):
        resolve_n_jobs(n_jobs)
