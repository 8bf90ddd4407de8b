"""The durable inbox: accepted events, per-device sequence, reports and incidents in SQLite.

WAL with synchronous=FULL, one transaction per ingest request (group commit), written BEFORE
the HTTP reply, so an acknowledged event survives a crash. Aggregation state is checkpointed in
the same transaction that records a report, so a restart resumes exactly where it stopped."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citypass.core import sqlite_stores
from oracles.errors import InboxError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    row INTEGER PRIMARY KEY,
    event_id BLOB NOT NULL UNIQUE,
    digest BLOB NOT NULL,
    device TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    source_type TEXT NOT NULL,
    slot_id TEXT NOT NULL,
    event_time_ms INTEGER NOT NULL,
    occupied INTEGER NOT NULL,
    confidence_bps INTEGER NOT NULL,
    lat_e6 INTEGER NOT NULL,
    lon_e6 INTEGER NOT NULL,
    vehicle_type TEXT NOT NULL,
    evidence_hash BLOB NOT NULL,
    evidence_cid BLOB,
    received_ms INTEGER NOT NULL
);
-- Permanently refused events of known devices: they consume their sequence number (so the
-- device's next event is not a gap) and a re-send gets the same answer.
CREATE TABLE IF NOT EXISTS refused (
    event_id BLOB PRIMARY KEY, digest BLOB NOT NULL, reason TEXT NOT NULL, message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS device_sequence (device TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reports (
    sequence INTEGER PRIMARY KEY,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,           -- pending | confirmed
    tx_hash TEXT,
    gas_used INTEGER,
    created_ms INTEGER NOT NULL,
    confirmed_ms INTEGER
);
CREATE TABLE IF NOT EXISTS aggregation (id INTEGER PRIMARY KEY CHECK (id = 1),
    cursor INTEGER NOT NULL, snapshot TEXT NOT NULL);
-- Arrivals whose camera read a plate (only its keyed-hash tag): matched against the lessee of
-- the slot's lease (oracles/plates). state: pending | matched | checked_in | mismatch |
-- no_lease | no_evidence | no_api.
CREATE TABLE IF NOT EXISTS plate_reads (
    event_id BLOB PRIMARY KEY,
    tag BLOB NOT NULL,
    state TEXT NOT NULL,
    lease_id TEXT
);
CREATE TABLE IF NOT EXISTS incidents (
    event_id BLOB PRIMARY KEY,
    row INTEGER NOT NULL,
    state TEXT NOT NULL,           -- pending | filed | refused (by the chain; logged)
    tx_hash TEXT
);
"""


@dataclass(frozen=True)
class InboxEvent:
    row: int
    event_id: bytes
    device: str
    sequence: int
    event_type: str
    source_type: str
    slot_id: int
    event_time_ms: int
    occupied: bool
    confidence_bps: int
    lat_e6: int
    lon_e6: int
    evidence_hash: bytes
    evidence_cid: bytes | None


@dataclass(frozen=True)
class ReportRecord:
    sequence: int
    payload: dict[str, Any]
    state: str
    tx_hash: str | None


