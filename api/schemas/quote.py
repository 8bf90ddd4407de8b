"""A slot's price and terms for one window (GET /v1/slots/{slotId}/quote)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class OverageTermsPublic(BaseModel):
    per10Min: int = Field(description="KRW per started 10 minutes after the end")
    penalty: int = Field(description="KRW charged once on any overstay (LeasePolicy)")
    text: str


class CancellationTermsPublic(BaseModel):
    freeUntil: int = Field(description="cancelling is free up to this time (start − cut-off)")
    freeUntilIso: str
    bookingGraceSeconds: int = Field(description="cancelling is free this long after booking")
    lateRefundBps: int = Field(description="share of the price refunded after the cut-off")
    lateRefund: int = Field(description="KRW refunded by a cancellation after the cut-off")
    noCancelFrom: int = Field(description="the start: from then on the lease cannot be cancelled")
    noCancelFromIso: str
    rules: list[str] = Field(description="the rules in words, in the order they apply")


class QuotePublic(BaseModel):
    slotId: int
    start: int
    end: int
    startIso: str
    endIso: str
    units: int = Field(description="half-hours")
    price: int = Field(
        description="KRW LeaseMarket charges for the window (LeaseMarket.quote); when it is not "
        "bookable, what the slot's current terms would give it"
    )
    pricePerUnit: int
    termsVersion: int
    bookable: bool = Field(description="whether LeaseMarket would book the window now")
    reasonCode: str | None = Field(description="LeaseMarket's error when not bookable")
    reason: str | None = Field(description="why not, in words")
    ledgerTime: int = Field(description="the ledger time the answer holds for")
    ledgerTimeIso: str
    checkInFrom: int = Field(description="the earliest check-in (LeasePolicy.checkInEarly)")
    checkInFromIso: str
    overage: OverageTermsPublic
    cancellation: CancellationTermsPublic
