"""Shared machinery of the batch (fitted) background models: em, mean, median, kmeans.

A batch model learns from a whole set of training frames at once. Its
:meth:`BatchSubtractor.fit` accepts a ``(T, H, W[, C])`` array or any iterable of
frames (an open :func:`bgmix.open_source`, a generator, a list), validates every
frame as :meth:`~bgmix.BackgroundSubtractor.apply` does, and hands the models blocks
of pixel rows, ``(T, R, W, C)``: every model here is independent per pixel, so a block
of rows holds everything needed to fit those rows.

Memory
------
``max_memory`` (MiB) bounds the memory :meth:`fit` uses on top of the caller's own
frames and the fitted model:

* frames that arrive one by one are kept in RAM up to ``max_memory / 2``; past that
  they are written once, in the frames' dtype (uint8 normally), to a temporary file
  in :func:`tempfile.gettempdir` (``$TMPDIR``), read back through :class:`numpy.memmap`
  and removed when the fit ends, whether it succeeds or fails;
* each block of rows is copied into RAM and holds at most ``max_memory / 2``:
  ``block_rows = max(1, (max_memory / 2) // (T * W * C * itemsize))`` unless
  ``block_rows`` is given. Frames that already are one C-contiguous array in RAM are
  read in place as a single block (no copy) unless ``block_rows`` is given.

So the peak extra memory is about ``max_memory`` MiB (plus, when one row of one
block alone exceeds the budget, that one row), whatever the length of the video.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from bgmix._typing import Frame, StrPath
from bgmix._validation import as_frame, check_frame_size
from bgmix.background._base import Param, ThreadedSubtractor, int_in, real_in
from bgmix.exceptions import EmptySourceError, FrameFormatError, InputError

__all__ = ["BatchSubtractor", "FrameStack", "as_seed", "collect_frames", "row_blocks"]

logger = logging.getLogger(__name__)

_MIB = 1 << 20


class FrameStack:
    """Validated training frames ``(T, H, W, C)``, in RAM or spilled to a temporary file.

    Made by :func:`collect_frames`; use it as a context manager so that a spilled
    file is removed. :meth:`block` returns the frames of a range of rows.

    Attributes
    ----------
    shape : tuple of int
        ``(T, H, W, C)``.
    dtype : numpy.dtype
        uint8, or float32 on the 0–255 scale (frames given as floats in [0, 1]).
    spilled : bool
        True when the frames live in a temporary file.
    """

    def __init__(
        self,
        *,
        array: np.ndarray | None = None,
        frames: list[np.ndarray] | None = None,
        path: Path | None = None,
    ) -> None:
        self._array = array
        self._frames = frames
        self._path = path
        if array is not None:
            self.shape: tuple[int, int, int, int] = tuple(array.shape)  # type: ignore[assignment]
            self.dtype = array.dtype
        else:
            assert frames
            self.shape = (len(frames), *frames[0].shape)  # type: ignore[assignment]
            self.dtype = frames[0].dtype
        self.spilled = path is not None

    @property
    def n_frames(self) -> int:
        return self.shape[0]

    @property
    def in_memory_array(self) -> bool:
        """True when :meth:`block` returns views of an array already in RAM."""
        return self._array is not None and not isinstance(self._array, np.memmap)

    def head(self, n: int) -> FrameStack:
        """The first ``n`` frames (a view sharing the storage; ``n`` ≥ 1)."""
        if self._array is not None:
            view = FrameStack(array=self._array[:n])
        else:
            view = FrameStack(frames=self._frames[:n])  # type: ignore[index]
        view._path = None  # the parent owns (and removes) the file
        view.spilled = self.spilled
        return view

    def block(self, r0: int, r1: int) -> np.ndarray:
        """Frames of rows ``r0:r1``, ``(T, r1 - r0, W, C)``.

        A view of an in-memory array, else a fresh copy (from the RAM frames or from
        the temporary file).
        """
        if self._array is not None:
            block = self._array[:, r0:r1]
            if isinstance(block, np.memmap):
                return np.array(block)  # read this block from disk into RAM
            return block
        assert self._frames is not None
        return np.stack([f[r0:r1] for f in self._frames])

    def close(self) -> None:
        """Drop the frames and remove the temporary file, if any."""
        self._array = None
        self._frames = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                self._path.unlink()
            self._path = None

    def __enter__(self) -> FrameStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def collect_frames(
    frames: Iterable[Frame] | np.ndarray,
    *,
    max_bytes: int,
    owner: str = "fit",
    spill_dir: StrPath | None = None,
) -> FrameStack:
    """Validate training frames and gather them into a :class:`FrameStack`.

    Parameters
    ----------
    frames : (T, H, W) or (T, H, W, C) ndarray, iterable of frames, or FrameStack
        A uint8 array is used in place (no copy); a float array (values in [0, 1]) or
        an iterable is validated frame by frame with :func:`bgmix._validation.as_frame`.
        A (T, H, W) array is a stack of grey frames. A :class:`FrameStack` (already
        validated) is returned as it is.
    max_bytes : int
        Frames that arrive one by one are kept in RAM up to this many bytes, then
        spilled to a temporary file.
    owner : str
        Prefix of error messages (``"em.fit"``).
    spill_dir : path, optional
        Folder of the temporary file (default: :func:`tempfile.gettempdir`).

    Returns
    -------
    FrameStack

    Raises
    ------
    EmptySourceError
        No frames.
    FrameFormatError, FrameSizeError
        A frame is invalid or differs in size from frame 0; the message names its index.
    """
    if isinstance(frames, FrameStack):
        return frames
    if isinstance(frames, np.ndarray):
        if frames.ndim not in (3, 4):
            raise FrameFormatError(
                f"{owner}: expected frames as an array of shape (T, H, W) or (T, H, W, 3), "
                f"got shape {frames.shape}"
            )
        if frames.shape[0] == 0:
            raise EmptySourceError(f"{owner}: no frames given (the array has shape {frames.shape})")
        if frames.dtype == np.uint8:
            first = as_frame(frames[0], name="frame 0")  # same shape and dtype for every frame
            stack = frames if frames.ndim == 4 else frames[..., None]
            return FrameStack(array=stack.reshape(frames.shape[0], *first.shape))
        if frames.dtype.kind != "f":
            as_frame(frames[0], name="frame 0")  # raises FrameFormatError naming the dtype
    elif isinstance(frames, str | bytes | os.PathLike):
        raise InputError(
            f"{owner}: got the path {str(frames)!r}; open it first, e.g. "
            "fit(bgmix.open_source(path)), or pass an array of frames"
        )
    elif not isinstance(frames, Iterable):
        raise FrameFormatError(
            f"{owner}: expected an array of frames or an iterable of frames, "
            f"got {type(frames).__name__}"
        )
    kept: list[np.ndarray] = []
    nbytes = 0
    shape: tuple[int, ...] | None = None
    dtype: np.dtype | None = None
    spill_file = None
    spill_path: Path | None = None
    n = 0
    try:
        for n, frame in enumerate(frames):
            x = as_frame(frame, name=f"frame {n}")
            if shape is None:
                shape, dtype = x.shape, x.dtype
            else:
                check_frame_size(x, shape, name=f"frame {n}")  # type: ignore[arg-type]
                if x.dtype != dtype:
                    x = _to_dtype(x, dtype)  # type: ignore[arg-type]
            if spill_file is None and nbytes + x.nbytes > max_bytes and kept:
                fd, name = tempfile.mkstemp(prefix="bgmix-frames-", suffix=".u8", dir=spill_dir)
                spill_path = Path(name)
                spill_file = os.fdopen(fd, "wb")
                logger.info(
                    "%s: frames exceed %.1f MiB; spilling them to %s",
                    owner,
                    max_bytes / _MIB,
                    spill_path,
                )
                for f in kept:
                    spill_file.write(f.tobytes())
                kept.clear()
            if spill_file is not None:
                spill_file.write(x.tobytes())
            else:
                if isinstance(frame, np.ndarray) and np.may_share_memory(x, frame):
                    x = x.copy()  # sources may reuse their buffer for the next frame
                kept.append(x)
                nbytes += x.nbytes
        if shape is None:
            raise EmptySourceError(f"{owner}: no frames given (the source yielded none)")
        if spill_file is None:
            return FrameStack(frames=kept)
        spill_file.close()
        spill_file = None
        count = n + 1
        mm = np.memmap(spill_path, dtype=dtype, mode="r", shape=(count, *shape))
        return FrameStack(array=mm, path=spill_path)
    except BaseException:
        if spill_file is not None:
            spill_file.close()
        if spill_path is not None:
            spill_path.unlink(missing_ok=True)
        raise


def _to_dtype(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Convert a validated frame to the stack's dtype (float32 0–255 <-> uint8)."""
    if dtype == np.uint8:
        return np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return x.astype(dtype)


