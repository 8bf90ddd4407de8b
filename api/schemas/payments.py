"""Top-ups, the payment provider's webhook event, and cash-outs (api/payments)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

# The provider's ids: printable, no spaces, short (they are keys in our tables).
PROVIDER_ID = r"^[A-Za-z0-9_\-:.]{1,100}$"
# Bounds every request can be checked against before the settings' limits (these are the
# settings' own upper bounds' order of magnitude: no KRW amount beyond a trillion is sane).
MAX_KRW = 10**12


class AmountCreate(BaseModel):
    """A top-up or cash-out of `amount` KRW (whole won; limits in the settings)."""

    model_config = ConfigDict(extra="forbid")
    amount: StrictInt = Field(gt=0, le=MAX_KRW, description="KRW, whole won")


class _RequestPublic(BaseModel):
    """What a top-up order and a cash-out request both show: who, how much, where it stands,
    and the transaction that minted or burned it."""

    id: str
    address: str
    amount: int
    currency: str = "KRW"
    status: str
    createdAt: int
    txHash: str | None = None


class TopUpPublic(_RequestPublic):
    status: str  # pending | minting | minted | mint_failed
    checkoutUrl: str | None = None
    receiptId: str | None = None
    paidAt: int | None = None
    failure: str | None = None


class TopUpsPublic(BaseModel):
    address: str
    topUps: list[TopUpPublic]


class PaymentEvent(BaseModel):
    """The provider's webhook body: one paid checkout."""

    model_config = ConfigDict(extra="ignore")  # providers add fields; we read these
    type: Literal["payment.succeeded"]
    orderId: str = Field(pattern=PROVIDER_ID, description="our top-up id")
    receiptId: str = Field(pattern=PROVIDER_ID, description="the provider's receipt id")
    amount: StrictInt = Field(gt=0, le=MAX_KRW)
    currency: Literal["KRW"]
    paidAt: StrictInt = Field(ge=0)


class WebhookAnswer(BaseModel):
    orderId: str
    receiptId: str
    status: str
    txHash: str | None
    # True when an earlier delivery of this payment was the one accepted: nothing new minted.
    duplicate: bool


class CashOutPublic(_RequestPublic):
    status: str  # requested | settled | rejected
    # The resident approves this address (CityCredit.approve) for `amount` before settlement.
    treasury: str | None = None
    decidedAt: int | None = None
    decidedBy: str | None = None
    reason: str | None = None


class CashOutsPublic(BaseModel):
    cashOuts: list[CashOutPublic]


class CashOutReject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500, description="told to the resident")
