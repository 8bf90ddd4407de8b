"""Slot search from the read model: slots within a radius, shared and not leased in a window.

The bounding box uses the (lat_e6, lon_e6) index; the exact great-circle distance and the
window/blackout/lease tests then run on the few candidates in Python, mirroring the contract's
own rules (LeaseMarket._checkBookable), so a quoted slot is one `book` would accept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from citypass.core.timeunits import UNIT_SECONDS, local_day_unit
from citypass.core.windows import Window, covers
from indexer import models as m
from indexer.errors import IndexerError

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
E6 = 1_000_000


@dataclass(frozen=True)
class SlotOffer:
    slot_id: int
    lot_id: int
    category: str
    lat: float
    lon: float
    distance_m: float
    units: int
    price: int  # KRW for the whole window at the slot's current terms
    terms_version: int


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def check_query(radius_m: float, start: int, end: int) -> None:
    """Refuse what no search can answer (the same checks for the index and the reference)."""
    if start % UNIT_SECONDS or end % UNIT_SECONDS or start >= end:
        raise IndexerError(
            f"search window {start}..{end} must start before it ends and both ends must be on a "
            "half-hour (multiples of 1800 s), as LeaseMarket books"
        )
    if radius_m <= 0:
        raise IndexerError(f"radius {radius_m} m must be positive")


def bounding_box_e6(lat: float, lon: float, radius_m: float) -> tuple[int, int, int, int]:
    """(lat_lo, lat_hi, lon_lo, lon_hi) in micro-degrees, inclusive: every slot within
    `radius_m` of (lat, lon) lies inside it (except across the antimeridian, which no search
    looks over)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    # Widen the longitude span by 1/cos(lat); near the poles the box covers every longitude.
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlon = min(180.0, math.degrees(radius_m / (EARTH_RADIUS_M * cos_lat)))
    return (
        math.floor((lat - dlat) * E6), math.ceil((lat + dlat) * E6),
        math.floor((lon - dlon) * E6), math.ceil((lon + dlon) * E6),
    )  # fmt: skip


def search_slots(
    session: Session, lat: float, lon: float, radius_m: float, start: int, end: int
) -> list[SlotOffer]:
    """Bookable slots within `radius_m` of (lat, lon) for [start, end), nearest first.

    The reference answer, straight from the tables; the API answers from SearchIndex
    (indexer/search_index.py), which must agree with this for every query."""
    check_query(radius_m, start, end)
    lat_lo, lat_hi, lon_lo, lon_hi = bounding_box_e6(lat, lon, radius_m)
    box = and_(
        m.Slot.lat_e6.between(lat_lo, lat_hi),
        m.Slot.lon_e6.between(lon_lo, lon_hi),
        m.Slot.active.is_(True),
    )
    # Plain rows, not ORM objects: a search in a dense area reads a hundred slots or more.
    candidates = session.execute(
        select(
            m.Slot.slot_id, m.Slot.lot_id, m.Slot.category, m.Slot.lat_e6, m.Slot.lon_e6,
            m.Slot.price_per_unit, m.Slot.terms_version,
        ).where(box)
    ).all()  # fmt: skip
    if not candidates:
        return []
    ids = [slot.slot_id for slot in candidates]
    windows: dict[int, list[Window]] = {i: [] for i in ids}
    for slot_id, days_mask, start_unit, end_unit in session.execute(
        select(
            m.SlotWindow.slot_id, m.SlotWindow.days_mask, m.SlotWindow.start_unit,
            m.SlotWindow.end_unit,
        )
        .where(m.SlotWindow.slot_id.in_(ids))
        .order_by(m.SlotWindow.slot_id, m.SlotWindow.position)
    ):  # fmt: skip
        windows[slot_id].append(Window(days_mask, start_unit, end_unit))
    first_day, _ = local_day_unit(start // UNIT_SECONDS)
    last_day, _ = local_day_unit(end // UNIT_SECONDS - 1)
    blackouts: dict[int, set[int]] = {i: set() for i in ids}
    for slot_id, day in session.execute(
        select(m.SlotBlackout.slot_id, m.SlotBlackout.local_day).where(
            m.SlotBlackout.slot_id.in_(ids), m.SlotBlackout.local_day.between(first_day, last_day)
        )
    ):
        blackouts[slot_id].add(day)
    # Only a cancellation frees the calendar on chain; settled and no-show leases keep their time.
    leased = set(
        session.scalars(
            select(m.Lease.slot_id).where(
                m.Lease.slot_id.in_(ids),
                m.Lease.status != "CANCELLED",
                m.Lease.start < end,
                m.Lease.end > start,
            )
        )
    )
    units = (end - start) // UNIT_SECONDS
    offers = []
    for slot in candidates:
        lat_s, lon_s = slot.lat_e6 / E6, slot.lon_e6 / E6
        distance = distance_m(lat, lon, lat_s, lon_s)
        if distance > radius_m or slot.slot_id in leased:
            continue
        if not covers(windows[slot.slot_id], start, end, blackouts[slot.slot_id]):
            continue
        offers.append(
            SlotOffer(
                slot.slot_id, slot.lot_id, slot.category, lat_s, lon_s, distance, units,
                units * slot.price_per_unit, slot.terms_version,
            )
        )  # fmt: skip
    return sorted(offers, key=lambda offer: (offer.distance_m, offer.slot_id))
