"""A member's leases and credit balance, from the read model."""

from __future__ import annotations

from pydantic import BaseModel


class LeasePublic(BaseModel):
    leaseId: int
    slotId: int
    lessee: str
    start: int
    end: int
    startIso: str
    endIso: str
    price: int
    status: str
    bookedAt: int
    bookedAtIso: str
    checkedInAt: int | None
    checkedInAtIso: str | None
    checkedOutAt: int | None
    checkedOutAtIso: str | None
    overstayCharge: int
    overstayDebt: int
    refund: int | None


class LeasesPublic(BaseModel):
    address: str
    indexedBlock: int
    leases: list[LeasePublic]


class CreditEntryPublic(BaseModel):
    blockNumber: int
    txHash: str
    kind: str  # IN / OUT (transfers), TOP_UP / CASH_OUT (movements)
    counterparty: str | None
    amount: int


class PrepaidPublic(BaseModel):
    """The prepaid booking balance in the lease market (held by the vault), from the read model."""

    address: str
    indexedBlock: int
    balance: int
    deposited: int
    withdrawn: int
    spent: int


class BalancePublic(BaseModel):
    address: str
    indexedBlock: int
    balance: int
    history: list[CreditEntryPublic]
