"""How long a registered vehicle is kept (the vehicle kind of the retention sweep,
citypass/core/retention.py; docs/privacy.md "How long each thing is kept"): its tags serve one
purpose, matching a camera's read against the lessee's leases in the months they were made for.
Once the last of those months has ended, `days_after_last_month` (1) later, the vehicle's data
key is destroyed and a deletion record kept; a vehicle with no tag left (every month past) is
due at once. A resident's own deletion (DELETE /v1/vehicles/{id}) shreds at once as a "request"
(api/vehicles/store.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine

from api.vehicles.store import KIND, VehicleStore
from citypass.core.retention import DAY, Due
from citypass.core.shredding import KeyTable
from citypass.core.timeunits import month_bounds

ORPHAN_KEY_SECONDS = DAY  # a key whose vehicle insert failed protects nothing
RULE = "vehicle_months_ended"


@dataclass
class VehicleRetention:
    engine: Engine
    keys: KeyTable
    days_after_last_month: float = 1
    kind: str = KIND

    def due(self, now: float) -> Iterator[Due]:
        store = VehicleStore(self.engine, self.keys)
        bound = set()
        for vehicle_id, key_id, registered_at, last_month in store.last_months():
            bound.add(key_id)
            ended = month_bounds(last_month)[1] if last_month else registered_at
            due_at = ended + self.days_after_last_month * DAY
            if due_at <= now:
                yield Due(str(vehicle_id), key_id, RULE, self.days_after_last_month, due_at)
        for key in self.keys.keys(KIND):
            if key.key_id not in bound and key.created_at + ORPHAN_KEY_SECONDS <= now:
                yield Due(f"key:{key.key_id}", key.key_id, "unbound_key", None,
                          key.created_at + ORPHAN_KEY_SECONDS, reason="orphan")  # fmt: skip

    def erase(self, due: Due) -> None:
        if not due.subject.startswith("key:"):
            VehicleStore(self.engine, self.keys).erase(int(due.subject))
