"""Machinery shared by bgmix's online per-pixel mixture subtractors (``mog``,
``mog2``, ``gmm-full``): the stop-and-stay hold, row-parallel execution of the Numba
kernels, and the accounting of the model's memory.

Parallelism
-----------
Every kernel processes a band of rows ``[y0, y1)`` and releases the GIL
(``nogil=True``), so :func:`bgmix._threads.run_bands` splits the image into
``n_jobs`` bands on the process-wide pool (the calling thread takes the first band).
The kernels are compiled once and cached on disk; no parallel Numba code is
compiled at run time.

Stop-and-stay hold
------------------
With ``hold_frames = N > 0`` each pixel counts the consecutive frames in which it
was not classified background. While that count is at most ``N`` the pixel's
mixture is frozen (selective update): an object that stops stays foreground for at
least ``N`` frames, and afterwards is absorbed at the model's normal pace. A pixel
classified background resets its count. ``hold_frames = 0`` is the plain model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from bgmix._threads import run_bands
from bgmix.background._base import Param, ThreadedSubtractor, int_in
from bgmix.exceptions import ParameterError

__all__ = ["OnlineMixtureSubtractor", "check_bool"]

#: Largest accepted ``hold_frames`` (the per-pixel counter is a uint16).
MAX_HOLD_FRAMES = 65534
#: A band has at least this many rows and pixels: below that, handing a band to
#: another thread costs more than it saves (OpenCV's MOG2 uses one stripe per 65536
#: pixels for the same reason).
_MIN_BAND_ROWS = 8
_MIN_BAND_PIXELS = 8192


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool, else raise :class:`ParameterError`."""
    if not isinstance(value, bool | np.bool_):
        raise ParameterError(
            f"{name} must be true or false; got {value!r} ({type(value).__name__})"
        )
    return bool(value)


class OnlineMixtureSubtractor(ThreadedSubtractor):
    """Base of the online mixture subtractors (``mog``, ``mog2``, ``gmm-full``).

    Parameters
    ----------
    hold_frames : int, default 0
        Stop-and-stay hold: a pixel that is not background is not learned until it
        has been so for more than this many consecutive frames (0: off).
    n_jobs : int or None, default None
        Threads (bands of rows); None or -1 uses every available CPU.
    postprocess : PostProcess or dict, default ``PostProcess(median=5)``
        Mask post-processing (see :class:`~bgmix.PostProcess`); None for none (OpenCV's
        behaviour). Each method's default (``MOG_DEFAULT_POSTPROCESS``, ...) was chosen
        on the shared sequences; all three are a 5x5 median filter today.

    Notes
    -----
    The two parameters come after the subclass's own in the signature, before
    ``postprocess``. Subclasses list their arrays in ``_state_attrs``; this class
    provides :attr:`state_nbytes` and :attr:`bytes_per_pixel`.
    """

    _state_attrs: ClassVar[tuple[str, ...]] = ()
    hold_frames: int = Param(0, int_in(0, MAX_HOLD_FRAMES))

    @property
    def state_nbytes(self) -> int:
        """Bytes of per-pixel model state (0 before the first frame).

        Constant for a given frame size: memory does not grow with the video's length.
        """
        if self.frame_shape is None:
            return 0
        total = 0
        for attr in self._state_attrs:
            value = getattr(self, attr)
            if isinstance(value, np.ndarray) and value.ndim >= 2:
                total += value.nbytes
        return total

    @property
    def bytes_per_pixel(self) -> float:
        """:attr:`state_nbytes` divided by the number of pixels (0 before the first frame)."""
        if self.frame_shape is None:
            return 0.0
        h, w, _ = self.frame_shape
        return self.state_nbytes / float(h * w)

    def _automatic_rate(self, learning_rate: float, frames_per_step: int) -> float:
        r"""Count this frame in ``_model_frames`` and return its learning rate.

        ``learning_rate`` itself when it is non-negative and the model has seen a
        frame before, else the automatic :math:`1 / \min(f n, \text{history})` at the
        n-th frame since the model started (``f = frames_per_step``), so the first
        frame initialises the model.
        """
        n = int(self._model_frames) + 1
        self._model_frames = n
        if learning_rate >= 0.0 and n > 1:
            return float(learning_rate)
        return 1.0 / min(frames_per_step * n, int(self.history))  # type: ignore[attr-defined]

    def _run(self, kernel: Callable[..., Any], *args: Any) -> None:
        assert self.frame_shape is not None
        h, w, _ = self.frame_shape
        rows = max(_MIN_BAND_ROWS, -(-_MIN_BAND_PIXELS // w))
        run_bands(kernel, h, self._n_threads, *args, min_items=rows)
