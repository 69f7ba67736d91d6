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
    "check_overwrite",
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


def check_overwrite(
    path: StrPath, *, overwrite: bool, folder: bool | None = None, what: str = "output"
) -> Path:
    """The output rule, checked before any work: an existing output (a file, or a folder
    that is not empty) is an error unless ``overwrite`` is True; an existing output of
    the other kind (a file where a ``folder`` is written, or the reverse) is always one.

    Raises
    ------
    OutputError
        Naming ``path`` and the option that would allow it.
    """
    from bgmix._validation import check_bool

    p = Path(path)
    check_bool("overwrite", overwrite)
    if folder is True and p.exists() and not p.is_dir():
        raise OutputError(f"{what} {str(p)!r} exists and is not a folder")
    if folder is False and p.is_dir():
        raise OutputError(f"{what} {str(p)!r} is a folder; expected a file name")
    if p.is_dir() and any(p.iterdir()) and not overwrite:
        raise OutputError(
            f"{what} {str(p)!r} exists and is not empty; pass overwrite=True "
            "(--overwrite) to replace it as a whole"
        )
    if p.is_file() and not overwrite:
        raise OutputError(
            f"{what} {str(p)!r} exists; pass overwrite=True (--overwrite) to replace it"
        )
    return p


@contextlib.contextmanager
def _parents(path: Path) -> Iterator[None]:
    """Create the missing parent folders of ``path``; remove the ones created if the
    body fails (so a failed run leaves no empty folder behind)."""
    created: list[Path] = []
    parent = path.parent
    while str(parent) not in ("", ".") and not parent.exists():
        created.append(parent)
        parent = parent.parent
    try:
        for folder in reversed(created):
            folder.mkdir()
    except OSError as exc:
        _remove_empty(created)
        raise OutputError(f"cannot create the folder of {str(path)!r}: {exc}") from None
    try:
        yield
    except BaseException:
        _remove_empty(created)
        raise


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        with contextlib.suppress(OSError):
            folder.rmdir()


@contextlib.contextmanager
def atomic_output(path: StrPath, *, overwrite: bool = True, what: str = "output") -> Iterator[Path]:
    """Yield a temporary file path beside ``path``; rename it onto ``path`` on success.

    The temporary name keeps the suffix of ``path`` so that writers choosing a format
    from the suffix (Pillow, PyAV, NumPy) behave as for the final name. Missing parent
    folders are created (and removed again on failure). With ``overwrite=False`` an
    existing file is an error, raised before the body runs. On an exception the
    temporary file is removed and the exception propagates; an existing file at
    ``path`` is left untouched.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with atomic_output(os.path.join(d, "a.npy")) as tmp:
    ...     np.save(tmp, np.zeros(3))
    >>> sorted(os.listdir(d))
    ['a.npy']
    """
    p = check_overwrite(path, overwrite=overwrite, folder=False, what=what)
    with _parents(p):
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
    path: StrPath, *, overwrite: bool = False, what: str = "output folder"
) -> Iterator[Path]:
    """The output rule of every bgmix folder output: yield a temporary folder beside
    ``path``, move it onto ``path`` when the body succeeds.

    - Missing parent folders are created (and removed again if the body fails).
    - An existing non-empty folder at ``path`` is an error unless ``overwrite`` is
      True; it is then replaced as a whole, and removed only once the new folder is
      complete: old and new files are never mixed.
    - On an exception nothing is left: no temporary folder, no empty ``path``; an
      existing folder at ``path`` stays as it was.

    Raises
    ------
    OutputError
        ``path`` is a file, or a non-empty folder without ``overwrite``, checked before
        the body runs.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> with atomic_directory(os.path.join(d, "a", "run")) as tmp:
    ...     _ = (tmp / "x.txt").write_text("x")
    >>> sorted(os.listdir(os.path.join(d, "a", "run")))
    ['x.txt']
    """
    p = check_overwrite(path, overwrite=overwrite, folder=True, what=what)
    with _parents(p):
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{p.name}.{owner_tag()}", suffix=".partial", dir=p.parent)
        )
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
