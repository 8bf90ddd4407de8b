"""witness.sqlite: what the witness re-executed (each block's hash, journal hash and its own
state root), every checkpoint it co-signed, and the evidence of the histories it refused.

WAL with synchronous=FULL, like the journal: a co-signed head is on disk before the signature
leaves the process, so no restart can make the witness sign below it."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citypass.core.sqlite_stores import connect_durable, immediate_transaction
from citypass.protocol.checkpoints import Checkpoint, Cosignature

SCHEMA = """
CREATE TABLE IF NOT EXISTS executed (
    number INTEGER PRIMARY KEY,
    block_hash BLOB NOT NULL,
    journal_hash BLOB NOT NULL,
    state_root BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS cosigned (
    number INTEGER PRIMARY KEY,
    block_hash BLOB NOT NULL,
    journal_hash BLOB NOT NULL,
    state_root BLOB NOT NULL,
    signature BLOB NOT NULL,
    signed_at REAL NOT NULL,
    accepted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    number INTEGER NOT NULL,
    detected_at REAL NOT NULL,
    body TEXT NOT NULL
);
"""


class OlderThanCosigned(Exception):
    """A co-signature below the persisted co-signed head: never written."""


@dataclass(frozen=True)
class Executed:
    number: int
    block_hash: bytes
    journal_hash: bytes
    state_root: bytes


@dataclass(frozen=True)
class Cosigned:
    checkpoint: Checkpoint
    cosignature: Cosignature
    signed_at: float
    accepted: bool

    def to_json(self) -> dict[str, Any]:
        """The shape of the node's ledger_getCheckpoint, with this witness's signature only."""
        return {
            "checkpoint": self.checkpoint.to_json(),
            "cosignatures": [self.cosignature.to_json()],
        }


class WitnessStore:
    def __init__(self, path: Path, chain_id: int, witness: str) -> None:
        self.chain_id, self.witness = chain_id, witness
        self._lock = threading.Lock()
        self._db = connect_durable(path, SCHEMA)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------------------ executed

    def record_executed(self, rows: list[Executed]) -> None:
        with immediate_transaction(self._db, self._lock):
            self._db.executemany(
                "INSERT OR REPLACE INTO executed VALUES (?, ?, ?, ?)",
                [(r.number, r.block_hash, r.journal_hash, r.state_root) for r in rows],
            )

    def forget_executed_after(self, number: int) -> None:
        with immediate_transaction(self._db, self._lock):
            self._db.execute("DELETE FROM executed WHERE number > ?", (number,))

    def executed(self, number: int) -> Executed | None:
        row = self._db.execute(
            "SELECT number, block_hash, journal_hash, state_root FROM executed WHERE number = ?",
            (number,),
        ).fetchone()
        return Executed(int(row[0]), bytes(row[1]), bytes(row[2]), bytes(row[3])) if row else None

    # ------------------------------------------------------------------------------ cosigned

    def record_cosigned(self, checkpoint: Checkpoint, cosignature: Cosignature) -> Cosigned:
        """Persist (fsync'd) before the signature is handed to anyone; refuses to go below the
        newest co-signed block (the same block again is a no-op)."""
        with immediate_transaction(self._db, self._lock):
            latest = self._db.execute("SELECT MAX(number) FROM cosigned").fetchone()[0]
            if latest is not None and checkpoint.number < latest:
                raise OlderThanCosigned(f"older than the head I co-signed, {latest}")
            self._db.execute(
                "INSERT OR IGNORE INTO cosigned (number, block_hash, journal_hash, state_root,"
                " signature, signed_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    checkpoint.number,
                    checkpoint.block_hash,
                    checkpoint.journal_hash,
                    checkpoint.state_root,
                    cosignature.signature,
                    time.time(),
                ),
            )
        latest_row = self.latest_cosigned()
        assert latest_row is not None
        return latest_row

    def mark_accepted(self, number: int) -> None:
        with immediate_transaction(self._db, self._lock):
            self._db.execute("UPDATE cosigned SET accepted = 1 WHERE number = ?", (number,))

    def latest_cosigned(self) -> Cosigned | None:
        row = self._db.execute(
            "SELECT number, block_hash, journal_hash, state_root, signature, signed_at, accepted"
            " FROM cosigned ORDER BY number DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        number, block_hash, journal_hash, state_root, signature, signed_at, accepted = row
        checkpoint = Checkpoint(
            self.chain_id, int(number), bytes(block_hash), bytes(state_root), bytes(journal_hash)
        )
        return Cosigned(
            checkpoint, Cosignature(self.witness, bytes(signature)), signed_at, bool(accepted)
        )

    # ------------------------------------------------------------------------------ evidence

    def keep_evidence(self, kind: str, number: int, body: dict[str, Any]) -> dict[str, Any]:
        detected_at = time.time()
        record = {"kind": kind, "number": number, "detectedAt": int(detected_at), **body}
        with immediate_transaction(self._db, self._lock):
            self._db.execute(
                "INSERT INTO evidence (kind, number, detected_at, body) VALUES (?, ?, ?, ?)",
                (kind, number, detected_at, json.dumps(record)),
            )
        return record

    def evidence(self) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT body FROM evidence ORDER BY id").fetchall()
        return [json.loads(body) for (body,) in rows]
