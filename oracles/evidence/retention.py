"""How long evidence is kept, and which objects are due (the evidence kind of the retention
sweep, citypass/core/retention.py; docs/privacy.md "How long each thing is kept").

An object's clock starts when the incidents it backs were reviewed (the chain's `reviewedAt`):
* evidence of a DISMISSED incident: `dismissed_days` (30) after the dismissal;
* evidence of a CONFIRMED incident: `confirmed_days` (365) after the confirmation, for the
  appeal and the fine's collection;
* evidence of an OPEN incident is kept until it is reviewed (its purpose is not fulfilled);
* evidence no incident anchors (the event was refused, or the incident never filed):
  `unanchored_days` (30) after it was stored.
One object may back several incidents (the same still sent twice): it is due when every one of
them is, and kept while any one is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from citypass.core.retention import DAY, Due
from oracles.evidence.cid import parse_cid
from oracles.evidence.store import KIND, EvidenceStore

OPEN, CONFIRMED, DISMISSED = "OPEN", "CONFIRMED", "DISMISSED"
# A key row never bound to an object (a crash between the two writes of `put`) is removed as an
# orphan once it is this old: a `put` in progress binds its key within seconds.
ORPHAN_KEY_SECONDS = DAY


@dataclass(frozen=True)
class IncidentFacts:
    """What the chain says of one incident (IncidentRegistry.incidentOf)."""

    incident_id: int
    status: str  # OPEN, CONFIRMED or DISMISSED
    reviewed_at: int  # Unix seconds; 0 while open


@dataclass(frozen=True)
class EvidencePeriods:
    dismissed_days: float = 30
    confirmed_days: float = 365
    unanchored_days: float = 30


# content hash (the plaintext's SHA-256, = the incident's contentHash) → its incidents
IncidentIndex = Mapping[bytes, list[IncidentFacts]]


class EvidenceRetention:
    """The evidence kind: `due(now)` walks the store's index against the incidents on chain."""

    kind = KIND

    def __init__(
        self, store: EvidenceStore, periods: EvidencePeriods,
        incidents: Callable[[], IncidentIndex],
    ) -> None:  # fmt: skip
        self.store = store
        self.periods = periods
        self.incidents = incidents

    def due(self, now: float) -> Iterator[Due]:
        incidents = self.incidents()
        key_rows = self.store.keys.keys(KIND)
        key_of = {row.subject: row.key_id for row in key_rows if row.subject is not None}
        for entry in self.store.entries():
            rule = self._rule(entry.stored_at, incidents.get(entry.content_hash, []))
            if rule is None:
                continue
            name, period, start = rule
            due_at = start + period * DAY
            if due_at <= now:
                subject = entry.cid.text
                yield Due(subject, key_of.get(subject), name, period, due_at)
        for row in key_rows:
            if row.subject is None and row.created_at + ORPHAN_KEY_SECONDS <= now:
                yield Due(f"key:{row.key_id}", row.key_id, "unbound_key", None,
                          row.created_at + ORPHAN_KEY_SECONDS, reason="orphan")  # fmt: skip

    def _rule(
        self, stored_at: float, incidents: list[IncidentFacts]
    ) -> tuple[str, float, float] | None:
        """(rule, period in days, start) of the incident kept longest; None while one is open."""
        p = self.periods
        if not incidents:
            return "unanchored_evidence", p.unanchored_days, stored_at
        if any(i.status == OPEN for i in incidents):
            return None
        rules = [
            ("confirmed_incident", p.confirmed_days, float(i.reviewed_at))
            if i.status == CONFIRMED
            else ("dismissed_incident", p.dismissed_days, float(i.reviewed_at))
            for i in incidents
        ]
        return max(rules, key=lambda r: r[2] + r[1] * DAY)

    def erase(self, due: Due) -> None:
        if due.subject.startswith("key:"):
            return  # an unbound key protects no stored object
        self.store.erase(parse_cid(due.subject))