class Inbox:
    """One SQLite connection shared by threads under a lock (writes are short)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.lock = threading.Lock()
        self.ingest_lock = threading.Lock()  # held by verify across check and commit
        self.db = sqlite_stores.connect_durable(path, SCHEMA)

    def close(self) -> None:
        with self.lock:
            self.db.close()

    # ----------------------------------------------------------------------------- identity

    def bind(self, chain_id: int, registry: str) -> None:
        """Tie the inbox to one deployment: events signed for another never mix in."""
        sqlite_stores.bind_deployment(
            self.db, self.lock, "deployment", chain_id, registry,
            lambda bound, identity: InboxError(
                f"{self.path} belongs to deployment {bound}, not {identity}: use another "
                "data_dir for this deployment"
            ),
        )  # fmt: skip

    # ------------------------------------------------------------------------------ ingest

    def known(self, event_ids: Sequence[bytes]) -> dict[bytes, tuple[bytes, str | None, str]]:
        """For ids already seen: id → (digest, refusal reason or None if accepted, message)."""
        found: dict[bytes, tuple[bytes, str | None, str]] = {}
        with self.lock:
            for start in range(0, len(event_ids), 500):
                chunk = list(event_ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for eid, digest in self.db.execute(
                    f"SELECT event_id, digest FROM events WHERE event_id IN ({marks})", chunk
                ):
                    found[eid] = (digest, None, "")
                for eid, digest, reason, message in self.db.execute(
                    f"SELECT event_id, digest, reason, message FROM refused "
                    f"WHERE event_id IN ({marks})",
                    chunk,
                ):
                    found[eid] = (digest, reason, message)
        return found

    def last_sequences(self, devices: Iterable[str]) -> dict[str, int]:
        wanted = list(set(devices))
        out: dict[str, int] = {}
        with self.lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                out.update(
                    self.db.execute(
                        f"SELECT device, last FROM device_sequence WHERE device IN ({marks})",
                        chunk,
                    ).fetchall()
                )
        return out

    def commit_batch(
        self,
        accepted: Sequence[tuple[Any, ...]],
        refused: Sequence[tuple[bytes, bytes, str, str]],
        sequences: dict[str, int],
        incident_ids: Sequence[bytes],
        plate_reads: Sequence[tuple[bytes, bytes]] = (),
    ) -> None:
        """One durable transaction for a whole request. `plate_reads`: (event id, plate tag)
        of accepted arrivals whose camera read a plate."""
        now = int(time.time() * 1000)
        with sqlite_stores.immediate_transaction(self.db, self.lock):
            self.db.executemany(
                "INSERT INTO events (event_id, digest, device, sequence, event_type, "
                "source_type, slot_id, event_time_ms, occupied, confidence_bps, lat_e6, "
                "lon_e6, vehicle_type, evidence_hash, evidence_cid, received_ms) "
                f"VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,{now})",
                accepted,
            )
            self.db.executemany("INSERT INTO refused VALUES (?,?,?,?)", refused)
            self.db.executemany(
                "INSERT INTO device_sequence VALUES (?, ?) "
                "ON CONFLICT(device) DO UPDATE SET last = excluded.last",
                list(sequences.items()),
            )
            self.db.executemany(
                "INSERT INTO incidents (event_id, row, state) "
                "SELECT event_id, row, 'pending' FROM events WHERE event_id = ?",
                [(eid,) for eid in incident_ids],
            )
            self.db.executemany(
                "INSERT INTO plate_reads (event_id, tag, state) VALUES (?, ?, 'pending')",
                plate_reads,
            )

    # --------------------------------------------------------------------------- aggregation

    def checkpoint(self) -> tuple[int, dict[str, Any] | None]:
        with self.lock:
            row = self.db.execute("SELECT cursor, snapshot FROM aggregation").fetchone()
        return (0, None) if row is None else (row[0], json.loads(row[1]))

    def events_after(self, row: int, limit: int = 20_000) -> list[InboxEvent]:
        with self.lock:
            rows = self.db.execute(
                "SELECT row, event_id, device, sequence, event_type, source_type, slot_id, "
                "event_time_ms, occupied, confidence_bps, lat_e6, lon_e6, evidence_hash, "
                "evidence_cid FROM events WHERE row > ? ORDER BY row LIMIT ?",
                (row, limit),
            ).fetchall()
        return [
            InboxEvent(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7], bool(r[8]), *r[9:])
            for r in rows
        ]

    def depth(self) -> int:
        """Accepted events not yet folded into a recorded report."""
        cursor, _ = self.checkpoint()
        return self._number("SELECT count(*) FROM events WHERE row > ?", cursor)

    def record_report(
        self, payloads: Sequence[dict[str, Any]], cursor: int, snapshot: dict[str, Any]
    ) -> None:
        """The reports built from the events up to `cursor`, and the aggregator state after
        them, in one transaction (exactly once: either both or neither)."""
        now = int(time.time() * 1000)
        with sqlite_stores.immediate_transaction(self.db, self.lock):
            self.db.executemany(
                "INSERT INTO reports (sequence, payload, state, created_ms) "
                "VALUES (?, ?, 'pending', ?)",
                [(p["sequence"], json.dumps(p), now) for p in payloads],
            )
            self.db.execute(
                "INSERT INTO aggregation VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE "
                "SET cursor = excluded.cursor, snapshot = excluded.snapshot",
                (cursor, json.dumps(snapshot)),
            )

    # ------------------------------------------------------------------------------ reports

    def pending_reports(self) -> list[ReportRecord]:
        with self.lock:
            rows = self.db.execute(
                "SELECT sequence, payload, state, tx_hash FROM reports WHERE state = 'pending' "
                "ORDER BY sequence"
            ).fetchall()
        return [ReportRecord(r[0], json.loads(r[1]), r[2], r[3]) for r in rows]

    def last_report_sequence(self) -> int:
        return self._number("SELECT max(sequence) FROM reports")

    def last_observed_at(self) -> int:
        return self._number("SELECT max(json_extract(payload, '$.observedAt')) FROM reports")

    def last_confirmed_sequence(self) -> int:
        return self._number("SELECT max(sequence) FROM reports WHERE state = 'confirmed'")

    def report_payload(self, sequence: int, payload: dict[str, Any]) -> None:
        with self.lock:
            self.db.execute(
                "UPDATE reports SET payload = ? WHERE sequence = ? AND state = 'pending'",
                (json.dumps(payload), sequence),
            )

    def rebase_reports(
        self,
        landed: Sequence[tuple[int, dict[str, Any], str]],
        dropped: Sequence[int],
        payloads: Sequence[dict[str, Any]],
    ) -> None:
        """After another daemon's report took some of our sequences (oracles/quorum.py): record
        the landed ones (sequence, report, tx hash) as confirmed, drop our pending `dropped`
        and record `payloads` (renumbered after the chain) in their place, in one transaction."""
        now = int(time.time() * 1000)
        with sqlite_stores.immediate_transaction(self.db, self.lock):
            self.db.executemany(
                "DELETE FROM reports WHERE state = 'pending' AND sequence = ?",
                [(seq,) for seq in dropped],
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO reports (sequence, payload, state, tx_hash, created_ms, "
                "confirmed_ms) VALUES (?, ?, 'confirmed', ?, ?, ?)",
                [(seq, json.dumps(p), tx, now, now) for seq, p, tx in landed],
            )
            self.db.executemany(
                "INSERT INTO reports (sequence, payload, state, created_ms) "
                "VALUES (?, ?, 'pending', ?)",
                [(p["sequence"], json.dumps(p), now) for p in payloads],
            )

    def report_sent(self, sequence: int, tx_hash: str) -> None:
        with self.lock:
            self.db.execute(
                "UPDATE reports SET tx_hash = ? WHERE sequence = ?", (tx_hash, sequence)
            )

    def report_confirmed(self, sequence: int, tx_hash: str | None, gas_used: int | None) -> None:
        with self.lock:
            self.db.execute(
                "UPDATE reports SET state = 'confirmed', tx_hash = coalesce(?, tx_hash), "
                "gas_used = ?, confirmed_ms = ? WHERE sequence = ?",
                (tx_hash, gas_used, int(time.time() * 1000), sequence),
            )

    # ----------------------------------------------------------------------------- incidents

    def pending_incidents(self, limit: int) -> list[InboxEvent]:
        with self.lock:
            rows = self.db.execute(
                "SELECT e.row, e.event_id, e.device, e.sequence, e.event_type, e.source_type, "
                "e.slot_id, e.event_time_ms, e.occupied, e.confidence_bps, e.lat_e6, e.lon_e6, "
                "e.evidence_hash, e.evidence_cid FROM incidents i JOIN events e "
                "ON e.event_id = i.event_id WHERE i.state = 'pending' ORDER BY i.row LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            InboxEvent(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7], bool(r[8]), *r[9:])
            for r in rows
        ]

    def awaiting_evidence(self) -> set[bytes]:
        """The evidence hashes of events that may still become incidents on chain: incidents
        not filed yet and plate reads not matched yet (the retention sweep keeps their evidence:
        it is not unanchored, its incident is on its way)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT e.evidence_hash FROM incidents i JOIN events e ON e.event_id = i.event_id "
                "WHERE i.state = 'pending' UNION SELECT e.evidence_hash FROM plate_reads p "
                "JOIN events e ON e.event_id = p.event_id WHERE p.state = 'pending'"
            ).fetchall()
        return {bytes(row[0]) for row in rows}

    def incidents_filed(self, event_ids: Sequence[bytes], tx_hash: str) -> None:
        with self.lock:
            self.db.executemany(
                "UPDATE incidents SET state = 'filed', tx_hash = ? WHERE event_id = ?",
                [(tx_hash, eid) for eid in event_ids],
            )

    def incident_refused(self, event_id: bytes) -> None:
        with self.lock:
            self.db.execute(
                "UPDATE incidents SET state = 'refused' WHERE event_id = ?", (event_id,)
            )

    def file_incident(self, event_id: bytes) -> None:
        """Queue an accepted event as an incident (a plate that matched no lessee)."""
        with self.lock:
            self.db.execute(
                "INSERT OR IGNORE INTO incidents (event_id, row, state) "
                "SELECT event_id, row, 'pending' FROM events WHERE event_id = ?",
                (event_id,),
            )

    # --------------------------------------------------------------------------- plate reads

    def pending_plate_reads(self, limit: int) -> list[tuple[InboxEvent, bytes]]:
        """Arrivals with a plate tag not matched yet, oldest first, with their tag."""
        with self.lock:
            rows = self.db.execute(
                "SELECT e.row, e.event_id, e.device, e.sequence, e.event_type, e.source_type, "
                "e.slot_id, e.event_time_ms, e.occupied, e.confidence_bps, e.lat_e6, e.lon_e6, "
                "e.evidence_hash, e.evidence_cid, p.tag FROM plate_reads p JOIN events e "
                "ON e.event_id = p.event_id WHERE p.state = 'pending' ORDER BY e.row LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            (InboxEvent(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), r[7], bool(r[8]),
                        *r[9:14]), r[14])
            for r in rows
        ]  # fmt: skip

    def plate_read_done(self, event_id: bytes, state: str, lease_id: int | None) -> None:
        with self.lock:
            self.db.execute(
                "UPDATE plate_reads SET state = ?, lease_id = ? WHERE event_id = ?",
                (state, None if lease_id is None else str(lease_id), event_id),
            )

    def plate_outcomes(self) -> dict[str, int]:
        with self.lock:
            return dict(
                self.db.execute("SELECT state, count(*) FROM plate_reads GROUP BY state").fetchall()
            )

    def incident_backlog(self) -> int:
        return self._number("SELECT count(*) FROM incidents WHERE state = 'pending'")

    def _number(self, query: str, *params: Any) -> int:
        """The one number an aggregate query (count, max) answers; 0 for an empty table."""
        with self.lock:
            row = self.db.execute(query, params).fetchone()
        return int(row[0] or 0)
