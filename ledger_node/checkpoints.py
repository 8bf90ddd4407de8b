"""The node's store of witnesses' co-signatures (docs/ledger-node.md, ## Witnesses).

Kept in journal.sqlite, on the journal's own connection: each co-signature is committed and
fsync'd (WAL, synchronous=FULL) before ledger_submitCosignature acknowledges it, and a backup
(SQLite's online backup of the journal) carries the co-signatures with the blocks they vouch for.

What is kept, per witness: its latest KEEP_LATEST co-signatures, and the first one in every span
of HISTORY_SPAN blocks. The latest ones show how closely each witness follows the chain; the one
per span keeps a co-signed checkpoint for every stretch of history, so an old backup can still be
checked against a witness (`ledger-node verify --checkpoint`). A witness that co-signs every block
costs at most KEEP_LATEST + head / HISTORY_SPAN rows (a few hundred bytes each), not one per block.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from citypass.protocol.checkpoints import Checkpoint, Cosignature
from ledger_node.integrity import RESTORE, IntegrityError
from ledger_node.journal import Journal

KEEP_LATEST = 100
HISTORY_SPAN = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS cosignatures (
    witness TEXT NOT NULL,
    number INTEGER NOT NULL,
    block_hash BLOB NOT NULL,
    state_root BLOB NOT NULL,
    journal_hash BLOB NOT NULL,
    signature BLOB NOT NULL,
    signed_at REAL NOT NULL,
    PRIMARY KEY (witness, number)
);
CREATE INDEX IF NOT EXISTS cosignatures_number ON cosignatures (number);
"""
_COLUMNS = "witness, number, block_hash, state_root, journal_hash, signature, signed_at"


@dataclass(frozen=True)
class Stored:
    """One accepted co-signature, with the checkpoint values it signed (the chain id is the
    node's own)."""

    witness: str
    number: int
    block_hash: bytes
    state_root: bytes
    journal_hash: bytes
    signature: bytes
    signed_at: float

    def cosignature(self) -> Cosignature:
        return Cosignature(self.witness, self.signature)

    def signed(self, checkpoint: Checkpoint) -> bool:
        """Whether this co-signature is over `checkpoint`'s values."""
        return (self.number, self.block_hash, self.state_root, self.journal_hash) == (
            checkpoint.number,
            checkpoint.block_hash,
            checkpoint.state_root,
            checkpoint.journal_hash,
        )


class CheckpointStore:
    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._db = journal.connection()
        self._db.executescript(SCHEMA)

    def add(self, checkpoint: Checkpoint, cosignature: Cosignature) -> Stored:
        """Commit (fsync'd) `cosignature`, already checked, and prune the witness's history.
        The same co-signature again changes nothing (the first one stays)."""
        now = time.time()
        with self._journal.transaction():
            self._db.execute(
                f"INSERT OR IGNORE INTO cosignatures ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    cosignature.witness,
                    checkpoint.number,
                    checkpoint.block_hash,
                    checkpoint.state_root,
                    checkpoint.journal_hash,
                    cosignature.signature,
                    now,
                ),
            )
            self._prune(cosignature.witness)
        stored = self.get(cosignature.witness, checkpoint.number)
        assert stored is not None  # committed just above, and never pruned (it is the latest)
        return stored

    def _prune(self, witness: str) -> None:
        self._db.execute(
            "DELETE FROM cosignatures WHERE witness = ?1 AND number NOT IN ("
            " SELECT number FROM cosignatures WHERE witness = ?1 ORDER BY number DESC LIMIT ?2"
            ") AND number NOT IN ("
            " SELECT MIN(number) FROM cosignatures WHERE witness = ?1 GROUP BY number / ?3)",
            (witness, KEEP_LATEST, HISTORY_SPAN),
        )

    def get(self, witness: str, number: int) -> Stored | None:
        row = self._db.execute(
            f"SELECT {_COLUMNS} FROM cosignatures WHERE witness = ? AND number = ?",
            (witness, number),
        ).fetchone()
        return _stored(row) if row else None

    def latest(self) -> dict[str, Stored]:
        """Every witness's latest co-signature (witnesses removed from the set included)."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM cosignatures AS c WHERE number = ("
            " SELECT MAX(number) FROM cosignatures WHERE witness = c.witness)"
        ).fetchall()
        return {row[0]: _stored(row) for row in rows}

    def at(self, number: int) -> list[Stored]:
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM cosignatures WHERE number = ? ORDER BY signed_at, witness",
            (number,),
        ).fetchall()
        return [_stored(row) for row in rows]

    def newest_number(self) -> int | None:
        row = self._db.execute("SELECT MAX(number) FROM cosignatures").fetchone()
        return None if row[0] is None else int(row[0])

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM cosignatures").fetchone()[0])


def _stored(row: tuple) -> Stored:
    witness, number, block_hash, state_root, journal_hash, signature, signed_at = row
    return Stored(
        str(witness),
        int(number),
        bytes(block_hash),
        bytes(state_root),
        bytes(journal_hash),
        bytes(signature),
        float(signed_at),
    )


def check_cosigned_within(journal: Journal, head: int) -> None:
    """On start: every kept co-signature must be of a block the journal holds, with the block
    hash and journal hash it records. A journal shortened or rewritten after witnesses co-signed
    it is refused, naming the witness (its co-signature is the evidence)."""
    db = journal.connection()
    try:
        rows = db.execute(f"SELECT {_COLUMNS} FROM cosignatures ORDER BY number DESC").fetchall()
    except sqlite3.OperationalError:  # a journal from before co-signatures: no table yet
        return
    for row in rows:
        stored = _stored(row)
        if stored.number > head:
            raise IntegrityError(
                f"the journal was shortened: it ends at block {head}, but witness "
                f"{stored.witness} co-signed block {stored.number}; {RESTORE}"
            )
        block = journal.block(stored.number)
        recorded = block.hash if block else journal.link(0)
        link = journal.link(stored.number)
        for field, own, signed in (
            ("block hash", recorded, stored.block_hash),
            ("journal hash", link, stored.journal_hash),
        ):
            if own != signed:
                raise IntegrityError(
                    f"the journal was rewritten: its {field} at block {stored.number} is "
                    f"0x{(own or b'').hex()}, but witness {stored.witness} co-signed "
                    f"0x{signed.hex()}; {RESTORE}"
                )
