"""`Annotated[..., Depends()]` aliases the routers take as parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.errors import LedgerUnavailable
from api.ledger import Ledger
from api.relayer import Relayer
from api.state import AppState


# Plain lookups are async so async routes do not hop to the threadpool for them.
async def get_state(request: Request) -> AppState:
    return request.app.state.citypass


def get_session(state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    with Session(state.engine) as session:
        yield session


async def get_ledger(state: Annotated[AppState, Depends(get_state)]) -> Ledger:
    return state.ledger


async def get_relayer(state: Annotated[AppState, Depends(get_state)]) -> Relayer:
    if state.relayer is None:
        raise LedgerUnavailable(
            "this API runs without a relayer key; start it with the relayer keystore and "
            "CITYPASS_API_PASSWORD to relay"
        )
    return state.relayer


async def client_ip(request: Request) -> str:
    # No proxy headers are trusted: behind a reverse proxy, configure uvicorn's
    # --forwarded-allow-ips so request.client is the real client.
    return request.client.host if request.client else "unknown"


StateDep = Annotated[AppState, Depends(get_state)]
SessionDep = Annotated[Session, Depends(get_session)]
LedgerDep = Annotated[Ledger, Depends(get_ledger)]
RelayerDep = Annotated[Relayer, Depends(get_relayer)]
ClientIpDep = Annotated[str, Depends(client_ip)]
