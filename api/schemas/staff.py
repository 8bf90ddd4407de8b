"""Staff views: operators' statements, the inspectors' incident queue and review actions, and
the city's policy parameters."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.mobility import TripPublic
from api.schemas.owners import StatementPublic


class EpochStatementPublic(BaseModel):
    epoch: int
    legs: int
    gross: int
    discounts: int
    fees: int
    villageShare: int
    net: int
    blockNumber: int
    txHash: str


class SettlementDayPublic(BaseModel):
    """An operator's KST day book in TripSettlement: the fares booked on it (end reports of the
    day, not disputed, plus disputes resolved that day), paid out by `releaseDay` once its
    dispute window has passed."""

    day: int = Field(description="KST day number (days since 1970-01-01)")
    trips: int = Field(description="legs booked on the day")
    fares: int = Field(description="gross KRW booked on the day")
    released: bool = Field(description="paid out to the revenue split (DayReleased)")
    operatorShare: int | None = Field(description="credited to the operator; null until released")
    villageShare: int | None = Field(description="to the village enterprise; null until released")
    platformFee: int | None = Field(description="to the platform; null until released")
    releasedBlock: int | None
    releaseTxHash: str | None


class OperatorStatementsPublic(BaseModel):
    address: str
    indexedBlock: int
    mobilityEpochs: list[EpochStatementPublic] = Field(description="JourneyClearing statements")
    settlementDays: list[SettlementDayPublic] = Field(
        description="TripSettlement day books, per KST day, released or not yet"
    )
    revenueStatements: list[StatementPublic] = Field(
        description="RevenueSplit monthly statements of this payee (parking, fares, valet)"
    )
    claimable: int


class OperatorTripsPublic(BaseModel):
    address: str
    indexedBlock: int
    trips: list[TripPublic]


class IncidentPublic(BaseModel):
    incidentId: int
    kind: str
    slotId: int
    lat: float
    lon: float
    observedAt: int
    confidenceBps: int
    status: str
    evidenceCid: str | None = Field(
        description="CIDv1 text (base32 'b…'); the evidence is off chain"
    )
    contentHash: str
    reviewedBy: str | None
    reviewReason: str | None = Field(
        description="the review's reason code (IncidentRegistry's ReviewReason), never free text"
    )
    reviewDetailsCid: str | None = Field(
        description="CIDv1 text of the review's details, sealed in the evidence store, if any"
    )


class IncidentQueuePublic(BaseModel):
    indexedBlock: int
    incidents: list[IncidentPublic]


class UnsignedTransactionPublic(BaseModel):
    """Sign with the inspector's key (eth_signTransaction) and POST the raw bytes back."""

    model_config = {"populate_by_name": True}
    from_: str = Field(alias="from")
    to: str
    data: str
    nonce: int
    gas: int
    gasPrice: int
    chainId: int
    value: int = 0


class ReviewCreate(BaseModel):
    raw: str = Field(max_length=4096, description="0x signed transaction from /transaction")


class ReviewPublic(BaseModel):
    incidentId: int
    txHash: str
    blockNumber: int
    status: str = Field(description="the incident's status after the review")
    inspector: str


class CityPolicyPublic(BaseModel):
    block: int = Field(description="the block the parameters were read at")
    leaseMarket: dict[str, Any]
    revenueSplit: dict[str, Any]
    tripSettlement: dict[str, Any]
    journeyClearing: dict[str, Any]
    valetService: dict[str, Any]
    occupancyOracle: dict[str, Any]
