"""bgmix: video background subtraction and Gaussian-mixture image segmentation.

Importing :mod:`bgmix` is cheap: the heavy dependencies (Numba, OpenCV, PyAV,
matplotlib) load only when the object that needs them is first used.

The main entry points::

    import bgmix
    sub = bgmix.make_subtractor("mog2")
    with bgmix.open_source("video.mp4") as frames:
        for frame in frames:
            mask = sub.apply(frame)

See ``bgmix.available_methods()`` for every registered method.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from bgmix._version import __version__

# OpenBLAS's worker threads spin for 2**28 cycles (about 0.1 s) after every call before
# they sleep, and bgmix runs its own kernel threads between BLAS calls (rpca's
# element-wise steps between the matrix products of its singular value thresholding):
# the spinning threads took a core from them and made rpca 25-45 % slower. OpenBLAS
# reads this variable when it loads, so a short spin applies when bgmix is imported
# before NumPy and SciPy (always in the ``bgmix`` command); a value set by the user is
# kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")

# Public name -> module that defines it.  Resolved on first attribute access
# (PEP 562), so ``import bgmix`` imports none of these modules.
_LAZY: dict[str, str] = {
    "make_subtractor": "bgmix.background",
    "available_methods": "bgmix.background",
    "load_subtractor": "bgmix.background",
    "BackgroundSubtractor": "bgmix.background",
    "PostProcess": "bgmix.background",
    "open_source": "bgmix.io",
    "open_sink": "bgmix.io",
    "read_frames": "bgmix.io",
    "VideoInfo": "bgmix.io",
    "side_by_side": "bgmix.io",
    "show_video": "bgmix.io",
    "evaluate": "bgmix.metrics",
    "evaluate_sequence": "bgmix.metrics",
    "subtract": "bgmix.pipeline",
    "GaussianMixture": "bgmix.mixture",
    "KMeans": "bgmix.mixture",
    "segment_image": "bgmix.segment",
    "detect_events": "bgmix.events",
    "iter_events": "bgmix.events",
    "EventList": "bgmix.events",
    "Event": "bgmix.events",
    "sample_image": "bgmix.segment",
    "write_report": "bgmix.viz",
}

_SUBPACKAGES = frozenset(
    {
        "background",
        "exceptions",
        "io",
        "metrics",
        "mixture",
        "segment",
        "synthetic",
        "lowrank",
        "pipeline",
        "events",
        "viz",
    }
)

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"bgmix.{name}")
    raise AttributeError(f"module 'bgmix' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBPACKAGES)
