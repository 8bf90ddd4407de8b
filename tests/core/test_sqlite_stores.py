"""citypass/core/sqlite_stores.py: a store is bound to the first value claimed, and a write
transaction is all or nothing."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from citypass.core import sqlite_stores


def test_the_first_claim_binds_the_store_and_another_value_is_named_back():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    assert sqlite_stores.claim_meta(db, "deployment", "82032:0xab") is None
    assert sqlite_stores.claim_meta(db, "deployment", "82032:0xab") is None
    assert sqlite_stores.claim_meta(db, "deployment", "1:0xcd") == "82032:0xab"
    assert sqlite_stores.claim_meta(db, "domain", "1:0xcd") is None  # keys are independent
    assert db.execute("SELECT value FROM meta WHERE key = 'deployment'").fetchone() == (
        "82032:0xab",
    )


def test_a_transaction_commits_its_body_or_nothing_of_it():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE t (n INTEGER)")
    lock = threading.Lock()
    with sqlite_stores.immediate_transaction(db, lock):
        db.execute("INSERT INTO t VALUES (1)")
        assert lock.locked()
    with pytest.raises(KeyboardInterrupt), sqlite_stores.immediate_transaction(db, lock):
        db.execute("INSERT INTO t VALUES (2)")
        raise KeyboardInterrupt
    assert db.execute("SELECT n FROM t").fetchall() == [(1,)]
    assert not lock.locked() and not db.in_transaction


def test_a_store_bound_to_one_deployment_refuses_another_with_the_daemons_error():
    db = sqlite3.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    lock = threading.Lock()

    def refuse(bound: str, wanted: str) -> Exception:
        return LookupError(f"bound to {bound}, not {wanted}")

    sqlite_stores.bind_deployment(db, lock, "deployment", 82032, "0xAB", refuse)
    sqlite_stores.bind_deployment(db, lock, "deployment", 82032, "0xab", refuse)
    with pytest.raises(LookupError, match=r"^bound to 82032:0xab, not 1:0xab$"):
        sqlite_stores.bind_deployment(db, lock, "deployment", 1, "0xAB", refuse)


def test_a_durable_store_is_wal_fsynced_autocommit_and_runs_its_schema_on_every_open(tmp_path):
    path = tmp_path / "store.sqlite"
    schema = "CREATE TABLE IF NOT EXISTS t (n INTEGER);"
    db = sqlite_stores.connect_durable(path, schema)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert db.isolation_level is None  # writers say BEGIN IMMEDIATE themselves
    db.execute("INSERT INTO t VALUES (1)")
    db.close()
    again = sqlite_stores.connect_durable(path, schema)  # the schema again: no error, rows kept
    assert again.execute("SELECT n FROM t").fetchall() == [(1,)]
    again.close()
