"""Mobility reads: operators and their plans in force, trips, journeys and valet requests."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FarePlanPublic(BaseModel):
    planId: int
    unlockFee: int
    perMinute: int
    per100m: int
    dailyCap: int


class OperatorPublic(BaseModel):
    address: str
    kind: str = Field(description="CAR_SHARE, KICK_SCOOTER, VALET or TRANSIT")
    active: bool
    planInForce: FarePlanPublic | None = Field(description="the newest published plan")
    assets: int = Field(description="active assets")
    villageZoneAssets: int


class OperatorsPublic(BaseModel):
    indexedBlock: int
    operators: list[OperatorPublic]


class TripPublic(BaseModel):
    tripId: int
    rider: str
    operator: str
    assetId: int
    planId: int
    deposit: int
    status: str = Field(
        description="OPEN; ENDED (fare booked, unused deposit returned); DISPUTED (fare on no "
        "day); SETTLED (its day released to the revenue split, or its dispute resolved)"
    )
    startedAt: int
    startedAtIso: str
    endedAt: int | None = Field(description="the operator's reported end")
    endedAtIso: str | None
    closedAt: int | None = Field(description="block time of the end report; the dispute window "
                                 "runs from here")  # fmt: skip
    distanceM: int | None
    fare: int | None = Field(description="KRW; after a dispute, what the rider finally paid")
    forced: bool | None
    riderRefund: int | None = Field(description="unused deposit, to the rider's deposit balance")
    disputeRefund: int | None
    bookedDay: int | None = Field(
        description="KST day number the fare is booked on (null while disputed)"
    )
    operatorShare: int | None = Field(description="stated per trip only by a resolved dispute")
    villageShare: int | None
    platformFee: int | None


class TripsPublic(BaseModel):
    indexedBlock: int
    depositBalance: int = Field(
        description="the rider's TripSettlement deposit balance (funds the next deposit first; "
        "withdrawDeposit pays it out)"
    )
    trips: list[TripPublic]


class LegPublic(BaseModel):
    legIndex: int
    tripId: int
    operator: str
    eligible: int
    discount: int = Field(description="KRW transfer discount paid from the subsidy pool")


class JourneyPublic(BaseModel):
    journeyId: int
    rider: str
    openedAt: int
    legs: list[LegPublic]
    discount: int


class JourneysPublic(BaseModel):
    address: str
    indexedBlock: int
    journeys: list[JourneyPublic]


class ValetRequestPublic(BaseModel):
    requestId: int
    rider: str
    lotId: int
    leaseId: int
    start: int
    end: int
    startIso: str
    endIso: str
    parkingPrice: int
    fee: int
    status: str
    requestedAt: int
    requestedAtIso: str
    worker: str | None
    workerShare: int | None
    villageShare: int | None
    refund: int | None


class ValetRequestsPublic(BaseModel):
    indexedBlock: int
    requests: list[ValetRequestPublic]
