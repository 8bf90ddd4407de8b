"""Operators and the village enterprise (SIWE session, OPERATOR or VILLAGE_ENTERPRISE on
CityAccess): their statements and trips, from the read model."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from api.deps import SessionDep
from api.read_model import indexed_block, revenue_statements, rows
from api.routers.mobility import trip_public
from api.schemas.staff import (
    EpochStatementPublic,
    OperatorStatementsPublic,
    OperatorTripsPublic,
    SettlementDayPublic,
)
from api.siwe.deps import require_role
from api.siwe.store import StaffSession
from indexer import models as m
from indexer import models_mobility as mm

router = APIRouter(prefix="/v1/operator", tags=["operators (SIWE)"])

OperatorSession = Annotated[StaffSession, Depends(require_role("OPERATOR", "VILLAGE_ENTERPRISE"))]


@router.get(
    "/statements",
    response_model=OperatorStatementsPublic,
    summary="The signed-in operator's mobility epoch statements, daily settlements and revenue "
    "statements",
)
def statements(session: SessionDep, staff: OperatorSession) -> OperatorStatementsPublic:
    me = staff.address
    epochs = rows(
        session, mm.EpochStatement, mm.EpochStatement.operator == me, mm.EpochStatement.epoch
    )
    # Booked fares per day from the trips (a disputed trip is on no day), and the chain's own
    # figures for the days already paid out.
    booked = session.execute(
        select(mm.Trip.booked_day, func.count(), func.sum(mm.Trip.fare))
        .where(mm.Trip.operator == me, mm.Trip.booked_day.is_not(None))
        .group_by(mm.Trip.booked_day)
    )
    releases = {r.day: r for r in rows(session, mm.DayRelease, mm.DayRelease.operator == me)}
    # (booked_day is never null here: the query skips disputed trips; the test says so to mypy)
    days = {day: (n, fares or 0) for day, n, fares in booked if day is not None}
    days.update({day: (r.legs, r.gross) for day, r in releases.items()})
    balance = session.get(m.PayeeBalance, me)
    return OperatorStatementsPublic(
        address=me, indexedBlock=indexed_block(session),
        mobilityEpochs=[
            EpochStatementPublic(
                epoch=e.epoch, legs=e.legs, gross=e.gross, discounts=e.discounts, fees=e.fees,
                villageShare=e.village_share, net=e.net, blockNumber=e.block_number,
                txHash=e.tx_hash,
            )
            for e in epochs
        ],
        settlementDays=[_day(day, *days[day], releases.get(day)) for day in sorted(days)],
        revenueStatements=revenue_statements(session, me),
        claimable=balance.claimable if balance else 0,
    )  # fmt: skip


def _day(day: int, trips: int, fares: int, release: mm.DayRelease | None) -> SettlementDayPublic:
    return SettlementDayPublic(
        day=day, trips=trips, fares=fares, released=release is not None,
        operatorShare=release.operator_share if release else None,
        villageShare=release.village_share if release else None,
        platformFee=release.platform_fee if release else None,
        releasedBlock=release.block_number if release else None,
        releaseTxHash=release.tx_hash if release else None,
    )  # fmt: skip


@router.get("/trips", response_model=OperatorTripsPublic, summary="Trips on the operator's assets")
def trips(
    session: SessionDep,
    staff: OperatorSession,
    limit: Annotated[int, Query(ge=1, le=500, description="newest first")] = 100,
) -> OperatorTripsPublic:
    trips = rows(
        session, mm.Trip, mm.Trip.operator == staff.address, mm.Trip.trip_id.desc(), limit=limit
    )
    return OperatorTripsPublic(
        address=staff.address, indexedBlock=indexed_block(session),
        trips=[trip_public(t) for t in trips],
    )  # fmt: skip
