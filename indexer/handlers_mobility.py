"""Log handlers for the mobility tables (models_mobility.py); merged into handlers.HANDLERS.

Kept apart from handlers.py so the parking read model stays as it was; both build on
handler_base.py (the same (session, LogContext, args) signature and row helpers).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from citypass.core.timeunits import local_day
from indexer import models_mobility as mm
from indexer.handler_base import Handler, LogContext, existing, get_or_new

# OperatorKind, TripStatus and ValetStatus (contracts/types/MobilityTypes.sol), by value.
OPERATOR_KINDS = ("NONE", "CAR_SHARE", "KICK_SCOOTER", "VALET", "TRANSIT")


def _row(s: Session, model: type, key: int, what: str) -> Any:
    return existing(
        s, model, key, f"{what} {key} was never indexed: re-index from the deployment block"
    )


# ------------------------------------------------------------------------------ operators


def operator_registered(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        mm.MobilityOperator(
            address=a["operator"], kind=OPERATOR_KINDS[a["kind"]], active=True, current_plan=0,
            registered_block=ctx.block_number,
        )
    )  # fmt: skip


def operator_active_set(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    _row(s, mm.MobilityOperator, a["operator"], "operator").active = bool(a["active"])


def plan_published(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        mm.FarePlan(
            plan_id=a["planId"], operator=a["operator"], unlock_fee=a["unlockFee"],
            per_minute=a["perMinute"], per_100m=a["per100m"], daily_cap=a["dailyCap"],
            published_block=ctx.block_number,
        )
    )  # fmt: skip
    # MobilityOperators.publishPlan makes the new plan the operator's current one.
    _row(s, mm.MobilityOperator, a["operator"], "operator").current_plan = a["planId"]


def asset_registered(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        mm.MobilityAsset(
            asset_id=a["assetId"], operator=a["operator"], kind=OPERATOR_KINDS[a["kind"]],
            active=True, village_zone=bool(a["villageZone"]),
        )
    )  # fmt: skip


def asset_updated(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    asset = _row(s, mm.MobilityAsset, a["assetId"], "asset")
    asset.active, asset.village_zone = bool(a["active"]), bool(a["villageZone"])


# ---------------------------------------------------------------------------------- trips


def _balance(s: Session, ctx: LogContext, rider: str) -> mm.RiderDepositBalance:
    row = get_or_new(
        s, mm.RiderDepositBalance, rider, rider=rider, balance=0, updated_block=ctx.block_number
    )
    row.updated_block = ctx.block_number
    return row


def trip_started(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        mm.Trip(
            trip_id=a["tripId"], rider=a["rider"], operator=a["operator"], asset_id=a["assetId"],
            plan_id=a["planId"], deposit=a["deposit"], status="OPEN", started_at=ctx.timestamp,
            started_block=ctx.block_number,
        )
    )  # fmt: skip
    # TripSettlement._start funds the deposit from the rider's balance first.
    balance = _balance(s, ctx, a["rider"])
    balance.balance -= min(a["deposit"], balance.balance)


def trip_ended(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    # The end report settles: the fare is booked on the operator's KST day of this block and the
    # unused deposit goes to the rider's balance. The trip stays ENDED until its day's release.
    trip = _row(s, mm.Trip, a["tripId"], "trip")
    trip.status, trip.ended_at, trip.distance_m = "ENDED", a["endedAt"], a["distanceMeters"]
    trip.fare, trip.forced, trip.rider_refund = a["fare"], bool(a["forced"]), a["riderRefund"]
    trip.closed_at, trip.booked_day = ctx.timestamp, local_day(ctx.timestamp)
    _balance(s, ctx, a["rider"]).balance += a["riderRefund"]


def trip_disputed(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    # The fare leaves its day (a["day"]) until an INSPECTOR resolves the dispute.
    trip = _row(s, mm.Trip, a["tripId"], "trip")
    trip.status, trip.booked_day = "DISPUTED", None


def dispute_resolved(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    # Final at once (TripSettlement.resolveDispute): the refund to the rider's balance, the rest
    # booked on the resolution's day in the stated parts.
    trip = _row(s, mm.Trip, a["tripId"], "trip")
    trip.status, trip.dispute_refund, trip.fare = "SETTLED", a["refund"], a["fare"]
    trip.booked_day = a["day"]
    trip.operator_share, trip.village_share = a["operatorShare"], a["villageShare"]
    trip.platform_fee = a["platformFee"]
    _balance(s, ctx, trip.rider).balance += a["refund"]


def day_released(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        mm.DayRelease(
            **ctx.ref(), operator=a["operator"], day=a["day"], legs=a["legs"], gross=a["gross"],
            operator_share=a["operatorShare"], village_share=a["villageShare"],
            platform_fee=a["platformFee"],
        )
    )  # fmt: skip
    # Every trip still booked on the day is paid out with it: its fare is final.
    s.execute(
        update(mm.Trip)
        .where(
            mm.Trip.operator == a["operator"],
            mm.Trip.booked_day == a["day"],
            mm.Trip.status == "ENDED",
        )
        .values(status="SETTLED")
    )


def deposit_withdrawn(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    _balance(s, ctx, a["rider"]).balance -= a["amount"]


# ------------------------------------------------------------------------------- journeys


def journey_opened(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(mm.Journey(journey_id=a["journeyId"], rider=a["rider"], opened_at=ctx.timestamp))


def leg_added(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        mm.JourneyLeg(
            journey_id=a["journeyId"], leg_index=a["legIndex"], trip_id=a["tripId"],
            operator=a["operator"], eligible=a["eligible"], discount=a["discount"],
        )
    )  # fmt: skip


def epoch_statement(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        mm.EpochStatement(
            **ctx.ref(), operator=a["operator"], epoch=a["epoch"], legs=a["legs"],
            gross=a["gross"], discounts=a["discounts"], fees=a["fees"],
            village_share=a["villageShare"], net=a["net"],
        )
    )  # fmt: skip


# ---------------------------------------------------------------------------------- valet


def valet_requested(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        mm.ValetRequest(
            request_id=a["requestId"], rider=a["rider"], lot_id=a["lotId"], lease_id=a["leaseId"],
            start=a["start"], end=a["end"], parking_price=a["parkingPrice"], fee=a["fee"],
            status="REQUESTED", requested_at=ctx.timestamp,
        )
    )  # fmt: skip


def valet_status(status: str) -> Handler:
    def apply(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
        request = _row(s, mm.ValetRequest, a["requestId"], "valet request")
        request.status = status
        if "worker" in a:
            request.worker = a["worker"]
        if status == "RETURNED":
            request.worker_share, request.village_share = a["workerShare"], a["villageShare"]
        if status == "CANCELLED":
            request.refund = a["refund"]

    return apply


MOBILITY_HANDLERS: dict[tuple[str, str], Handler] = {
    ("MobilityOperators", "OperatorRegistered"): operator_registered,
    ("MobilityOperators", "OperatorActiveSet"): operator_active_set,
    ("MobilityOperators", "FarePlanPublished"): plan_published,
    ("MobilityOperators", "AssetRegistered"): asset_registered,
    ("MobilityOperators", "AssetUpdated"): asset_updated,
    ("TripSettlement", "TripStarted"): trip_started,
    ("TripSettlement", "TripEnded"): trip_ended,
    ("TripSettlement", "TripDisputed"): trip_disputed,
    ("TripSettlement", "DisputeResolved"): dispute_resolved,
    ("TripSettlement", "DayReleased"): day_released,
    ("TripSettlement", "DepositWithdrawn"): deposit_withdrawn,
    ("JourneyClearing", "JourneyOpened"): journey_opened,
    ("JourneyClearing", "LegAdded"): leg_added,
    ("JourneyClearing", "EpochStatement"): epoch_statement,
    ("ValetService", "ValetRequested"): valet_requested,
    ("ValetService", "ValetAccepted"): valet_status("ACCEPTED"),
    ("ValetService", "ValetParked"): valet_status("PARKED"),
    ("ValetService", "ValetReturnRequested"): valet_status("RETURN_REQUESTED"),
    ("ValetService", "ValetReturned"): valet_status("RETURNED"),
    ("ValetService", "ValetCancelled"): valet_status("CANCELLED"),
}
