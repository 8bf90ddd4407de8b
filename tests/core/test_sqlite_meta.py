"""citypass/core/sqlite_meta.py: a store is bound to the first value claimed, and says so."""

from __future__ import annotations

import sqlite3

from citypass.core import sqlite_meta


def test_the_first_claim_binds_the_store_and_another_value_is_named_back():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    assert sqlite_meta.claim(db, "deployment", "82032:0xab") is None
    assert sqlite_meta.claim(db, "deployment", "82032:0xab") is None
    assert sqlite_meta.claim(db, "deployment", "1:0xcd") == "82032:0xab"
    assert sqlite_meta.claim(db, "domain", "1:0xcd") is None  # keys are independent
    assert db.execute("SELECT value FROM meta WHERE key = 'deployment'").fetchone() == (
        "82032:0xab",
    )
