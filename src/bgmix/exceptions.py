"""Exceptions and warnings raised by bgmix.

Every error bgmix raises on bad input is a subclass of :class:`BgmixError`, and its
message names the input (a path, a parameter, a frame index) and says what is wrong
and what was expected. The command line prints the message on one line and exits
with :attr:`BgmixError.exit_code` (2 for a bad parameter, 1 for everything else).

The classes also derive from the built-in exception a Python user would try first
(``FileNotFoundError``, ``ValueError``, ``TypeError``), so ``except ValueError`` keeps
working.
"""

from __future__ import annotations

__all__ = [
    "BgmixError",
    "ConvergenceWarning",
    "CorruptFrameError",
    "EmptySourceError",
    "FrameFormatError",
    "FrameSizeError",
    "GroundTruthError",
    "InputError",
    "NotFittedError",
    "OutputError",
    "ParameterError",
    "SourceNotFoundError",
    "SourceOpenError",
    "UnknownMethodError",
    "UnsupportedOperationError",
]


class BgmixError(Exception):
    """Base class of every error bgmix raises on purpose."""

    #: Exit code of the command line when this error stops it.
    exit_code: int = 1


class ParameterError(BgmixError, ValueError):
    """A parameter is out of range or of the wrong type.

    The message names the parameter, the accepted values and the value given.
    """

    exit_code = 2


class UnknownMethodError(ParameterError):
    """``make_subtractor`` (or another registry) was asked for a name it does not know."""


class InputError(BgmixError):
    """Input data (a file, a folder, a stream, an array) cannot be used."""


class SourceNotFoundError(InputError, FileNotFoundError):
    """A path given as input does not exist."""


class EmptySourceError(InputError):
    """A source holds no frames: an empty folder, a folder without images, an empty video."""


class SourceOpenError(InputError):
    """A source exists but cannot be opened or decoded (corrupt or truncated file,
    unsupported format, camera not available)."""


class CorruptFrameError(InputError):
    """One frame of an otherwise readable source cannot be decoded."""


class FrameFormatError(InputError, TypeError, ValueError):
    """A frame has the wrong dtype, number of channels or value range, or holds NaN/inf."""


class FrameSizeError(InputError, ValueError):
    """A frame's size differs from the earlier frames (or from the fitted model)."""


class GroundTruthError(InputError):
    """Ground-truth masks do not match the frames they should describe."""


class OutputError(BgmixError, OSError):
    """An output cannot be written (missing parent folder, no permission, would
    overwrite an input)."""


class NotFittedError(BgmixError, ValueError, AttributeError):
    """A model that needs ``fit`` was used before it was fitted."""


class UnsupportedOperationError(BgmixError, NotImplementedError):
    """The operation is not possible for this object (for example saving the state of
    an OpenCV peer, whose internal model OpenCV does not expose)."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped at ``max_iter`` before reaching ``tol``."""
