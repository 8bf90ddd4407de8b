"""What every log handler shares: where the log happened (LogContext), the handler signature,
and the row helpers. The parking (handlers.py) and mobility (handlers_mobility.py) handlers
both build on it, so neither needs the other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from indexer.errors import IndexerError

ZERO = "0x0000000000000000000000000000000000000000"
INT64 = 2**63 - 1

T = TypeVar("T")


@dataclass(frozen=True)
class LogContext:
    """Where an event happened, and the RevenueSplit house payees (for claimable balances)."""

    block_number: int
    timestamp: int
    tx_hash: str
    log_index: int
    village_enterprise: str
    city_fund: str
    platform: str

    def ref(self) -> dict[str, Any]:
        return {
            "block_number": self.block_number,
            "tx_hash": self.tx_hash,
            "log_index": self.log_index,
        }


# Applies one decoded event's arguments to the domain tables.
Handler = Callable[[Session, LogContext, dict[str, Any]], None]


def i64(value: int) -> int:
    if not 0 <= value <= INT64:
        raise IndexerError(
            f"value {value} does not fit the read model's 64-bit columns; the indexer supports "
            "KRW amounts and ids below 2**63 — report this event to the maintainers"
        )
    return value


def hex32(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def queue_row(session: Session, model: type[Any], **values: Any) -> None:
    """Insert a new row of `model` with the rest of its block range, in one Core executemany.

    For rows that events only create (a lease, a transfer record): the ORM's unit of work costs
    ~0.1 ms an object at flush, most of indexing a block of 300 bookings. Handlers read such rows
    back only through existing(), which inserts the model's queued rows first; the follower
    inserts the rest before it moves the cursor (insert_queued), in the same transaction."""
    queued: dict[type[Any], list[dict[str, Any]]] = session.info.setdefault("queued_rows", {})
    queued.setdefault(model, []).append(values)


def insert_queued(session: Session, model: type[Any] | None = None) -> None:
    """Insert the queued rows (of `model`, or all), in the order they were queued: row ids keep
    the order of the logs. The ORM's pending rows are flushed first, since queued rows may refer
    to them (a lease to its slot)."""
    queued: dict[type[Any], list[dict[str, Any]]] = session.info.get("queued_rows", {})
    models = [model] if model is not None else list(queued)
    if not any(queued.get(each) for each in models):
        return
    session.flush()
    connection = session.connection()
    for each in models:
        rows = queued.pop(each, None)
        if rows:
            connection.execute(insert(cast(Table, each.__table__)), rows)


def existing(session: Session, model: type[T], key: Any, missing: str) -> T:
    """The row of `model` at `key`; IndexerError(`missing`) when an earlier event that creates
    it was never indexed."""
    insert_queued(session, model)
    row = session.get(model, key)
    if row is None:
        raise IndexerError(missing)
    return row


def get_or_new(session: Session, model: type[T], key: Any, **defaults: Any) -> T:
    """The row of `model` at `key`, created (pending) when there is none.

    Rows made here are remembered in the session, so looking one up again needs neither SQL
    nor a flush: session.get on a key not yet in the identity map autoflushes every pending row
    first — a flush per new resident in a block of bookings. Without autoflush the lookup is
    safe because every row of these models is created here (never added elsewhere)."""
    made: dict[tuple[type, Any], Any] = session.info.setdefault("made_rows", {})
    row = made.get((model, key))
    if row is not None:
        return row
    with session.no_autoflush:
        row = session.get(model, key)
    if row is None:
        row = model(**defaults)
        session.add(row)
        made[(model, key)] = row
    return row
