"""What a space owner sees: their slots with windows, blackouts and price history, and their
earnings per month."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.schemas.slots import SlotPublic


class PriceVersionPublic(BaseModel):
    version: int
    pricePerUnit: int = Field(description="KRW per 30 minutes")
    overagePer10Min: int
    setBlock: int


class OwnerSlotPublic(SlotPublic):
    blackoutDays: list[int] = Field(description="KST days (days since 1970-01-01) not shared")
    priceHistory: list[PriceVersionPublic]


class OwnerSlotsPublic(BaseModel):
    owner: str
    indexedBlock: int
    slots: list[OwnerSlotPublic]


class MonthEarningsPublic(BaseModel):
    month: str = Field(description="KST calendar month, YYYY-MM")
    epoch: int = Field(description="RevenueSplit epoch: year * 12 + month - 1")
    allocations: int = Field(description="revenue allocations (settled leases, fees) that month")
    gross: int = Field(description="KRW paid by lessees for those allocations")
    ownerShare: int = Field(description="KRW credited to the owner")


class StatementPublic(BaseModel):
    epoch: int
    month: str
    kind: str
    earned: int
    claimed: int
    closingBalance: int
    blockNumber: int
    txHash: str


class OwnerEarningsPublic(BaseModel):
    owner: str
    indexedBlock: int
    earned: int = Field(description="every owner share credited so far")
    claimed: int
    claimable: int = Field(description="what RevenueSplit.claimable(owner) answers")
    months: list[MonthEarningsPublic]
    statements: list[StatementPublic] = Field(description="RevenueSplit monthly statements")
