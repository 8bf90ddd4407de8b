"""Who may read a person's records (DESIGN §6, docs/privacy.md "Who can read what"): a resident's
leases, trips, journeys, balance and credit history, valet requests, and a person's earnings are
readable by that resident's own SIWE session and by the staff whose work needs individual
records (RECORD_READERS). Organisations' records (an operator's earnings, a lot's slots) stay
public. A home space's exact spot and access instructions go to its owner and the lessee of a
confirmed lease on it (`spot_lease`). One home for the rule, so the API's routers and the
explorer's pages apply the same one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.address_book.facts import facts_of
from api.deps import SessionDep
from api.errors import PermissionDenied
from api.schemas.common import Address
from api.siwe.deps import SessionTokenDep, SiweDep
from api.siwe.service import SiweService
from api.siwe.store import StaffSession
from indexer import models as m

# Staff roles that see individual records: the auditor (checks the books), the inspector
# (reviews incidents on a slot and its lease) and the city's administrator (oversight).
RECORD_READERS = ("AUDITOR", "INSPECTOR", "CITY_ADMIN")
NEEDS = (
    "the resident's own wallet session (POST /v1/auth/siwe signed by that address, "
    '"scope": "resident") or a staff session of ' + ", ".join(RECORD_READERS)
)

AddressPath = Annotated[Address, Path(description="the member's 0x address")]


def reads_records(siwe: SiweService, address: str) -> bool:
    """Whether `address` holds, now, a staff role that sees persons' individual records."""
    return siwe.roles.has_any(RECORD_READERS, address)


def check_reader(siwe: SiweService, session: StaffSession, address: str) -> StaffSession:
    """The session when it is `address`'s own or a record reader's; 403 saying who may."""
    if session.address == address or reads_records(siwe, session.address):
        return session
    raise PermissionDenied(
        f"{session.address} may not read {address}'s records: a resident's leases, trips, "
        f"balance and history are for {NEEDS}",
        code="not_your_records",
    )


def records_reader(
    siwe: SiweDep, credentials: SessionTokenDep, address: AddressPath
) -> StaffSession:
    """A route's dependency: 401 without a session, 403 with someone else's (not staff)."""
    session = siwe.session(credentials.credentials if credentials else None, needs=NEEDS)
    return check_reader(siwe, session, address)


def is_organisation(session: Session, address: str) -> bool:
    """What the read model's on-chain facts say (api/address_book/facts.py): an organisation's
    records are public; anyone else's (a person, or an address with no facts) are not."""
    return facts_of(session, [address])[address].organisation


def person_records_reader(
    siwe: SiweDep, credentials: SessionTokenDep, session: SessionDep, address: AddressPath
) -> StaffSession | None:
    """For records of an address that may be an organisation (an owner's slots and earnings):
    None (public) for an organisation, else as records_reader."""
    if is_organisation(session, address):
        return None
    return records_reader(siwe, credentials, address)


def shown_address(
    siwe: SiweService, credentials: HTTPAuthorizationCredentials | None, session: Session,
    address: str,
) -> str | None:  # fmt: skip
    """`address` as a public answer may show it: an organisation's always; a person's (a home
    space's owner) only to herself and to record readers, else None. A token that is sent must
    be a live session (401 otherwise): a client that signs in expects to be told it failed."""
    if is_organisation(session, address):
        return address
    if credentials is None:
        return None
    viewer = siwe.session(credentials.credentials, needs=NEEDS)
    return address if viewer.address == address or reads_records(siwe, viewer.address) else None


RecordsReaderDep = Annotated[StaffSession, Depends(records_reader)]
PersonRecordsReaderDep = Annotated[StaffSession | None, Depends(person_records_reader)]


# A home space's exact spot and access instructions (api/routers/spots.py) go to its owner and
# to the lessee of a confirmed lease on it: from booking until the lease's end, or, once she has
# checked in, until she checks out (an overstaying car must still find its way out). Not to the
# record readers: no audit needs a home's gate code, and the chain's cell serves inspections.
SPOT_NEEDS = (
    "the slot owner's wallet session, or the session of the lessee of a booked (not "
    "cancelled) lease on it, from booking until the lease ends"
)


def spot_lease(session: Session, slot: m.Slot, reader: str, now: int) -> m.Lease | None:
    """None for the slot's owner (by the read model); for a lessee the lease that lets her read
    the spot now (ledger time); anyone else hears 403 saying who may."""
    if reader == slot.owner:
        return None
    live = or_(m.Lease.status == "CHECKED_IN", and_(m.Lease.status == "BOOKED", m.Lease.end > now))
    query = (
        select(m.Lease)
        .where(m.Lease.slot_id == slot.slot_id, m.Lease.lessee == reader, live)
        .order_by(m.Lease.end.desc())
    )
    lease = session.scalars(query.limit(1)).first()
    if lease is None:
        raise PermissionDenied(
            f"{reader} may not read slot {slot.slot_id}'s exact spot: it is for {SPOT_NEEDS}",
            code="not_your_spot",
        )
    return lease
