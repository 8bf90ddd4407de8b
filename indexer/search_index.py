"""Slot search from memory: the answers of `search_slots` without a database round trip.

A `Snapshot` is an immutable picture of what search reads from the read model, as of one
indexed block (the cursor): every active slot with its position, price, the half-hours it
shares on each weekday (bit masks), its blackout days and its non-cancelled lease intervals
(sorted, for bisect), bucketed into 0.01° grid cells so a query looks only at nearby slots.

`SearchIndex` holds the current snapshot and replaces it when the cursor moves. A background
thread checks the cursor every `check_interval` seconds while searches come in (it rests after
`idle_after` seconds without one); when it moved, the index reads which
slots the new blocks touched (their ParkingSlots / LeaseMarket logs, which the read model keeps
per block) and reloads just those slots, all inside one read transaction so the new snapshot is
exactly the read model at the new cursor. Readers keep the previous snapshot until the new one
is swapped in (one attribute assignment), so requests never wait for a reload (only the first
search waits, for the first build). A search thus answers for the read model as it was at most
`check_interval` plus one refresh ago: the snapshot's `block` says which block that was.

Refresh costs, measured on a synthetic city-scale SQLite read model (10k slots, 100k leases;
CPU time on the 2-core dev machine): a full build reads ~200k rows and takes ~0.65 s, so it
runs only on the first search, when the read model was rebuilt under us, or when more than
FULL_BUILD_AFTER_LOGS relevant logs piled up. A block that books 50 leases and changes 10
slots' windows is patched in ~17 ms (an indexed range read of its logs, four `IN (ids)` reads,
and copying the slot map); the check when nothing moved is one cursor read, ~0.5 ms.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from typing import Any

from sqlalchemy import Connection, Engine, Row, select

from indexer import models as m
from indexer.search import E6, EARTH_RADIUS_M, SlotOffer, bounding_box_e6, check_query
from indexer.windows import (
    EPOCH_WEEKDAY,
    LOCAL_OFFSET_SECONDS,
    UNIT_SECONDS,
    UNITS_PER_DAY,
    Window,
    allowed_units,
)

log = logging.getLogger("indexer.search")

CHECK_INTERVAL_S = 0.1
# The refresher rests when nobody searched for this long (a busy booking hour with no searches
# should not pay for patching every block); the next search then refreshes before it answers.
IDLE_AFTER_S = 5.0
CELL_E6 = 10_000  # grid cell side: 0.01° (1.1 km north-south, 0.9 km east-west at 37.5° N)
FULL_BUILD_AFTER_LOGS = 20_000
IN_CHUNK = 500  # ids per `IN (...)`, well under every database's parameter limit
NO_BLOCK = -1

# The events that change what search reads (slot columns, windows, blackouts, lease intervals
# and whether a lease is cancelled), with the topic that names the slot or the lease.
SLOT_EVENTS = {"SlotRegistered", "TermsSet", "WindowsSet", "BlackoutSet", "SlotActiveSet"}
LEASE_EVENTS = {"LeaseBooked", "LeaseCancelled"}

Cell = tuple[int, int]


@dataclass(frozen=True, slots=True)
class IndexedSlot:
    slot_id: int
    lot_id: int
    category: str
    lat_e6: int
    lon_e6: int
    lat: float
    lon: float
    # radians(lat) and its cosine, computed once exactly as search.distance_m computes them.
    lat_rad: float
    cos_lat: float
    price_per_unit: int
    terms_version: int
    day_masks: tuple[int, ...]  # per weekday (Monday = 0): bit u set = half-hour u is shared
    blackout_days: frozenset[int]
    lease_starts: tuple[int, ...]  # non-cancelled leases, by start
    lease_reach: tuple[int, ...]  # running maximum of their ends (intervals may overlap)

    @property
    def cell(self) -> Cell:
        return self.lat_e6 // CELL_E6, self.lon_e6 // CELL_E6

    def leased_during(self, start: int, end: int) -> bool:
        """Whether a non-cancelled lease overlaps [start, end): one starts before `end` and
        (the latest-ending of those) ends after `start`."""
        before_end = bisect_left(self.lease_starts, end)
        return before_end > 0 and self.lease_reach[before_end - 1] > start


@dataclass(frozen=True)
class Snapshot:
    """The searchable read model as of block `block` (the cursor when it was read)."""

    block: int
    block_hash: str
    slots: dict[int, IndexedSlot]
    cells: dict[Cell, tuple[IndexedSlot, ...]]

    def search(
        self, lat: float, lon: float, radius_m: float, start: int, end: int
    ) -> list[SlotOffer]:
        """What `search_slots` answers for the read model at `block`."""
        return self.search_page(lat, lon, radius_m, start, end, None)[1]

    def search_page(
        self, lat: float, lon: float, radius_m: float, start: int, end: int, limit: int | None
    ) -> tuple[int, list[SlotOffer]]:
        """(how many slots are bookable, the nearest `limit` of them as offers)."""
        matches = self._matches(lat, lon, radius_m, start, end)
        units = (end - start) // UNIT_SECONDS
        offers = [
            SlotOffer(
                slot.slot_id, slot.lot_id, slot.category, slot.lat, slot.lon, distance, units,
                units * slot.price_per_unit, slot.terms_version,
            )
            for distance, _, slot in matches[:limit]
        ]  # fmt: skip
        return len(matches), offers

    def _matches(
        self, lat: float, lon: float, radius_m: float, start: int, end: int
    ) -> list[tuple[float, int, IndexedSlot]]:
        check_query(radius_m, start, end)
        lat_lo, lat_hi, lon_lo, lon_hi = bounding_box_e6(lat, lon, radius_m)
        needed = _needed_units(start, end)
        # search.distance_m inlined with the slot's side precomputed (same operations, same
        # order, so the same floats): it runs for every candidate in the box.
        lat1_rad = math.radians(lat)
        cos_lat1 = math.cos(lat1_rad)
        sin, asin, sqrt, radians = math.sin, math.asin, math.sqrt, math.radians
        diameter = 2 * EARTH_RADIUS_M
        matches = []
        # The hot loop of every search (each slot in the box): plain attribute reads, no
        # generators, the cheap tests first.
        for members in self._cells_over(lat_lo, lat_hi, lon_lo, lon_hi):
            for slot in members:
                if not (lat_lo <= slot.lat_e6 <= lat_hi and lon_lo <= slot.lon_e6 <= lon_hi):
                    continue
                dl = radians(slot.lon - lon)
                h = (
                    sin((slot.lat_rad - lat1_rad) / 2) ** 2
                    + cos_lat1 * slot.cos_lat * sin(dl / 2) ** 2
                )
                distance = diameter * asin(sqrt(h))
                if distance > radius_m or (slot.lease_starts and slot.leased_during(start, end)):
                    continue
                masks, blackouts = slot.day_masks, slot.blackout_days
                for day, weekday, need in needed:
                    if need & ~masks[weekday] or day in blackouts:
                        break
                else:
                    matches.append((distance, slot.slot_id, slot))
        # Nearest first, ties by slot id (ids are unique, so the slots themselves never compare).
        matches.sort()
        return matches

    def _cells_over(
        self, lat_lo: int, lat_hi: int, lon_lo: int, lon_hi: int
    ) -> list[tuple[IndexedSlot, ...]]:
        """The members of every grid cell the box overlaps."""
        rows = range(lat_lo // CELL_E6, lat_hi // CELL_E6 + 1)
        cols = range(lon_lo // CELL_E6, lon_hi // CELL_E6 + 1)
        if len(rows) * len(cols) > len(self.cells):  # a box wider than the city (near a pole)
            return list(self.cells.values())
        cells = self.cells
        return [cells[row, col] for row in rows for col in cols if (row, col) in cells]


def _needed_units(start: int, end: int) -> list[tuple[int, int, int]]:
    """(KST day, its weekday, mask of that day's half-hours) for every day [start, end) touches:
    windows.covers as masks, so a slot is checked with one AND per day instead of per unit."""
    days: dict[int, int] = {}
    for unit in range(start // UNIT_SECONDS, -(-end // UNIT_SECONDS)):
        day, offset = divmod(unit + LOCAL_OFFSET_SECONDS // UNIT_SECONDS, UNITS_PER_DAY)
        days[day] = days.get(day, 0) | 1 << offset
    return [(day, (day + EPOCH_WEEKDAY) % 7, mask) for day, mask in days.items()]


# ------------------------------------------------------------------------------- loading


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one committed state of the read model: the follower
    commits each block range with its cursor, so the cursor read here names what the rest
    shows. SQLite (WAL) needs an explicit BEGIN, as pysqlite does not begin before SELECTs;
    PostgreSQL needs REPEATABLE READ (its default isolation re-reads per statement)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        try:
            yield conn
        finally:
            conn.rollback()


def _cursor(conn: Connection) -> tuple[int, str]:
    row = conn.execute(
        select(m.Cursor.block_number, m.Cursor.block_hash).where(m.Cursor.id == 1)
    ).first()
    return (row.block_number, row.block_hash) if row else (NO_BLOCK, "")


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for i in range(0, len(ordered), IN_CHUNK):
        yield ordered[i : i + IN_CHUNK]


def _load_slots(conn: Connection, ids: Iterable[int] | None) -> dict[int, IndexedSlot]:
    """The active slots among `ids` (every slot when None), with everything search reads."""
    selections: list[list[int] | None] = [None] if ids is None else list(_chunks(ids))
    rows: list[Row[Any]] = []
    windows: dict[int, list[Window]] = {}
    blackouts: dict[int, set[int]] = {}
    leases: dict[int, list[tuple[int, int]]] = {}
    for chunk in selections:
        slots_q = select(
            m.Slot.slot_id, m.Slot.lot_id, m.Slot.category, m.Slot.lat_e6, m.Slot.lon_e6,
            m.Slot.price_per_unit, m.Slot.terms_version,
        ).where(m.Slot.active.is_(True))  # fmt: skip
        windows_q = select(
            m.SlotWindow.slot_id, m.SlotWindow.days_mask, m.SlotWindow.start_unit,
            m.SlotWindow.end_unit,
        ).order_by(m.SlotWindow.slot_id, m.SlotWindow.position)  # fmt: skip
        blackouts_q = select(m.SlotBlackout.slot_id, m.SlotBlackout.local_day)
        # Only a cancellation frees the calendar on chain; settled and no-show leases keep it.
        leases_q = (
            select(m.Lease.slot_id, m.Lease.start, m.Lease.end)
            .where(m.Lease.status != "CANCELLED")
            .order_by(m.Lease.slot_id, m.Lease.start)
        )
        if chunk is not None:
            slots_q = slots_q.where(m.Slot.slot_id.in_(chunk))
            windows_q = windows_q.where(m.SlotWindow.slot_id.in_(chunk))
            blackouts_q = blackouts_q.where(m.SlotBlackout.slot_id.in_(chunk))
            leases_q = leases_q.where(m.Lease.slot_id.in_(chunk))
        rows.extend(conn.execute(slots_q))
        for slot_id, days_mask, start_unit, end_unit in conn.execute(windows_q):
            windows.setdefault(slot_id, []).append((days_mask, start_unit, end_unit))
        for slot_id, day in conn.execute(blackouts_q):
            blackouts.setdefault(slot_id, set()).add(day)
        for slot_id, start, end in conn.execute(leases_q):
            leases.setdefault(slot_id, []).append((start, end))
    return {
        row.slot_id: _indexed_slot(
            row, windows.get(row.slot_id, []), blackouts.get(row.slot_id, set()),
            leases.get(row.slot_id, []),
        )
        for row in rows
    }  # fmt: skip


def _indexed_slot(
    row: Row[Any], windows: list[Window], blackouts: set[int], leases: list[tuple[int, int]]
) -> IndexedSlot:
    lat, lon = row.lat_e6 / E6, row.lon_e6 / E6
    lat_rad = math.radians(lat)
    masks = _day_masks(tuple(windows))
    return IndexedSlot(
        row.slot_id, row.lot_id, row.category, row.lat_e6, row.lon_e6, lat, lon, lat_rad,
        math.cos(lat_rad), row.price_per_unit, row.terms_version, masks, frozenset(blackouts),
        tuple(start for start, _ in leases), tuple(accumulate((end for _, end in leases), max)),
    )  # fmt: skip


@lru_cache(maxsize=4096)
def _day_masks(windows: tuple[Window, ...]) -> tuple[int, ...]:
    # Memoised: most slots of a city share a handful of window sets, and this is most of the
    # CPU of a full build otherwise.
    return tuple(sum(1 << unit for unit in allowed_units(windows, weekday)) for weekday in range(7))


def _touched_slots(conn: Connection, after: int, upto: int) -> set[int] | None:
    """Slots whose searchable state blocks after..upto changed, from the raw logs the read
    model keeps per block; None when there are too many to patch (a full build is cheaper)."""
    logs = conn.execute(
        select(m.RawLog.contract, m.RawLog.event, m.RawLog.topic1, m.RawLog.topic2)
        .where(
            m.RawLog.block_number > after,
            m.RawLog.block_number <= upto,
            m.RawLog.event.in_(SLOT_EVENTS | LEASE_EVENTS),
        )
        .limit(FULL_BUILD_AFTER_LOGS + 1)
    ).all()
    if len(logs) > FULL_BUILD_AFTER_LOGS:
        return None
    slots: set[int] = set()
    cancelled: set[int] = set()
    for contract, event, topic1, topic2 in logs:
        if contract == "ParkingSlots" and event in SLOT_EVENTS:
            slots.add(_topic_int(topic1))
        elif contract == "LeaseMarket" and event == "LeaseBooked":
            slots.add(_topic_int(topic2))
        elif contract == "LeaseMarket" and event == "LeaseCancelled":
            cancelled.add(_topic_int(topic1))
    for chunk in _chunks(cancelled):
        slots.update(conn.scalars(select(m.Lease.slot_id).where(m.Lease.lease_id.in_(chunk))).all())
    return slots


def _cells(slots: Iterable[IndexedSlot]) -> dict[Cell, tuple[IndexedSlot, ...]]:
    cells: dict[Cell, list[IndexedSlot]] = {}
    for slot in slots:
        cells.setdefault(slot.cell, []).append(slot)
    return {cell: tuple(members) for cell, members in cells.items()}


def build_snapshot(conn: Connection) -> Snapshot:
    """Every active slot, read in `conn`'s transaction."""
    block, block_hash = _cursor(conn)
    slots = _load_slots(conn, None)
    return Snapshot(block, block_hash, slots, _cells(slots.values()))


def patch_snapshot(old: Snapshot, conn: Connection) -> Snapshot | None:
    """`old` moved to the cursor `conn` sees, reloading only the slots the new blocks touched;
    None when it cannot be patched (the read model was rebuilt, or too much changed)."""
    block, block_hash = _cursor(conn)
    if block == old.block and block_hash == old.block_hash:
        return old
    if block < old.block:
        return None
    # The read model was rebuilt under us if the block we stood on now has another hash.
    known = conn.scalar(select(m.Block.hash).where(m.Block.number == old.block))
    if old.block != NO_BLOCK and known != old.block_hash:
        return None
    touched = _touched_slots(conn, old.block, block)
    if touched is None:
        return None
    if not touched:
        return Snapshot(block, block_hash, old.slots, old.cells)
    loaded = _load_slots(conn, touched)
    slots = {i: s for i, s in old.slots.items() if i not in touched}
    slots.update(loaded)
    cells = dict(old.cells)
    affected = {old.slots[i].cell for i in touched if i in old.slots}
    affected.update(slot.cell for slot in loaded.values())
    for cell in affected:
        members = [s for s in old.cells.get(cell, ()) if s.slot_id not in touched]
        members.extend(s for s in loaded.values() if s.cell == cell)
        if members:
            cells[cell] = tuple(members)
        else:
            cells.pop(cell, None)
    return Snapshot(block, block_hash, slots, cells)


# --------------------------------------------------------------------------------- index


@dataclass
class SearchIndex:
    """The current snapshot of one read model, refreshed by a background thread."""

    engine: Engine
    check_interval: float = CHECK_INTERVAL_S
    idle_after: float = IDLE_AFTER_S
    _snapshot: Snapshot | None = field(default=None, repr=False)
    _checked_at: float = field(default=-math.inf, repr=False)
    _used_at: float = field(default=-math.inf, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def current(self, max_age: float) -> Snapshot | None:
        """The snapshot, if the cursor was checked within `max_age` seconds; else None (the
        caller refreshes)."""
        now = time.monotonic()
        self._used_at = now
        if now - self._checked_at > max_age:
            return None
        return self._snapshot

    def refresh(self) -> Snapshot:
        """Bring the snapshot up to the read model's cursor (patched when it can be) and
        return it; one refresh at a time, readers keep the previous snapshot meanwhile."""
        with self._lock:
            checked = time.monotonic()
            started = time.perf_counter()
            with read_transaction(self.engine) as conn:
                old = self._snapshot
                new = patch_snapshot(old, conn) if old is not None else None
                kind = "patched"
                if new is None:
                    new, kind = build_snapshot(conn), "built"
            if new is not old:
                self._snapshot = new
                log.debug(
                    "search index %s", kind,
                    extra={"block": new.block, "slots": len(new.slots),
                           "ms": round((time.perf_counter() - started) * 1000, 2)},
                )  # fmt: skip
            self._checked_at = checked
            return new

    def start(self) -> None:
        """Keep the snapshot fresh from a daemon thread (idempotent)."""
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="search-index", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.check_interval):
            if time.monotonic() - self._used_at > self.idle_after:
                continue
            try:
                self.refresh()
            except Exception as exc:  # keep the previous snapshot; requests retry when stale
                log.warning("search index refresh failed", extra={"error": str(exc)})


def _topic_int(topic: str | None) -> int:
    """An indexed uint topic (0x-hex) as an int; these events always carry it."""
    if topic is None:
        raise ValueError("an indexed topic is missing from a slot or lease event")
    return int(topic, 16)
