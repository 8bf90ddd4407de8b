"""Single-use nonces and staff sessions, stored in the read-model database (api/siwe/tables.py).

Why in the database: an API restart (a deploy, a crash) must not sign every inspector out or
let a used nonce be replayed, and several API processes may serve one read model. Only a
SHA-256 of each session token is stored, so a leaked table holds nothing replayable. Expired
rows are swept at most once per SWEEP_INTERVAL_SECONDS, by whichever process notices first.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Column, Connection, Engine, Row, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from api.errors import ApiError
from api.siwe.tables import NONCE_MAX_LENGTH, siwe_nonces, staff_sessions

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

NONCE_BYTES = 12  # 96 bits, rendered as 24 hex digits (EIP-4361 needs >= 8 alphanumerics)
TOKEN_BYTES = 32
# Bounded so a flood of nonce requests cannot grow the table without limit.
MAX_OPEN_NONCES = 100_000
SWEEP_INTERVAL_SECONDS = 30.0
# Expired sessions are kept this long so a late request still hears "expired", not "unknown".
EXPIRED_SESSION_GRACE_SECONDS = 3600


class SessionStoreUnavailable(ApiError):
    """The read-model database, where sessions and nonces live, cannot be reached."""

    status = 503
    code = "session_store_unavailable"


@dataclass(frozen=True)
class StaffSession:
    address: str
    roles: tuple[str, ...]  # role names held at sign-in (re-checked per request)
    issued_at: float
    expires_at: float


class _Sweeper:
    """Runs a sweep when SWEEP_INTERVAL_SECONDS have passed since this process's last one."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()

    def due(self) -> bool:
        now = self._clock()
        with self._lock:
            if self._last is not None and now - self._last < SWEEP_INTERVAL_SECONDS:
                return False
            self._last = now
            return True


@contextmanager
def transaction(
    engine: Engine, doing: str, error: type[ApiError] = SessionStoreUnavailable
) -> Iterator[Connection]:
    """A write transaction on the API's own tables; a database failure becomes `error` (503)."""
    try:
        with engine.begin() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise error(
            f"could not {doing}: the read-model database is unavailable "
            f"({type(exc).__name__}); retry shortly"
        ) from exc


def upsert_by_key(
    conn: Connection, table: Table, key: Column[Any], value: Any, values: dict[str, Any]
) -> tuple[Row[Any], bool]:
    """Set the row whose `key` is `value` to `values` (the API's own tables set by key: the
    address book, the private spots); the row as stored and whether it is new.

    One INSERT … ON CONFLICT DO UPDATE (of the connection's dialect, the read model's two), so
    two writers setting a new key at once both succeed (the later values stay) instead of one
    failing on the primary key."""
    existed = conn.execute(select(key).where(key == value)).first()
    insert_of = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert_of(table).values({key.name: value, **values})
    conn.execute(statement.on_conflict_do_update(index_elements=[key], set_=values))
    return conn.execute(select(table).where(key == value)).one(), existed is None


def record_of(record: type[R], row: Row[Any]) -> R:
    """The frozen dataclass `record` filled from `row`, whose columns carry its field names
    (the API's own tables: the address book's entries, the private spots)."""
    return record(**{field.name: getattr(row, field.name) for field in fields(record)})


class NonceStore:
    """Nonces issued by this API (any of its processes): each valid until expiry, usable once."""

    def __init__(
        self, engine: Engine, ttl_seconds: float, clock: Callable[[], float] = time.time,
        max_open: int = MAX_OPEN_NONCES,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._ttl = ttl_seconds
        self._clock = clock
        self._max_open = max_open
        self._sweeper = _Sweeper(clock)

    def issue(self) -> tuple[str, float]:
        nonce = secrets.token_hex(NONCE_BYTES)
        now = self._clock()
        expires = now + self._ttl
        with transaction(self._engine, "issue a nonce") as conn:
            if self._sweeper.due():
                _sweep_nonces(conn, now, self._max_open)
            conn.execute(insert(siwe_nonces).values(nonce=nonce, expires_at=expires))
        return nonce, expires

    def status(self, nonce: str) -> str:
        """'open', 'used' or 'unknown' (never issued, or expired and swept)."""
        if len(nonce) > NONCE_MAX_LENGTH:
            return "unknown"  # longer than any nonce we issue
        with transaction(self._engine, "check the nonce") as conn:
            row = conn.execute(
                select(siwe_nonces.c.expires_at, siwe_nonces.c.used_at).where(
                    siwe_nonces.c.nonce == nonce
                )
            ).first()
        if row is None:
            return "unknown"
        if row.used_at is not None:
            return "used"
        return "open" if row.expires_at > self._clock() else "unknown"

    def consume(self, nonce: str) -> bool:
        """Mark used; False when it was not open (used meanwhile by a concurrent sign-in).

        One conditional UPDATE: of two concurrent sign-ins exactly one changes the row (SQLite
        serialises writers; PostgreSQL re-checks the WHERE clause after the winner commits)."""
        now = self._clock()
        with transaction(self._engine, "use the nonce") as conn:
            changed = conn.execute(
                update(siwe_nonces)
                .where(
                    siwe_nonces.c.nonce == nonce,
                    siwe_nonces.c.used_at.is_(None),
                    siwe_nonces.c.expires_at > now,
                )
                .values(used_at=now)
            )
        return changed.rowcount == 1


def _sweep_nonces(conn: Connection, now: float, max_open: int) -> None:
    # Used nonces go too once expired: a replay of their message then fails as an unknown
    # nonce (401) rather than a used one (409); either way it cannot sign in.
    conn.execute(delete(siwe_nonces).where(siwe_nonces.c.expires_at <= now))
    open_count = conn.scalar(
        select(func.count()).select_from(siwe_nonces).where(siwe_nonces.c.used_at.is_(None))
    )
    excess = (open_count or 0) + 1 - max_open  # room for the nonce being issued
    if excess > 0:  # the oldest open nonces make room
        oldest = (
            select(siwe_nonces.c.nonce)
            .where(siwe_nonces.c.used_at.is_(None))
            .order_by(siwe_nonces.c.expires_at)
            .limit(excess)
        )
        conn.execute(delete(siwe_nonces).where(siwe_nonces.c.nonce.in_(oldest)))


class SessionStore:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock
        self._sweeper = _Sweeper(clock)

    def open(self, address: str, roles: tuple[str, ...], expires_at: float) -> str:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._clock()
        with transaction(self._engine, "open the session") as conn:
            if self._sweeper.due():
                conn.execute(
                    delete(staff_sessions).where(
                        staff_sessions.c.expires_at <= now - EXPIRED_SESSION_GRACE_SECONDS
                    )
                )
            row = {
                "token_sha256": _digest(token), "address": address, "roles": ",".join(roles),
                "issued_at": now, "expires_at": expires_at,
            }  # fmt: skip
            conn.execute(insert(staff_sessions).values(**row))
        return token

    def get(self, token: str) -> StaffSession | None:
        """The session of a token; None when unknown. Expired sessions are returned (the caller
        tells 'expired' from 'unknown') until the sweep drops them."""
        with transaction(self._engine, "look up the session") as conn:
            row = conn.execute(
                select(staff_sessions).where(staff_sessions.c.token_sha256 == _digest(token))
            ).first()
        if row is None:
            return None
        roles = tuple(role for role in row.roles.split(",") if role)
        return StaffSession(row.address, roles, row.issued_at, row.expires_at)

    def close(self, token: str) -> bool:
        with transaction(self._engine, "end the session") as conn:
            ended = conn.execute(
                delete(staff_sessions).where(staff_sessions.c.token_sha256 == _digest(token))
            )
        return ended.rowcount == 1


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
