"""Manifests: what a finished unit was made from, so that a rerun skips it.

A unit's output carries a small JSON file naming the identity of its input (resolved
path, size, modification time in nanoseconds; for a folder, its files' count, total
size and latest modification time) and the unit's parameters. A rerun with the same
input and parameters finds the manifest and the outputs it lists, and skips the unit;
any change (another parameter, a touched input, a deleted output) runs it again.
Stale temporary outputs of a unit that was killed are removed before it runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from bgmix._atomic import atomic_output

__all__ = [
    "MANIFEST",
    "claim",
    "identity",
    "is_complete",
    "remove_stale",
    "unit_key",
    "write_manifest",
]

#: File name of a unit's manifest, inside its output folder.
MANIFEST = ".bgmix-unit.json"


def identity(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The identity of an input file or folder: enough to notice that it changed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = f.write_text("abc")
    >>> identity(f)["size"]
    3
    """
    p = Path(path).resolve()
    if p.is_dir():
        size = count = latest = 0
        for root, _dirs, files in os.walk(p):
            for name in files:
                st = os.stat(os.path.join(root, name))
                size += st.st_size
                count += 1
                latest = max(latest, st.st_mtime_ns)
        return {"path": str(p), "files": count, "size": size, "mtime_ns": latest}
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def unit_key(record: dict[str, Any]) -> str:
    """A short stable hash of a JSON-ready record (input identity and parameters)."""
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def write_manifest(folder: Path, record: dict[str, Any], outputs: list[str]) -> None:
    """Write the manifest of a finished unit into ``folder`` (atomically)."""
    data = {"key": unit_key(record), "record": record, "outputs": sorted(outputs)}
    with atomic_output(folder / MANIFEST, what="unit manifest") as tmp:
        tmp.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")


def is_complete(folder: Path, record: dict[str, Any]) -> bool:
    """Whether ``folder`` holds the finished output of the unit described by ``record``."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("key") != unit_key(record):
        return False
    return all((folder / name).exists() for name in data.get("outputs", []))


def remove_stale(target: Path) -> int:
    """Remove temporary outputs (``.NAME.*.partial``, ``.NAME.*.old``) left beside
    ``target`` by a killed writer; returns how many were removed."""
    parent = target.parent
    if not parent.is_dir():
        return 0
    removed = 0
    folders = parent.glob(f".{target.name}.*")  # atomic_directory's temporary names
    files = parent.glob(f".{target.stem}.*.partial{target.suffix}")  # atomic_output's
    for p in {*folders, *files}:
        if p.name.endswith((".partial", ".old", f".partial{target.suffix}")):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
            removed += 1
    return removed


def claim(folder: Path, record: dict[str, Any]) -> bool:
    """Get ``folder`` ready for a unit's run: False when a complete output for
    ``record`` is already there (nothing to do: a rerun skips it); else True, after
    removing a stale partial output and creating the parent folder."""
    if is_complete(folder, record):
        return False
    remove_stale(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    return True
