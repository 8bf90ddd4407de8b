"""Staff sign-in (EIP-4361): nonce, sign-in request and the session it opens."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import HexData


class NoncePublic(BaseModel):
    nonce: str
    expiresAt: int = Field(description="unix seconds; sign and submit before this")
    domain: str = Field(description="the domain your message must name")
    chainId: int = Field(description="the Chain ID your message must name")


class SiweCreate(BaseModel):
    message: str = Field(max_length=4096, description="the EIP-4361 message text, LF line ends")
    signature: HexData = Field(description="personal_sign (EIP-191) signature, 0x 65 bytes")
    scope: Literal["staff", "resident"] = Field(
        default="staff",
        description="staff (default): the signer must hold a staff role; resident: any wallet, "
        "for its own records (e.g. its membership application)",
    )


class SessionPublic(BaseModel):
    token: str | None = Field(
        default=None, description="send as 'Authorization: Bearer <token>' (only at sign-in)"
    )
    address: str
    roles: list[str] = Field(description="staff roles held on CityAccess (none for a resident)")
    expiresAt: int
