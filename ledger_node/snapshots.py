"""Engine state snapshots on disk (data_dir/snapshots), each recorded in the journal.

Recovery (ledger_node/recovery.py) starts the engine from the newest snapshot that matches the
journal and replays the blocks after it; older snapshots are pruned, the newest `keep` stay.
"""

from __future__ import annotations

import gzip
import logging
import sqlite3
from pathlib import Path
from typing import Any

from citypass.core.files import write_atomically
from ledger_node.config import SNAPSHOT_DIR
from ledger_node.disk_guard import DiskGuard, is_disk_error
from ledger_node.errors import INTERNAL_ERROR, LIMIT_EXCEEDED, RpcError
from ledger_node.journal import Journal, Snapshot

log = logging.getLogger("ledger_node")


class SnapshotWriter:
    def __init__(self, data_dir: Path, journal: Journal, disk: DiskGuard, keep: int = 3) -> None:
        self.directory = data_dir / SNAPSHOT_DIR
        self.journal = journal
        self.disk = disk
        self.keep = keep

    def write(self, state: str, head: dict[str, Any]) -> Snapshot:
        """Write anvil_dumpState's answer (`state`) taken at block `head` atomically (temp
        file, fsync, rename: write_atomically), then journal it; RpcError when it could not be
        written."""
        number = int(head["number"], 16)
        directory = self.directory
        final = directory / f"state-{number:012d}.json"
        try:
            directory.mkdir(exist_ok=True)
            # Left by a crash: write_atomically's temporary files (".state-….json….tmp") and
            # those of the node's earlier versions (".state-….json.tmp").
            for stale in directory.glob(".state-*.tmp"):
                stale.unlink(missing_ok=True)
            # anvil_dumpState answers gzip'd JSON in hex; anvil --load-state reads the plain JSON.
            write_atomically(final, gzip.decompress(bytes.fromhex(state.removeprefix("0x"))))
        except OSError as exc:
            raise self._failed(exc, number) from exc
        snapshot = Snapshot(number, final.name, bytes.fromhex(head["hash"][2:]))
        try:
            self.journal.record_snapshot(snapshot)
        except sqlite3.Error as exc:
            if all(s.block != number for s in self.journal.snapshots()):
                final.unlink(missing_ok=True)  # unrecorded, it would only take space
            raise self._failed(exc, number) from exc
        self._prune()
        return snapshot

    def _failed(self, exc: BaseException, number: int) -> RpcError:
        """The older snapshots stay; a full disk raises the alarm (lowered once space is back)."""
        if not is_disk_error(exc):
            log.exception("the snapshot at block %d failed", number)
            return RpcError(INTERNAL_ERROR, f"the snapshot at block {number} failed: {exc}")
        self.disk.trip(exc, f"writing the snapshot at block {number}")
        return RpcError(
            LIMIT_EXCEEDED,
            f"the snapshot at block {number} could not be written ({exc}): free space in the "
            "data directory; the older snapshots are kept",
            self.disk.describe(),
        )

    def _prune(self) -> None:
        for old in self.journal.snapshots()[self.keep :]:
            path = self.directory / old.path
            if path.exists():
                path.unlink()
