"""Staff nonces and sessions in the read-model database (api/siwe/store.py), on a real SQLite
file and a real PostgreSQL server (every test runs on both: the `engine` fixture). A second
store over the same database stands for the API after a restart."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from api.siwe.store import (
    EXPIRED_SESSION_GRACE_SECONDS,
    SWEEP_INTERVAL_SECONDS,
    NonceStore,
    SessionStore,
)
from api.siwe.tables import create_tables, siwe_nonces, staff_sessions
from indexer.db import make_engine
from tests.indexer_helpers import DATABASES, read_model_url

TTL = 300
T0 = 1_800_000_000.0


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=DATABASES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    # The read model as the API opens it (the indexer's schema), then the session tables.
    built = make_engine(read_model_url(request.param, tmp_path, request.config))
    create_tables(built)
    create_tables(built)  # every API start calls it: a second call must be harmless
    yield built
    built.dispose()


def _nonces_in_table(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(siwe_nonces.c.nonce)))


def test_nonce_is_open_then_used_once_also_after_a_restart(engine: Engine):
    clock = Clock()
    nonce, expires = NonceStore(engine, TTL, clock).issue()
    assert expires == T0 + TTL and len(nonce) == 24
    restarted = NonceStore(engine, TTL, clock)
    assert restarted.status(nonce) == "open"
    assert restarted.consume(nonce) is True
    assert restarted.consume(nonce) is False
    assert NonceStore(engine, TTL, clock).status(nonce) == "used"


def test_unknown_and_expired_nonces_cannot_be_used(engine: Engine):
    clock = Clock()
    store = NonceStore(engine, TTL, clock)
    assert store.status("neverIssued123") == "unknown"
    assert store.status("a" * 500) == "unknown"  # longer than any nonce we issue
    assert store.consume("neverIssued123") is False
    nonce, _ = store.issue()
    clock.now += TTL
    assert store.status(nonce) == "unknown"
    assert store.consume(nonce) is False


def test_concurrent_consumers_of_one_nonce_exactly_one_wins(engine: Engine):
    store = NonceStore(engine, TTL)
    racers = 6
    for _ in range(5):
        nonce, _ = store.issue()
        start = threading.Barrier(racers)

        def race(_: int, nonce: str = nonce, start: threading.Barrier = start) -> bool:
            start.wait(timeout=30)
            return store.consume(nonce)

        with ThreadPoolExecutor(racers) as pool:
            won = list(pool.map(race, range(racers)))
        assert won.count(True) == 1, won


def test_expired_nonces_are_swept_used_or_not(engine: Engine):
    clock = Clock()
    store = NonceStore(engine, TTL, clock)
    used, _ = store.issue()
    store.consume(used)
    unused, _ = store.issue()
    clock.now += TTL + SWEEP_INTERVAL_SECONDS
    fresh, _ = store.issue()
    assert _nonces_in_table(engine) == {fresh}


def test_open_nonces_are_capped_oldest_first(engine: Engine):
    clock = Clock()
    store = NonceStore(engine, ttl_seconds=10 * TTL, clock=clock, max_open=3)
    issued = []
    for _ in range(5):
        issued.append(store.issue()[0])
        clock.now += SWEEP_INTERVAL_SECONDS
    assert _nonces_in_table(engine) == set(issued[-3:])


def test_session_survives_a_restart_and_ends_on_close(engine: Engine):
    clock = Clock()
    token = SessionStore(engine, clock).open("0xAbC", ("INSPECTOR", "AUDITOR"), T0 + 3600)
    restarted = SessionStore(engine, clock)
    session = restarted.get(token)
    assert session is not None
    assert (session.address, session.roles) == ("0xAbC", ("INSPECTOR", "AUDITOR"))
    assert (session.issued_at, session.expires_at) == (T0, T0 + 3600)
    assert restarted.get(token + "x") is None
    assert restarted.close(token) is True
    assert restarted.get(token) is None and restarted.close(token) is False


def test_session_tokens_are_stored_only_as_hashes(engine: Engine):
    token = SessionStore(engine).open("0xAbC", ("OPERATOR",), T0 + 3600)
    with engine.connect() as conn:
        [row] = conn.execute(select(staff_sessions)).all()
    assert row.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(value) for value in row)


def test_expired_sessions_are_kept_an_hour_then_swept(engine: Engine):
    clock = Clock()
    store = SessionStore(engine, clock)
    old = store.open("0x01", ("OPERATOR",), T0 + 60)
    clock.now = T0 + 60 + EXPIRED_SESSION_GRACE_SECONDS - 1
    store.open("0x02", ("OPERATOR",), clock.now + 3600)
    expired = store.get(old)  # still there: the caller can answer "expired", not "unknown"
    assert expired is not None and expired.expires_at <= clock.now
    clock.now += SWEEP_INTERVAL_SECONDS
    store.open("0x03", ("OPERATOR",), clock.now + 3600)
    assert store.get(old) is None
