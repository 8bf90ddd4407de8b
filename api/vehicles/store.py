"""Queries of the vehicles tables. The plate never reaches this module: callers pass the tags
(citypass/protocol/plate_tags), one per KST month."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Engine, delete, func, insert, select

from api.vehicles.tables import vehicle_tags, vehicles


@dataclass(frozen=True)
class Vehicle:
    vehicle_id: int
    address: str
    registered_at: float
    tags: dict[str, str]  # month 'YYYY-MM' → 0x tag


class VehicleStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def register(self, address: str, tags: dict[str, str], limit: int) -> tuple[Vehicle, bool]:
        """Store `tags` (month → tag, the first month the current one) for `address`.

        The same plate registered again by the same resident is the same vehicle: its tags are
        renewed (False: not created). Otherwise a new vehicle (True), unless the resident
        already has `limit` vehicles (LimitReached)."""
        first = min(tags)
        with self.engine.begin() as db:
            existing = db.execute(
                select(vehicle_tags.c.vehicle_id).where(
                    vehicle_tags.c.address == address,
                    vehicle_tags.c.month == first,
                    vehicle_tags.c.tag == tags[first],
                )
            ).scalar()
            created = existing is None
            if existing is None:
                count = db.execute(
                    select(func.count()).select_from(vehicles).where(vehicles.c.address == address)
                ).scalar_one()
                if count >= limit:
                    raise LimitReached(count)
                inserted = db.execute(
                    insert(vehicles).values(address=address, registered_at=time.time())
                )
                existing = int(inserted.inserted_primary_key[0])  # type: ignore[index]
            db.execute(delete(vehicle_tags).where(vehicle_tags.c.vehicle_id == existing))
            db.execute(
                insert(vehicle_tags),
                [
                    {"vehicle_id": existing, "month": m, "address": address, "tag": t}
                    for m, t in tags.items()
                ],
            )
        vehicle = self.get(address, int(existing))
        assert vehicle is not None  # written just above
        return vehicle, created

    def of(self, address: str) -> list[Vehicle]:
        with self.engine.connect() as db:
            rows = db.execute(
                select(vehicles)
                .where(vehicles.c.address == address)
                .order_by(vehicles.c.vehicle_id)
            ).all()
            tags = db.execute(
                select(vehicle_tags.c.vehicle_id, vehicle_tags.c.month, vehicle_tags.c.tag).where(
                    vehicle_tags.c.address == address
                )
            ).all()
        by_vehicle: dict[int, dict[str, str]] = {}
        for row in tags:
            by_vehicle.setdefault(row.vehicle_id, {})[row.month] = row.tag
        return [
            Vehicle(r.vehicle_id, r.address, r.registered_at,
                    dict(sorted(by_vehicle.get(r.vehicle_id, {}).items())))
            for r in rows
        ]  # fmt: skip

    def get(self, address: str, vehicle_id: int) -> Vehicle | None:
        return next((v for v in self.of(address) if v.vehicle_id == vehicle_id), None)

    def delete(self, address: str, vehicle_id: int) -> bool:
        """Delete one of `address`'s vehicles with its tags; False when it has none by that id."""
        with self.engine.begin() as db:
            owned = vehicles.c.vehicle_id == vehicle_id
            found = db.execute(
                select(vehicles.c.vehicle_id).where(owned, vehicles.c.address == address)
            ).scalar()
            if found is None:
                return False
            db.execute(delete(vehicle_tags).where(vehicle_tags.c.vehicle_id == vehicle_id))
            db.execute(delete(vehicles).where(owned))
        return True

    def tags_of(self, address: str, month: str) -> list[str]:
        """The tags of `address`'s vehicles in `month` (the oracle's lookup)."""
        with self.engine.connect() as db:
            return list(
                db.execute(
                    select(vehicle_tags.c.tag)
                    .where(vehicle_tags.c.address == address, vehicle_tags.c.month == month)
                    .order_by(vehicle_tags.c.tag)
                ).scalars()
            )

    def drop_before(self, month: str) -> int:
        """Delete the tags of months before `month` (they match nothing any more)."""
        with self.engine.begin() as db:
            return db.execute(delete(vehicle_tags).where(vehicle_tags.c.month < month)).rowcount


class LimitReached(Exception):
    """The resident already has the most vehicles allowed."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count
