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
    status: str = Field(description="OPEN, ENDED, DISPUTED or SETTLED")
    startedAt: int
    endedAt: int | None
    distanceM: int | None
    fare: int | None
    forced: bool | None
    settledDay: int | None = Field(description="KST day number of the settlement")
    operatorShare: int | None
    villageShare: int | None
    platformFee: int | None
    riderRefund: int | None


class TripsPublic(BaseModel):
    indexedBlock: int
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
    parkingPrice: int
    fee: int
    status: str
    requestedAt: int
    worker: str | None
    workerShare: int | None
    villageShare: int | None
    refund: int | None


class ValetRequestsPublic(BaseModel):
    indexedBlock: int
    requests: list[ValetRequestPublic]
