"""Relay requests (signed by residents) and what a relay returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, HexData

UINT48_MAX = 2**48 - 1
UINT256_MAX = 2**256 - 1


class ForwardRequestCreate(BaseModel):
    """ERC2771Forwarder.ForwardRequestData, plus the domain the wallet signed for (optional but
    recommended: it lets the API say which chain a mis-signed request was meant for)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: Address = Field(alias="from")
    to: Address
    value: int = Field(0, ge=0, le=UINT256_MAX)
    gas: int = Field(ge=21_000, le=30_000_000)
    deadline: int = Field(ge=0, le=UINT48_MAX)
    data: HexData
    signature: HexData
    chainId: int | None = Field(None, ge=0)
    verifyingContract: Address | None = None


class RawTransactionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    raw: str = Field(description="0x-hex of a signed (legacy or EIP-1559) transaction")


class DecodedEvent(BaseModel):
    contract: str
    event: str
    args: dict[str, Any]


class RelayPublic(BaseModel):
    txHash: str
    blockNumber: int
    status: int
    # The forwarded call's own result (ExecutedForwardRequest.success).
    success: bool
    signer: str
    nonce: int
    leaseId: int | None = None
    events: list[DecodedEvent]


class RawRelayPublic(BaseModel):
    txHash: str
    sender: str
