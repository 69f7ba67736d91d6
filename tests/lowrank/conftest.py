"""The low-rank tests use tiny matrices: one BLAS thread is faster for them, and keeps
their run time steady on a busy machine (results do not depend on it)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
