"""The daemons' SQLite stores (the edge's outbox, the oracle's inbox, the node's journal, a
witness's store): the one durable way to open them, binding a store to one deployment through its `meta` table (`key TEXT PRIMARY KEY, value TEXT NOT NULL`), so data for
one never mixes with another's, and write transactions that are all or nothing."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path


def connect_durable(path: Path, schema: str = "", *, timeout: float = 5.0) -> sqlite3.Connection:
    """An autocommit connection (isolation_level=None, so writers say BEGIN IMMEDIATE), shared
    between threads under the caller's lock, in WAL mode with synchronous=FULL: a commit returns
    only after the write-ahead log is fsync'd, so what a store acknowledged survives a power cut.
    `schema` (CREATE … IF NOT EXISTS statements) runs on every open."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    if schema:
        db.executescript(schema)
    return db


def claim_meta(db: sqlite3.Connection, key: str, value: str) -> str | None:
    """Bind the store: record `value` under `key` if nothing is there yet.

    Returns None when the store is (now) bound to `value`, else the other value it is bound to
    (the caller says what to do about it). The caller holds its connection's lock."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        db.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
        return None
    return None if row[0] == value else str(row[0])


def bind_deployment(
    db: sqlite3.Connection,
    lock: threading.Lock,
    key: str,
    chain_id: int,
    registry: str,
    refuse: Callable[[str, str], Exception],
) -> None:
    """Bind the store to the deployment `<chain id>:<registry, lower-case>` under `key`, or
    raise `refuse(bound, wanted)` (the daemon's own error) when it is bound to another."""
    wanted = f"{chain_id}:{registry.lower()}"
    with lock:
        bound = claim_meta(db, key, wanted)
    if bound is not None:
        raise refuse(bound, wanted)


@contextlib.contextmanager
def immediate_transaction(db: sqlite3.Connection, lock: threading.Lock) -> Iterator[None]:
    """Under `lock`, one BEGIN IMMEDIATE … COMMIT around the body (an autocommit connection:
    isolation_level=None); anything the body raises, an interrupt too, rolls it back."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
