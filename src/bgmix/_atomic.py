"""Write outputs under a temporary name and rename them into place when complete.

A crash, an exception or Ctrl-C in the middle of writing never leaves a half-written
file or folder at the requested path: the partial output lives under a hidden
temporary name in the same folder and is removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bgmix._typing import StrPath
from bgmix.exceptions import OutputError

__all__ = ["atomic_directory", "atomic_output", "check_output_parent"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish_mode(path: Path, *, directory: bool) -> None:
    """Give a finished output the permissions a plain ``open``/``mkdir`` would have
    (``mkstemp``/``mkdtemp`` create them private)."""
    base = 0o777 if directory else 0o666
    os.chmod(path, base & ~_umask())


def check_output_parent(path: StrPath, *, what: str = "output") -> Path:
    """Return ``path`` as a :class:`Path` after checking its parent folder exists.

    Raises
    ------
    OutputError
        If the parent folder does not exist or ``path`` is an existing folder.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{what} {str(p)!r}: the folder {str(parent)!r} does not exist")
    return p


@contextlib.contextmanager
def atomic_output(path: StrPath, *, what: str = "output") -> Iterator[Path]:
    """Yield a temporary file path beside ``path``; rename it onto ``path`` on success.

    The temporary name keeps the suffix of ``path`` so that writers choosing a format
    from the suffix (Pillow, PyAV, NumPy) behave as for the final name. On an
    exception the temporary file is removed and the exception propagates; an existing
    file at ``path`` is left untouched.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with atomic_output(os.path.join(d, "a.npy")) as tmp:
    ...     np.save(tmp, np.zeros(3))
    >>> sorted(os.listdir(d))
    ['a.npy']
    """
    p = check_output_parent(path, what=what)
    if p.is_dir():
        raise OutputError(f"{what} {str(p)!r} is a folder; expected a file name")
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{p.stem}.", suffix=f".partial{p.suffix}", dir=p.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _publish_mode(tmp, directory=False)
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_directory(
    path: StrPath, *, overwrite: bool = True, what: str = "output folder"
) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; move it onto ``path`` on success.

    If ``path`` already exists it must be a folder; with ``overwrite=True`` it is
    replaced (removed only after the new folder is complete), otherwise
    :class:`OutputError` is raised before anything is written.
    """
    p = check_output_parent(path, what=what)
    if p.exists() and not p.is_dir():
        raise OutputError(f"{what} {str(p)!r} exists and is not a folder")
    if p.exists() and not overwrite and any(p.iterdir()):
        raise OutputError(f"{what} {str(p)!r} exists and is not empty (pass overwrite=True)")
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.", suffix=".partial", dir=p.parent))
    try:
        yield tmp
        _publish_mode(tmp, directory=True)
        if p.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{p.name}.", suffix=".old", dir=p.parent))
            os.replace(p, old / p.name)
            os.replace(tmp, p)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
