"""What every log handler shares: where the log happened (LogContext), the handler signature,
and the row helpers. The parking (handlers.py) and mobility (handlers_mobility.py) handlers
both build on it, so neither needs the other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Table, bindparam, insert, inspect, select, update
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


def add_to_tally(session: Session, model: type[Any], key: Any, column: str, amount: int) -> None:
    """Add `amount` to `column` of the row of `model` at `key` when the block range is written
    (write_tallies), the row made with zeros first when there is none.

    For rows no event reads back within its range, only adds to (a member's credit balance):
    a block of 600 bookings moves 1,200 balances, and loading each into the ORM to add to it
    cost more than the rest of indexing its Transfer events."""
    tallies: dict[type[Any], dict[Any, dict[str, int]]] = session.info.setdefault(TALLIES, {})
    row = tallies.setdefault(model, {}).setdefault(key, {})
    row[column] = row.get(column, 0) + amount


TALLIES = "tallies"


def write_tallies(session: Session) -> None:
    """Apply add_to_tally's sums: one SELECT per 500 keys finds the rows there are, one UPDATE
    executemany adds to them and one INSERT makes the rest (every other column at its default)."""
    tallies: dict[type[Any], dict[Any, dict[str, int]]] = session.info.pop(TALLIES, {})
    connection = session.connection()
    for model, sums in tallies.items():
        table = cast(Table, model.__table__)
        (key_column,) = table.primary_key.columns
        columns = sorted({column for added in sums.values() for column in added})
        keys = list(sums)
        there: set[Any] = set()
        for start in range(0, len(keys), PREFETCH_CHUNK):
            chunk = keys[start : start + PREFETCH_CHUNK]
            there.update(connection.scalars(select(key_column).where(key_column.in_(chunk))))
        updates = [
            {"_key": key, **{f"_add_{c}": sums[key].get(c, 0) for c in columns}}
            for key in keys
            if key in there
        ]
        if updates:
            statement = (
                update(table)
                .where(key_column == bindparam("_key"))
                .values({c: table.c[c] + bindparam(f"_add_{c}") for c in columns})
            )
            connection.execute(statement, updates)
        inserts = [{key_column.name: key, **sums[key]} for key in keys if key not in there]
        if inserts:
            connection.execute(insert(table), inserts)


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

    Rows made or prefetched here are remembered in the session, so looking one up again needs
    neither SQL nor a flush: session.get on a key not yet in the identity map autoflushes every
    pending row first — a flush per new resident in a block of bookings. Without autoflush the
    lookup is safe because every row of these models is created here (never added elsewhere)."""
    known: dict[tuple[type, Any], Any] = session.info.setdefault(KNOWN_ROWS, {})
    row = known.get((model, key))
    if row is not None:
        return row
    absent: set[tuple[type, Any]] = session.info.get(ABSENT_ROWS, set())
    if (model, key) not in absent:
        with session.no_autoflush:
            row = session.get(model, key)
    if row is None:
        row = model(**defaults)
        session.add(row)
    known[(model, key)] = row
    return row


# session.info keys: rows get_or_new has found, made or prefetched, and keys prefetch_rows found
# missing (get_or_new makes those without asking the database again).
KNOWN_ROWS = "known_rows"
ABSENT_ROWS = "absent_rows"
PREFETCH_CHUNK = 500  # keys per SELECT … IN: far below every database's parameter limit


def prefetch_rows(session: Session, model: type[Any], keys: set[Any]) -> None:
    """Load the rows of `model` (a single-column primary key) at `keys` in one SELECT per 500
    keys, for get_or_new. A block of 500 bookings reads a prepaid balance a booking: looked up
    one by one, such reads were a fifth of indexing it (bench/indexer.py --profile)."""
    known: dict[tuple[type, Any], Any] = session.info.setdefault(KNOWN_ROWS, {})
    absent: set[tuple[type, Any]] = session.info.setdefault(ABSENT_ROWS, set())
    wanted = [key for key in keys if (model, key) not in known and (model, key) not in absent]
    mapper = inspect(model)
    (column,) = mapper.primary_key
    attribute = mapper.get_property_by_column(column).key
    for start in range(0, len(wanted), PREFETCH_CHUNK):
        chunk = wanted[start : start + PREFETCH_CHUNK]
        # Pending rows of the model (made earlier in this range) are in `known` already, so
        # nothing needs flushing before this read.
        with session.no_autoflush:
            rows: Sequence[Any] = session.scalars(select(model).where(column.in_(chunk))).all()
        found = {getattr(row, attribute): row for row in rows}
        for key in chunk:
            if key in found:
                known[(model, key)] = found[key]
            else:
                absent.add((model, key))
