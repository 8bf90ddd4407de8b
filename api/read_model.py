"""Reads of the indexer's read model that the routers and the explorer pages share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.errors import NotFound
from api.schemas.owners import StatementPublic
from api.schemas.slots import SlotPublic, SlotWindowPublic
from citypass.core.timeunits import month_text
from indexer import models as m

Row = TypeVar("Row")
Item = TypeVar("Item")
SlotModel = TypeVar("SlotModel", bound=SlotPublic)


def indexed_block(session: Session) -> int:
    """The last block the read model holds (-1 before the first): what an answer is as of."""
    cursor = session.get(m.Cursor, 1)
    return cursor.block_number if cursor else -1


def row_or_404(session: Session, model: type[Row], key: Any, missing: str, code: str) -> Row:
    """The `model` row with primary key `key`, or 404 `code` with the message `missing` (what
    is not there, and where to look)."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(missing, code=code)
    return row


def slot_or_404(session: Session, slot_id: int) -> m.Slot:
    """The slot's row, or 404 `unknown_slot` saying where to find slots."""
    return row_or_404(
        session, m.Slot, slot_id,
        f"slot {slot_id} is not registered (or not indexed yet); find slots with /v1/slots/search",
        "unknown_slot",
    )  # fmt: skip


def rows(session: Session, what: Any, where: Any, *order_by: Any, limit: int | None = None) -> list:
    """`what` (a model or a column) where `where`, in the order given (a bounded list always
    names its order: PostgreSQL, unlike SQLite, promises none without one)."""
    query = select(what).where(where).order_by(*order_by)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def grouped(
    items: Iterable[Row], key: Callable[[Row], Hashable], make: Callable[[Row], Item]
) -> defaultdict[Any, list[Item]]:
    """`make(item)` for each item, in lists by `key(item)` (order kept); a missing key is []."""
    groups: defaultdict[Any, list[Item]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(make(item))
    return groups


def revenue_statements(session: Session, payee: str) -> list[StatementPublic]:
    """RevenueSplit's monthly statements of `payee`, oldest first."""
    return [
        StatementPublic(
            epoch=s.epoch, month=month_text(s.epoch), kind=s.kind, earned=s.earned,
            claimed=s.claimed, closingBalance=s.closing_balance, blockNumber=s.block_number,
            txHash=s.tx_hash,
        )
        for s in rows(
            session, m.MonthlyStatement, m.MonthlyStatement.payee == payee,
            m.MonthlyStatement.epoch, m.MonthlyStatement.block_number,
        )
    ]  # fmt: skip


def window_public(window: m.SlotWindow) -> SlotWindowPublic:
    return SlotWindowPublic(
        daysMask=window.days_mask, startUnit=window.start_unit, endUnit=window.end_unit
    )


def slot_public(
    model: type[SlotModel], slot: m.Slot, windows: list[SlotWindowPublic], **more: Any
) -> SlotModel:
    """A slot as `model` answers it (SlotPublic, or a subclass whose extra fields are `more`)."""
    more.setdefault("owner", slot.owner)
    return model(
        slotId=slot.slot_id, lotId=slot.lot_id, category=slot.category,
        lat=slot.lat_e6 / 1e6, lon=slot.lon_e6 / 1e6, active=slot.active,
        pricePerUnit=slot.price_per_unit, overagePer10Min=slot.overage_per_10min,
        termsVersion=slot.terms_version, windows=windows, **more,
    )  # fmt: skip
