"""Staff sessions by Sign-In with Ethereum (EIP-4361): nonce, sign in, who am I, sign out."""

from __future__ import annotations

from fastapi import APIRouter

from api.schemas.auth import NoncePublic, SessionPublic, SiweCreate
from api.schemas.common import hex_bytes
from api.siwe.deps import SessionTokenDep, SiweDep, StaffSessionDep

router = APIRouter(prefix="/v1/auth", tags=["staff sessions"])


def _nonce(siwe: SiweDep) -> NoncePublic:
    nonce, expires = siwe.nonces.issue()
    return NoncePublic(
        nonce=nonce, expiresAt=int(expires), domain=siwe.domain, chainId=siwe.chain_id
    )


# GET and POST both issue a nonce (wallet libraries use either); distinct operation ids keep
# the OpenAPI document valid.
for _method in ("GET", "POST"):
    router.add_api_route(
        "/nonce", _nonce, methods=[_method], response_model=NoncePublic,
        operation_id=f"auth_nonce_{_method.lower()}",
        summary="A single-use nonce for an EIP-4361 message (valid SIWE_NONCE_TTL_SECONDS)",
    )  # fmt: skip


@router.post(
    "/siwe",
    response_model=SessionPublic,
    summary="Sign in with a signed EIP-4361 message; answers a bearer session token",
)
def sign_in(body: SiweCreate, siwe: SiweDep) -> SessionPublic:
    signed = siwe.sign_in(body.message, hex_bytes(body.signature), staff=body.scope == "staff")
    session = signed.session
    return SessionPublic(
        token=signed.token, address=session.address, roles=list(session.roles),
        expiresAt=int(session.expires_at),
    )  # fmt: skip


@router.get(
    "/session", response_model=SessionPublic, summary="The session's address and roles held now"
)
def whoami(siwe: SiweDep, session: StaffSessionDep) -> SessionPublic:
    return SessionPublic(
        address=session.address, roles=list(siwe.roles.staff_roles(session.address)),
        expiresAt=int(session.expires_at),
    )  # fmt: skip


@router.post("/logout", status_code=204, summary="End the session (the token stops working)")
def logout(siwe: SiweDep, session: StaffSessionDep, credentials: SessionTokenDep) -> None:
    if credentials is not None:
        siwe.sessions.close(credentials.credentials)
