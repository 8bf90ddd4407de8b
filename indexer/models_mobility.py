"""Read-model tables for mobility (issue 5 contracts): operators and their fare plans and
assets, trips, journeys with their legs, operators' epoch statements and valet requests.

For other readers (feeds, KPIs): every table is filled by indexer/handlers_mobility.py from
MobilityOperators, TripSettlement, JourneyClearing and ValetService events, with the same
conventions as models.py (checksummed addresses, KRW amounts, unix seconds, enum names as text).
A trip's `status` follows TripStatus (OPEN, ENDED, DISPUTED, SETTLED) as far as events tell it:
the end report books the fare on the operator's KST day (ENDED); the trip is SETTLED here once
its day has been released to the revenue split (DayReleased) or its dispute resolved. On chain,
`tripOf` already reads SETTLED when the dispute window has passed, which emits no event; the read
model waits for the release, the moment the money actually moves. A valet request's status
follows ValetStatus (REQUESTED, ACCEPTED, PARKED, RETURN_REQUESTED, RETURNED, CANCELLED).
"""

from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from indexer.models import (
    Active,
    Address,
    AddressKey,
    Base,
    ChainId,
    EnumName,
    IndexedAddress,
    IndexedInt,
    KstPeriod,
    LogRef,
    Tally,
)


class MobilityOperator(Base):
    __tablename__ = "mobility_operators"
    address: Mapped[AddressKey]
    kind: Mapped[EnumName]  # OperatorKind name
    active: Mapped[Active]
    current_plan: Mapped[int] = mapped_column(default=0)  # 0: none published yet
    registered_block: Mapped[int]


class FarePlan(Base):
    """A published fare plan (immutable; an operator's newest plan is the one in force)."""

    __tablename__ = "fare_plans"
    plan_id: Mapped[ChainId]
    operator: Mapped[IndexedAddress]
    unlock_fee: Mapped[int]
    per_minute: Mapped[int]
    per_100m: Mapped[int]
    daily_cap: Mapped[int]
    published_block: Mapped[int]


class MobilityAsset(Base):
    __tablename__ = "mobility_assets"
    asset_id: Mapped[ChainId]
    operator: Mapped[IndexedAddress]
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[Active]
    village_zone: Mapped[bool]


class Trip(Base):
    __tablename__ = "trips"
    trip_id: Mapped[ChainId]
    rider: Mapped[IndexedAddress]
    operator: Mapped[IndexedAddress]
    asset_id: Mapped[int]
    plan_id: Mapped[int]
    deposit: Mapped[int]
    status: Mapped[EnumName]
    started_at: Mapped[int]  # block time of TripStarted
    started_block: Mapped[int]
    ended_at: Mapped[int | None]
    distance_m: Mapped[int | None]
    fare: Mapped[int | None]  # after a dispute: what was paid
    forced: Mapped[bool | None]
    closed_at: Mapped[int | None]  # block time of the end report
    rider_refund: Mapped[int | None]  # unused deposit, to the balance
    dispute_refund: Mapped[int | None]
    # The KST day the fare is booked on (the end report's, or the resolution's after a dispute);
    # None while disputed, when the fare is on no day.
    booked_day: Mapped[KstPeriod | None]
    # The fare's split is stated per trip only by DisputeResolved; an undisputed trip's parts
    # are summed into its day (DayRelease).
    operator_share: Mapped[int | None]
    village_share: Mapped[int | None]
    platform_fee: Mapped[int | None]


class DayRelease(LogRef, Base):
    """TripSettlement.DayReleased: one operator's KST day of fares paid to the revenue split."""

    __tablename__ = "mobility_day_releases"
    # One release per operator and day (instead of LogRef's one row per log).
    __table_args__ = (UniqueConstraint("operator", "day"),)
    operator: Mapped[IndexedAddress]
    day: Mapped[KstPeriod]  # KST day number
    legs: Mapped[int]
    gross: Mapped[int]
    operator_share: Mapped[int]
    village_share: Mapped[int]
    platform_fee: Mapped[int]


class RiderDepositBalance(Base):
    """A rider's TripSettlement deposit balance (`depositBalanceOf`), replayed from events:
    unused deposits and dispute refunds in, the next trip's deposit and withdrawals out."""

    __tablename__ = "rider_deposit_balances"
    rider: Mapped[AddressKey]
    balance: Mapped[Tally]
    updated_block: Mapped[int]


class Journey(Base):
    __tablename__ = "journeys"
    journey_id: Mapped[ChainId]
    rider: Mapped[IndexedAddress]
    opened_at: Mapped[int]


class JourneyLeg(Base):
    __tablename__ = "journey_legs"
    journey_id: Mapped[ChainId]
    leg_index: Mapped[ChainId] = mapped_column(Integer)
    trip_id: Mapped[IndexedInt]
    operator: Mapped[Address]
    eligible: Mapped[int]
    discount: Mapped[int]


class EpochStatement(LogRef, Base):
    """JourneyClearing's closed statement of one operator for one epoch (a KST day number)."""

    __tablename__ = "mobility_epoch_statements"
    operator: Mapped[IndexedAddress]
    epoch: Mapped[KstPeriod]
    legs: Mapped[int]
    gross: Mapped[int]
    discounts: Mapped[int]
    fees: Mapped[int]
    village_share: Mapped[int]
    net: Mapped[int]


class ValetRequest(Base):
    __tablename__ = "valet_requests"
    request_id: Mapped[ChainId]
    rider: Mapped[IndexedAddress]
    lot_id: Mapped[IndexedInt]
    lease_id: Mapped[int]
    start: Mapped[int]
    end: Mapped[int]
    parking_price: Mapped[int]
    fee: Mapped[int]
    status: Mapped[EnumName]
    requested_at: Mapped[int]
    worker: Mapped[Address | None]
    worker_share: Mapped[int | None]
    village_share: Mapped[int | None]
    refund: Mapped[int | None]
