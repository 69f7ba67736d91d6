"""The ground-truth labels of the CDnet 2014 benchmark, defined once.

A ground-truth image marks each pixel with one of five grey levels (Goyette et al.,
"changedetection.net: a new change detection benchmark dataset", CVPR Workshops
2012). :mod:`bgmix.metrics` scores masks against them and :mod:`bgmix.synthetic`
writes them.
"""

from __future__ import annotations

__all__ = ["GT_BACKGROUND", "GT_FOREGROUND", "GT_OUTSIDE_ROI", "GT_SHADOW", "GT_UNKNOWN"]

#: Static background.
GT_BACKGROUND = 0
#: Hard shadow cast by a moving object.
GT_SHADOW = 50
#: Outside the region of interest (not scored).
GT_OUTSIDE_ROI = 85
#: Unknown motion, e.g. the blurred boundary of an object (not scored).
GT_UNKNOWN = 170
#: Moving object.
GT_FOREGROUND = 255
