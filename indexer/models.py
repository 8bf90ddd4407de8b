"""The read model: SQLAlchemy tables for blocks, transactions, raw logs and the decoded domain.

Conventions (why): addresses are stored checksummed, hashes and topics as 0x-hex text, so rows
compare directly with what web3 returns. Amounts are KRW credits (0 decimals) and ids are small,
so 64-bit integers hold them; the decoder refuses anything larger instead of truncating. Rows
that come from one log carry (tx_hash, log_index) with a unique constraint, so re-indexing a block
can never duplicate them.
"""

from __future__ import annotations

from typing import Annotated, Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

ADDRESS = String(42)
HASH = String(66)
# Column types by annotation: Mapped[Address], Mapped[Hash]; a plain Mapped[int] is 64-bit.
# One home for each column kind the tables repeat (a mapped_column on the right adds to it).
Address = Annotated[str, mapped_column(ADDRESS)]
Hash = Annotated[str, mapped_column(HASH)]
# An address the API looks rows up by (owner, lessee, payee, rider, operator …).
IndexedAddress = Annotated[str, mapped_column(ADDRESS, index=True)]
# The address a row is kept for (a member, a balance's account or payee, a device, an operator).
AddressKey = Annotated[str, mapped_column(ADDRESS, primary_key=True)]
# A number rows are looked up or ordered by (a block, a lot, a slot, a trip, a time).
IndexedInt = Annotated[int, mapped_column(index=True)]
# An id the contract assigned (slot, lease, trip …): the primary key, never autoincremented.
ChainId = Annotated[int, mapped_column(primary_key=True, autoincrement=False)]
# A value that fits 32 bits (an index in a block, a flag word, microdegrees, KST units and days).
Int32 = Annotated[int, mapped_column(Integer)]
# The slot a per-slot row (window, price version, blackout day) belongs to: part of its key.
SlotKey = Annotated[int, mapped_column(ForeignKey("slots.slot_id"), primary_key=True)]
# The rest of a per-slot row's key, when it fits 32 bits (a window's position, a price version).
Int32Key = Annotated[int, mapped_column(Integer, primary_key=True)]
# A KST day or month number (a statement's epoch, a fare's day), indexed: reads go by it.
KstPeriod = Annotated[int, mapped_column(Integer, index=True)]
# A slot category's name (PUBLIC_LOT … PERSONAL): on a slot and on the revenue it earned.
Category = Annotated[str, mapped_column(String(24))]
# An enum's name as text (LeaseStatus, TripStatus …), indexed: the lists filter by it.
EnumName = Annotated[str, mapped_column(String(16), index=True)]
# True until an ...ActiveSet event clears it.
Active = Annotated[bool, mapped_column(default=True)]
# An amount (a balance, a total, a charge) that is 0 until an event sets or adds to it.
Tally = Annotated[int, mapped_column(default=0)]


class Base(DeclarativeBase):
    type_annotation_map = {int: BigInteger}


# Row ids: 64-bit, but SQLite autoincrements only an INTEGER primary key.
ROW_ID = BigInteger().with_variant(Integer, "sqlite")


class LogRef:
    """Columns of a row that one log produced: its id, where it came from, unique per log."""

    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True, sort_order=-1)
    block_number: Mapped[IndexedInt]
    tx_hash: Mapped[Hash]
    log_index: Mapped[Int32]

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        # A new constraint per table (one constraint object cannot serve two tables).
        return (UniqueConstraint("tx_hash", "log_index"),)


# --------------------------------------------------------------------------- chain records


class Cursor(Base):
    """The last block whose every row is committed, and its hash (one row, id 1)."""

    __tablename__ = "indexer_cursor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chain_id: Mapped[int]
    block_number: Mapped[int]
    block_hash: Mapped[Hash]
    # Immutable payees of RevenueSplit, read once so claimable balances can be derived.
    village_enterprise: Mapped[Address]
    city_fund: Mapped[Address]
    platform: Mapped[Address]


class Block(Base):
    __tablename__ = "blocks"
    number: Mapped[ChainId]
    hash: Mapped[Hash] = mapped_column(unique=True)
    parent_hash: Mapped[Hash]
    timestamp: Mapped[IndexedInt]
    tx_count: Mapped[Int32]
    # The authority seal (ledger_getSeal) as verified when the block was indexed: "sealed" or
    # "invalid"; null = the node had no seal to give then (the explorer verifies it live).
    seal_status: Mapped[str | None] = mapped_column(String(16), default=None)


class Transaction(Base):
    __tablename__ = "transactions"
    hash: Mapped[Hash] = mapped_column(primary_key=True)
    block_number: Mapped[int] = mapped_column(ForeignKey("blocks.number"), index=True)
    tx_index: Mapped[Int32]
    sender: Mapped[IndexedAddress]
    to: Mapped[IndexedAddress | None]
    contract_address: Mapped[Address | None]
    status: Mapped[Int32]
    gas_used: Mapped[int]


