"""Apply one decoded event to the domain tables (inside the caller's block-range transaction)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from citypass.core.windows import unpack_windows
from citypass.protocol.abi import DecodedEvent
from citypass.protocol.review_reasons import reason_name
from citypass.protocol.roles import ROLES
from indexer import models as m
from indexer.handler_base import (
    ZERO,
    Handler,
    LogContext,
    add_to_tally,
    existing,
    get_or_new,
    hex32,
    i64,
    prefetch_rows,
    queue_row,
)
from indexer.handlers_mobility import MOBILITY_HANDLERS

MEMBER_STATUS = ("NONE", "ACTIVE", "SUSPENDED")
CATEGORIES = ("PUBLIC_LOT", "PRIVATE_LOT", "RESIDENT_PRIORITY", "PERSONAL")
PAYEES = ("OWNER", "VILLAGE_ENTERPRISE", "CITY_FUND", "PLATFORM")
DEVICE_KINDS = ("MAGNETOMETER", "ULTRASONIC", "CAMERA")
INCIDENT_KINDS = ("ILLEGAL_PARKING", "UNAUTHORISED_OCCUPANCY", "ILLEGAL_DUMPING", "JAYWALKING")
INCIDENT_STATUS = ("NONE", "OPEN", "CONFIRMED", "DISMISSED")
ROLE_BY_ID = {"0x" + v.hex(): k for k, v in ROLES.items()} | {"0x" + "00" * 32: "DEFAULT_ADMIN"}


# -------------------------------------------------------------------------------- access


def _member(session: Session, ctx: LogContext, account: str) -> m.Member:
    return get_or_new(
        session, m.Member, account, address=account, status="NONE", updated_block=ctx.block_number
    )


def member_onboarded(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    member = _member(s, ctx, a["account"])
    member.status, member.onboarded_block, member.updated_block = (
        "ACTIVE",
        ctx.block_number,
        ctx.block_number,
    )


def member_suspended(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    member = _member(s, ctx, a["account"])
    member.status, member.updated_block = "SUSPENDED", ctx.block_number
    member.suspension_reason = hex32(a["reason"])


def member_reinstated(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    member = _member(s, ctx, a["account"])
    member.status, member.updated_block, member.suspension_reason = "ACTIVE", ctx.block_number, None


def role_granted(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    role = hex32(a["role"])
    key = (a["account"], role)
    if s.get(m.MemberRole, key) is None:
        s.add(
            m.MemberRole(
                address=a["account"], role=role, role_name=ROLE_BY_ID.get(role, "UNKNOWN"),
                granted_block=ctx.block_number,
            )
        )  # fmt: skip


def role_revoked(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    row = s.get(m.MemberRole, (a["account"], hex32(a["role"])))
    if row is not None:
        s.delete(row)


# --------------------------------------------------------------------------------- credit


def credit_transfer(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    amount = i64(a["value"])
    queue_row(s, m.CreditTransfer, **ctx.ref(), sender=a["from"], recipient=a["to"], amount=amount)
    # Added up and written at the end of the block range (nothing in the range reads them).
    if a["from"] != ZERO:
        add_to_tally(s, m.CreditBalance, a["from"], "balance", -amount)
    if a["to"] != ZERO:
        add_to_tally(s, m.CreditBalance, a["to"], "balance", amount)


def credit_movement(kind: str) -> Handler:
    def apply(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
        queue_row(
            s, m.CreditMovement,
            **ctx.ref(), kind=kind, account=a["account"], amount=i64(a["amount"]),
            receipt=hex32(a["receipt"]),
        )  # fmt: skip

    return apply


# ---------------------------------------------------------------------------------- slots


def slot_registered(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        m.Slot(
            slot_id=i64(a["slotId"]), owner=a["owner"], lot_id=a["lotId"],
            category=CATEGORIES[a["category"]], lat_e6=a["latE6"], lon_e6=a["lonE6"],
            windows_packed="0x0", terms_version=0, price_per_unit=0, overage_per_10min=0,
            active=True, registered_block=ctx.block_number,
        )
    )  # fmt: skip


def _slot(s: Session, slot_id: int) -> m.Slot:
    return existing(
        s, m.Slot, slot_id,
        f"event for slot {slot_id} before its SlotRegistered: the backfill must start at or "
        "before the deployment block (lower startBlock in the deployment record)",
    )  # fmt: skip


def terms_set(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    slot = _slot(s, a["slotId"])
    slot.terms_version = a["version"]
    slot.price_per_unit, slot.overage_per_10min = a["pricePerUnit"], a["overagePer10Min"]
    s.add(
        m.SlotTermsVersion(
            slot_id=slot.slot_id, version=a["version"], price_per_unit=a["pricePerUnit"],
            overage_per_10min=a["overagePer10Min"], set_block=ctx.block_number,
        )
    )  # fmt: skip


def windows_set(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    slot = _slot(s, a["slotId"])
    slot.windows_packed = hex(a["windows"])
    s.execute(delete(m.SlotWindow).where(m.SlotWindow.slot_id == slot.slot_id))
    for position, (days, start, end) in enumerate(unpack_windows(a["windows"])):
        s.add(
            m.SlotWindow(
                slot_id=slot.slot_id,
                position=position,
                days_mask=days,
                start_unit=start,
                end_unit=end,
            )
        )


def blackout_set(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    key = (a["slotId"], a["localDay"])
    row = s.get(m.SlotBlackout, key)
    if a["blackedOut"] and row is None:
        s.add(m.SlotBlackout(slot_id=a["slotId"], local_day=i64(a["localDay"])))
    elif not a["blackedOut"] and row is not None:
        s.delete(row)


def slot_active_set(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    _slot(s, a["slotId"]).active = a["active"]


def slot_transfer(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    # ERC-721 Transfer: the mint right after SlotRegistered, or a later change of owner.
    if a["to"] != ZERO:
        _slot(s, a["tokenId"]).owner = a["to"]


# --------------------------------------------------------------------------------- leases


def _lease(s: Session, lease_id: int) -> m.Lease:
    return existing(
        s, m.Lease, lease_id,
        f"event for lease {lease_id} before its LeaseBooked: re-index from the deployment block",
    )  # fmt: skip


def lease_booked(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    price = i64(a["price"])
    queue_row(
        s, m.Lease,
        lease_id=i64(a["leaseId"]), slot_id=a["slotId"], lessee=a["lessee"], start=a["start"],
        end=a["end"], price=price, status="BOOKED", booked_at=ctx.timestamp,
        booked_block=ctx.block_number, overstay_charge=0, overstay_debt=0,
    )  # fmt: skip
    # LeasePrepaid's rule: the whole price from the prepaid balance when it covers it (the event
    # has no field of its own for this, to keep the booking cheap).
    prepaid = _prepaid(s, a["lessee"])
    if prepaid.balance >= price:
        prepaid.balance -= price
        prepaid.spent += price
        prepaid.updated_block = ctx.block_number


def _prepaid(s: Session, account: str) -> m.PrepaidBalance:
    return get_or_new(
        s, m.PrepaidBalance, account,
        account=account, balance=0, deposited=0, withdrawn=0, spent=0, updated_block=0,
    )  # fmt: skip


def prepaid_moved(deposit: bool) -> Handler:
    def apply(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
        row = _prepaid(s, a["account"])
        amount = i64(a["amount"])
        if deposit:
            row.deposited += amount
        else:
            row.withdrawn += amount
        row.balance, row.updated_block = i64(a["balance"]), ctx.block_number

    return apply


def lease_cancelled(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    lease = _lease(s, a["leaseId"])
    lease.status, lease.closed_by = "CANCELLED", a["by"]
    lease.refund, lease.retained = i64(a["refund"]), i64(a["retained"])


def lease_checked_in(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    lease = _lease(s, a["leaseId"])
    lease.status, lease.checked_in_at = "CHECKED_IN", a["at"]


def lease_settled(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    lease = _lease(s, a["leaseId"])
    lease.status, lease.checked_out_at, lease.closed_by = "SETTLED", a["at"], a["by"]
    lease.overstay_charge, lease.overstay_paid = i64(a["overstayCharge"]), a["overstayPaid"]


def lease_no_show(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    lease = _lease(s, a["leaseId"])
    lease.status, lease.closed_by = "NO_SHOW", a["by"]


def overstay_debt_recorded(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    _lease(s, a["leaseId"]).overstay_debt += i64(a["amount"])


def overstay_debt_paid(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    lease = _lease(s, a["leaseId"])
    lease.overstay_debt -= i64(a["amount"])
    lease.overstay_paid = True


# -------------------------------------------------------------------------------- revenue


def _payee(s: Session, payee: str) -> m.PayeeBalance:
    return get_or_new(
        s, m.PayeeBalance, payee, payee=payee, earned=0, deferred_refunds=0, claimed=0, claimable=0
    )


def _earn(s: Session, payee: str, amount: int) -> None:
    if amount:
        row = _payee(s, payee)
        row.earned += amount
        row.claimable += amount


def revenue_allocated(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    shares = [i64(a[k]) for k in ("ownerShare", "villageShare", "cityShare", "platformShare")]
    queue_row(
        s, m.RevenueAllocation,
        **ctx.ref(), source=a["source"], owner=a["owner"], category=CATEGORIES[a["category"]],
        amount=i64(a["amount"]), owner_share=shares[0], village_share=shares[1],
        city_share=shares[2], platform_share=shares[3], timestamp=ctx.timestamp,
    )  # fmt: skip
    for payee, share in zip(
        (a["owner"], ctx.village_enterprise, ctx.city_fund, ctx.platform), shares, strict=True
    ):
        _earn(s, payee, share)


def fare_allocated(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    # Mobility fares (TripSettlement day releases) and valet fees credit the same claimable
    # balances as parking revenue; the logs themselves are read by the explorer (revenue.py).
    for payee, key in (
        (a["payee"], "payeeShare"), (ctx.village_enterprise, "villageShare"),
        (ctx.platform, "platformShare"),
    ):  # fmt: skip
        _earn(s, payee, i64(a[key]))


def claimed(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    amount = i64(a["amount"])
    queue_row(s, m.RevenueClaim, **ctx.ref(), payee=a["payee"], amount=amount)
    row = _payee(s, a["payee"])
    # claim() pays everything claimable, deferred refunds included.
    row.claimed += amount
    row.claimable = 0


def escrow_refunded(deferred: bool) -> Handler:
    def apply(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
        amount = i64(a["amount"])
        queue_row(
            s, m.EscrowRefund, **ctx.ref(), recipient=a["to"], amount=amount, deferred=deferred
        )
        if deferred:
            row = _payee(s, a["to"])
            row.deferred_refunds += amount
            row.claimable += amount

    return apply


def monthly_statement(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    queue_row(
        s, m.MonthlyStatement,
        **ctx.ref(), payee=a["payee"], epoch=a["epoch"], kind=PAYEES[a["kind"]],
        earned=i64(a["earned"]), claimed=i64(a["claimed"]),
        closing_balance=i64(a["closingBalance"]),
    )  # fmt: skip


# -------------------------------------------------------------------------------- sensors


def device_registered(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        m.Device(
            address=a["device"], kind=DEVICE_KINDS[a["kind"]], operator=a["operator"],
            active=True, registered_block=ctx.block_number,
        )
    )  # fmt: skip


def device_slot_added(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    if s.get(m.DeviceSlot, (a["device"], a["slotId"])) is None:
        s.add(m.DeviceSlot(device=a["device"], slot_id=i64(a["slotId"])))


def device_slot_removed(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    row = s.get(m.DeviceSlot, (a["device"], a["slotId"]))
    if row is not None:
        s.delete(row)


def device_active_set(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    device = s.get(m.Device, a["device"])
    if device is not None:
        device.active = a["active"]


def occupancy_reported(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    queue_row(
        s, m.OccupancyReport,
        **ctx.ref(), sequence=a["sequence"], observed_at=a["observedAt"], words=a["words"],
        observed=a["observed"], changed=a["changed"], digest=hex32(a["digest"]),
    )  # fmt: skip


def slot_occupancy_changed(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    queue_row(
        s, m.SlotOccupancyChange,
        **ctx.ref(), slot_id=i64(a["slotId"]), occupied=a["occupied"], observed_at=a["observedAt"],
    )  # fmt: skip


def incident_reported(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    s.add(
        m.Incident(
            incident_id=i64(a["incidentId"]), kind=INCIDENT_KINDS[a["kind"]], slot_id=i64(a["slotId"]),
            lat_e6=a["latE6"], lon_e6=a["lonE6"], observed_at=a["observedAt"],
            confidence_bps=a["confidenceBps"], source_event_id=hex32(a["sourceEventId"]),
            content_hash=hex32(a["contentHash"]), evidence_cid_hex=bytes(a["evidenceCid"]).hex(),
            reporter=a["reporter"], status="OPEN", reported_block=ctx.block_number,
        )
    )  # fmt: skip


def incident_reviewed(s: Session, ctx: LogContext, a: dict[str, Any]) -> None:
    incident = existing(
        s, m.Incident, a["incidentId"],
        f"IncidentReviewed for unknown incident {a['incidentId']}: re-index from the deployment block",
    )  # fmt: skip
    incident.status = INCIDENT_STATUS[a["status"]]
    incident.reviewed_by, incident.review_reason = a["inspector"], reason_name(a["reasonCode"])
    incident.review_details_cid_hex = bytes(a["detailsCid"]).hex()


HANDLERS: dict[tuple[str, str], Handler] = {
    ("CityAccess", "MemberOnboarded"): member_onboarded,
    ("CityAccess", "MemberSuspended"): member_suspended,
    ("CityAccess", "MemberReinstated"): member_reinstated,
    ("CityAccess", "RoleGranted"): role_granted,
    ("CityAccess", "RoleRevoked"): role_revoked,
    ("CityCredit", "Transfer"): credit_transfer,
    ("CityCredit", "TopUp"): credit_movement("TOP_UP"),
    ("CityCredit", "CashOut"): credit_movement("CASH_OUT"),
    ("ParkingSlots", "SlotRegistered"): slot_registered,
    ("ParkingSlots", "TermsSet"): terms_set,
    ("ParkingSlots", "WindowsSet"): windows_set,
    ("ParkingSlots", "BlackoutSet"): blackout_set,
    ("ParkingSlots", "SlotActiveSet"): slot_active_set,
    ("ParkingSlots", "Transfer"): slot_transfer,
    ("LeaseMarket", "LeaseBooked"): lease_booked,
    ("LeaseMarket", "LeaseCancelled"): lease_cancelled,
    ("LeaseMarket", "LeaseCheckedIn"): lease_checked_in,
    ("LeaseMarket", "LeaseSettled"): lease_settled,
    ("LeaseMarket", "LeaseNoShow"): lease_no_show,
    ("LeaseMarket", "OverstayDebtRecorded"): overstay_debt_recorded,
    ("LeaseMarket", "OverstayDebtPaid"): overstay_debt_paid,
    ("LeaseMarket", "PrepaidDeposited"): prepaid_moved(deposit=True),
    ("LeaseMarket", "PrepaidWithdrawn"): prepaid_moved(deposit=False),
    ("RevenueSplit", "RevenueAllocated"): revenue_allocated,
    ("RevenueSplit", "FareAllocated"): fare_allocated,
    ("RevenueSplit", "Claimed"): claimed,
    ("RevenueSplit", "EscrowRefunded"): escrow_refunded(deferred=False),
    ("RevenueSplit", "RefundDeferred"): escrow_refunded(deferred=True),
    ("RevenueSplit", "MonthlyStatement"): monthly_statement,
    ("DeviceRegistry", "DeviceRegistered"): device_registered,
    ("DeviceRegistry", "DeviceSlotAdded"): device_slot_added,
    ("DeviceRegistry", "DeviceSlotRemoved"): device_slot_removed,
    ("DeviceRegistry", "DeviceActiveSet"): device_active_set,
    ("OccupancyOracle", "OccupancyReported"): occupancy_reported,
    ("OccupancyOracle", "SlotOccupancyChanged"): slot_occupancy_changed,
    ("IncidentRegistry", "IncidentReported"): incident_reported,
    ("IncidentRegistry", "IncidentReviewed"): incident_reviewed,
}


# Mobility tables live in their own module (models_mobility.py / handlers_mobility.py).
HANDLERS.update(MOBILITY_HANDLERS)


# The rows get_or_new reads for the events a block of bookings is made of, so that a block
# range loads them in one query per table (prefetch_for) instead of one by one. An event not
# listed here still finds its rows, one lookup at a time.
ROWS_READ: dict[tuple[str, str], tuple[type[Any], Callable[[dict[str, Any]], tuple[str, ...]]]] = {
    ("LeaseMarket", "LeaseBooked"): (m.PrepaidBalance, lambda a: (a["lessee"],)),
    ("LeaseMarket", "PrepaidDeposited"): (m.PrepaidBalance, lambda a: (a["account"],)),
    ("LeaseMarket", "PrepaidWithdrawn"): (m.PrepaidBalance, lambda a: (a["account"],)),
}


def prefetch_for(session: Session, events: Iterable[DecodedEvent]) -> None:
    """Load, in bulk, the rows that ROWS_READ says `events` will read."""
    keys: dict[type[Any], set[str]] = {}
    for event in events:
        read = ROWS_READ.get((event.contract, event.event))
        if read is not None:
            model, keys_of = read
            keys.setdefault(model, set()).update(keys_of(event.args))
    for model, wanted in keys.items():
        wanted.discard(ZERO)  # the zero address (mints, burns) never has a row
        prefetch_rows(session, model, wanted)


def apply_event(session: Session, ctx: LogContext, event: DecodedEvent) -> bool:
    """Apply a decoded event; False when the event has no domain table (configuration events)."""
    handler = HANDLERS.get((event.contract, event.event))
    if handler is None:
        return False
    handler(session, ctx, event.args)
    return True
