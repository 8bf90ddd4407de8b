"""The address book: staff (OPERATOR, VILLAGE_ENTERPRISE or CITY_ADMIN, a SIWE staff session)
name organisations' addresses, and everyone reads the names (they are organisations', never
residents': the store refuses to name a person)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Response

from api.address_book.store import AddressBookStore, Entry
from api.address_book.tables import create_tables
from api.deps import StateDep
from api.schemas.address_book import (
    AddressBookEntryCreate,
    AddressBookEntryPublic,
    AddressBookPublic,
    Kind,
)
from api.schemas.common import ChecksumAddress
from api.siwe.deps import require_role
from api.siwe.store import StaffSession

EDITORS = ("OPERATOR", "VILLAGE_ENTERPRISE", "CITY_ADMIN")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    create_tables(app.state.citypass.engine)  # before the first request, and the explorer's
    yield


router = APIRouter(tags=["address book"], lifespan=lifespan)


async def get_store(state: StateDep) -> AddressBookStore:
    return AddressBookStore(state.engine)  # stateless over the engine: cheap per request


StoreDep = Annotated[AddressBookStore, Depends(get_store)]
EditorSession = Annotated[StaffSession, Depends(require_role(*EDITORS))]
AddressPath = Annotated[
    ChecksumAddress, Path(description="0x + 40 hex digits; EIP-55 checksummed if in mixed case")
]


def entry_public(entry: Entry) -> AddressBookEntryPublic:
    return AddressBookEntryPublic(
        address=entry.address, name=entry.name, nameKo=entry.name_ko, kind=entry.kind,  # type: ignore[arg-type]
        updatedAt=int(entry.updated_at), updatedBy=entry.updated_by,
    )  # fmt: skip


@router.get(
    "/v1/address-book",
    response_model=AddressBookPublic,
    summary="The names staff gave known addresses (organisations only), by kind and name",
)
def listing(
    store: StoreDep, kind: Annotated[Kind | None, Query(description="only this kind")] = None
) -> AddressBookPublic:
    return AddressBookPublic(entries=[entry_public(e) for e in store.entries(kind)])


@router.put(
    "/v1/staff/address-book/{address}",
    response_model=AddressBookEntryPublic,
    responses={201: {"model": AddressBookEntryPublic, "description": "a new entry"}},
    summary="Name an address (create, 201, or replace, 200); 409 for a resident's address",
)
def put(
    body: AddressBookEntryCreate, store: StoreDep, staff: EditorSession, address: AddressPath,
    response: Response,
) -> AddressBookEntryPublic:  # fmt: skip
    entry, created = store.put(address, body.name, body.nameKo, body.kind, by=staff.address)
    response.status_code = 201 if created else 200
    return entry_public(entry)


@router.delete(
    "/v1/staff/address-book/{address}",
    response_model=AddressBookEntryPublic,
    summary="Remove an address's name (answers the entry removed); 404 if it has none",
)
def remove(store: StoreDep, _staff: EditorSession, address: AddressPath) -> AddressBookEntryPublic:
    return entry_public(store.remove(address))
