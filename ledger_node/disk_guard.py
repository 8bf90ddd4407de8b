"""The disk alarm: like etcd's NOSPACE alarm, a full (or failing) disk stops the node's writes
instead of corrupting its journal.

The alarm goes up when free space in the data directory falls under the floor
(`ledger-node start --min-free-mb`), or when a journal or snapshot write fails with ENOSPC or EIO.
While it is up the node refuses transactions before they reach the engine and does not seal. A
periodic check lowers it once space is back and a probe write succeeds.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.core import Metric

from citypass.core.prometheus import counter_value, gauge_value
from ledger_node.errors import LIMIT_EXCEEDED, RpcError

log = logging.getLogger("ledger_node.disk")

MB = 1024 * 1024
DEFAULT_MIN_FREE_MB = 64
MAX_MIN_FREE_MB = 1_000_000
CHECK_INTERVAL_SECONDS = 1.0
# After a failed write the alarm stays up until at least this much is free (even with the floor
# at 0), so a disk with a few bytes left does not flip between refusing and failing.
RESUME_MIN_FREE_BYTES = 1 * MB
PROBE_BYTES = 64 * 1024
PROBE_FILE = ".disk-probe"

DISK_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EROFS}
SQLITE_FULL = 13
SQLITE_IOERR = 10
SQLITE_DISK_MESSAGES = ("database or disk is full", "disk i/o error")

REFUSAL = (
    "the ledger's disk is full: transactions are refused until the operator frees space; "
    "retry later"
)


def is_disk_error(exc: BaseException) -> bool:
    """True for a write that failed because the disk is full or failing (not for bad SQL)."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None and code & 0xFF in (SQLITE_FULL, SQLITE_IOERR):
            return True
        return any(text in str(exc).lower() for text in SQLITE_DISK_MESSAGES)
    return isinstance(exc, OSError) and exc.errno in DISK_ERRNOS


@dataclass(frozen=True)
class Alarm:
    reason: str  # "low_space" (under the floor) or "write_failed"
    detail: str
    raised_at: float


class DiskGuard:
    """Free space of one data directory against a floor, and the alarm state."""

    def __init__(self, data_dir: Path, min_free_bytes: int) -> None:
        if min_free_bytes < 0:
            raise ValueError("min_free_bytes must be 0 or more")
        self.data_dir = data_dir
        self.min_free_bytes = min_free_bytes
        self.alarm: Alarm | None = None
        self.free_bytes = self._free()
        self.alarms_raised = 0
        self.refused = 0

    @property
    def alarmed(self) -> bool:
        return self.alarm is not None

    def _free(self) -> int:
        try:
            stats = os.statvfs(self.data_dir)
        except OSError:
            return 0
        return stats.f_bavail * stats.f_frsize

    def check(self) -> bool:
        """Measure free space; raise the alarm under the floor. True when writes may go ahead."""
        self.free_bytes = self._free()
        if self.alarm is None and self.free_bytes < self.min_free_bytes:
            self.raise_alarm(
                "low_space",
                f"{self.free_bytes / MB:.1f} MB free, under the floor of "
                f"{self.min_free_bytes / MB:.0f} MB",
            )
        return self.alarm is None

    def write_failed(self, exc: BaseException, doing: str) -> None:
        """A journal write raised: a disk fault trips the alarm; anything else is logged with
        its traceback and treated as one (a write that failed cannot be trusted to be there)."""
        if not is_disk_error(exc):
            log.exception("%s failed with an unexpected error; treated as a disk fault", doing)
        self.trip(exc, doing)

    def trip(self, exc: BaseException, doing: str) -> None:
        """A write failed for lack of space or an I/O error."""
        self.free_bytes = self._free()
        if self.alarm is None or self.alarm.reason != "write_failed":
            self.raise_alarm("write_failed", f"{doing} failed: {exc}")

    def raise_alarm(self, reason: str, detail: str) -> None:
        self.alarm = Alarm(reason, detail, time.time())
        self.alarms_raised += 1
        log.error(
            "disk alarm NOSPACE raised (%s): refusing transactions and not sealing until space "
            "returns in %s (%.1f MB free, floor %.0f MB)",
            detail,
            self.data_dir,
            self.free_bytes / MB,
            self.min_free_bytes / MB,
        )

    def may_resume(self) -> bool:
        """Enough space again, and a probe write with fsync succeeds."""
        self.free_bytes = self._free()
        if self.free_bytes < max(self.min_free_bytes, RESUME_MIN_FREE_BYTES):
            return False
        probe = self.data_dir / PROBE_FILE
        try:
            with open(probe, "wb") as handle:
                handle.write(b"\0" * PROBE_BYTES)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            log.debug("disk probe failed: %s", exc)
            return False
        finally:
            probe.unlink(missing_ok=True)
        return True

    def clear(self) -> None:
        if self.alarm is None:
            return
        log.warning(
            "disk alarm NOSPACE cleared after %.0f s (%.1f MB free, floor %.0f MB): accepting "
            "transactions and sealing again",
            time.time() - self.alarm.raised_at,
            self.free_bytes / MB,
            self.min_free_bytes / MB,
        )
        self.alarm = None

    def refusal(self) -> RpcError:
        self.refused += 1
        return RpcError(LIMIT_EXCEEDED, REFUSAL, self.describe())

    def describe(self) -> dict[str, Any]:
        """The alarm as /health and error data show it."""
        return {
            "alarm": "NOSPACE",
            "reason": self.alarm.reason if self.alarm else None,
            "detail": self.alarm.detail if self.alarm else None,
            "since": self.alarm.raised_at if self.alarm else None,
            "freeBytes": self.free_bytes,
            "minFreeBytes": self.min_free_bytes,
        }

    def metric_families(self) -> list[Metric]:
        """The disk guard's share of /metrics, read at scrape time."""
        return [
            gauge_value(
                "ledger_disk_alarm",
                "1 while the NOSPACE alarm is up (writes refused, no sealing).",
                int(self.alarmed),
            ),
            gauge_value(
                "ledger_disk_free_bytes",
                "Free space in the data directory at the last check.",
                self.free_bytes,
            ),
            gauge_value(
                "ledger_disk_min_free_bytes",
                "The free-space floor (--min-free-mb).",
                self.min_free_bytes,
            ),
            counter_value(
                "ledger_disk_alarms_total",
                "Times the NOSPACE alarm was raised.",
                self.alarms_raised,
            ),
            counter_value(
                "ledger_disk_refused_transactions_total",
                "Transactions refused by the alarm.",
                self.refused,
            ),
        ]
