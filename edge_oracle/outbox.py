"""The durable outbox: signed events waiting for the oracle daemon, in SQLite (WAL,
synchronous=FULL, so a committed event survives a power cut).

A device's next sequence number is taken, the event signed and inserted, the sensors' states
and the input position written, all in ONE transaction: a crash can neither reuse nor skip a
sequence number, nor re-read or lose an input line. Events leave the queue only when the daemon
has answered for them: delivered (accepted or duplicate) or dead-lettered with its reason."""

from __future__ import annotations

import base64
import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from citypass.core import sqlite_stores
from citypass.protocol.sensor_events import EventDomain, SensorEvent, SignedEvent, sign_event
from edge_oracle.devices import KeyRing
from edge_oracle.errors import OutboxError
from edge_oracle.normaliser import Draft, SensorState

PENDING, DELIVERED, DEAD = 0, 1, 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    wire TEXT NOT NULL,
    evidence BLOB,
    size INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    status INTEGER NOT NULL DEFAULT 0,
    settled_ms INTEGER,
    UNIQUE (device, sequence)
);
CREATE INDEX IF NOT EXISTS events_pending ON events (status, id);
CREATE TABLE IF NOT EXISTS sequences (device TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (
    event_row INTEGER PRIMARY KEY REFERENCES events (id),
    reason TEXT NOT NULL,
    message TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sensor_state (sensor TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS input_position (
    source TEXT PRIMARY KEY, line INTEGER NOT NULL, offset INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Several oracle daemons: which event each one has answered for (outcome 1 delivered, 2 dead).
-- An event leaves the queue (status) once every destination has answered.
CREATE TABLE IF NOT EXISTS destination_settled (
    destination TEXT NOT NULL,
    event_row INTEGER NOT NULL,
    outcome INTEGER NOT NULL,
    PRIMARY KEY (destination, event_row)
);
"""


@dataclass(frozen=True)
class Pending:
    row: int
    event_id: str
    wire: dict[str, Any]
    size: int
    created_ms: int


@dataclass(frozen=True)
class DeadLetter:
    event_id: str
    device: str
    sequence: int
    event_type: str
    reason: str
    message: str
    at_ms: int


class Outbox:
    """One connection; safe to share between threads (calls are serialised by a lock)."""

    def __init__(self, path: Path, domain: EventDomain | None = None) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            self.db = sqlite_stores.connect_durable(path, _SCHEMA, timeout=30)
        except sqlite3.DatabaseError as exc:
            raise OutboxError(
                f"{path} is not a usable SQLite outbox ({exc}); move it aside"
            ) from exc
        self.path = path
        self.lock = threading.Lock()
        # Set by set_destinations for several oracle daemons; empty: one, tracked by status.
        self.destinations: tuple[str, ...] = ()
        if domain is not None:
            self._check_domain(domain)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # ----------------------------------------------------------------------------- ingest side

    def append(
        self,
        drafts: Iterable[Draft],
        keys: KeyRing,
        domain: EventDomain,
        *,
        states: dict[str, SensorState] | None = None,
        positions: dict[str, tuple[int, int]] | None = None,
        now_ms: int | None = None,
    ) -> list[SignedEvent]:
        """Sequence, sign and store the drafts, with the sensors' states and the input positions,
        atomically. Drafts from sensors without a key raise OutboxError before anything is
        written."""
        drafts = list(drafts)
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        signed: list[SignedEvent] = []
        with sqlite_stores.immediate_transaction(self.db, self.lock):
            for draft in drafts:
                device = keys.for_sensor(draft.sensor)
                if device is None:
                    raise OutboxError(
                        f"no device key for sensor {draft.sensor!r}: add it to the devices file"
                    )
                sequence = self._next_sequence(device.address)
                event = SensorEvent(
                    device=device.address,
                    sequence=sequence,
                    event_type=draft.event_type,
                    source_type=draft.source_type,
                    slot_id=draft.slot_id,
                    event_time_ms=draft.event_time_ms,
                    occupied=draft.occupied,
                    confidence_bps=draft.confidence_bps,
                    lat_e6=draft.lat_e6,
                    lon_e6=draft.lon_e6,
                    vehicle_type=draft.vehicle_type,
                    evidence_hash=draft.evidence_hash,
                    plate_tag=draft.plate_tag,
                )
                item = sign_event(event, device.key, domain, draft.evidence)
                wire = replace(item, evidence=None).to_wire()
                text = json.dumps(wire, separators=(",", ":"))
                evidence_size = 0 if draft.evidence is None else (len(draft.evidence) + 2) // 3 * 4
                self.db.execute(
                    "INSERT INTO events (device, sequence, event_id, event_type, wire, evidence,"
                    " size, created_ms) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        event.device,
                        sequence,
                        wire["eventId"],
                        event.event_type,
                        text,
                        draft.evidence,
                        len(text) + evidence_size + 16,
                        now_ms,
                    ),
                )
                signed.append(item)
            for sensor, state in (states or {}).items():
                self.db.execute(
                    "INSERT OR REPLACE INTO sensor_state VALUES (?, ?)",
                    (sensor, json.dumps(state.to_json())),
                )
            for source, (line, offset) in (positions or {}).items():
                self.db.execute(
                    "INSERT OR REPLACE INTO input_position VALUES (?, ?, ?)",
                    (source, line, offset),
                )
        return signed

    def _next_sequence(self, device: str) -> int:
        row = self.db.execute("SELECT last FROM sequences WHERE device = ?", (device,)).fetchone()
        sequence = (row[0] if row else 0) + 1
        self.db.execute("INSERT OR REPLACE INTO sequences VALUES (?, ?)", (device, sequence))
        return sequence

    def states(self) -> dict[str, SensorState]:
        with self.lock:
            rows = self.db.execute("SELECT sensor, state FROM sensor_state").fetchall()
        return {sensor: SensorState.from_json(json.loads(text)) for sensor, text in rows}

    def position(self, source: str) -> tuple[int, int]:
        with self.lock:
            row = self.db.execute(
                "SELECT line, offset FROM input_position WHERE source = ?", (source,)
            ).fetchone()
        return (row[0], row[1]) if row else (0, 0)

    def positions(self) -> dict[str, int]:
        """Each input's lines taken so far (read and signed, or skipped), by source name:
        unlike the readings counter, this survives a restart."""
        with self.lock:
            rows = self.db.execute("SELECT source, line FROM input_position").fetchall()
        return {source: line for source, line in rows}

    # --------------------------------------------------------------------------- delivery side

    def set_destinations(self, destinations: Iterable[str]) -> None:
        """Deliver to several oracle daemons, each with its own progress: one that is down
        never holds the others back, and gets everything it missed when it is back."""
        found = tuple(destinations)
        self.destinations = found if len(found) > 1 else ()

    def pending(
        self, max_events: int, max_bytes: int, destination: str | None = None
    ) -> list[Pending]:
        """The oldest events not yet answered for (by `destination`, with several), in
        insertion (= per-device sequence) order, at most `max_events` and `max_bytes` (always
        at least one event)."""
        query = "SELECT id, event_id, wire, evidence, size, created_ms FROM events WHERE status = 0"
        params: tuple[Any, ...] = (max_events,)
        if self.destinations:
            query += (
                " AND NOT EXISTS (SELECT 1 FROM destination_settled s"
                " WHERE s.destination = ? AND s.event_row = events.id)"
            )
            params = (destination, max_events)
        with self.lock:
            rows = self.db.execute(query + " ORDER BY id LIMIT ?", params).fetchall()
        batch: list[Pending] = []
        total = 0
        for row, event_id, text, evidence, size, created_ms in rows:
            if batch and total + size > max_bytes:
                break
            wire = json.loads(text)
            if evidence is not None:
                wire["evidence"] = base64.b64encode(evidence).decode()
            batch.append(Pending(row, event_id, wire, size, created_ms))
            total += size
        return batch

    def mark_delivered(
        self, rows: list[int], now_ms: int | None = None, destination: str | None = None
    ) -> None:
        if not rows:
            return
        with self._settling(now_ms) as now:
            if self.destinations:
                self._settle_for(destination, rows, DELIVERED, now)
            else:
                self.db.executemany(
                    "UPDATE events SET status = 1, settled_ms = ? WHERE id = ? AND status = 0",
                    [(now, row) for row in rows],
                )
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('last_delivery_ms', ?)", (str(now),)
            )

    def dead_letter(
        self,
        items: list[tuple[int, str, str]],
        now_ms: int | None = None,
        destination: str | None = None,
    ) -> None:
        """(row, reason, message) for events the daemon refused for good."""
        if not items:
            return
        with self._settling(now_ms) as now:
            if self.destinations:
                self._settle_for(destination, [row for row, _r, _m in items], DEAD, now)
            for row, reason, message in items:
                if not self.destinations:
                    self.db.execute(
                        "UPDATE events SET status = 2, settled_ms = ? WHERE id = ? AND status = 0",
                        (now, row),
                    )
                where = f"{destination}: " if self.destinations else ""
                self.db.execute(
                    "INSERT OR REPLACE INTO dead_letters VALUES (?, ?, ?, ?)",
                    (row, reason, (where + message)[:1000], now),
                )

    @contextlib.contextmanager
    def _settling(self, now_ms: int | None) -> Iterator[int]:
        """One all-or-nothing transaction settling events at `now_ms` (default: now)."""
        with sqlite_stores.immediate_transaction(self.db, self.lock):
            yield now_ms if now_ms is not None else int(time.time() * 1000)

    def _settle_for(self, destination: str | None, rows: list[int], outcome: int, now: int) -> None:
        """Inside a transaction: `destination` answered for `rows`; an event every destination
        has answered for leaves the queue (delivered if any daemon took it, else dead)."""
        if destination not in self.destinations:
            raise OutboxError(f"{destination!r} is not one of the outbox's oracle daemons")
        self.db.executemany(
            "INSERT OR IGNORE INTO destination_settled VALUES (?, ?, ?)",
            [(destination, row, outcome) for row in rows],
        )
        marks = ",".join("?" * len(self.destinations))
        self.db.executemany(
            "UPDATE events SET settled_ms = ?, status = CASE WHEN EXISTS (SELECT 1 FROM "
            "destination_settled s WHERE s.event_row = events.id AND s.outcome = 1) THEN 1 "
            "ELSE 2 END WHERE id = ? AND status = 0 AND (SELECT count(*) FROM "
            f"destination_settled s WHERE s.event_row = events.id AND s.destination IN ({marks}))"
            " = ?",
            [(now, row, *self.destinations, len(self.destinations)) for row in rows],
        )

    # ------------------------------------------------------------------------------ reporting

    def depth(self, destination: str | None = None) -> int:
        """Events some oracle daemon (or `destination`, with several) has yet to answer for."""
        query = "SELECT COUNT(*) FROM events WHERE status = 0"
        params: tuple[str, ...] = ()
        if self.destinations and destination is not None:
            query += (
                " AND NOT EXISTS (SELECT 1 FROM destination_settled s"
                " WHERE s.destination = ? AND s.event_row = events.id)"
            )
            params = (destination,)
        with self.lock:
            return self.db.execute(query, params).fetchone()[0]

    def counts(self) -> dict[str, int]:
        with self.lock:
            rows = self.db.execute("SELECT status, COUNT(*) FROM events GROUP BY status").fetchall()
        by_status = dict(rows)
        return {
            "pending": by_status.get(PENDING, 0),
            "delivered": by_status.get(DELIVERED, 0),
            "deadLettered": by_status.get(DEAD, 0),
        }

    def last_delivery_ms(self) -> int | None:
        with self.lock:
            row = self.db.execute(
                "SELECT value FROM meta WHERE key = 'last_delivery_ms'"
            ).fetchone()
        return int(row[0]) if row else None

    def oldest_pending_ms(self) -> int | None:
        with self.lock:
            row = self.db.execute("SELECT MIN(created_ms) FROM events WHERE status = 0").fetchone()
        return row[0]

    def sequences(self) -> dict[str, int]:
        with self.lock:
            return dict(self.db.execute("SELECT device, last FROM sequences").fetchall())

    def dead_letters(self, limit: int = 20) -> list[DeadLetter]:
        with self.lock:
            rows = self.db.execute(
                "SELECT e.event_id, e.device, e.sequence, e.event_type, d.reason, d.message, d.at_ms"
                " FROM dead_letters d JOIN events e ON e.id = d.event_row"
                " ORDER BY d.event_row DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def _check_domain(self, domain: EventDomain) -> None:
        """Events already signed for one chain/registry must not be mixed with another's."""
        sqlite_stores.bind_deployment(
            self.db, self.lock, "domain", domain.chain_id, domain.registry,
            lambda bound, key: OutboxError(
                f"{self.path} holds events signed for chain:registry {bound}, not {key}:"
                " use another --data-dir or deliver the old outbox first"
            ),
        )  # fmt: skip
