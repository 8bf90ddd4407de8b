"""Durable file writes: a file is either wholly there or not at all after a crash.

Both writers fsync the file and then its directory (the rename or the new name is only durable
once the directory is), and the temporary file never outlives a failed write."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def fsync_path(path: Path) -> None:
    """Flush a file something else wrote (SQLite's backup, a copy) to the disk; for a directory,
    make its entries (a create, a rename) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: str | bytes) -> None:
    """Replace `path` with `data`: temporary file beside it, fsync, rename, fsync the directory.

    A reader or a crash sees the old file or the new one, never half of it. The file is 0600
    (mkstemp's mode); the directory must exist."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    fsync_path(path.parent)


def write_json_atomically(path: Path, data: Any) -> None:
    """`write_atomically` of `data` as indented JSON with a final newline (diff-friendly)."""
    write_atomically(path, json.dumps(data, indent=2) + "\n")


def create_exclusively(path: Path, data: str | bytes, mode: int = 0o600) -> None:
    """Create `path` holding `data` (private, 0600, by default); FileExistsError if it exists.

    Missing parent directories are made 0700. A failed write removes the partial file, so a
    retry is not refused by the leftover."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    fsync_path(path.parent)


def size_or_zero(path: Path) -> int:
    """The file's size in bytes; 0 when it is not there (a write-ahead log not created yet, a
    file removed while a directory is measured)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
