"""The one rule for ``n_jobs`` and the CPUs a process may use.

Every estimator, subtractor and pipeline stage resolves its thread count here, so that
``n_jobs`` means the same everywhere (joblib's convention): ``None`` or ``-1`` every
CPU this process may run on, ``-2`` all but one, ``-k`` all but ``k - 1``, a positive
``n`` at most ``n`` (capped at the CPUs available). ``0`` is an error.

Examples
--------
>>> resolve_n_jobs(1)
1
>>> resolve_n_jobs(None) == resolve_n_jobs(-1) == available_cpus()
True
"""

from __future__ import annotations

import numbers
import os
from typing import Any

from bgmix.exceptions import ParameterError

__all__ = ["available_cpus", "check_n_jobs", "resolve_n_jobs"]


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def check_n_jobs(value: Any, *, name: str = "n_jobs") -> int | None:
    """Validate ``n_jobs``: None or a non-zero integer.

    Raises
    ------
    ParameterError
        For 0, a non-integer or a bool.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) == 0:
        raise ParameterError(
            f"{name} must be None, a positive number of threads, or -1 for every CPU "
            f"(-2 all but one, ...); got {value!r}"
        )
    return int(value)


def resolve_n_jobs(n_jobs: Any) -> int:
    """Number of threads for ``n_jobs`` (validated by :func:`check_n_jobs`), at least 1."""
    n = check_n_jobs(n_jobs)
    cpus = available_cpus()
    if n is None:
        return cpus
    if n < 0:
        return max(1, cpus + 1 + n)
    return min(n, cpus)
