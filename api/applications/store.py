"""The applications' rows: submit, read, and the status changes, each one conditional UPDATE so
two concurrent requests never both make the same change (one approval sends the onboard
transaction, the other hears 409)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from api.applications.personal import (
    KIND,
    ApplicationRecord,
    PersonalFields,
    personal,
    with_personal,
)
from api.applications.tables import OPEN_STATUSES, applications
from api.errors import ApiError, Conflict, NotFound
from api.siwe.store import transaction
from indexer import models as m

# An approval that claimed an application but never finished (the API stopped while sending)
# may be retried after this long; the chain check before sending keeps it from onboarding twice.
STALE_CLAIM_SECONDS = 120.0

t = applications.c


class ApplicationStoreUnavailable(ApiError, status=503, code="application_store_unavailable"):
    """The database holding the applications cannot be reached: retry shortly."""


class ApplicationStore:
    def __init__(
        self, engine: Engine, personal: PersonalFields, clock: Callable[[], float] = time.time
    ) -> None:
        self._engine = engine
        self.personal = personal
        self._clock = clock

    def _tx(self, doing: str) -> Any:
        return transaction(self._engine, doing, ApplicationStoreUnavailable)

    def submit(self, address: str, name: str, phone: str, home_address: str) -> ApplicationRecord:
        """The personal fields are stored only encrypted, under the application's own key (a
        key left by a failed insert protects nothing and is swept as an orphan)."""
        key_id, sealed = self.personal.seal(name, phone, home_address)
        with self._tx("store the application") as conn:
            try:
                new_id = conn.execute(
                    insert(applications).values(
                        address=address, status="PENDING", name="", phone="",
                        home_address="", submitted_at=self._clock(),
                    )
                ).inserted_primary_key[0]  # fmt: skip
            except IntegrityError as exc:  # the partial unique index: one open per address
                raise Conflict(
                    f"{address} already has an open application; wait for the village "
                    "enterprise's decision (GET /v1/applications/mine)",
                    code="application_open",
                ) from exc
            conn.execute(
                insert(personal).values(application_id=new_id, key_id=key_id, sealed=sealed)
            )
        self.personal.keys.bind(KIND, key_id, str(new_id))
        return self.get(new_id)

    def get(self, application_id: int) -> ApplicationRecord:
        self.reconcile()
        with self._tx("read the application") as conn:
            row = conn.execute(with_personal().where(t.application_id == application_id)).first()
        if row is None:
            raise NotFound(
                f"no application {application_id}; list them at /v1/staff/applications",
                code="unknown_application",
            )
        return self.personal.record(row)

    def search(self, *, address: str | None = None, status: str | None = None,
               limit: int = 100) -> list[ApplicationRecord]:  # fmt: skip
        """Newest first: one address's applications, or those in one status."""
        self.reconcile()
        query = with_personal()
        if address is not None:
            query = query.where(t.address == address)
        if status is not None:
            query = query.where(t.status == status)
        query = query.order_by(t.application_id.desc()).limit(limit)
        with self._tx("list the applications") as conn:
            rows = list(conn.execute(query))
        return [self.personal.record(row) for row in rows]

    def reconcile(self) -> None:
        """Open applications whose address the read model shows onboarded (by this API or
        another way, such as scripts/member.py) are approved, with the onboarding block."""
        onboarded = (
            select(m.Member.onboarded_block)
            .where(m.Member.address == t.address, m.Member.onboarded_block.is_not(None))
            .scalar_subquery()
        )
        with self._tx("update the applications") as conn:
            conn.execute(
                update(applications)
                .where(t.status.in_(OPEN_STATUSES), onboarded.is_not(None))
                .values(status="APPROVED", decided_via="onChain", decided_at=self._clock(),
                        onboard_block=onboarded)
            )  # fmt: skip

    def claim(self, application_id: int) -> ApplicationRecord:
        """PENDING (or a stale APPROVING) -> APPROVING; 409 when another approval has it or it
        is decided."""
        now = self._clock()
        with self._tx("claim the application") as conn:
            claimed = conn.execute(
                update(applications)
                .where(
                    t.application_id == application_id,
                    (t.status == "PENDING")
                    | ((t.status == "APPROVING") & (t.claimed_at < now - STALE_CLAIM_SECONDS)),
                )
                .values(status="APPROVING", claimed_at=now)
            )
        row = self.get(application_id)
        if claimed.rowcount != 1:
            raise decided_conflict(row)
        return row

    def approved(self, application_id: int, *, via: str, by: str | None, tx_hash: str | None,
                 block: int | None) -> ApplicationRecord:  # fmt: skip
        with self._tx("record the approval") as conn:
            conn.execute(
                update(applications)
                .where(t.application_id == application_id, t.status.in_(OPEN_STATUSES))
                .values(status="APPROVED", decided_via=via, decided_by=by,
                        decided_at=self._clock(), onboard_tx_hash=tx_hash, onboard_block=block)
            )  # fmt: skip
        return self.get(application_id)

    def release(self, application_id: int) -> None:
        """APPROVING -> PENDING: the onboard transaction was not sent (or reverted)."""
        with self._tx("release the application") as conn:
            conn.execute(
                update(applications)
                .where(t.application_id == application_id, t.status == "APPROVING")
                .values(status="PENDING", claimed_at=None)
            )

    def reject(self, application_id: int, by: str, reason_code: str) -> ApplicationRecord:
        with self._tx("record the rejection") as conn:
            changed = conn.execute(
                update(applications)
                .where(t.application_id == application_id, t.status == "PENDING")
                .values(status="REJECTED", decided_via="staff", decided_by=by,
                        decided_at=self._clock(), reason_code=reason_code)
            )  # fmt: skip
        row = self.get(application_id)
        if changed.rowcount != 1:
            raise decided_conflict(row)
        return row


def decided_conflict(row: ApplicationRecord) -> Conflict:
    """Why an application cannot be approved or rejected now."""
    if row.status == "APPROVING":
        return Conflict(
            f"application {row.application_id} is being approved by another request; read it "
            "again in a moment",
            code="application_approving",
        )
    return Conflict(
        f"application {row.application_id} was already {row.status.lower()}"
        + (f" ({row.reason_code})" if row.reason_code else "")
        + "; a decided application cannot be decided again (the resident may apply anew after "
        "a rejection)",
        code="application_decided",
    )
