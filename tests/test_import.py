"""`import bgmix` must stay cheap and free of side effects (but one: a short OpenBLAS spin)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import bgmix
from tests._imports import modules_loaded_by

HEAVY = ("numba", "cv2", "av", "matplotlib", "dask", "distributed", "scipy", "sklearn", "PIL")


def test_import_does_not_load_heavy_modules():
    loaded = modules_loaded_by("bgmix, bgmix.exceptions", HEAVY)
    assert loaded == [], f"import bgmix loaded: {','.join(loaded)}"


def test_import_has_no_logging_or_warning_side_effects():
    code = (
        "import logging, warnings\n"
        "before = (list(logging.getLogger().handlers), list(warnings.filters))\n"
        "import bgmix\n"
        "after = (list(logging.getLogger().handlers), list(warnings.filters))\n"
        "print(before == after)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


@pytest.mark.parametrize("given", [None, "28"])
def test_import_sets_a_short_openblas_spin_unless_the_user_chose_one(given):
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if given is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = given
    code = "import os, bgmix\nprint(os.environ['OPENBLAS_THREAD_TIMEOUT'])\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == (given or "16")


def test_version_is_exposed():
    assert bgmix.__version__.count(".") == 2


def test_lazy_attribute_resolves_and_unknown_raises():
    assert callable(bgmix.make_subtractor)
    try:
        bgmix.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "bgmix", "--version"], capture_output=True, text=True, check=True
    )
    assert bgmix.__version__ in out.stdout
