"""Shared by the "importing X stays light" tests: what an import loads, seen from a
fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable


def modules_loaded_by(imports: str, candidates: Iterable[str]) -> list[str]:
    """The modules of ``candidates`` found in ``sys.modules`` after ``import sys,
    {imports}`` in a new Python process (in the order of ``candidates``)."""
    code = (
        f"import sys, {imports}\n"
        f"print(','.join(m for m in {tuple(candidates)!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]
