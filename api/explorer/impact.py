"""The pilot's impact figures as outcomes of what is on chain (citypass/core/impact.py): the
read model, which projects the chain, and IncidentRegistry.dailyCounts. No figure here comes
from a constant; the pilot's reported figures are only put beside them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.explorer.context import Explorer
from citypass.core import impact as core
from citypass.core.timeunits import DAY_SECONDS, day_start
from indexer import models as m

ILLEGAL_PARKING = 0  # IncidentType.ILLEGAL_PARKING

INPUTS = {
    "supplyRatio": "read model: slots (active; windows_packed 0x0 = base, else shared) and "
    "members (ACTIVE, less RevenueSplit's village enterprise, city fund and platform, the "
    "owners of public and private lots' slots, our contracts and the relayers: senders of "
    "transactions to the CityForwarder)",
    "extraSpacesPerDay": "read model: leases (status not CANCELLED, booked start..end)",
    "illegalParkingPerDay": "IncidentRegistry.dailyCounts(ILLEGAL_PARKING, day).reported; the "
    "days from the read model's first ILLEGAL_PARKING incident and first lease (booked_at)",
    "jobs": "read model: member_roles (roles currently held)",
}


def impact(explorer: Explorer, session: Session) -> dict[str, Any]:
    # As of the read model's indexed block, as every other figure (kpis.as_of); the contract is
    # asked at that block too.
    cursor = session.get(m.Cursor, 1)
    block = cursor.block_number if cursor else -1
    head = int(session.scalar(select(m.Block.timestamp).where(m.Block.number == block)) or 0)
    first_incident = session.scalar(
        select(func.min(m.Incident.observed_at)).where(m.Incident.kind == "ILLEGAL_PARKING")
    )
    first_lease = session.scalar(select(func.min(m.Lease.booked_at)))
    before, after = core.observed_days(first_incident, first_lease, head)
    registry = explorer.book.handle("incidents")
    illegal = {
        day: int(
            registry.functions.dailyCounts(ILLEGAL_PARKING, day).call(
                block_identifier=max(block, 0)
            )[0]
        )
        for day in [*before, *after]
    }
    day = core.complete_day(head)
    spans = session.execute(
        select(m.Lease.start, m.Lease.end).where(
            m.Lease.status != "CANCELLED",
            m.Lease.start < day_start(day) + DAY_SECONDS,
            m.Lease.end > day_start(day),
        )
    ).all()
    base, shared = _spaces(session)
    facts = core.ImpactFacts(
        as_of_block=block,
        head_time=head,
        vehicles=_vehicles(explorer, session),
        base_spaces=base,
        shared_spaces=shared,
        leased_seconds=core.clipped_seconds(((a, b) for a, b in spans), day),
        leased_day=day,
        before_days=before,
        after_days=after,
        illegal_by_day=illegal,
        jobs_by_role=core.jobs_by_role(
            session.execute(select(m.MemberRole.address, m.MemberRole.role_name)).all()
        ),
        first_lease_at=first_lease,
    )
    return core.figures(facts, INPUTS)


def _spaces(session: Session) -> tuple[int, int]:
    """(base, shared): active slots without and with sharing windows."""

    def count(*where: Any) -> int:
        query = select(func.count()).select_from(m.Slot).where(m.Slot.active.is_(True), *where)
        return int(session.scalar(query) or 0)

    return count(m.Slot.windows_packed == "0x0"), count(m.Slot.windows_packed != "0x0")


def _vehicles(explorer: Explorer, session: Session) -> int:
    """Active members that are vehicles: not a stakeholder of the split, not an organisation
    owning a public or private lot's slots, not one of our contracts (the ValetService is a
    member so that it may hold credits), not a relayer (an account that sent transactions to
    the CityForwarder: it relays residents' signed requests, as the API's relayer does)."""
    owners = session.scalars(
        select(m.Slot.owner).where(m.Slot.category.in_(core.ORGANISATION_SLOT_CATEGORIES))
    )
    split = explorer.book.handle("split").functions
    house = [split.villageEnterprise().call(), split.cityFund().call(), split.platform().call()]
    forwarder = explorer.book.handle("forwarder").address
    relayers = session.scalars(
        select(m.Transaction.sender).where(m.Transaction.to == forwarder).distinct()
    )
    organisations = {a.lower() for a in [*house, *owners, *relayers]}
    members = session.scalars(select(m.Member.address).where(m.Member.status == "ACTIVE"))
    return sum(
        1
        for address in members
        if address.lower() not in organisations and explorer.book.name_of(address) is None
    )