def row_blocks(height: int, rows: int) -> Iterator[tuple[int, int]]:
    """``(r0, r1)`` ranges covering ``range(height)`` in blocks of ``rows`` rows."""
    for r0 in range(0, height, rows):
        yield r0, min(height, r0 + rows)


def as_seed(random_state: Any) -> int:
    """The integer seed of a fit: the int itself, else one drawn from the generator of
    :func:`bgmix._validation.check_random_state` (a Generator's or RandomState's
    stream, or fresh entropy for None).

    The per-pixel draws hash this seed with the pixel index, so an int given back as
    ``random_state`` reproduces the fit.
    """
    from bgmix._validation import check_random_state

    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).integers(0, 2**63 - 1))


class BatchSubtractor(ThreadedSubtractor):
    """Base class of the models that learn from a batch of training frames.

    Parameters
    ----------
    max_memory : float, default 1024
        Memory budget of :meth:`fit` in MiB, on top of the caller's frames and the
        fitted model (see the module notes: frames held in RAM up to half of it, then
        spilled to a temporary file; blocks of rows of at most half of it).
    block_rows : int, optional
        Rows per block; by default derived from ``max_memory``.
    n_jobs : int, optional
        Threads of the kernels (None or -1: all).
    postprocess : PostProcess or dict, optional
        Mask post-processing.

    Notes
    -----
    Subclasses implement ``_fit_allocate(shape)`` returning a dict of state arrays,
    ``_fit_block(block, r0, r1, state)`` and ``_fit_finish(state, shape)``; the
    state is installed on the model only after every block succeeded, so a failed
    fit leaves the previous model untouched.
    """

    requires_fit: ClassVar[bool] = True
    #: Fewest training frames the model accepts.
    min_fit_frames: ClassVar[int] = 1

    max_memory: float = Param(1024.0, real_in(0.0, None, closed="right"))
    block_rows: int | None = Param(None, int_in(1), optional=True)

    def _initialize(self, frame: np.ndarray) -> None:  # pragma: no cover - requires_fit
        # apply() refuses a model that requires a fit before it gets here
        raise AssertionError(f"{self.name} is fitted, never initialised from one frame")

    # ------------------------------------------------------------------ fitting
    def fit(self, frames: Iterable[Frame] | np.ndarray) -> Self:
        """Learn the background from a batch of training frames.

        Parameters
        ----------
        frames : (T, H, W) or (T, H, W, 3) ndarray, or iterable of frames
            uint8, or float in [0, 1]; RGB. For example an open
            :func:`bgmix.open_source`. Frames that do not fit in ``max_memory`` are
            spilled to a temporary file and processed in blocks of rows.

        Returns
        -------
        self

        Raises
        ------
        EmptySourceError
            No frames.
        InputError
            Fewer frames than the model needs.
        FrameFormatError, FrameSizeError
            An invalid frame, or one whose size differs from frame 0 (the message names
            its index).
        """
        owner = f"{self.name}.fit"
        half = int(float(self.max_memory) * _MIB / 2)
        with collect_frames(frames, max_bytes=half, owner=owner) as stack:
            self._fit_stack(stack, budget=half)
        return self

    def _fit_stack(self, stack: FrameStack, *, budget: int) -> None:
        T, H, W, C = stack.shape
        if T < self.min_fit_frames:
            raise InputError(
                f"{self.name}.fit: needs at least {self.min_fit_frames} training frames, got {T}"
            )
        per_row = T * W * C * stack.dtype.itemsize
        if self.block_rows is not None:
            rows = int(self.block_rows)
        elif stack.in_memory_array:
            rows = H
        else:
            rows = max(1, budget // per_row)
        rows = min(rows, H)
        logger.debug(
            "%s.fit: %d frames of %dx%dx%d (%s%s), blocks of %d rows (%.1f MiB)",
            self.name,
            T,
            W,
            H,
            C,
            stack.dtype,
            ", spilled" if stack.spilled else "",
            rows,
            rows * per_row / _MIB,
        )
        state = self._fit_allocate((T, H, W, C))
        for r0, r1 in row_blocks(H, rows):
            # C-contiguous blocks: faster kernels, and one compiled signature
            block = np.ascontiguousarray(stack.block(r0, r1))
            self._fit_block(block, r0, r1, state)
        self._fit_finish(state, (T, H, W, C))
        for key, value in state.items():
            setattr(self, key, value)
        self._frame_shape = (H, W, C)
        self._n_frames = 0

    def _fit_allocate(self, shape: tuple[int, int, int, int]) -> dict[str, Any]:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    def _fit_block(self, block: np.ndarray, r0: int, r1: int, state: dict[str, Any]) -> None:
        raise NotImplementedError  # pragma: no cover

    def _fit_finish(self, state: dict[str, Any], shape: tuple[int, int, int, int]) -> None:
        """Post-process the complete state (default: nothing)."""
