"""Write outputs under a temporary name and rename them into place when complete.

A crash, an exception or Ctrl-C in the middle of writing never leaves a half-written
file or folder at the requested path: the partial output lives under a hidden
temporary name in the same folder and is removed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bgmix._typing import StrPath
from bgmix.exceptions import OutputError

__all__ = [
    "atomic_directory",
    "atomic_output",
    "check_output_parent",
    "owner_tag",
    "remove_stale_temporaries",
]


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
        prefix=f".{p.stem}.{owner_tag()}", suffix=f".partial{p.suffix}", dir=p.parent
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
    tmp = Path(tempfile.mkdtemp(prefix=f".{p.name}.{owner_tag()}", suffix=".partial", dir=p.parent))
    try:
        yield tmp
        _publish_mode(tmp, directory=True)
        if p.exists():
            old = Path(
                tempfile.mkdtemp(prefix=f".{p.name}.{owner_tag()}", suffix=".old", dir=p.parent)
            )
            os.replace(p, old / p.name)
            os.replace(tmp, p)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# ---- temporaries of dead processes ------------------------------------------------------
# Every temporary name carries its owner, ``~host~pid~``, so that a later run can tell
# the leftovers of a killed process (SIGKILL, power loss) from the work in progress of
# a live one (several processes may write into one folder, e.g. Dask workers).
_OWNER = re.compile(r"^\..+\.~(?P<host>[A-Za-z0-9_]+)~(?P<pid>\d+)~.*\.(partial|old)(\.\w+)?$")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"


def owner_tag() -> str:
    """``~host~pid~``: the owner part of every temporary name made here."""
    return f"~{_host()}~{os.getpid()}~"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(folder: StrPath) -> list[Path]:
    """Remove the temporary outputs that dead processes of this host left in ``folder``.

    Only names made by :func:`atomic_output` and :func:`atomic_directory`
    (``.NAME.~host~pid~XXXX.partial[.suffix]`` and ``.old``) are considered, and only
    those whose process no longer runs on this host: the temporaries of a live
    process, or of a process on another host (a shared file system), are kept.

    Returns
    -------
    list of Path
        What was removed.
    """
    root = Path(folder)
    if not root.is_dir():
        return []
    host, me = _host(), os.getpid()
    removed = []
    for entry in root.iterdir():
        m = _OWNER.match(entry.name)
        if m is None or m["host"] != host:
            continue
        pid = int(m["pid"])
        if pid == me or _alive(pid):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed
