"""Crypto-shredding: every record is encrypted under its own random data key, the keys live in a
key table, and deleting a record means deleting its key (docs/privacy.md "How long each thing is
kept"). Once the key row is gone, every copy of the ciphertext (the store, a replica, a backup)
is undecryptable noise, so deletion does not depend on finding every copy.

One SQLite file per owning service holds three tables:
* `data_keys` (kind, key_id → subject, key, created_at): the only place a data key is kept;
* `deletions`: the append-only record of each deletion (what kind, which subject, when, why,
  by which process), never the content;
* `hold_events`: the append-only record of holds and releases (who, when, reason code); a subject
  whose latest event is a hold is never shredded.

Deleting a key and appending its deletion record is ONE SQLite transaction (WAL,
synchronous=FULL), so a crash at any point leaves the record either readable (key present, no
record) or shredded (key gone, record present). `deletions` and `hold_events` refuse UPDATE and
DELETE through triggers.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES
from sqlalchemy import (
    DDL,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
HOLD, RELEASE = "hold", "release"

metadata = MetaData()
data_keys = Table(
    "data_keys",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("key_id", String(64), primary_key=True),
    # What the key protects, as its owner names it (a CID, an application id); set once known.
    Column("subject", String(128), nullable=True, index=True),
    Column("key", LargeBinary(128), nullable=False),  # raw, or wrapped by its owner
    Column("created_at", Float, nullable=False),
)
deletions = Table(
    "deletions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False, index=True),
    Column("subject", String(128), nullable=False, index=True),
    Column("deleted_at", Float, nullable=False),
    # "retention" (its period ran out), "request" (a person's or an operator's request) or
    # "orphan" (a key whose record was never stored: a crash between the two writes).
    Column("reason", String(16), nullable=False),
    # Which rule, e.g. "dismissed_incident" with its period in days; never the content.
    Column("rule", String(64), nullable=False),
    Column("period_days", Float, nullable=True),
    Column("process", String(64), nullable=False),
)
hold_events = Table(
    "hold_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("subject", String(128), nullable=False, index=True),
    Column("action", String(8), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("at", Float, nullable=False),
    Column("reason_code", String(64), nullable=False),
)
for _table in ("deletions", "hold_events"):
    for _verb in ("UPDATE", "DELETE"):
        event.listen(
            metadata.tables[_table],
            "after_create",
            DDL(
                f"CREATE TRIGGER IF NOT EXISTS {_table}_no_{_verb.lower()} BEFORE {_verb} ON "
                f"{_table} BEGIN SELECT RAISE(ABORT, '{_table} is append-only'); END"
            ),
        )


class ShreddedError(Exception):
    """The record's data key was destroyed: its content cannot be recovered."""


@dataclass(frozen=True)
class DataKey:
    key_id: str
    key: bytes


@dataclass(frozen=True)
class KeyRow:
    key_id: str
    subject: str | None
    created_at: float


@dataclass(frozen=True)
class Deletion:
    seq: int
    kind: str
    subject: str
    deleted_at: float
    reason: str
    rule: str
    period_days: float | None
    process: str


@dataclass(frozen=True)
class HoldEvent:
    seq: int
    kind: str
    subject: str
    action: str
    actor: str
    at: float
    reason_code: str


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")  # a deletion is durable once committed
    cursor.execute("PRAGMA busy_timeout=10000")  # the API and the daemon may share the file
    cursor.close()


def open_key_engine(path: Path, *, create: bool = True) -> Engine:
    """The SQLite engine of a key table file (created 0600 in a 0700 directory if `create`)."""
    path = Path(path)
    if create:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    elif not path.exists():
        raise FileNotFoundError(path)
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _sqlite_pragmas)
    if create:
        metadata.create_all(engine)
    return engine


class KeyTable:
    """The data keys, deletion records and holds of one service (thread-safe: each call is
    its own transaction)."""

    def __init__(
        self, engine: Engine, process: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.process = process
        self.clock = clock

    @classmethod
    def open(cls, path: Path, process: str, *, create: bool = True) -> KeyTable:
        return cls(open_key_engine(path, create=create), process)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    # ----------------------------------------------------------------------------- keys

    def create(
        self, kind: str, subject: str | None = None,
        wrap: Callable[[str, bytes], bytes] | None = None,
    ) -> DataKey:  # fmt: skip
        """A new random key, committed durably before the caller encrypts anything with it.
        `wrap(key_id, key)` is what the row stores instead of the raw key (an owner's master
        key wrapping it); `key()` then answers the wrapped bytes."""
        new = DataKey(secrets.token_hex(16), secrets.token_bytes(KEY_SIZE))
        stored = new.key if wrap is None else wrap(new.key_id, new.key)
        with self._tx() as conn:
            conn.execute(
                insert(data_keys).values(
                    kind=kind, key_id=new.key_id, subject=subject, key=stored,
                    created_at=self.clock(),
                )
            )  # fmt: skip
        return new

    def bind(self, kind: str, key_id: str, subject: str) -> None:
        """Name what the key protects (once the record's id is known, e.g. its CID)."""
        with self._tx() as conn:
            conn.execute(
                update(data_keys)
                .where(data_keys.c.kind == kind, data_keys.c.key_id == key_id)
                .values(subject=subject)
            )

    def key(self, kind: str, key_id: str) -> bytes | None:
        with self._tx() as conn:
            row = conn.execute(
                select(data_keys.c.key).where(
                    data_keys.c.kind == kind, data_keys.c.key_id == key_id
                )
            ).first()
        return None if row is None else bytes(row[0])

    def keys(self, kind: str) -> list[KeyRow]:
        with self._tx() as conn:
            rows = conn.execute(
                select(data_keys.c.key_id, data_keys.c.subject, data_keys.c.created_at).where(
                    data_keys.c.kind == kind
                )
            )
            return [KeyRow(r.key_id, r.subject, r.created_at) for r in rows]

    # ------------------------------------------------------------------------ shredding

    def shred(
        self, kind: str, key_id: str | None, subject: str, *, reason: str, rule: str,
        period_days: float | None,
    ) -> Deletion | None:  # fmt: skip
        """Delete the key (if `key_id`) and append the deletion record, in one transaction.
        None when the key was already gone (shredded before: no second record)."""
        now = self.clock()
        with self._tx() as conn:
            if key_id is not None:
                gone = conn.execute(
                    delete(data_keys).where(data_keys.c.kind == kind, data_keys.c.key_id == key_id)
                )
                if gone.rowcount != 1:
                    return None
            elif self._deleted(conn, kind, subject) is not None:
                return None
            values = {
                "kind": kind, "subject": subject, "deleted_at": now, "reason": reason,
                "rule": rule, "period_days": period_days, "process": self.process,
            }  # fmt: skip
            seq = _new_seq(conn.execute(insert(deletions).values(**values)))
        return Deletion(seq=int(seq), **values)  # type: ignore[arg-type]

    def deleted(self, kind: str, subject: str) -> Deletion | None:
        with self._tx() as conn:
            return self._deleted(conn, kind, subject)

    @staticmethod
    def _deleted(conn: Connection, kind: str, subject: str) -> Deletion | None:
        row = conn.execute(
            select(deletions).where(deletions.c.kind == kind, deletions.c.subject == subject)
        ).first()
        return None if row is None else Deletion(**row._asdict())

    def deletions(
        self, kinds: tuple[str, ...] | None = None, after: int = 0, limit: int = 100
    ) -> list[Deletion]:
        """Oldest first, from sequence number `after` on (page with the last seq seen)."""
        query = select(deletions).where(deletions.c.seq > after)
        if kinds is not None:
            query = query.where(deletions.c.kind.in_(kinds))
        with self._tx() as conn:
            rows = conn.execute(query.order_by(deletions.c.seq).limit(limit))
            return [Deletion(**r._asdict()) for r in rows]

    def deletion_counts(self) -> dict[tuple[str, str], int]:
        """(kind, reason) → number of deletion records: the metrics' source."""
        with self._tx() as conn:
            rows = conn.execute(
                select(deletions.c.kind, deletions.c.reason, func.count()).group_by(
                    deletions.c.kind, deletions.c.reason
                )
            )
            return {(r[0], r[1]): int(r[2]) for r in rows}

    # ---------------------------------------------------------------------------- holds

    def set_hold(self, kind: str, subject: str, *, held: bool, actor: str,
                 reason_code: str) -> HoldEvent:  # fmt: skip
        values = {
            "kind": kind, "subject": subject, "action": HOLD if held else RELEASE,
            "actor": actor, "at": self.clock(), "reason_code": reason_code,
        }  # fmt: skip
        with self._tx() as conn:
            seq = _new_seq(conn.execute(insert(hold_events).values(**values)))
        return HoldEvent(seq=int(seq), **values)  # type: ignore[arg-type]

    def hold_history(self, kind: str, subject: str) -> list[HoldEvent]:
        with self._tx() as conn:
            rows = conn.execute(
                select(hold_events)
                .where(hold_events.c.kind == kind, hold_events.c.subject == subject)
                .order_by(hold_events.c.seq)
            )
            return [HoldEvent(**r._asdict()) for r in rows]

    def held(self, kind: str) -> set[str]:
        """The subjects of `kind` whose latest hold event is a hold."""
        latest = (
            select(func.max(hold_events.c.seq))
            .where(hold_events.c.kind == kind)
            .group_by(hold_events.c.subject)
        )
        with self._tx() as conn:
            rows = conn.execute(
                select(hold_events.c.subject).where(
                    hold_events.c.seq.in_(latest), hold_events.c.action == HOLD
                )
            )
            return {r[0] for r in rows}


# ------------------------------------------------------------------------------ field cipher


def encrypt(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM: nonce (12) | ciphertext | tag (16); `aad` binds it to its record."""
    nonce = secrets.token_bytes(NONCE_SIZE)
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_SIZE)
    cipher.update(aad)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return nonce + ciphertext + tag


def decrypt(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext; ValueError if `sealed` was altered or belongs to another record."""
    cipher = AES.new(key, AES.MODE_GCM, nonce=sealed[:NONCE_SIZE], mac_len=TAG_SIZE)
    cipher.update(aad)
    return cipher.decrypt_and_verify(sealed[NONCE_SIZE:-TAG_SIZE], sealed[-TAG_SIZE:])


def _new_seq(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row
    return int(key[0])
