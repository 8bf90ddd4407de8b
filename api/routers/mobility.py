"""Mobility reads from the read model (models_mobility.py): operators with the plans in force
(public), a member's trips and journeys (that member's session or a record reader's,
api/record_access.py), and valet requests per lot (staff and valet workers see all, a resident
their own). Riders act through the forwarder
(TripSettlement / JourneyClearing / ValetService trust it; see the relayer allowlist)."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from api.deps import SessionDep
from api.read_model import grouped, indexed_block, rows
from api.record_access import RECORD_READERS, AddressPath, RecordsReaderDep
from api.schemas.common import kst_iso, kst_iso_or_none
from api.schemas.mobility import (
    FarePlanPublic,
    JourneyPublic,
    JourneysPublic,
    LegPublic,
    OperatorPublic,
    OperatorsPublic,
    TripPublic,
    TripsPublic,
    ValetRequestPublic,
    ValetRequestsPublic,
)
from api.siwe.deps import SiweDep, WalletSessionDep
from indexer import models_mobility as mm

router = APIRouter(tags=["mobility"])

Limit = Annotated[int, Query(ge=1, le=500, description="newest first, at most 500")]
TripStatus = Literal["OPEN", "ENDED", "DISPUTED", "SETTLED"]
# Who sees every valet request (riders' addresses, their leases): the record readers, the
# village enterprise that runs the service, operators, and the valet workers who take the jobs.
VALET_READERS = (*RECORD_READERS, "VILLAGE_ENTERPRISE", "OPERATOR", "VALET")
ValetStatus = Literal[
    "REQUESTED", "ACCEPTED", "PARKED", "RETURN_REQUESTED", "RETURNED", "CANCELLED"
]


@router.get(
    "/v1/mobility/operators",
    response_model=OperatorsPublic,
    summary="Mobility operators: kind, active, the fare plan in force and asset counts",
)
def operators(session: SessionDep) -> OperatorsPublic:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for operator, village, n in session.execute(
        select(mm.MobilityAsset.operator, mm.MobilityAsset.village_zone, func.count())
        .where(mm.MobilityAsset.active.is_(True))
        .group_by(mm.MobilityAsset.operator, mm.MobilityAsset.village_zone)
    ):
        counts[operator][0] += n
        if village:
            counts[operator][1] += n
    rows = session.scalars(select(mm.MobilityOperator).order_by(mm.MobilityOperator.address))
    answer = []
    for op in rows:
        plan = session.get(mm.FarePlan, op.current_plan) if op.current_plan else None
        answer.append(
            OperatorPublic(
                address=op.address, kind=op.kind, active=op.active,
                planInForce=_plan(plan) if plan else None,
                assets=counts[op.address][0], villageZoneAssets=counts[op.address][1],
            )
        )  # fmt: skip
    return OperatorsPublic(indexedBlock=indexed_block(session), operators=answer)


def _plan(plan: mm.FarePlan) -> FarePlanPublic:
    return FarePlanPublic(
        planId=plan.plan_id, unlockFee=plan.unlock_fee, perMinute=plan.per_minute,
        per100m=plan.per_100m, dailyCap=plan.daily_cap,
    )  # fmt: skip


def trip_public(t: mm.Trip) -> TripPublic:
    return TripPublic(
        tripId=t.trip_id, rider=t.rider, operator=t.operator, assetId=t.asset_id,
        planId=t.plan_id, deposit=t.deposit, status=t.status, startedAt=t.started_at,
        startedAtIso=kst_iso(t.started_at), endedAt=t.ended_at,
        endedAtIso=kst_iso_or_none(t.ended_at), closedAt=t.closed_at, distanceM=t.distance_m, fare=t.fare,
        forced=t.forced, riderRefund=t.rider_refund, disputeRefund=t.dispute_refund,
        bookedDay=t.booked_day, operatorShare=t.operator_share, villageShare=t.village_share,
        platformFee=t.platform_fee,
    )  # fmt: skip


@router.get("/v1/members/{address}/trips", response_model=TripsPublic, summary="A rider's trips")
def member_trips(
    session: SessionDep, _reader: RecordsReaderDep, address: AddressPath,
    status: TripStatus | None = None, limit: Limit = 100,
) -> TripsPublic:  # fmt: skip
    query = select(mm.Trip).where(mm.Trip.rider == address)
    if status is not None:
        query = query.where(mm.Trip.status == status)
    rows = session.scalars(query.order_by(mm.Trip.trip_id.desc()).limit(limit))
    balance = session.get(mm.RiderDepositBalance, address)
    return TripsPublic(
        indexedBlock=indexed_block(session),
        depositBalance=balance.balance if balance else 0,
        trips=[trip_public(t) for t in rows],
    )


@router.get(
    "/v1/members/{address}/journeys",
    response_model=JourneysPublic,
    summary="A rider's journeys (chained trips) with each leg's transfer discount",
)
def member_journeys(
    session: SessionDep, _reader: RecordsReaderDep, address: AddressPath, limit: Limit = 100
) -> JourneysPublic:
    journeys = rows(
        session, mm.Journey, mm.Journey.rider == address, mm.Journey.journey_id.desc(), limit=limit
    )
    leg = mm.JourneyLeg
    legs = grouped(
        rows(
            session, leg, leg.journey_id.in_([j.journey_id for j in journeys]), leg.journey_id,
            leg.leg_index,
        ),
        lambda row: row.journey_id,
        lambda row: LegPublic(
            legIndex=row.leg_index, tripId=row.trip_id, operator=row.operator,
            eligible=row.eligible, discount=row.discount,
        ),
    )  # fmt: skip
    return JourneysPublic(
        address=address, indexedBlock=indexed_block(session),
        journeys=[
            JourneyPublic(
                journeyId=j.journey_id, rider=j.rider, openedAt=j.opened_at,
                legs=legs[j.journey_id], discount=sum(x.discount for x in legs[j.journey_id]),
            )
            for j in journeys
        ],
    )  # fmt: skip


@router.get(
    "/v1/valet/requests",
    response_model=ValetRequestsPublic,
    summary="Valet requests, newest first, optionally of one lot and/or in one status (a "
    "resident's session: its own; staff and valet workers: all)",
)
def valet_requests(
    session: SessionDep,
    siwe: SiweDep,
    wallet: WalletSessionDep,
    lot: Annotated[int | None, Query(ge=0, le=2**32 - 1, description="lot id")] = None,
    status: ValetStatus | None = None,
    limit: Limit = 100,
) -> ValetRequestsPublic:
    query = select(mm.ValetRequest)
    if not siwe.roles.has_any(VALET_READERS, wallet.address):
        query = query.where(mm.ValetRequest.rider == wallet.address)
    if lot is not None:
        query = query.where(mm.ValetRequest.lot_id == lot)
    if status is not None:
        query = query.where(mm.ValetRequest.status == status)
    rows = session.scalars(query.order_by(mm.ValetRequest.request_id.desc()).limit(limit))
    return ValetRequestsPublic(
        indexedBlock=indexed_block(session),
        requests=[
            ValetRequestPublic(
                requestId=r.request_id, rider=r.rider, lotId=r.lot_id, leaseId=r.lease_id,
                start=r.start, end=r.end, startIso=kst_iso(r.start), endIso=kst_iso(r.end),
                parkingPrice=r.parking_price, fee=r.fee, status=r.status,
                requestedAt=r.requested_at, requestedAtIso=kst_iso(r.requested_at), worker=r.worker,
                workerShare=r.worker_share, villageShare=r.village_share, refund=r.refund,
            )
            for r in rows
        ],
    )  # fmt: skip
