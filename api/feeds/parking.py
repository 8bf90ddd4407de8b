"""Slots, their parking sites and their occupancy now: the facts the NGSI-LD and CDS feeds share.

Slots come from the read model; occupancy comes from OccupancyOracle's views, because only the
contract knows when a silent sensor's slot has turned UNKNOWN (heartbeat + margin without a
report), which no event announces.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.feeds.chain_reads import call_many
from api.ledger import Ledger
from indexer import models as m

# OccupancyOracle.SlotOccupancy → FIWARE ParkingSpot status.
OCCUPANCY_STATUS = ("free", "occupied", "unknown")
# Resident-priority spaces are marked bays on the street; lots and residents' own spaces are off
# the street (DESIGN §1).
ON_STREET_CATEGORIES = frozenset({"RESIDENT_PRIORITY"})


@dataclass(frozen=True)
class SpotState:
    slot_id: int
    lot_id: int
    category: str  # ParkingSlots category name
    lat: float
    lon: float
    active: bool
    reading: str  # what OccupancyOracle says now: free / occupied / unknown
    status: str  # the reading, or closed for a withdrawn (inactive) slot
    last_seen: int  # unix seconds of the last report that observed the slot; 0 = never

    @property
    def site_type(self) -> str:
        return "OnStreetParking" if self.category in ON_STREET_CATEGORIES else "OffStreetParking"

    @property
    def street_category(self) -> str:
        return "onStreet" if self.category in ON_STREET_CATEGORIES else "offStreet"


@dataclass(frozen=True)
class SiteState:
    site_type: str  # OffStreetParking / OnStreetParking
    lot_id: int
    spots: tuple[SpotState, ...]

    @property
    def total(self) -> int:
        """Spots offered now: withdrawn (closed) slots are not offered."""
        return sum(1 for s in self.spots if s.active)

    @property
    def available(self) -> int:
        return sum(1 for s in self.spots if s.status == "free")

    @property
    def occupied(self) -> int:
        return sum(1 for s in self.spots if s.status == "occupied")

    @property
    def centroid(self) -> tuple[float, float]:
        lat = sum(s.lat for s in self.spots) / len(self.spots)
        lon = sum(s.lon for s in self.spots) / len(self.spots)
        return round(lat, 6), round(lon, 6)

    @property
    def last_seen(self) -> int:
        return max(s.last_seen for s in self.spots)

    @property
    def categories(self) -> list[str]:
        return sorted({s.category for s in self.spots})


def read_spots(session: Session, ledger: Ledger) -> list[SpotState]:
    """Every registered slot with its occupancy now, by slot id."""
    slots = session.scalars(select(m.Slot).order_by(m.Slot.slot_id)).all()
    oracle = ledger.contracts["occupancy"].functions
    calls = []
    for slot in slots:
        calls.append(oracle.occupancyOf(slot.slot_id))
        calls.append(oracle.lastSeenOf(slot.slot_id))
    answers = call_many(ledger.w3, calls, what="slot occupancy")
    spots = []
    for index, slot in enumerate(slots):
        reading, last_seen = OCCUPANCY_STATUS[int(answers[2 * index])], int(answers[2 * index + 1])
        spots.append(
            SpotState(
                slot_id=slot.slot_id, lot_id=slot.lot_id, category=slot.category,
                lat=slot.lat_e6 / 1e6, lon=slot.lon_e6 / 1e6, active=slot.active,
                reading=reading, status=reading if slot.active else "closed",
                last_seen=last_seen,
            )
        )  # fmt: skip
    return spots


def group_sites(spots: list[SpotState]) -> list[SiteState]:
    """Spots grouped into parking sites by (site type, lot id), in a stable order."""
    groups: dict[tuple[str, int], list[SpotState]] = {}
    for spot in spots:
        groups.setdefault((spot.site_type, spot.lot_id), []).append(spot)
    return [
        SiteState(site_type, lot_id, tuple(members))
        for (site_type, lot_id), members in sorted(groups.items())
    ]
