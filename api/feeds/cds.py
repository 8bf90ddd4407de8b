"""Curb Data Specification (CDS 1.0) Events API documents, from the read model.

- events: `park_start` / `park_end` from OccupancyOracle's SlotOccupancyChanged rows. When the
  same report also drove a lease (LeaseDriven: the sensor checked the lessee in or out), the
  event carries an `event_session_id` tying start and end to that lease, and the purpose
  `vehicle_parking`. The lease id itself and the lessee never appear (DESIGN §6).
- status: per curb space, the sensor watching it, whether it is commissioned (device active) and
  online (its slot is not UNKNOWN, i.e. a report observed it within heartbeat + margin), plus
  the space's occupancy now (CityPass extension fields, documented in docs/api.md).

Ids are name-based UUIDs (api/feeds/ids.py); times are integer milliseconds since the epoch.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.feeds import ids
from api.feeds.parking import ON_STREET_CATEGORIES, SpotState
from api.feeds.timefmt import millis
from indexer import models as m

CDS_VERSION = "1.0"
MEDIA_TYPE = f"application/vnd.cds+json;version={CDS_VERSION}"
TIME_ZONE = "Asia/Seoul"
CURRENCY = "KRW"
AUTHOR = "CityPass Ledger, Sangsalmi village (Bucheon)"
# DeviceRegistry kind → CDS data_source_type.
SOURCE_TYPE = {"MAGNETOMETER": "in_ground", "ULTRASONIC": "above_ground", "CAMERA": "camera"}


@dataclass(frozen=True)
class SlotPlace:
    slot_id: int
    curb_space_id: str
    curb_zone_id: str
    lat: float
    lon: float


def envelope(data: dict[str, Any], last_updated: int, links: dict[str, Any] | None = None) -> dict:
    body: dict[str, Any] = {
        "version": CDS_VERSION,
        "time_zone": TIME_ZONE,
        "last_updated": millis(last_updated),
        "currency": CURRENCY,
        "author": AUTHOR,
        "data": data,
    }
    if links is not None:
        body["links"] = links
    return body


def places(session: Session, chain_id: int) -> dict[int, SlotPlace]:
    """Every slot's curb space and zone UUIDs and position, by slot id."""
    result = {}
    for slot in session.scalars(select(m.Slot)).all():
        kind = "OnStreetParking" if slot.category in ON_STREET_CATEGORIES else "OffStreetParking"
        result[slot.slot_id] = SlotPlace(
            slot.slot_id,
            ids.curb_space_id(chain_id, slot.slot_id),
            ids.curb_zone_id(chain_id, kind, slot.lot_id),
            slot.lat_e6 / 1e6,
            slot.lon_e6 / 1e6,
        )
    return result


def devices_by_slot(session: Session) -> dict[int, m.Device]:
    """The device watching each slot (the lowest address when several do: a stable choice)."""
    rows = session.execute(
        select(m.DeviceSlot.slot_id, m.Device)
        .join(m.Device, m.Device.address == m.DeviceSlot.device)
        .order_by(m.DeviceSlot.slot_id, m.Device.address)
    ).all()
    chosen: dict[int, m.Device] = {}
    for slot_id, device in rows:
        chosen.setdefault(slot_id, device)
    return chosen


def _lease_sessions(session: Session, tx_hashes: set[str]) -> dict[tuple[str, int], int]:
    """(tx hash, slot id) → lease id for every LeaseDriven log in those transactions."""
    if not tx_hashes:
        return {}
    rows = session.scalars(
        select(m.RawLog).where(
            m.RawLog.contract == "OccupancyOracle",
            m.RawLog.event == "LeaseDriven",
            m.RawLog.tx_hash.in_(tx_hashes),
        )
    ).all()
    # LeaseDriven(uint256 indexed slotId, uint256 indexed leaseId, bool checkedIn)
    return {
        (r.tx_hash, int(r.topic1, 16)): int(r.topic2, 16) for r in rows if r.topic1 and r.topic2
    }


