"""The shared parameter validators of bgmix._validation."""

from __future__ import annotations

import numbers

import numpy as np
import pytest

from bgmix._validation import (
    Interval,
    Options,
    check_choice,
    check_int,
    check_param,
    check_random_state,
    check_real,
)
from bgmix.exceptions import ParameterError


@pytest.mark.parametrize(
    "value",
    [None, 0, 7, 2**32 - 1, np.int64(3), np.random.default_rng(1), np.random.RandomState(0)],
)
def test_one_random_state_rule_accepts_seeds_generators_and_random_states(value):
    assert isinstance(check_random_state(value), np.random.Generator)
    assert check_param("random_state", value, ["random_state"]) is value


@pytest.mark.parametrize("value", [-1, 2**32, 1.5, "3", True])
def test_random_state_errors_name_the_parameter(value):
    with pytest.raises(ParameterError, match=r"^seed must be an int in the range"):
        check_random_state(value, name="seed")


def test_random_state_streams():
    assert check_random_state(5).integers(10**9) == check_random_state(5).integers(10**9)
    g = np.random.default_rng(2)
    assert check_random_state(g) is g
    rs = np.random.RandomState(0)
    assert check_random_state(rs).integers(10**9) != check_random_state(rs).integers(10**9)


@pytest.mark.parametrize("name", ["mog2", "em", "kmeans", "svd", "gmm-full"])
def test_subtractors_and_estimators_share_the_random_state_rule(name):
    from bgmix.background import make_subtractor
    from bgmix.mixture import GaussianMixture

    for good in (None, 3, np.random.default_rng(0), np.random.RandomState(0)):
        GaussianMixture(random_state=good).fit(np.random.default_rng(0).normal(size=(20, 2)))
        if name != "mog2":
            make_subtractor(name, random_state=good)
    for bad in (-1, "x"):
        with pytest.raises(ParameterError, match="random_state"):
            GaussianMixture(random_state=bad).fit(np.zeros((4, 1)))
        if name != "mog2":
            with pytest.raises(ParameterError, match="random_state"):
                make_subtractor(name, random_state=bad)


def test_one_validator_behind_the_imperative_and_declarative_forms():
    assert check_int("k", 3, low=1) == 3 and check_real("a", 1, low=0.0) == 1.0
    assert check_choice("c", "b", ["a", "b"]) == "b"
    with pytest.raises(ParameterError, match=r"^k must be an int in the range \[1, inf\); got 0$"):
        check_int("k", 0, low=1)
    with pytest.raises(ParameterError, match=r"^a must be a float in the range \(0.0, 1.0\]"):
        check_real("a", 0.0, low=0.0, high=1.0, low_inclusive=False)
    with pytest.raises(ParameterError, match=r"^a must be"):
        check_real("a", float("inf"), low=0.0)  # finite only
    with pytest.raises(ParameterError, match=r"^c must be a str among \{'a', 'b'\}; got 'x'$"):
        check_choice("c", "x", ["a", "b"])
    with pytest.raises(ParameterError, match=r"^The 'k' parameter of Est must be an int"):
        check_param("k", 0, [Interval(numbers.Integral, 1, None)], owner="Est")
    assert Options([1, 2]).is_satisfied_by(2) and not Options([1, 2]).is_satisfied_by(2.0)


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
