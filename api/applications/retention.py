"""How long an application's personal fields are kept (the application kind of the retention
sweep, citypass/core/retention.py; docs/privacy.md "How long each thing is kept"):
* a REJECTED application's: `rejected_days` (30) after the decision, time for the applicant to
  ask why or to appeal;
* an APPROVED application's: `approved_days` (90) after the decision: the fields served the
  check of residence, which the approval completed; membership itself is on chain and needs no
  name, phone or home address;
* PENDING (and APPROVING) ones are kept: the decision they are for is not made yet.
The application row itself (address, status, dates, reason code) stays: it holds nothing
personal beyond the pseudonymous address."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select

from api.applications.personal import KIND, personal
from api.applications.tables import applications
from citypass.core.retention import DAY, Due
from citypass.core.shredding import KeyTable

ORPHAN_KEY_SECONDS = DAY  # a key whose application insert failed protects nothing

t = applications.c


@dataclass(frozen=True)
class ApplicationPeriods:
    rejected_days: float = 30
    approved_days: float = 90


class ApplicationRetention:
    kind = KIND

    def __init__(self, engine: Engine, keys: KeyTable, periods: ApplicationPeriods) -> None:
        self.engine = engine
        self.keys = keys
        self.periods = periods

    def due(self, now: float) -> Iterator[Due]:
        rules = {
            "REJECTED": ("rejected_application", self.periods.rejected_days),
            "APPROVED": ("approved_application", self.periods.approved_days),
        }
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.application_id, t.status, t.decided_at, personal.c.key_id)
                .join(personal)
                .where(t.status.in_(tuple(rules)), t.decided_at.is_not(None))
                .order_by(t.decided_at)
            ).all()
            bound: set[str] = set(conn.scalars(select(personal.c.key_id)))
        for row in rows:
            rule, days = rules[row.status]
            due_at = row.decided_at + days * DAY
            if due_at <= now:
                yield Due(str(row.application_id), row.key_id, rule, days, due_at)
        for key in self.keys.keys(KIND):
            if key.key_id not in bound and key.created_at + ORPHAN_KEY_SECONDS <= now:
                yield Due(f"key:{key.key_id}", key.key_id, "unbound_key", None,
                          key.created_at + ORPHAN_KEY_SECONDS, reason="orphan")  # fmt: skip

    def erase(self, due: Due) -> None:
        if due.subject.startswith("key:"):
            return
        with self.engine.begin() as conn:
            conn.execute(delete(personal).where(personal.c.application_id == int(due.subject)))
