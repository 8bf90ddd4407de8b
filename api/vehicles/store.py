"""Queries of the vehicles tables. The plate never reaches this module: callers pass the tags
(citypass/protocol/plate_tags), one per KST month. Each vehicle's tags are sealed under its own
data key in the API's key table (citypass/core/shredding.py), so deleting a vehicle, on the
resident's request or by the retention sweep (api/vehicles/retention.py), destroys its key and
leaves only undecryptable bytes in the database and its backups."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, func, insert, select

from api.vehicles.tables import vehicle_tags, vehicles
from citypass.core.shredding import KeyTable, decrypt, encrypt

KIND = "vehicle"  # in the key table and the deletion records


@dataclass(frozen=True)
class Vehicle:
    vehicle_id: int
    address: str
    registered_at: float
    tags: dict[str, str]  # month 'YYYY-MM' → 0x tag


class VehicleStore:
    def __init__(self, engine: Engine, keys: KeyTable) -> None:
        self.engine = engine
        self.keys = keys

    # --------------------------------------------------------------------------- sealing

    def _seal(self, key: bytes, key_id: str, month: str, tag: str) -> bytes:
        # The month is bound in as associated data: a sealed tag cannot be moved to another month.
        return encrypt(key, bytes.fromhex(tag[2:]), f"{key_id}|{month}".encode())

    def _open(self, key_id: str, month: str, sealed: bytes) -> str | None:
        key = self.keys.key(KIND, key_id)
        if key is None:  # shredded: the row is noise until the sweep removes it
            return None
        return "0x" + decrypt(key, bytes(sealed), f"{key_id}|{month}".encode()).hex()

    def _tags(self, db: Connection, address: str, month: str | None = None) -> list[tuple]:
        """(vehicle_id, month, tag) of `address`'s vehicles whose keys still exist."""
        query = (
            select(
                vehicles.c.vehicle_id,
                vehicles.c.key_id,
                vehicle_tags.c.month,
                vehicle_tags.c.sealed_tag,
            )  # fmt: skip
            .join(vehicle_tags, vehicle_tags.c.vehicle_id == vehicles.c.vehicle_id)
            .where(vehicles.c.address == address)
        )
        if month is not None:
            query = query.where(vehicle_tags.c.month == month)
        opened = []
        for row in db.execute(query):
            tag = self._open(row.key_id, row.month, row.sealed_tag)
            if tag is not None:
                opened.append((row.vehicle_id, row.month, tag))
        return opened

    # --------------------------------------------------------------------------- writing

    def register(self, address: str, tags: dict[str, str], limit: int) -> tuple[Vehicle, bool]:
        """Store `tags` (month → tag, the first month the current one) for `address`.

        The same plate registered again by the same resident is the same vehicle: its tags are
        renewed (False: not created). Otherwise a new vehicle (True), unless the resident
        already has `limit` vehicles (LimitReached)."""
        first = min(tags)
        with self.engine.begin() as db:
            existing = next(
                (v for v, _m, tag in self._tags(db, address, first) if tag == tags[first]), None
            )
            created = existing is None
            if existing is None:
                count = db.execute(
                    select(func.count()).select_from(vehicles).where(vehicles.c.address == address)
                ).scalar_one()
                if count >= limit:
                    raise LimitReached(count)
                # Committed before anything is sealed under it (KeyTable.create); a crash before
                # the insert leaves an unbound key, which the sweep removes as an orphan.
                key = self.keys.create(KIND)
                inserted = db.execute(
                    insert(vehicles).values(
                        address=address, registered_at=time.time(), key_id=key.key_id
                    )
                )
                existing = int(inserted.inserted_primary_key[0])  # type: ignore[index]
                self.keys.bind(KIND, key.key_id, str(existing))
                key_id, raw = key.key_id, key.key
            else:
                key_id = db.execute(
                    select(vehicles.c.key_id).where(vehicles.c.vehicle_id == existing)
                ).scalar_one()
                kept = self.keys.key(KIND, key_id)
                assert kept is not None  # its tags were just opened with it
                raw = kept
            db.execute(delete(vehicle_tags).where(vehicle_tags.c.vehicle_id == existing))
            db.execute(
                insert(vehicle_tags),
                [
                    {
                        "vehicle_id": existing,
                        "month": m,
                        "address": address,
                        "sealed_tag": self._seal(raw, key_id, m, t),
                    }  # fmt: skip
                    for m, t in tags.items()
                ],
            )
        vehicle = self.get(address, int(existing))
        assert vehicle is not None  # written just above
        return vehicle, created

    def delete(self, address: str, vehicle_id: int) -> bool:
        """Shred one of `address`'s vehicles on her request (its key destroyed and a deletion
        record kept, then its rows deleted); False when she has none by that id."""
        with self.engine.connect() as db:
            key_id = db.execute(
                select(vehicles.c.key_id).where(
                    vehicles.c.vehicle_id == vehicle_id, vehicles.c.address == address
                )
            ).scalar()
        if key_id is None:
            return False
        self.keys.shred(KIND, key_id, str(vehicle_id), reason="request",
                        rule="resident_deleted_vehicle", period_days=None)  # fmt: skip
        self.erase(vehicle_id)
        return True

    def erase(self, vehicle_id: int) -> None:
        """Remove a shredded vehicle's rows (best effort after its key is gone)."""
        with self.engine.begin() as db:
            db.execute(delete(vehicle_tags).where(vehicle_tags.c.vehicle_id == vehicle_id))
            db.execute(delete(vehicles).where(vehicles.c.vehicle_id == vehicle_id))

    def drop_before(self, month: str) -> int:
        """Delete the tags of months before `month` (they match nothing any more)."""
        with self.engine.begin() as db:
            return db.execute(delete(vehicle_tags).where(vehicle_tags.c.month < month)).rowcount

    # --------------------------------------------------------------------------- reading

    def of(self, address: str) -> list[Vehicle]:
        with self.engine.connect() as db:
            rows = db.execute(
                select(vehicles)
                .where(vehicles.c.address == address)
                .order_by(vehicles.c.vehicle_id)
            ).all()
            tags = self._tags(db, address)
        by_vehicle: dict[int, dict[str, str]] = {}
        for vehicle_id, month, tag in tags:
            by_vehicle.setdefault(vehicle_id, {})[month] = tag
        return [
            Vehicle(r.vehicle_id, r.address, r.registered_at,
                    dict(sorted(by_vehicle.get(r.vehicle_id, {}).items())))
            for r in rows
            if self.keys.key(KIND, r.key_id) is not None
        ]  # fmt: skip

    def get(self, address: str, vehicle_id: int) -> Vehicle | None:
        return next((v for v in self.of(address) if v.vehicle_id == vehicle_id), None)

    def tags_of(self, address: str, month: str) -> list[str]:
        """The tags of `address`'s vehicles in `month` (the oracle's lookup)."""
        with self.engine.connect() as db:
            return sorted(tag for _v, _m, tag in self._tags(db, address, month))

    def last_months(self) -> list[tuple[int, str, float, str | None]]:
        """(vehicle_id, key_id, registered_at, its last tagged month or None), for the sweep."""
        with self.engine.connect() as db:
            rows = db.execute(
                select(
                    vehicles.c.vehicle_id,
                    vehicles.c.key_id,
                    vehicles.c.registered_at,
                    func.max(vehicle_tags.c.month),
                )  # fmt: skip
                .outerjoin(vehicle_tags, vehicle_tags.c.vehicle_id == vehicles.c.vehicle_id)
                .group_by(vehicles.c.vehicle_id, vehicles.c.key_id, vehicles.c.registered_at)
            ).all()
        return [(int(r[0]), r[1], float(r[2]), r[3]) for r in rows]


class LimitReached(Exception):
    """The resident already has the most vehicles allowed."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count
