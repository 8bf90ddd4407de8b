"""The private spots' rows: an owner sets (creates or replaces) her home space's exact spot and
instructions; the router reads them after api/record_access.py has let the reader in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, select

from api.errors import ApiError
from api.private_spots.tables import private_spots
from api.siwe.store import record_of, transaction, upsert_by_key

t = private_spots.c


class SpotStoreUnavailable(ApiError, status=503, code="spot_store_unavailable"):
    """The database holding the private spots cannot be reached: retry shortly."""


@dataclass(frozen=True)
class Spot:
    slot_id: int
    lat_e6: int
    lon_e6: int
    instructions: str
    owner: str
    updated_at: float


class SpotStore:
    """The rows, through one engine; `clock` stamps `updated_at` (Unix seconds)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    def put(self, slot_id: int, lat_e6: int, lon_e6: int, instructions: str, owner: str
            ) -> tuple[Spot, bool]:  # fmt: skip
        """Set the slot's spot (replacing it); answers the spot and whether it is new."""
        values = {"lat_e6": lat_e6, "lon_e6": lon_e6, "instructions": instructions,
                  "owner": owner, "updated_at": self._clock()}  # fmt: skip
        with transaction(self._engine, "store the spot", SpotStoreUnavailable) as conn:
            row, created = upsert_by_key(conn, private_spots, t.slot_id, slot_id, values)
        return record_of(Spot, row), created

    def get(self, slot_id: int) -> Spot | None:
        with transaction(self._engine, "read the spot", SpotStoreUnavailable) as conn:
            row = conn.execute(select(private_spots).where(t.slot_id == slot_id)).first()
        return record_of(Spot, row) if row else None