class RawLog(Base):
    __tablename__ = "logs"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)
    id: Mapped[int] = mapped_column(ROW_ID, primary_key=True)
    block_number: Mapped[int] = mapped_column(ForeignKey("blocks.number"), index=True)
    tx_hash: Mapped[str] = mapped_column(ForeignKey("transactions.hash"))
    log_index: Mapped[Int32]
    address: Mapped[IndexedAddress]
    topic0: Mapped[Hash | None] = mapped_column(index=True)
    topic1: Mapped[Hash | None]
    topic2: Mapped[Hash | None]
    topic3: Mapped[Hash | None]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # Set when the log came from a known contract and decoded; null for foreign logs.
    contract: Mapped[str | None] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(48), index=True)


# ----------------------------------------------------------------------------- membership


class Member(Base):
    __tablename__ = "members"
    address: Mapped[AddressKey]
    status: Mapped[EnumName]  # NONE / ACTIVE / SUSPENDED
    onboarded_block: Mapped[int | None]
    updated_block: Mapped[int]
    suspension_reason: Mapped[Hash | None]


class MemberRole(Base):
    """A role currently held (deleted on RoleRevoked)."""

    __tablename__ = "member_roles"
    address: Mapped[AddressKey]
    role: Mapped[Hash] = mapped_column(primary_key=True)
    role_name: Mapped[str] = mapped_column(String(32))
    granted_block: Mapped[int]


# ---------------------------------------------------------------------------------- slots


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (Index("ix_slots_lat_lon", "lat_e6", "lon_e6"),)
    slot_id: Mapped[ChainId]
    owner: Mapped[IndexedAddress]
    lot_id: Mapped[IndexedInt]
    category: Mapped[Category]
    lat_e6: Mapped[Int32]
    lon_e6: Mapped[Int32]
    # uint96 on chain: kept as hex text; the unpacked windows are rows of slot_windows.
    windows_packed: Mapped[str] = mapped_column(String(26), default="0x0")
    terms_version: Mapped[Int32] = mapped_column(default=0)
    price_per_unit: Mapped[int]
    overage_per_10min: Mapped[int]
    active: Mapped[Active]
    registered_block: Mapped[int]


class SlotWindow(Base):
    """One weekly sharing window (KST half-hours; end <= start runs overnight)."""

    __tablename__ = "slot_windows"
    slot_id: Mapped[SlotKey]
    position: Mapped[Int32Key]
    days_mask: Mapped[Int32]
    start_unit: Mapped[Int32]
    end_unit: Mapped[Int32]


class SlotTermsVersion(Base):
    """Every price version: a lease is charged under the version it was booked with."""

    __tablename__ = "slot_terms"
    slot_id: Mapped[SlotKey]
    version: Mapped[Int32Key]
    price_per_unit: Mapped[int]
    overage_per_10min: Mapped[int]
    set_block: Mapped[int]


class SlotBlackout(Base):
    """A KST day (days since 1970-01-01) on which the slot is not shared."""

    __tablename__ = "slot_blackouts"
    slot_id: Mapped[SlotKey]
    local_day: Mapped[int] = mapped_column(primary_key=True)


# --------------------------------------------------------------------------------- leases


class Lease(Base):
    __tablename__ = "leases"
    __table_args__ = (Index("ix_leases_slot_time", "slot_id", "start", "end"),)
    lease_id: Mapped[ChainId]
    slot_id: Mapped[int]
    lessee: Mapped[IndexedAddress]
    start: Mapped[int]
    end: Mapped[int]
    price: Mapped[int]
    # BOOKED / CHECKED_IN / SETTLED / CANCELLED / NO_SHOW (LeaseStatus names)
    status: Mapped[EnumName]
    booked_at: Mapped[int]
    booked_block: Mapped[int]
    checked_in_at: Mapped[int | None]
    checked_out_at: Mapped[int | None]
    overstay_charge: Mapped[Tally]
    overstay_paid: Mapped[bool | None]
    overstay_debt: Mapped[Tally]
    refund: Mapped[int | None]
    retained: Mapped[int | None]
    closed_by: Mapped[Address | None]


# -------------------------------------------------------------------------------- revenue


class RevenueAllocation(LogRef, Base):
    __tablename__ = "revenue_allocations"
    source: Mapped[Address]
    owner: Mapped[IndexedAddress]
    category: Mapped[Category]
    amount: Mapped[int]
    owner_share: Mapped[int]
    village_share: Mapped[int]
    city_share: Mapped[int]
    platform_share: Mapped[int]
    timestamp: Mapped[int]


