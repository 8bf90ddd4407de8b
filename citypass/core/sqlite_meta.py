"""The `meta` table (`key TEXT PRIMARY KEY, value TEXT NOT NULL`) of the daemons' SQLite stores:
what a store is bound to, so data for one deployment never mixes with another's."""

from __future__ import annotations

import sqlite3


def claim(db: sqlite3.Connection, key: str, value: str) -> str | None:
    """Bind the store: record `value` under `key` if nothing is there yet.

    Returns None when the store is (now) bound to `value`, else the other value it is bound to
    (the caller says what to do about it). The caller holds its connection's lock."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        db.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
        return None
    return None if row[0] == value else str(row[0])
