"""What an app posts to /v1/prepare/<action>: the action's plain fields. The answer is the
ForwardRequest typed data to sign (api/schemas/typed_data.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Address, HexData, Timestamp
from api.schemas.relay import UINT256_MAX

UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1
SIGNATURE_HINT = "0x-hex of a 65-byte signature (r, s, v)"


class PrepareBase(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: Address = Field(alias="from", description="the resident's address (the signer)")


class PermitSigned(BaseModel):
    """An EIP-2612 permit signed from GET /v1/typed-data/permit, for a resident whose CityCredit
    allowance does not cover the payment (the book or trip then goes through *WithPermit)."""

    model_config = ConfigDict(extra="forbid")

    deadline: int = Field(ge=0, le=UINT256_MAX, description="the permit message's deadline")
    signature: HexData = Field(description=SIGNATURE_HINT)


class BookPrepare(PrepareBase):
    slotId: int = Field(ge=1, le=INT64_MAX)
    start: Timestamp = Field(description="on a half-hour: Unix seconds or ISO 8601")
    end: Timestamp = Field(description="on a half-hour: Unix seconds or ISO 8601")
    maxPrice: int | None = Field(
        None, ge=0, le=UINT256_MAX,
        description="KRW at most; default the price at the slot's current terms",
    )  # fmt: skip
    permit: PermitSigned | None = None


class LeasePrepare(PrepareBase):
    leaseId: int = Field(ge=0, le=UINT256_MAX, description="from GET /v1/members/{address}/leases")


class StartTripPrepare(PrepareBase):
    assetId: int = Field(ge=1, le=UINT32_MAX, description="the vehicle's asset id")
    planId: int | None = Field(
        None, ge=1, le=UINT32_MAX, description="default the asset operator's plan in force"
    )
    deposit: int | None = Field(
        None, ge=0, le=2**48 - 1, description="KRW escrowed; default the plan's daily cap"
    )
    permit: PermitSigned | None = None


class TripPrepare(PrepareBase):
    tripId: int = Field(ge=1, le=UINT256_MAX)


class EndTripPrepare(TripPrepare):
    endedAt: Timestamp = Field(description="the end the operator signed")
    distanceM: int = Field(ge=0, le=INT64_MAX, description="metres the operator signed")
    operatorSignature: HexData = Field(
        description="the operator's EIP-712 TripEnd " + SIGNATURE_HINT
    )


class PrepaidWithdrawPrepare(PrepareBase):
    amount: int = Field(ge=1, le=UINT256_MAX, description="KRW out of the prepaid booking balance")


class PrepaidDepositPrepare(PrepareBase):
    amount: int = Field(ge=1, le=UINT256_MAX, description="KRW into the prepaid booking balance")
    permit: PermitSigned | None = None


class WithdrawDepositPrepare(PrepareBase):
    amount: int = Field(ge=1, le=UINT256_MAX, description="KRW from the trip deposit balance")