def _source(chain_id: int, device: m.Device | None, oracle_address: str) -> dict[str, Any]:
    if device is None:
        # No registered device watches the slot: the reports' signer quorum is the source.
        return {
            "data_source_type": "other",
            "data_source_device_id": ids.device_uuid(chain_id, oracle_address),
            "data_source_operator_name": "CityPass OccupancyOracle",
        }
    return {
        "data_source_type": SOURCE_TYPE.get(device.kind, "other"),
        "data_source_device_id": ids.device_uuid(chain_id, device.address),
        "data_source_operator_id": ids.operator_uuid(chain_id, device.operator),
    }


def events(
    session: Session,
    chain_id: int,
    oracle_address: str,
    start: int,
    end: int,
    *,
    slot_ids: set[int] | None,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], bool]:
    """Curb events observed in [start, end) (unix seconds), most recent first as CDS asks;
    (page, whether more follow)."""
    query = (
        select(m.SlotOccupancyChange, m.Block.timestamp)
        .join(m.Block, m.Block.number == m.SlotOccupancyChange.block_number)
        .where(m.SlotOccupancyChange.observed_at >= start, m.SlotOccupancyChange.observed_at < end)
        .order_by(
            m.SlotOccupancyChange.observed_at.desc(),
            m.SlotOccupancyChange.block_number.desc(),
            m.SlotOccupancyChange.log_index.desc(),
        )
    )
    if slot_ids is not None:
        query = query.where(m.SlotOccupancyChange.slot_id.in_(slot_ids))
    rows = session.execute(query.offset(offset).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    where = places(session, chain_id)
    devices = devices_by_slot(session)
    leases = _lease_sessions(session, {change.tx_hash for change, _ in rows})
    page = []
    for change, published in rows:
        place = where.get(change.slot_id)
        if place is None:  # a slot id the registry never registered: nothing to place it at
            continue
        event: dict[str, Any] = {
            "event_id": ids.stable_uuid(chain_id, "event", f"{change.tx_hash}:{change.log_index}"),
            "event_type": "park_start" if change.occupied else "park_end",
            "event_location": {
                "type": "Feature",
                "properties": {"timestamp": millis(change.observed_at)},
                "geometry": {"type": "Point", "coordinates": [place.lon, place.lat]},
            },
            "event_time": millis(change.observed_at),
            "event_publication_time": millis(published),
            "curb_zone_id": place.curb_zone_id,
            "curb_space_id": place.curb_space_id,
            **_source(chain_id, devices.get(change.slot_id), oracle_address),
        }
        lease = leases.get((change.tx_hash, change.slot_id))
        if lease is not None:
            event["event_session_id"] = ids.stable_uuid(chain_id, "lease-session", lease)
            event["event_purpose"] = "vehicle_parking"
        page.append(event)
    return page, more


def status(
    chain_id: int,
    spots: list[SpotState],
    devices: dict[int, m.Device],
    where: dict[int, SlotPlace],
    oracle_address: str,
) -> list[dict[str, Any]]:
    """One Status per curb space that a sensor watches or a report has observed."""
    entries = []
    for spot in spots:
        device = devices.get(spot.slot_id)
        if device is None and not spot.last_seen:
            continue
        place = where[spot.slot_id]
        entry: dict[str, Any] = {
            **_source(chain_id, device, oracle_address),
            "sensor_status_is_commissioned": bool(device.active) if device else True,
            # UNKNOWN means no report observed the slot within heartbeat + margin.
            "sensor_status_is_online": spot.reading != "unknown",
            # CityPass extensions: which space, and its occupancy now.
            "curb_space_id": place.curb_space_id,
            "curb_zone_id": place.curb_zone_id,
            "curb_space_occupancy": spot.status,
        }
        if spot.last_seen:
            entry["last_observed_time"] = millis(spot.last_seen)
        entries.append(entry)
    return entries


def group_by_zone(where: dict[int, SlotPlace]) -> dict[str, set[int]]:
    zones: dict[str, set[int]] = defaultdict(set)
    for place in where.values():
        zones[place.curb_zone_id].add(place.slot_id)
    return zones
