"""A member's leases and credit balance with history, from the read model (as of the indexed
block returned with each answer): for that member's own session and the record readers' only
(api/record_access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import or_

from api.deps import SessionDep
from api.read_model import indexed_block, rows
from api.record_access import AddressPath, RecordsReaderDep
from api.schemas.common import kst_iso, kst_iso_or_none
from api.schemas.members import (
    BalancePublic,
    CreditEntryPublic,
    LeasePublic,
    LeasesPublic,
    PrepaidPublic,
)
from indexer import models as m

router = APIRouter(prefix="/v1/members", tags=["members"])

Limit = Annotated[int, Query(ge=1, le=500, description="newest entries first, at most 500")]


@router.get("/{address}/leases", response_model=LeasesPublic, summary="A member's leases")
def leases(
    session: SessionDep, _reader: RecordsReaderDep, address: AddressPath, limit: Limit = 100
) -> LeasesPublic:
    leases = rows(
        session, m.Lease, m.Lease.lessee == address, m.Lease.start.desc(), m.Lease.lease_id.desc(),
        limit=limit,
    )  # fmt: skip
    return LeasesPublic(
        address=address, indexedBlock=indexed_block(session),
        leases=[
            LeasePublic(
                leaseId=r.lease_id, slotId=r.slot_id, lessee=r.lessee, start=r.start, end=r.end,
                startIso=kst_iso(r.start), endIso=kst_iso(r.end), price=r.price, status=r.status,
                bookedAt=r.booked_at, bookedAtIso=kst_iso(r.booked_at),
                checkedInAt=r.checked_in_at, checkedInAtIso=kst_iso_or_none(r.checked_in_at),
                checkedOutAt=r.checked_out_at,
                checkedOutAtIso=kst_iso_or_none(r.checked_out_at),
                overstayCharge=r.overstay_charge, overstayDebt=r.overstay_debt, refund=r.refund,
            )
            for r in leases
        ],
    )  # fmt: skip


@router.get(
    "/{address}/balance", response_model=BalancePublic, summary="Credit balance and history"
)
def balance(
    session: SessionDep, _reader: RecordsReaderDep, address: AddressPath, limit: Limit = 50
) -> BalancePublic:
    row = session.get(m.CreditBalance, address)
    history: list[CreditEntryPublic] = []
    for t in rows(
        session, m.CreditTransfer,
        or_(m.CreditTransfer.sender == address, m.CreditTransfer.recipient == address),
        m.CreditTransfer.block_number.desc(), m.CreditTransfer.log_index.desc(), limit=limit,
    ):  # fmt: skip
        incoming = t.recipient == address
        history.append(
            CreditEntryPublic(
                blockNumber=t.block_number, txHash=t.tx_hash, kind="IN" if incoming else "OUT",
                counterparty=t.sender if incoming else t.recipient, amount=t.amount,
            )
        )  # fmt: skip
    return BalancePublic(
        address=address,
        indexedBlock=indexed_block(session),
        balance=row.balance if row else 0,
        history=history,
    )


@router.get("/{address}/prepaid", response_model=PrepaidPublic, summary="Prepaid booking balance")
def prepaid(session: SessionDep, _reader: RecordsReaderDep, address: AddressPath) -> PrepaidPublic:
    row = session.get(m.PrepaidBalance, address)
    return PrepaidPublic(
        address=address, indexedBlock=indexed_block(session),
        balance=row.balance if row else 0, deposited=row.deposited if row else 0,
        withdrawn=row.withdrawn if row else 0, spent=row.spent if row else 0,
    )  # fmt: skip
