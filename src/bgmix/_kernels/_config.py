"""Numba settings shared by every kernel, defined once.

``FASTMATH`` allows reassociation, contraction and approximate functions, but never
``nnan``/``ninf``: kernels must see NaN and infinity for what they are. Every kernel
is serial, cached (``cache=True``) and GIL-free (``nogil=True``) where it is run on
threads; :func:`bgmix._threads.run_bands` spreads them over threads.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FASTMATH", "readonly"]

#: LLVM fast-math flags used by every kernel (no ``nnan``, no ``ninf``). A plain
#: ``set`` because that is what Numba's ``fastmath=`` accepts; never mutate it.
FASTMATH: set[str] = {"nsz", "arcp", "contract", "afn", "reassoc"}


def readonly(X: np.ndarray) -> np.ndarray:
    """A read-only view of ``X`` (no copy).

    Kernels take ``X`` through such a view so that writable and read-only inputs
    (memory maps) share one compiled version.
    """
    view = X.view()
    view.flags.writeable = False
    return view