class RevenueClaim(LogRef, Base):
    __tablename__ = "revenue_claims"
    payee: Mapped[IndexedAddress]
    amount: Mapped[int]


class PrepaidBalance(Base):
    """A member's prepaid booking balance in the lease market: PrepaidDeposited and
    PrepaidWithdrawn carry the balance; a LeaseBooked is paid from it exactly when it covers the
    price (the market's rule, replayed in order), else from the wallet."""

    __tablename__ = "prepaid_balances"
    account: Mapped[AddressKey]
    balance: Mapped[int]
    deposited: Mapped[int]
    withdrawn: Mapped[int]
    spent: Mapped[int]
    updated_block: Mapped[int]


class EscrowRefund(LogRef, Base):
    """A refund paid out of escrow (deferred=False) or kept claimable for a suspended member."""

    __tablename__ = "escrow_refunds"
    recipient: Mapped[IndexedAddress]
    amount: Mapped[int]
    deferred: Mapped[bool]


class MonthlyStatement(LogRef, Base):
    __tablename__ = "monthly_statements"
    payee: Mapped[IndexedAddress]
    epoch: Mapped[KstPeriod]
    kind: Mapped[str] = mapped_column(String(24))
    earned: Mapped[int]
    claimed: Mapped[int]
    closing_balance: Mapped[int]


class PayeeBalance(Base):
    """What RevenueSplit.claimable(payee) should answer: shares + deferred refunds − claims."""

    __tablename__ = "payee_balances"
    payee: Mapped[AddressKey]
    earned: Mapped[Tally]
    deferred_refunds: Mapped[Tally]
    claimed: Mapped[Tally]
    claimable: Mapped[Tally]


# --------------------------------------------------------------------------------- credits


class CreditTransfer(LogRef, Base):
    __tablename__ = "credit_transfers"
    sender: Mapped[IndexedAddress]
    recipient: Mapped[IndexedAddress]
    amount: Mapped[int]


class CreditMovement(LogRef, Base):
    """A top-up (mint against a payment receipt) or a cash-out (burn)."""

    __tablename__ = "credit_movements"
    kind: Mapped[str] = mapped_column(String(8))  # TOP_UP / CASH_OUT
    account: Mapped[IndexedAddress]
    amount: Mapped[int]
    receipt: Mapped[Hash]


class CreditBalance(Base):
    """What CityCredit.balanceOf(account) should answer, maintained from Transfer events."""

    __tablename__ = "credit_balances"
    account: Mapped[AddressKey]
    balance: Mapped[Tally]


# --------------------------------------------------------------------------------- sensors


class Device(Base):
    __tablename__ = "devices"
    address: Mapped[AddressKey]
    kind: Mapped[str] = mapped_column(String(16))
    operator: Mapped[Address]
    active: Mapped[Active]
    registered_block: Mapped[int]


class DeviceSlot(Base):
    __tablename__ = "device_slots"
    device: Mapped[str] = mapped_column(ForeignKey("devices.address"), primary_key=True)
    slot_id: Mapped[int] = mapped_column(primary_key=True, index=True)


class OccupancyReport(LogRef, Base):
    __tablename__ = "occupancy_reports"
    sequence: Mapped[IndexedInt]
    observed_at: Mapped[int]
    words: Mapped[Int32]
    observed: Mapped[Int32]
    changed: Mapped[Int32]
    digest: Mapped[Hash]


class SlotOccupancyChange(LogRef, Base):
    __tablename__ = "slot_occupancy_changes"
    slot_id: Mapped[IndexedInt]
    occupied: Mapped[bool]
    observed_at: Mapped[int]


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_lat_lon", "lat_e6", "lon_e6"),)
    incident_id: Mapped[ChainId]
    kind: Mapped[str] = mapped_column(String(24), index=True)
    slot_id: Mapped[IndexedInt]
    lat_e6: Mapped[Int32]
    lon_e6: Mapped[Int32]
    observed_at: Mapped[IndexedInt]
    confidence_bps: Mapped[Int32]
    source_event_id: Mapped[Hash]
    content_hash: Mapped[Hash]
    evidence_cid_hex: Mapped[str] = mapped_column(String(512))
    reporter: Mapped[Address]
    status: Mapped[EnumName]  # OPEN / CONFIRMED / DISMISSED
    reviewed_by: Mapped[Address | None]
    # The review's ReviewReason name (citypass/protocol/review_reasons.py), never free text, and
    # the binary CID (hex) of the details sealed in the evidence store, "" when none were given.
    review_reason: Mapped[str | None] = mapped_column(String(24))
    review_details_cid_hex: Mapped[str | None] = mapped_column(String(512))
    reported_block: Mapped[int]
