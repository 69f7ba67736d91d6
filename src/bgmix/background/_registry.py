"""The registry of background subtractors: ``make_subtractor(name, **params)``.

Every method, bgmix's own and OpenCV's peers, is listed once in :data:`_BUILTIN` as
``name -> "module:Class"`` and imported only when made, so listing the methods is
cheap and importing one method never imports the others.
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Any

from bgmix.exceptions import ParameterError, UnknownMethodError

__all__ = [
    "MethodSpec",
    "available_methods",
    "make_subtractor",
    "method_info",
    "register",
    "registered_name",
]


@dataclass(frozen=True)
class MethodSpec:
    """What the registry knows about a method without importing it."""

    name: str
    target: str  # "package.module:ClassName"
    family: str  # "online", "batch", "baseline", "lowrank" or "opencv"
    summary: str

    def load(self) -> type:
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


# name, target, family, one-line summary
_BUILTIN: list[tuple[str, str, str, str]] = [
    (
        "frame-difference",
        "bgmix.background._simple:FrameDifference",
        "baseline",
        "foreground where |frame - previous frame| exceeds a threshold",
    ),
    (
        "running-mean",
        "bgmix.background._simple:RunningMean",
        "baseline",
        "exponential running average background, foreground by absolute difference",
    ),
    (
        "em",
        "bgmix.background._em:PixelEM",
        "batch",
        "per-pixel Gaussian mixture fitted by EM over training frames "
        "(full or diagonal covariance)",
    ),
    (
        "mean",
        "bgmix.background._median:BatchMean",
        "batch",
        "per-pixel mean of the training frames; cumulative mean online",
    ),
    (
        "median",
        "bgmix.background._median:BatchMedian",
        "batch",
        "exact per-pixel median of the training frames; approximate (+1/-1) median online",
    ),
    (
        "kmeans",
        "bgmix.background._pixel_kmeans:PixelKMeans",
        "batch",
        "per-pixel k-means over the training frames; the largest cluster is background",
    ),
    (
        "gmm-full",
        "bgmix.background._gmm_full:GMMFull",
        "online",
        "per-pixel Gaussian mixture with full colour covariances, vectorised Numba",
    ),
    (
        "gmm-consensus",
        "bgmix.background._gmm_consensus:GMMConsensus",
        "online",
        "gmm-full with a start-up learning rate, a neighbourhood consensus "
        "(Elgammal et al. 2000) and a shadow test (Prati et al. 2003)",
    ),
    (
        "mog",
        "bgmix.background._mog:MOG",
        "online",
        "Stauffer-Grimson adaptive Gaussian mixture (1999), spherical or diagonal, Numba",
    ),
    (
        "mog2",
        "bgmix.background._mog2:MOG2",
        "online",
        "adaptive Gaussian mixture with shadows (Zivkovic 2004/2006), OpenCV-exact, "
        "vectorised Numba",
    ),
    (
        "svd",
        "bgmix.background._lowrank:SVDSubtractor",
        "lowrank",
        "rank-k SVD background of the frame matrix; foreground where |M - L| is large",
    ),
    (
        "rpca",
        "bgmix.background._lowrank:RPCASubtractor",
        "lowrank",
        "Robust PCA (principal component pursuit, inexact ALM): low-rank L + sparse S",
    ),
    (
        "rpca-online",
        "bgmix.background._rpca_online:RPCAOnline",
        "online",
        "online Robust PCA (incremental principal component pursuit), constant memory",
    ),
    (
        "opencv-mog2",
        "bgmix.background._opencv:OpenCVMOG2",
        "opencv",
        "OpenCV BackgroundSubtractorMOG2 (Zivkovic 2004/2006), the reference peer",
    ),
    (
        "opencv-knn",
        "bgmix.background._opencv:OpenCVKNN",
        "opencv",
        "OpenCV BackgroundSubtractorKNN (Zivkovic & van der Heijden 2006)",
    ),
    (
        "opencv-mog",
        "bgmix.background._opencv:OpenCVMOG",
        "opencv",
        "OpenCV contrib bgsegm MOG (KaewTraKulPong & Bowden 2001)",
    ),
    (
        "opencv-gmg",
        "bgmix.background._opencv:OpenCVGMG",
        "opencv",
        "OpenCV contrib bgsegm GMG (Godbehere, Matsukawa & Goldberg 2012)",
    ),
    (
        "opencv-cnt",
        "bgmix.background._opencv:OpenCVCNT",
        "opencv",
        "OpenCV contrib bgsegm CNT (Zeevi 2016), counting-based",
    ),
    (
        "opencv-gsoc",
        "bgmix.background._opencv:OpenCVGSOC",
        "opencv",
        "OpenCV contrib bgsegm GSOC (GSoC 2017, sample consensus with LSBP ideas)",
    ),
    (
        "opencv-lsbp",
        "bgmix.background._opencv:OpenCVLSBP",
        "opencv",
        "OpenCV contrib bgsegm LSBP (Guo et al. 2016), local SVD binary patterns",
    ),
]

_REGISTRY: dict[str, MethodSpec] = {}


def register(name: str, target: str, *, family: str, summary: str) -> None:
    """Add a method to the registry (plugins may call this)."""
    if name in _REGISTRY and _REGISTRY[name].target != target:
        raise ParameterError(
            f"method name {name!r} is already registered for {_REGISTRY[name].target}"
        )
    _REGISTRY[name] = MethodSpec(name, target, family, summary)


for _row in _BUILTIN:
    register(_row[0], _row[1], family=_row[2], summary=_row[3])


def registered_name(cls: type) -> str:
    """The registry name of a subtractor class ("" when it is not registered).

    Examples
    --------
    >>> from bgmix.background._mog2 import MOG2
    >>> registered_name(MOG2), MOG2().name
    ('mog2', 'mog2')
    """
    target = f"{cls.__module__}:{cls.__qualname__}"
    return next((s.name for s in _REGISTRY.values() if s.target == target), "")


def available_methods(family: str | None = None) -> list[str]:
    """Names accepted by :func:`make_subtractor`, sorted; optionally of one family.

    Examples
    --------
    >>> "opencv-mog2" in available_methods()
    True
    """
    return sorted(n for n, s in _REGISTRY.items() if family is None or s.family == family)


def method_info(name: str) -> MethodSpec:
    """The :class:`MethodSpec` of a registered method."""
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise UnknownMethodError(
            f"unknown method {name!r}.{hint} Run `bgmix methods` for the list."
        ) from None


def make_subtractor(name: str, **params: Any):
    """Create the background subtractor registered as ``name``.

    Parameters
    ----------
    name : str
        A name from :func:`available_methods`, e.g. ``"mog2"`` or ``"opencv-knn"``.
    **params
        The method's parameters (keyword arguments of its class).

    Raises
    ------
    UnknownMethodError
        For a name that is not registered (the message suggests close names).
    ParameterError
        For an unknown parameter or an invalid value.

    Examples
    --------
    >>> sub = make_subtractor("running-mean", alpha=0.05)
    >>> sub.name
    'running-mean'
    """
    from bgmix.background._base import _unknown_param_message

    cls = method_info(name).load()
    names = cls._param_names()
    for key in params:
        if key not in names:
            raise ParameterError(_unknown_param_message(name, key, names))
    return cls(**params)
