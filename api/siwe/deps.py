"""FastAPI dependencies for staff endpoints: `require_role(...)` resolves the bearer session and
re-checks, on CityAccess, that the address holds one of the roles right now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import PermissionDenied
from api.siwe.service import SiweService
from api.siwe.store import StaffSession

# auto_error=False: a missing header becomes our own 401 with a message, not FastAPI's 403.
bearer = HTTPBearer(auto_error=False, description="the token POST /v1/auth/siwe answered")


def get_siwe(request: Request) -> SiweService:
    return request.app.state.siwe


SiweDep = Annotated[SiweService, Depends(get_siwe)]


def current_session(
    siwe: SiweDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffSession:
    return siwe.session(credentials.credentials if credentials else None)


def resident_session(
    siwe: SiweDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffSession:
    """Any signed-in wallet's session (scope resident or staff): for a wallet's own records."""
    return siwe.session(
        credentials.credentials if credentials else None,
        needs='a wallet session (POST /v1/auth/siwe with "scope": "resident")',
    )


SessionTokenDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
StaffSessionDep = Annotated[StaffSession, Depends(current_session)]
WalletSessionDep = Annotated[StaffSession, Depends(resident_session)]


def require_role(*roles: str) -> Callable[..., StaffSession]:
    """A dependency answering the session when its address holds any of `roles` now."""

    def check(siwe: SiweDep, session: StaffSessionDep) -> StaffSession:
        if not siwe.roles.has_any(roles, session.address):
            raise PermissionDenied(
                f"{session.address} does not hold {' or '.join(roles)} on CityAccess (now): "
                "this endpoint is for that role; ask the city administrator if this is wrong",
                code="missing_role",
            )
        return session

    return check
