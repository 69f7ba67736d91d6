"""Array type aliases shared by the whole package."""

from __future__ import annotations

from os import PathLike
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

#: A frame as users pass it: ``(H, W)`` grey or ``(H, W, 3)`` RGB, uint8 or float in [0, 1].
Frame: TypeAlias = NDArray[np.uint8] | NDArray[np.floating]
#: A uint8 image or mask.
ImageU8: TypeAlias = NDArray[np.uint8]
#: A ``(H, W)`` uint8 mask: 0 background, 255 foreground, 127 shadow.
Mask: TypeAlias = NDArray[np.uint8]
FloatArray: TypeAlias = NDArray[np.float32] | NDArray[np.float64]
StrPath: TypeAlias = str | PathLike[str]

__all__ = ["FloatArray", "Frame", "ImageU8", "Mask", "StrPath"]
