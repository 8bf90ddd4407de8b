"""Slot search results and slot details."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SlotOfferPublic(BaseModel):
    slotId: int
    lotId: int
    category: str
    lat: float
    lon: float
    distanceM: float
    units: int
    # KRW for the whole window at the slot's current terms (what LeaseMarket.quote answers).
    price: int
    termsVersion: int


class SlotSearchPublic(BaseModel):
    lat: float
    lon: float
    radiusM: float
    start: int
    end: int
    startIso: str = Field(description="start in ISO 8601, KST")
    endIso: str = Field(description="end in ISO 8601, KST")
    # Bookable slots in range before `limit` was applied; `slots` holds the nearest `limit`.
    found: int
    slots: list[SlotOfferPublic]


class SlotWindowPublic(BaseModel):
    daysMask: int
    startUnit: int
    endUnit: int


class SlotPublic(BaseModel):
    slotId: int
    owner: str | None = Field(
        description="the owner's address; null for a person's space unless the caller is she "
        "or a record reader (docs/privacy.md)"
    )
    lotId: int
    category: str
    lat: float
    lon: float
    active: bool
    pricePerUnit: int
    overagePer10Min: int
    termsVersion: int
    windows: list[SlotWindowPublic]
