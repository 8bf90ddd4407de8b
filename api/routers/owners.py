"""Space owners: their slots (terms, weekly windows, blackouts, price history) and earnings per
month from the read model: public for an organisation (a lot operator), else (a resident
sharing a home space) for the owner's own session and the record readers (api/record_access.py). Changing windows or prices is a signed forward request
(ParkingSlots.setWindows / setBlackout / setTerms / setActive are on the relayer allowlist)."""

from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Depends

from api.deps import SessionDep
from api.read_model import (
    grouped,
    indexed_block,
    revenue_statements,
    rows,
    slot_public,
    window_public,
)
from api.record_access import AddressPath, person_records_reader
from api.schemas.owners import (
    MonthEarningsPublic,
    OwnerEarningsPublic,
    OwnerSlotPublic,
    OwnerSlotsPublic,
    PriceVersionPublic,
)
from citypass.core.timeunits import epoch_of, month_text
from indexer import models as m

# Every route here answers one owner's records: the reader check is the router's, once.
router = APIRouter(
    prefix="/v1/owners", tags=["owners"], dependencies=[Depends(person_records_reader)]
)


@router.get(
    "/{address}/slots",
    response_model=OwnerSlotsPublic,
    summary="The owner's slots with terms, sharing windows, blackout days and price history",
)
def owner_slots(session: SessionDep, address: AddressPath) -> OwnerSlotsPublic:
    slots = rows(session, m.Slot, m.Slot.owner == address, m.Slot.slot_id)
    ids = [s.slot_id for s in slots]

    def slot_id(row: m.SlotWindow | m.SlotBlackout | m.SlotTermsVersion) -> int:
        return row.slot_id

    windows = grouped(
        rows(session, m.SlotWindow, m.SlotWindow.slot_id.in_(ids), m.SlotWindow.position),
        slot_id,
        window_public,
    )
    blackouts = grouped(
        rows(session, m.SlotBlackout, m.SlotBlackout.slot_id.in_(ids), m.SlotBlackout.local_day),
        slot_id,
        lambda b: b.local_day,
    )
    prices = grouped(
        rows(
            session, m.SlotTermsVersion, m.SlotTermsVersion.slot_id.in_(ids),
            m.SlotTermsVersion.version,
        ),
        slot_id,
        lambda t: PriceVersionPublic(
            version=t.version, pricePerUnit=t.price_per_unit,
            overagePer10Min=t.overage_per_10min, setBlock=t.set_block,
        ),
    )  # fmt: skip
    return OwnerSlotsPublic(
        owner=address, indexedBlock=indexed_block(session),
        slots=[
            slot_public(
                OwnerSlotPublic, s, windows[s.slot_id],
                blackoutDays=blackouts[s.slot_id], priceHistory=prices[s.slot_id],
            )
            for s in slots
        ],
    )  # fmt: skip


@router.get(
    "/{address}/earnings",
    response_model=OwnerEarningsPublic,
    summary="Owner shares per KST month, RevenueSplit statements, and the claimable balance",
)
def owner_earnings(session: SessionDep, address: AddressPath) -> OwnerEarningsPublic:
    months: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for a in rows(session, m.RevenueAllocation, m.RevenueAllocation.owner == address):
        month = months[epoch_of(a.timestamp)]
        month[0] += 1
        month[1] += a.amount
        month[2] += a.owner_share
    balance = session.get(m.PayeeBalance, address)
    return OwnerEarningsPublic(
        owner=address, indexedBlock=indexed_block(session),
        earned=balance.earned if balance else 0, claimed=balance.claimed if balance else 0,
        claimable=balance.claimable if balance else 0,
        months=[
            MonthEarningsPublic(
                month=month_text(epoch), epoch=epoch, allocations=count, gross=gross,
                ownerShare=share,
            )
            for epoch, (count, gross, share) in sorted(months.items())
        ],
        statements=revenue_statements(session, address),
    )  # fmt: skip
