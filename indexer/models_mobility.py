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

from sqlalchemy import BigInteger, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from indexer.models import ADDRESS, Base, LogRef


class MobilityOperator(Base):
    __tablename__ = "mobility_operators"
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # OperatorKind name
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    current_plan: Mapped[int] = mapped_column(BigInteger, default=0)  # 0: none published yet
    registered_block: Mapped[int] = mapped_column(BigInteger)


class FarePlan(Base):
    """A published fare plan (immutable; an operator's newest plan is the one in force)."""

    __tablename__ = "fare_plans"
    plan_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    operator: Mapped[str] = mapped_column(ADDRESS, index=True)
    unlock_fee: Mapped[int] = mapped_column(BigInteger)
    per_minute: Mapped[int] = mapped_column(BigInteger)
    per_100m: Mapped[int] = mapped_column(BigInteger)
    daily_cap: Mapped[int] = mapped_column(BigInteger)
    published_block: Mapped[int] = mapped_column(BigInteger)


class MobilityAsset(Base):
    __tablename__ = "mobility_assets"
    asset_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    operator: Mapped[str] = mapped_column(ADDRESS, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    village_zone: Mapped[bool] = mapped_column(Boolean)


class Trip(Base):
    __tablename__ = "trips"
    trip_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    rider: Mapped[str] = mapped_column(ADDRESS, index=True)
    operator: Mapped[str] = mapped_column(ADDRESS, index=True)
    asset_id: Mapped[int] = mapped_column(BigInteger)
    plan_id: Mapped[int] = mapped_column(BigInteger)
    deposit: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[int] = mapped_column(BigInteger)  # block time of TripStarted
    started_block: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger)
    distance_m: Mapped[int | None] = mapped_column(BigInteger)
    fare: Mapped[int | None] = mapped_column(BigInteger)  # after a dispute: what was paid
    forced: Mapped[bool | None] = mapped_column(Boolean)
    closed_at: Mapped[int | None] = mapped_column(BigInteger)  # block time of the end report
    rider_refund: Mapped[int | None] = mapped_column(BigInteger)  # unused deposit, to the balance
    dispute_refund: Mapped[int | None] = mapped_column(BigInteger)
    # The KST day the fare is booked on (the end report's, or the resolution's after a dispute);
    # None while disputed, when the fare is on no day.
    booked_day: Mapped[int | None] = mapped_column(Integer, index=True)
    # The fare's split is stated per trip only by DisputeResolved; an undisputed trip's parts
    # are summed into its day (DayRelease).
    operator_share: Mapped[int | None] = mapped_column(BigInteger)
    village_share: Mapped[int | None] = mapped_column(BigInteger)
    platform_fee: Mapped[int | None] = mapped_column(BigInteger)


class DayRelease(LogRef, Base):
    """TripSettlement.DayReleased: one operator's KST day of fares paid to the revenue split."""

    __tablename__ = "mobility_day_releases"
    __table_args__ = (UniqueConstraint("operator", "day"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    operator: Mapped[str] = mapped_column(ADDRESS, index=True)
    day: Mapped[int] = mapped_column(Integer, index=True)  # KST day number
    legs: Mapped[int] = mapped_column(BigInteger)
    gross: Mapped[int] = mapped_column(BigInteger)
    operator_share: Mapped[int] = mapped_column(BigInteger)
    village_share: Mapped[int] = mapped_column(BigInteger)
    platform_fee: Mapped[int] = mapped_column(BigInteger)


class RiderDepositBalance(Base):
    """A rider's TripSettlement deposit balance (`depositBalanceOf`), replayed from events:
    unused deposits and dispute refunds in, the next trip's deposit and withdrawals out."""

    __tablename__ = "rider_deposit_balances"
    rider: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class Journey(Base):
    __tablename__ = "journeys"
    journey_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    rider: Mapped[str] = mapped_column(ADDRESS, index=True)
    opened_at: Mapped[int] = mapped_column(BigInteger)


class JourneyLeg(Base):
    __tablename__ = "journey_legs"
    journey_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leg_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    trip_id: Mapped[int] = mapped_column(BigInteger, index=True)
    operator: Mapped[str] = mapped_column(ADDRESS)
    eligible: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger)


class EpochStatement(LogRef, Base):
    """JourneyClearing's closed statement of one operator for one epoch (a KST day number)."""

    __tablename__ = "mobility_epoch_statements"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    operator: Mapped[str] = mapped_column(ADDRESS, index=True)
    epoch: Mapped[int] = mapped_column(Integer, index=True)
    legs: Mapped[int] = mapped_column(BigInteger)
    gross: Mapped[int] = mapped_column(BigInteger)
    discounts: Mapped[int] = mapped_column(BigInteger)
    fees: Mapped[int] = mapped_column(BigInteger)
    village_share: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)


class ValetRequest(Base):
    __tablename__ = "valet_requests"
    request_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    rider: Mapped[str] = mapped_column(ADDRESS, index=True)
    lot_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lease_id: Mapped[int] = mapped_column(BigInteger)
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    parking_price: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_at: Mapped[int] = mapped_column(BigInteger)
    worker: Mapped[str | None] = mapped_column(ADDRESS)
    worker_share: Mapped[int | None] = mapped_column(BigInteger)
    village_share: Mapped[int | None] = mapped_column(BigInteger)
    refund: Mapped[int | None] = mapped_column(BigInteger)
