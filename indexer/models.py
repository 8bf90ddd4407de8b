"""The read model: SQLAlchemy tables for blocks, transactions, raw logs and the decoded domain.

Conventions (why): addresses are stored checksummed, hashes and topics as 0x-hex text, so rows
compare directly with what web3 returns. Amounts are KRW credits (0 decimals) and ids are small,
so 64-bit integers hold them; the decoder refuses anything larger instead of truncating. Rows
that come from one log carry (tx_hash, log_index) with a unique constraint, so re-indexing a block
can never duplicate them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ADDRESS = String(42)
HASH = String(66)


class Base(DeclarativeBase):
    pass


class LogRef:
    """Columns of a row that one log produced: where it came from, unique per log."""

    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_hash: Mapped[str] = mapped_column(HASH)
    log_index: Mapped[int] = mapped_column(Integer)


# --------------------------------------------------------------------------- chain records


class Cursor(Base):
    """The last block whose every row is committed, and its hash (one row, id 1)."""

    __tablename__ = "indexer_cursor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(HASH)
    # Immutable payees of RevenueSplit, read once so claimable balances can be derived.
    village_enterprise: Mapped[str] = mapped_column(ADDRESS)
    city_fund: Mapped[str] = mapped_column(ADDRESS)
    platform: Mapped[str] = mapped_column(ADDRESS)


class Block(Base):
    __tablename__ = "blocks"
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(HASH, unique=True)
    parent_hash: Mapped[str] = mapped_column(HASH)
    timestamp: Mapped[int] = mapped_column(BigInteger, index=True)
    tx_count: Mapped[int] = mapped_column(Integer)
    # The authority seal (ledger_getSeal) as verified when the block was indexed: "sealed" or
    # "invalid"; null = the node had no seal to give then (the explorer verifies it live).
    seal_status: Mapped[str | None] = mapped_column(String(16), default=None)


class Transaction(Base):
    __tablename__ = "transactions"
    hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    block_number: Mapped[int] = mapped_column(ForeignKey("blocks.number"), index=True)
    tx_index: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(ADDRESS, index=True)
    to: Mapped[str | None] = mapped_column(ADDRESS, index=True)
    contract_address: Mapped[str | None] = mapped_column(ADDRESS)
    status: Mapped[int] = mapped_column(Integer)
    gas_used: Mapped[int] = mapped_column(BigInteger)


class RawLog(Base):
    __tablename__ = "logs"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    block_number: Mapped[int] = mapped_column(ForeignKey("blocks.number"), index=True)
    tx_hash: Mapped[str] = mapped_column(ForeignKey("transactions.hash"))
    log_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(ADDRESS, index=True)
    topic0: Mapped[str | None] = mapped_column(HASH, index=True)
    topic1: Mapped[str | None] = mapped_column(HASH)
    topic2: Mapped[str | None] = mapped_column(HASH)
    topic3: Mapped[str | None] = mapped_column(HASH)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Set when the log came from a known contract and decoded; null for foreign logs.
    contract: Mapped[str | None] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(48), index=True)


# ----------------------------------------------------------------------------- membership


class Member(Base):
    __tablename__ = "members"
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # NONE / ACTIVE / SUSPENDED
    onboarded_block: Mapped[int | None] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)
    suspension_reason: Mapped[str | None] = mapped_column(HASH)


class MemberRole(Base):
    """A role currently held (deleted on RoleRevoked)."""

    __tablename__ = "member_roles"
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    role: Mapped[str] = mapped_column(HASH, primary_key=True)
    role_name: Mapped[str] = mapped_column(String(32))
    granted_block: Mapped[int] = mapped_column(BigInteger)


# ---------------------------------------------------------------------------------- slots


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (Index("ix_slots_lat_lon", "lat_e6", "lon_e6"),)
    slot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    lot_id: Mapped[int] = mapped_column(BigInteger, index=True)
    category: Mapped[str] = mapped_column(String(24))
    lat_e6: Mapped[int] = mapped_column(Integer)
    lon_e6: Mapped[int] = mapped_column(Integer)
    # uint96 on chain: kept as hex text; the unpacked windows are rows of slot_windows.
    windows_packed: Mapped[str] = mapped_column(String(26), default="0x0")
    terms_version: Mapped[int] = mapped_column(Integer, default=0)
    price_per_unit: Mapped[int] = mapped_column(BigInteger)
    overage_per_10min: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_block: Mapped[int] = mapped_column(BigInteger)


class SlotWindow(Base):
    """One weekly sharing window (KST half-hours; end <= start runs overnight)."""

    __tablename__ = "slot_windows"
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.slot_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    days_mask: Mapped[int] = mapped_column(Integer)
    start_unit: Mapped[int] = mapped_column(Integer)
    end_unit: Mapped[int] = mapped_column(Integer)


class SlotTermsVersion(Base):
    """Every price version: a lease is charged under the version it was booked with."""

    __tablename__ = "slot_terms"
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.slot_id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    price_per_unit: Mapped[int] = mapped_column(BigInteger)
    overage_per_10min: Mapped[int] = mapped_column(BigInteger)
    set_block: Mapped[int] = mapped_column(BigInteger)


class SlotBlackout(Base):
    """A KST day (days since 1970-01-01) on which the slot is not shared."""

    __tablename__ = "slot_blackouts"
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.slot_id"), primary_key=True)
    local_day: Mapped[int] = mapped_column(BigInteger, primary_key=True)


# --------------------------------------------------------------------------------- leases


class Lease(Base):
    __tablename__ = "leases"
    __table_args__ = (Index("ix_leases_slot_time", "slot_id", "start", "end"),)
    lease_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    slot_id: Mapped[int] = mapped_column(BigInteger)
    lessee: Mapped[str] = mapped_column(ADDRESS, index=True)
    start: Mapped[int] = mapped_column(BigInteger)
    end: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    # BOOKED / CHECKED_IN / SETTLED / CANCELLED / NO_SHOW (LeaseStatus names)
    status: Mapped[str] = mapped_column(String(16), index=True)
    booked_at: Mapped[int] = mapped_column(BigInteger)
    booked_block: Mapped[int] = mapped_column(BigInteger)
    checked_in_at: Mapped[int | None] = mapped_column(BigInteger)
    checked_out_at: Mapped[int | None] = mapped_column(BigInteger)
    overstay_charge: Mapped[int] = mapped_column(BigInteger, default=0)
    overstay_paid: Mapped[bool | None] = mapped_column(Boolean)
    overstay_debt: Mapped[int] = mapped_column(BigInteger, default=0)
    refund: Mapped[int | None] = mapped_column(BigInteger)
    retained: Mapped[int | None] = mapped_column(BigInteger)
    closed_by: Mapped[str | None] = mapped_column(ADDRESS)


# -------------------------------------------------------------------------------- revenue


class RevenueAllocation(LogRef, Base):
    __tablename__ = "revenue_allocations"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    source: Mapped[str] = mapped_column(ADDRESS)
    owner: Mapped[str] = mapped_column(ADDRESS, index=True)
    category: Mapped[str] = mapped_column(String(24))
    amount: Mapped[int] = mapped_column(BigInteger)
    owner_share: Mapped[int] = mapped_column(BigInteger)
    village_share: Mapped[int] = mapped_column(BigInteger)
    city_share: Mapped[int] = mapped_column(BigInteger)
    platform_share: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class RevenueClaim(LogRef, Base):
    __tablename__ = "revenue_claims"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    payee: Mapped[str] = mapped_column(ADDRESS, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class EscrowRefund(LogRef, Base):
    """A refund paid out of escrow (deferred=False) or kept claimable for a suspended member."""

    __tablename__ = "escrow_refunds"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    recipient: Mapped[str] = mapped_column(ADDRESS, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    deferred: Mapped[bool] = mapped_column(Boolean)


class MonthlyStatement(LogRef, Base):
    __tablename__ = "monthly_statements"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    payee: Mapped[str] = mapped_column(ADDRESS, index=True)
    epoch: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    earned: Mapped[int] = mapped_column(BigInteger)
    claimed: Mapped[int] = mapped_column(BigInteger)
    closing_balance: Mapped[int] = mapped_column(BigInteger)


class PayeeBalance(Base):
    """What RevenueSplit.claimable(payee) should answer: shares + deferred refunds − claims."""

    __tablename__ = "payee_balances"
    payee: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    earned: Mapped[int] = mapped_column(BigInteger, default=0)
    deferred_refunds: Mapped[int] = mapped_column(BigInteger, default=0)
    claimed: Mapped[int] = mapped_column(BigInteger, default=0)
    claimable: Mapped[int] = mapped_column(BigInteger, default=0)


# --------------------------------------------------------------------------------- credits


class CreditTransfer(LogRef, Base):
    __tablename__ = "credit_transfers"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sender: Mapped[str] = mapped_column(ADDRESS, index=True)
    recipient: Mapped[str] = mapped_column(ADDRESS, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class CreditMovement(LogRef, Base):
    """A top-up (mint against a payment receipt) or a cash-out (burn)."""

    __tablename__ = "credit_movements"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # TOP_UP / CASH_OUT
    account: Mapped[str] = mapped_column(ADDRESS, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    receipt: Mapped[str] = mapped_column(HASH)


class CreditBalance(Base):
    """What CityCredit.balanceOf(account) should answer, maintained from Transfer events."""

    __tablename__ = "credit_balances"
    account: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


# --------------------------------------------------------------------------------- sensors


class Device(Base):
    __tablename__ = "devices"
    address: Mapped[str] = mapped_column(ADDRESS, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    operator: Mapped[str] = mapped_column(ADDRESS)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    registered_block: Mapped[int] = mapped_column(BigInteger)


class DeviceSlot(Base):
    __tablename__ = "device_slots"
    device: Mapped[str] = mapped_column(ForeignKey("devices.address"), primary_key=True)
    slot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class OccupancyReport(LogRef, Base):
    __tablename__ = "occupancy_reports"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, index=True)
    observed_at: Mapped[int] = mapped_column(BigInteger)
    words: Mapped[int] = mapped_column(Integer)
    observed: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(HASH)


class SlotOccupancyChange(LogRef, Base):
    __tablename__ = "slot_occupancy_changes"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    slot_id: Mapped[int] = mapped_column(BigInteger, index=True)
    occupied: Mapped[bool] = mapped_column(Boolean)
    observed_at: Mapped[int] = mapped_column(BigInteger)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_lat_lon", "lat_e6", "lon_e6"),)
    incident_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    slot_id: Mapped[int] = mapped_column(BigInteger, index=True)
    lat_e6: Mapped[int] = mapped_column(Integer)
    lon_e6: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[int] = mapped_column(BigInteger, index=True)
    confidence_bps: Mapped[int] = mapped_column(Integer)
    source_event_id: Mapped[str] = mapped_column(HASH)
    content_hash: Mapped[str] = mapped_column(HASH)
    evidence_cid_hex: Mapped[str] = mapped_column(String(512))
    reporter: Mapped[str] = mapped_column(ADDRESS)
    status: Mapped[str] = mapped_column(String(16), index=True)  # OPEN / CONFIRMED / DISMISSED
    reviewed_by: Mapped[str | None] = mapped_column(ADDRESS)
    review_reason: Mapped[str | None] = mapped_column(String(1024))
    reported_block: Mapped[int] = mapped_column(BigInteger)
