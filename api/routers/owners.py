"""Space owners: their slots (terms, weekly windows, blackouts, price history) and earnings per
month, public reads from the read model. Changing windows or prices is a signed forward request
(ParkingSlots.setWindows / setBlackout / setTerms / setActive are on the relayer allowlist)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import select

from api.deps import SessionDep
from api.routers.members import _indexed_block
from api.schemas.common import Address
from api.schemas.owners import (
    MonthEarningsPublic,
    OwnerEarningsPublic,
    OwnerSlotPublic,
    OwnerSlotsPublic,
    PriceVersionPublic,
    StatementPublic,
)
from api.schemas.slots import SlotWindowPublic
from citypass.core.timeunits import epoch_of, month_text
from indexer import models as m

router = APIRouter(prefix="/v1/owners", tags=["owners"])

OwnerPath = Annotated[Address, Path(description="the owner's 0x address")]


@router.get(
    "/{address}/slots",
    response_model=OwnerSlotsPublic,
    summary="The owner's slots with terms, sharing windows, blackout days and price history",
)
def owner_slots(session: SessionDep, address: OwnerPath) -> OwnerSlotsPublic:
    slots = session.scalars(
        select(m.Slot).where(m.Slot.owner == address).order_by(m.Slot.slot_id)
    ).all()
    ids = [s.slot_id for s in slots]
    windows: dict[int, list[SlotWindowPublic]] = defaultdict(list)
    for w in session.scalars(
        select(m.SlotWindow).where(m.SlotWindow.slot_id.in_(ids)).order_by(m.SlotWindow.position)
    ):
        windows[w.slot_id].append(
            SlotWindowPublic(daysMask=w.days_mask, startUnit=w.start_unit, endUnit=w.end_unit)
        )
    blackouts: dict[int, list[int]] = defaultdict(list)
    for b in session.scalars(
        select(m.SlotBlackout)
        .where(m.SlotBlackout.slot_id.in_(ids))
        .order_by(m.SlotBlackout.local_day)
    ):
        blackouts[b.slot_id].append(b.local_day)
    prices: dict[int, list[PriceVersionPublic]] = defaultdict(list)
    for t in session.scalars(
        select(m.SlotTermsVersion)
        .where(m.SlotTermsVersion.slot_id.in_(ids))
        .order_by(m.SlotTermsVersion.version)
    ):
        prices[t.slot_id].append(
            PriceVersionPublic(
                version=t.version, pricePerUnit=t.price_per_unit,
                overagePer10Min=t.overage_per_10min, setBlock=t.set_block,
            )
        )  # fmt: skip
    return OwnerSlotsPublic(
        owner=address, indexedBlock=_indexed_block(session),
        slots=[
            OwnerSlotPublic(
                slotId=s.slot_id, owner=s.owner, lotId=s.lot_id, category=s.category,
                lat=s.lat_e6 / 1e6, lon=s.lon_e6 / 1e6, active=s.active,
                pricePerUnit=s.price_per_unit, overagePer10Min=s.overage_per_10min,
                termsVersion=s.terms_version, windows=windows[s.slot_id],
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
def owner_earnings(session: SessionDep, address: OwnerPath) -> OwnerEarningsPublic:
    months: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for a in session.scalars(
        select(m.RevenueAllocation).where(m.RevenueAllocation.owner == address)
    ):
        month = months[epoch_of(a.timestamp)]
        month[0] += 1
        month[1] += a.amount
        month[2] += a.owner_share
    statements = session.scalars(
        select(m.MonthlyStatement)
        .where(m.MonthlyStatement.payee == address)
        .order_by(m.MonthlyStatement.epoch, m.MonthlyStatement.block_number)
    ).all()
    balance = session.get(m.PayeeBalance, address)
    return OwnerEarningsPublic(
        owner=address, indexedBlock=_indexed_block(session),
        earned=balance.earned if balance else 0, claimed=balance.claimed if balance else 0,
        claimable=balance.claimable if balance else 0,
        months=[
            MonthEarningsPublic(
                month=month_text(epoch), epoch=epoch, allocations=count, gross=gross,
                ownerShare=share,
            )
            for epoch, (count, gross, share) in sorted(months.items())
        ],
        statements=[
            StatementPublic(
                epoch=s.epoch, month=month_text(s.epoch), kind=s.kind, earned=s.earned,
                claimed=s.claimed, closingBalance=s.closing_balance,
                blockNumber=s.block_number, txHash=s.tx_hash,
            )
            for s in statements
        ],
    )  # fmt: skip
