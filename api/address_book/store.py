"""The address book's rows: name an address (create or replace), remove a name, list them, and
the snapshot the explorer labels with (`load_book(session).name_for(address, locale)`).

Naming refuses a person (api/address_book/facts.py): an address the read model shows as a
member resident or a worker, with no organisation fact, stays pseudonymous (DESIGN §6)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from api.address_book.facts import facts_of
from api.address_book.tables import address_book
from api.errors import ApiError, Conflict, NotFound
from api.siwe.store import record_of, transaction, upsert_by_key

t = address_book.c


class AddressBookUnavailable(ApiError, status=503, code="address_book_unavailable"):
    """The database holding the address book cannot be reached: retry shortly."""


@dataclass(frozen=True)
class Entry:
    address: str
    name: str
    name_ko: str | None
    kind: str
    updated_at: float
    updated_by: str

    def name_in(self, locale: str | None) -> str:
        """The Korean name on a Korean page when there is one, else the English name."""
        if locale and locale.lower().startswith("ko") and self.name_ko:
            return self.name_ko
        return self.name


@dataclass(frozen=True)
class Book:
    """The whole address book as read once (a page's worth of labels without a query each)."""

    entries: dict[str, Entry]

    def name_for(self, address: str | None, locale: str | None = "en") -> str | None:
        entry = self.entries.get(address) if address else None
        return entry.name_in(locale) if entry else None


def load_book(session: Session) -> Book:
    return Book(
        {row.address: record_of(Entry, row) for row in session.execute(select(address_book))}
    )


class AddressBookStore:
    """The rows, through one engine; `clock` stamps `updated_at` (Unix seconds)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self._engine = engine
        self._clock = clock

    def put(self, address: str, name: str, name_ko: str | None, kind: str, by: str
            ) -> tuple[Entry, bool]:  # fmt: skip
        """Name `address` (replacing its entry); answers the entry and whether it is new."""
        refuse_a_person(self._engine, address)
        values = {"name": name, "name_ko": name_ko, "kind": kind,
                  "updated_at": self._clock(), "updated_by": by}  # fmt: skip
        with transaction(self._engine, "store the name", AddressBookUnavailable) as conn:
            row, created = upsert_by_key(conn, address_book, t.address, address, values)
        return record_of(Entry, row), created

    def remove(self, address: str) -> Entry:
        with transaction(self._engine, "remove the name", AddressBookUnavailable) as conn:
            row = conn.execute(select(address_book).where(t.address == address)).first()
            if row is None:
                raise NotFound(
                    f"{address} is not in the address book; list it at GET /v1/address-book",
                    code="unknown_address_book_entry",
                )
            conn.execute(delete(address_book).where(t.address == address))
        return record_of(Entry, row)

    def entries(self, kind: str | None = None) -> list[Entry]:
        query = select(address_book).order_by(t.kind, t.name, t.address)
        if kind is not None:
            query = query.where(t.kind == kind)
        with transaction(self._engine, "read the book", AddressBookUnavailable) as conn:
            return [record_of(Entry, row) for row in conn.execute(query)]


def refuse_a_person(engine: Engine, address: str) -> None:
    """409 when the read model shows `address` as a person with no organisation fact."""
    with Session(engine) as session:
        facts = facts_of(session, [address])[address]
    if facts.person:
        what = "a member resident" if facts.member else "a worker"
        held = sorted(facts.roles)
        raise Conflict(
            f"{address} is {what} on CityAccess"
            + (f" (roles: {', '.join(held)})" if held else "")
            + " with no organisation role and no organisation fact on chain (house payee, "
            "treasury, registered mobility operator, lot operator): residents and workers stay "
            "pseudonymous (DESIGN §6), so it gets no name. Name an organisation's address",
            code="resident_stays_pseudonymous",
        )
