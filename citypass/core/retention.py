"""The retention sweep, shared by every service that keeps personal or evidential records off
chain (the oracle daemon's evidence, the API's applications; docs/privacy.md "How long each thing
is kept").

A record kind plugs in by implementing `RetentionKind`: its `kind` name, `due(now)` (the
records whose period has run out, each with its data key id and the rule that applies) and
`erase(due)` (best-effort removal of the now undecryptable ciphertext). `sweep` does the rest:
it skips held records, shreds each due record (key deleted + deletion record appended, one
transaction in the KeyTable), then erases its ciphertext, and with `dry_run` only lists.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from pydantic import AfterValidator, Field

from citypass.core.shredding import KeyTable

log = logging.getLogger("citypass.retention")
DAY = 86400.0


def _period(days: float) -> float:
    if not math.isfinite(days) or days <= 0:
        raise ValueError(
            f"a retention period must be a positive number of days (like 30), not {days}"
        )
    return days


# A settings field: a retention period in days, more than 0 (fractions allowed: 0.5 = 12 h).
RetentionDays = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_period)]


@dataclass(frozen=True)
class Due:
    """A record whose retention period ran out (or that was requested deleted)."""

    subject: str  # what the deletion record names: a CID, an application id
    key_id: str | None  # its data key; None for a record sealed before per-record keys
    rule: str  # e.g. "dismissed_incident"
    period_days: float | None
    due_at: float  # Unix seconds
    reason: str = "retention"


class RetentionKind(Protocol):
    kind: str

    def due(self, now: float) -> Iterable[Due]:
        """Every record of this kind due for deletion at `now` (held ones included: the sweep
        skips those)."""
        ...

    def erase(self, due: Due) -> None:
        """Remove the shredded record's ciphertext; best effort (it is unreadable already)."""
        ...


@dataclass
class SweepReport:
    dry_run: bool
    shredded: list[dict[str, object]] = field(default_factory=list)
    held: list[dict[str, object]] = field(default_factory=list)
    erase_failures: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "dryRun": self.dry_run, "shredded": self.shredded, "held": self.held,
            "eraseFailures": self.erase_failures,
        }  # fmt: skip


def sweep(
    keys: KeyTable,
    kinds: Iterable[RetentionKind],
    now: float,
    *,
    dry_run: bool = False,
    on_shred: Callable[[str, str], None] | None = None,
) -> SweepReport:
    """Shred every due, unheld record of `kinds` (or, with `dry_run`, list what would be).
    `on_shred(kind, reason)` is called after each deletion (the daemons' metrics)."""
    report = SweepReport(dry_run)
    for kind in kinds:
        held = keys.held(kind.kind)
        for due in kind.due(now):
            entry: dict[str, object] = {
                "kind": kind.kind, "subject": due.subject, "rule": due.rule,
                "periodDays": due.period_days, "dueAt": due.due_at, "reason": due.reason,
            }  # fmt: skip
            if due.subject in held:
                report.held.append(entry)
                continue
            if dry_run:
                report.shredded.append(entry)
                continue
            deletion = keys.shred(
                kind.kind, due.key_id, due.subject, reason=due.reason, rule=due.rule,
                period_days=due.period_days,
            )  # fmt: skip
            if deletion is not None:
                report.shredded.append({**entry, "seq": deletion.seq})
                log.info(
                    "record shredded",
                    extra={"kind": kind.kind, "subject": due.subject, "rule": due.rule,
                           "seq": deletion.seq},
                )  # fmt: skip
                if on_shred is not None:
                    on_shred(kind.kind, due.reason)
            try:
                kind.erase(due)
            except Exception as exc:  # noqa: BLE001 - the key is gone; the next sweep retries
                report.erase_failures += 1
                log.warning(
                    "erasing a shredded record's ciphertext failed",
                    extra={"kind": kind.kind, "subject": due.subject, "error": str(exc)},
                )
    return report
