"""`ledger-node backup`: a consistent copy of a data directory, taken while the node runs.

The journal is copied with SQLite's online backup API from inside one read transaction, so the
copy is the journal as it stood at one instant, however many blocks the node seals meanwhile
(without the pinned read, every commit of the node would restart the copy). The copy gets its
own head marker, written from the copied journal, and the snapshots that journal refers to.
Everything is written into a hidden sibling directory first and renamed into place at the end:
an interrupted backup leaves no directory that looks complete.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from citypass.core.files import fsync_path, size_or_zero
from ledger_node.config import (
    CONFIG_FILE,
    GENESIS_FILE,
    JOURNAL_FILE,
    KEYSTORE_DIR,
    SNAPSHOT_DIR,
    load_config,
)
from ledger_node.errors import LedgerNodeError
from ledger_node.integrity import (
    ACCESS_META,
    MARKER_FILE,
    MARKER_META,
    HeadMark,
    check_journal,
    check_journal_present,
    read_marker,
    write_marker,
)
from ledger_node.journal import Journal

log = logging.getLogger("ledger_node.backup")
PAGES_PER_STEP = 1024  # 4 MiB at SQLite's default page size: a smooth progress bar
COPY_CHUNK = 1 << 20
Progress = Callable[[str, int, int], None]


class BackupError(LedgerNodeError):
    """The backup could not be made; nothing was left at the target."""


@dataclass
class BackupReport:
    head: int = 0
    head_hash: str = ""
    transactions: int = 0
    snapshots: list[int] | None = None
    bytes_copied: int = 0


def check_target(data_dir: Path, target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise BackupError(f"{target} exists and is not a directory: back up into a new directory")
    if target.is_dir() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new or empty directory")
    resolved, source = target.resolve(), data_dir.resolve()
    if resolved == source or source in resolved.parents:
        raise BackupError(f"{target} is inside the data directory: back up to another place")


def backup_data_dir(data_dir: Path, target: Path, progress: Progress | None = None) -> BackupReport:
    load_config(data_dir)  # a node's data directory, not any directory
    check_target(data_dir, target)
    check_journal_present(data_dir)
    if not (data_dir / JOURNAL_FILE).exists():
        raise BackupError(f"{data_dir / JOURNAL_FILE} does not exist: the node has never started")
    # The live directory must be intact before it is copied (a backup of a damaged journal
    # would carry the damage on with a fresh marker that vouches for it).
    live = Journal(data_dir / JOURNAL_FILE, readonly=True)
    try:
        check_journal(data_dir, live)
    finally:
        live.close()
    mark_before = read_marker(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    try:
        report = _copy(data_dir, staging, mark_before, progress)
        copy = Journal(staging / JOURNAL_FILE, readonly=True)
        try:
            check_journal(staging, copy)
        finally:
            copy.close()
        fsync_path(staging)
        if target.exists():
            target.rmdir()  # checked empty above
        os.replace(staging, target)
        fsync_path(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report


def _copy(
    data_dir: Path, staging: Path, mark_before: HeadMark | None, progress: Progress | None
) -> BackupReport:
    report = BackupReport()
    for name in (CONFIG_FILE, GENESIS_FILE):
        report.bytes_copied += _copy_file(data_dir / name, staging / name)
    (staging / KEYSTORE_DIR).mkdir(mode=0o700)
    for entry in sorted((data_dir / KEYSTORE_DIR).iterdir()):
        if entry.is_file():
            report.bytes_copied += _copy_file(entry, staging / KEYSTORE_DIR / entry.name)
    fsync_path(staging / KEYSTORE_DIR)
    head_number, head_hash, access, snapshots = _copy_journal(data_dir, staging, progress)
    if mark_before is not None and head_number < mark_before.block:
        raise BackupError(
            f"the copied journal ends at block {head_number}, before the head marker's block "
            f"{mark_before.block}: the journal changed under the backup; try again"
        )
    report.bytes_copied += (staging / JOURNAL_FILE).stat().st_size
    report.snapshots = []
    wanted = [(block, path) for block, path in snapshots if block <= head_number]
    total = sum(size_or_zero(data_dir / SNAPSHOT_DIR / path) for _, path in wanted)
    done = 0
    (staging / SNAPSHOT_DIR).mkdir()
    for block, path in wanted:
        try:
            copied = _copy_file(
                data_dir / SNAPSHOT_DIR / path,
                staging / SNAPSHOT_DIR / path,
                _progress_from(progress, "Copying snapshots", done, total),
            )
        except FileNotFoundError:
            # Pruned by the node since the journal was copied: recovery falls back to an older
            # snapshot or to genesis, so the copy stays complete without it.
            log.warning("snapshot of block %d was pruned during the backup; skipped", block)
            continue
        done += copied
        report.bytes_copied += copied
        report.snapshots.append(block)
    fsync_path(staging / SNAPSHOT_DIR)
    write_marker(staging / MARKER_FILE, HeadMark(head_number, head_hash, access))
    report.head = head_number
    report.head_hash = "0x" + head_hash.hex()
    copy = Journal(staging / JOURNAL_FILE, readonly=True)
    try:
        report.transactions = copy.tx_count()
    finally:
        copy.close()
    return report


def _copy_journal(
    data_dir: Path, staging: Path, progress: Progress | None
) -> tuple[int, bytes, str | None, list[tuple[int, str]]]:
    """The journal at one instant; returns its head, genesis-or-head hash, access contract and
    snapshot rows as they are in the copy."""
    source = sqlite3.connect(data_dir / JOURNAL_FILE, isolation_level=None)
    target = sqlite3.connect(staging / JOURNAL_FILE, isolation_level=None)
    try:
        # The read transaction pins one snapshot of the WAL for everything read below.
        source.execute("BEGIN")
        row = source.execute(
            "SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1"
        ).fetchone()

        def step(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress("Copying the journal", total - remaining, total)

        source.backup(target, pages=PAGES_PER_STEP, progress=step)
        source.execute("COMMIT")
        # The copy is written for the marker written beside it.
        target.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (MARKER_META, MARKER_FILE)
        )
        access_row = target.execute(
            "SELECT value FROM meta WHERE key = ?", (ACCESS_META,)
        ).fetchone()
        snapshots = [
            (int(block), str(path))
            for block, path in target.execute(
                "SELECT block, path FROM snapshots ORDER BY block DESC"
            )
        ]
        copied = target.execute(
            "SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1"
        ).fetchone()
        # One self-contained file (no -wal beside it); the node turns WAL back on when it opens.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        source.close()
        target.close()
    if copied != row:
        raise BackupError("the copied journal's head differs from the one read: try again")
    fsync_path(staging / JOURNAL_FILE)
    if row is None:
        # No block yet: the marker stands at genesis, whose hash is not in the journal.
        return 0, b"\x00" * 32, access_row[0] if access_row else None, snapshots
    return int(row[0]), bytes(row[1]), access_row[0] if access_row else None, snapshots


def _copy_file(source: Path, target: Path, progress: Callable[[int], object] | None = None) -> int:
    copied = 0
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(COPY_CHUNK):
            writer.write(chunk)
            copied += len(chunk)
            if progress is not None:
                progress(copied)
        writer.flush()
        os.fsync(writer.fileno())
    shutil.copymode(source, target)
    return copied


def _progress_from(
    progress: Progress | None, what: str, before: int, total: int
) -> Callable[[int], object] | None:
    """Per-file byte counts as overall progress (`before` bytes were copied before this file)."""
    if progress is None:
        return None
    return lambda copied: progress(what, before + copied, total)
