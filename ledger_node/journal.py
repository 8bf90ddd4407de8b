"""The crash-safe journal: every accepted raw transaction and every sealed block, in SQLite.

WAL mode with synchronous=FULL: a commit returns only after the write-ahead log is fsync'd, so a
transaction hash handed to a client always survives a crash. A batch of transactions is one
commit (group commit).

Each recorded block also extends the journal's hash chain (citypass/protocol/checkpoints.py) in
the same commit: `links` holds journalHash(n) for every block, row 0 the genesis hash.
ledger_node/journal_chain.py backfills and checks it; witnesses co-sign it.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from citypass.core.files import size_or_zero
from citypass.core.sqlite_stores import connect_durable
from citypass.protocol.checkpoints import journal_link

SCHEMA = """
CREATE TABLE IF NOT EXISTS txs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    hash BLOB NOT NULL UNIQUE,
    raw BLOB NOT NULL,
    sender BLOB NOT NULL,
    nonce INTEGER NOT NULL,
    received_at REAL NOT NULL,
    block INTEGER
);
CREATE INDEX IF NOT EXISTS txs_pending ON txs (block) WHERE block IS NULL;
CREATE TABLE IF NOT EXISTS blocks (
    number INTEGER PRIMARY KEY,
    timestamp INTEGER NOT NULL,
    hash BLOB NOT NULL,
    parent_hash BLOB NOT NULL,
    tx_hashes BLOB NOT NULL,
    seal BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS snapshots (
    block INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    number INTEGER PRIMARY KEY,
    link BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class JournalTx:
    hash: bytes
    raw: bytes
    sender: bytes
    nonce: int


@dataclass(frozen=True)
class JournalBlock:
    number: int
    timestamp: int
    hash: bytes
    parent_hash: bytes
    tx_hashes: tuple[bytes, ...]
    seal: bytes


@dataclass(frozen=True)
class Snapshot:
    block: int
    path: str
    hash: bytes


class Journal:
    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            uri = f"file:{path}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            self._db = connect_durable(path, SCHEMA)

    def close(self) -> None:
        self._db.close()

    # ------------------------------------------------------------------ writes (each is fsync'd)

    def append_txs(self, txs: Iterable[JournalTx]) -> None:
        """Group commit: all of `txs` become durable together, before any hash is returned."""
        now = time.time()
        rows = [(tx.hash, tx.raw, tx.sender, tx.nonce, now) for tx in txs]
        if not rows:
            return
        with self.transaction():
            self._db.executemany(
                "INSERT OR IGNORE INTO txs (hash, raw, sender, nonce, received_at) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def record_block(self, block: JournalBlock) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT INTO blocks (number, timestamp, hash, parent_hash, tx_hashes, seal) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    block.number,
                    block.timestamp,
                    block.hash,
                    block.parent_hash,
                    b"".join(block.tx_hashes),
                    block.seal,
                ),
            )
            self._db.executemany(
                "UPDATE txs SET block = ? WHERE hash = ?",
                [(block.number, h) for h in block.tx_hashes],
            )
            previous = self.link(block.number - 1)
            # Without the previous link (a journal not yet backfilled) the next start's backfill
            # links this block: recording a block never waits for the chain.
            if previous is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO links (number, link) VALUES (?, ?)",
                    (block.number, journal_link(previous, block.number, block.hash, block.seal)),
                )

    def store_links(self, rows: list[tuple[int, bytes]]) -> None:
        """Backfilled links (journal_chain.py), in one commit."""
        with self.transaction():
            self._db.executemany("INSERT OR REPLACE INTO links (number, link) VALUES (?, ?)", rows)

    def forget_txs(self, hashes: Iterable[bytes]) -> None:
        """Remove accepted-but-unsealed transactions the engine refused, so recovery does not
        replay them and a resubmission is judged afresh."""
        rows = [(h,) for h in hashes]
        if not rows:
            return
        with self.transaction():
            self._db.executemany("DELETE FROM txs WHERE hash = ? AND block IS NULL", rows)

    def record_snapshot(self, snapshot: Snapshot) -> None:
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO snapshots (block, path, hash) VALUES (?, ?, ?)",
                (snapshot.block, snapshot.path, snapshot.hash),
            )

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # ----------------------------------------------------------------------------------- reads

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def link(self, number: int) -> bytes | None:
        """journalHash(number) as stored, or None (not linked yet, or a journal from before)."""
        try:
            row = self._db.execute("SELECT link FROM links WHERE number = ?", (number,)).fetchone()
        except sqlite3.OperationalError:  # read-only open of a journal without the table
            return None
        return bytes(row[0]) if row else None

    def stored_links(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        """Up to `limit` (number, link) stored above `after`, in order."""
        try:
            rows = self._db.execute(
                "SELECT number, link FROM links WHERE number > ? ORDER BY number LIMIT ?",
                (after, limit),
            ).fetchall()
        except sqlite3.OperationalError:  # read-only open of a journal without the table
            return []
        return [(int(number), bytes(link)) for number, link in rows]

    def head(self) -> JournalBlock | None:
        row = self._db.execute(
            "SELECT number, timestamp, hash, parent_hash, tx_hashes, seal FROM blocks ORDER BY number DESC LIMIT 1"
        ).fetchone()
        return _block(row) if row else None

    def block(self, number: int) -> JournalBlock | None:
        row = self._db.execute(
            "SELECT number, timestamp, hash, parent_hash, tx_hashes, seal FROM blocks WHERE number = ?",
            (number,),
        ).fetchone()
        return _block(row) if row else None

    def blocks_after(self, number: int) -> Iterator[JournalBlock]:
        cursor = self._db.execute(
            "SELECT number, timestamp, hash, parent_hash, tx_hashes, seal FROM blocks WHERE number > ? ORDER BY number",
            (number,),
        )
        for row in cursor:
            yield _block(row)

    def block_count_after(self, number: int) -> int:
        return int(
            self._db.execute("SELECT COUNT(*) FROM blocks WHERE number > ?", (number,)).fetchone()[
                0
            ]
        )

    def raw_txs(self, hashes: Iterable[bytes]) -> list[bytes]:
        """The raw transactions for `hashes`, in that order; raises KeyError for a missing one."""
        wanted = list(hashes)
        if not wanted:
            return []
        found: dict[bytes, bytes] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for tx_hash, raw in self._db.execute(
                f"SELECT hash, raw FROM txs WHERE hash IN ({marks})", chunk
            ):
                found[bytes(tx_hash)] = bytes(raw)
        return [found[h] for h in wanted]

    def pending_txs(self) -> list[JournalTx]:
        rows = self._db.execute(
            "SELECT hash, raw, sender, nonce FROM txs WHERE block IS NULL ORDER BY seq"
        ).fetchall()
        return [JournalTx(bytes(h), bytes(r), bytes(s), int(n)) for h, r, s, n in rows]

    def pending_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM txs WHERE block IS NULL").fetchone()[0])

    def known_txs(self, hashes: list[bytes]) -> set[bytes]:
        """Which of `hashes` the journal holds (one query per 500)."""
        found: set[bytes] = set()
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(
                bytes(row[0])
                for row in self._db.execute(f"SELECT hash FROM txs WHERE hash IN ({marks})", chunk)
            )
        return found

    def tx_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM txs").fetchone()[0])

    def latest_snapshot(self, at_most: int) -> Snapshot | None:
        row = self._db.execute(
            "SELECT block, path, hash FROM snapshots WHERE block <= ? ORDER BY block DESC LIMIT 1",
            (at_most,),
        ).fetchone()
        return Snapshot(int(row[0]), str(row[1]), bytes(row[2])) if row else None

    def snapshots(self) -> list[Snapshot]:
        rows = self._db.execute(
            "SELECT block, path, hash FROM snapshots ORDER BY block DESC"
        ).fetchall()
        return [Snapshot(int(b), str(p), bytes(h)) for b, p, h in rows]

    def size_bytes(self) -> int:
        return sum(size_or_zero(Path(f"{self.path}{suffix}")) for suffix in ("", "-wal", "-shm"))

    def connection(self) -> sqlite3.Connection:
        """The journal's connection, for the stores kept in the same file (checkpoints.py): their
        commits are fsync'd like the journal's and travel with it in backups."""
        return self._db

    def transaction(self) -> _Transaction:
        """One fsync'd write transaction on the journal's connection (see `connection`)."""
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        if self._db.in_transaction:  # left open by a write whose rollback failed (disk error)
            self._rollback()
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._rollback()
            return
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error:
            # SQLite may or may not have rolled back a COMMIT that failed for a full disk or an
            # I/O error; roll back explicitly so the next write starts clean.
            self._rollback()
            raise

    def _rollback(self) -> None:
        # After SQLITE_FULL/IOERR the transaction may already be gone: ROLLBACK then fails
        # harmlessly, and must not hide the write's own error.
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")


def _block(row: tuple) -> JournalBlock:
    number, timestamp, block_hash, parent_hash, tx_hashes, seal = row
    blob = bytes(tx_hashes)
    return JournalBlock(
        number=int(number),
        timestamp=int(timestamp),
        hash=bytes(block_hash),
        parent_hash=bytes(parent_hash),
        tx_hashes=tuple(blob[i : i + 32] for i in range(0, len(blob), 32)),
        seal=bytes(seal),
    )
