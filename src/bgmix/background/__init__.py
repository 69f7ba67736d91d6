"""Background subtractors behind one contract, and the registry that makes them.

>>> import bgmix
>>> sub = bgmix.make_subtractor("frame-difference")
>>> sorted(bgmix.available_methods("opencv"))[:2]
['opencv-cnt', 'opencv-gmg']
"""

from bgmix.background._base import (
    BACKGROUND,
    FOREGROUND,
    SHADOW,
    BackgroundSubtractor,
    load_subtractor,
)
from bgmix.background._postprocess import PostProcess
from bgmix.background._registry import (
    MethodSpec,
    available_methods,
    make_subtractor,
    method_info,
    register,
)

__all__ = [
    "BACKGROUND",
    "FOREGROUND",
    "SHADOW",
    "BackgroundSubtractor",
    "MethodSpec",
    "PostProcess",
    "available_methods",
    "load_subtractor",
    "make_subtractor",
    "method_info",
    "register",
]
