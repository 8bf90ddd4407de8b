"""Each decoded log of our contracts told in domain language, keyed by (contract, event).

"Lease #812 booked on slot 37, 2026-03-02 18:00–22:00 KST, ₩4,800". The sentences name no
person (DESIGN §6): accounts appear as addresses (shortened, or the stakeholder's role when the
caller's `label` knows it). An event without a sentence yet falls back to
"EventName(arg=value, ...)" so nothing on chain is hidden from an auditor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.explorer.formatting import hexify, kst, kst_date, kst_window, short, won
from citypass.protocol.abi import DecodedEvent
from indexer.handlers import (
    CATEGORIES,
    DEVICE_KINDS,
    INCIDENT_KINDS,
    INCIDENT_STATUS,
    PAYEES,
    ROLE_BY_ID,
)
from indexer.windows import unpack_windows

OPERATOR_KINDS = ("NONE", "CAR_SHARE", "KICK_SCOOTER", "VALET", "TRANSIT")
ZERO = "0x0000000000000000000000000000000000000000"

Label = Callable[[str], str]
Describer = Callable[[dict[str, Any], Label], str]


def _enum(names: tuple[str, ...], value: int) -> str:
    text = names[value] if 0 <= value < len(names) else f"#{value}"
    return text.replace("_", " ").lower()


def _role(role: bytes) -> str:
    return ROLE_BY_ID.get("0x" + bytes(role).hex(), "0x" + bytes(role).hex()[:8] + "…")


def _bytes32_text(value: bytes) -> str:
    """A bytes32 reason: its text when it is printable ASCII, else hex."""
    raw = bytes(value).rstrip(b"\0")
    if raw and all(32 <= c < 127 for c in raw):
        return f"“{raw.decode()}”"
    return "0x" + bytes(value).hex()


def _e6(value: int) -> str:
    return f"{value / 1e6:.6f}"


def windows_text(packed: int) -> str:
    """'MTWTF·· 09:00–18:00; ······S 00:00–00:00' (KST half-hour windows)."""
    windows = unpack_windows(packed)
    if not windows:
        return "no sharing windows (not shared)"
    days = "MTWTFSS"
    parts = []
    for mask, start, end in windows:
        day_text = "".join(d if mask >> i & 1 else "·" for i, d in enumerate(days))
        parts.append(f"{day_text} {_unit(start)}–{_unit(end)}")
    return "; ".join(parts)


def _unit(unit: int) -> str:
    return f"{unit // 2:02d}:{30 * (unit % 2):02d}"


# ------------------------------------------------------------------------------ sentences

D: dict[tuple[str, str], Describer] = {
    # CityAccess
    ("CityAccess", "MemberOnboarded"): lambda a, L: (
        f"Member {L(a['account'])} onboarded by {L(a['by'])}"
    ),
    ("CityAccess", "MemberSuspended"): lambda a, L: (
        f"Member {L(a['account'])} suspended by {L(a['by'])}, reason {_bytes32_text(a['reason'])}"
    ),
    ("CityAccess", "MemberReinstated"): lambda a, L: (
        f"Member {L(a['account'])} reinstated by {L(a['by'])}"
    ),
    ("CityAccess", "RoleGranted"): lambda a, L: (
        f"Role {_role(a['role'])} granted to {L(a['account'])} by {L(a['sender'])}"
    ),
    ("CityAccess", "RoleRevoked"): lambda a, L: (
        f"Role {_role(a['role'])} revoked from {L(a['account'])} by {L(a['sender'])}"
    ),
    ("CityAccess", "RoleAdminChanged"): lambda a, L: (
        f"Role {_role(a['role'])} now administered by {_role(a['newAdminRole'])}"
    ),
    # CityForwarder
    ("CityForwarder", "ExecutedForwardRequest"): lambda a, L: (
        f"Relayed request #{a['nonce']} signed by {L(a['signer'])} "
        + ("executed" if a["success"] else "failed")
    ),
    # CityCredit
    ("CityCredit", "Transfer"): lambda a, L: (
        f"{won(a['value'])} credits minted to {L(a['to'])}"
        if a["from"] == ZERO
        else f"{won(a['value'])} credits burned from {L(a['from'])}"
        if a["to"] == ZERO
        else f"{won(a['value'])} credits moved from {L(a['from'])} to {L(a['to'])}"
    ),
    ("CityCredit", "TopUp"): lambda a, L: (
        f"Top-up of {won(a['amount'])} for {L(a['account'])} (payment receipt "
        f"{short('0x' + bytes(a['receipt']).hex())})"
    ),
    ("CityCredit", "CashOut"): lambda a, L: (
        f"Cash-out of {won(a['amount'])} by {L(a['account'])} (payout receipt "
        f"{short('0x' + bytes(a['receipt']).hex())})"
    ),
    ("CityCredit", "Approval"): lambda a, L: (
        f"{L(a['owner'])} allows {L(a['spender'])} to spend up to "
        + ("any amount" if a["value"] >= 2**255 else won(a["value"]))
    ),
    ("CityCredit", "PlatformContractSet"): lambda a, L: (
        f"{L(a['platformContract'])} "
        + (
            "may now move credits as a platform contract"
            if a["allowed"]
            else "is no longer a platform contract"
        )
    ),
    # ParkingSlots
    ("ParkingSlots", "SlotRegistered"): lambda a, L: (
        f"Slot {a['slotId']} registered ({_enum(CATEGORIES, a['category'])}, lot {a['lotId']}) "
        f"for owner {L(a['owner'])} at {_e6(a['latE6'])}, {_e6(a['lonE6'])}"
    ),
    ("ParkingSlots", "TermsSet"): lambda a, L: (
        f"Slot {a['slotId']} terms v{a['version']}: {won(a['pricePerUnit'])} per half-hour, "
        f"overstay {won(a['overagePer10Min'])} per 10 min"
    ),
    ("ParkingSlots", "WindowsSet"): lambda a, L: (
        f"Slot {a['slotId']} sharing windows (KST): {windows_text(a['windows'])}"
    ),
    ("ParkingSlots", "BlackoutSet"): lambda a, L: (
        f"Slot {a['slotId']} "
        + ("not shared" if a["blackedOut"] else "shared again")
        + f" on {kst_date(a['localDay'])}"
    ),
    ("ParkingSlots", "SlotActiveSet"): lambda a, L: (
        f"Slot {a['slotId']} "
        + ("reactivated" if a["active"] else "withdrawn from sharing")
        + f" by {L(a['by'])}"
    ),
    ("ParkingSlots", "Transfer"): lambda a, L: (
        f"Slot {a['tokenId']} token minted to {L(a['to'])}"
        if a["from"] == ZERO
        else f"Slot {a['tokenId']} handed from {L(a['from'])} to {L(a['to'])}"
    ),
    ("ParkingSlots", "UpdateUser"): lambda a, L: (
        f"Slot {a['tokenId']} user cleared"
        if a["user"] == ZERO
        else f"Slot {a['tokenId']} used by {L(a['user'])} until {kst(a['expires'])}"
    ),
    ("ParkingSlots", "LeaseMarketSet"): lambda a, L: f"Lease market set to {L(a['leaseMarket'])}",
    # LeaseMarket
    ("LeaseMarket", "LeaseBooked"): lambda a, L: (
        f"Lease #{a['leaseId']} booked on slot {a['slotId']}, {kst_window(a['start'], a['end'])}, "
        f"{won(a['price'])} by {L(a['lessee'])}"
    ),
    ("LeaseMarket", "LeaseCancelled"): lambda a, L: (
        f"Lease #{a['leaseId']} cancelled by {L(a['by'])}: {won(a['refund'])} refunded, "
        f"{won(a['retained'])} kept"
    ),
    ("LeaseMarket", "LeaseCheckedIn"): lambda a, L: (
        f"Lease #{a['leaseId']} checked in at {kst(a['at'])} by {L(a['by'])}"
    ),
    ("LeaseMarket", "LeaseSettled"): lambda a, L: (
        f"Lease #{a['leaseId']} checked out and settled at {kst(a['at'])}: {won(a['price'])}"
        + (
            f" plus overstay {won(a['overstayCharge'])} "
            + ("paid" if a["overstayPaid"] else "recorded as debt")
            if a["overstayCharge"]
            else ""
        )
    ),
    ("LeaseMarket", "LeaseNoShow"): lambda a, L: (
        f"Lease #{a['leaseId']} marked no-show by {L(a['by'])}; {won(a['price'])} kept"
    ),
    ("LeaseMarket", "OverstayDebtRecorded"): lambda a, L: (
        f"Lease #{a['leaseId']}: overstay debt of {won(a['amount'])} recorded for {L(a['lessee'])}"
    ),
    ("LeaseMarket", "OverstayDebtPaid"): lambda a, L: (
        f"Lease #{a['leaseId']}: overstay debt of {won(a['amount'])} paid by {L(a['payer'])}"
    ),
    # RevenueSplit
    ("RevenueSplit", "RevenueAllocated"): lambda a, L: (
        f"{won(a['amount'])} from a {_enum(CATEGORIES, a['category'])} slot split: owner "
        f"{L(a['owner'])} {won(a['ownerShare'])}, village enterprise {won(a['villageShare'])}, "
        f"city fund {won(a['cityShare'])}, platform {won(a['platformShare'])}"
    ),
    ("RevenueSplit", "FareAllocated"): lambda a, L: (
        f"{won(a['amount'])} fare split: {L(a['payee'])} {won(a['payeeShare'])}, "
        f"village enterprise {won(a['villageShare'])}, platform {won(a['platformShare'])}"
    ),
    ("RevenueSplit", "Claimed"): lambda a, L: f"{L(a['payee'])} claimed {won(a['amount'])}",
    ("RevenueSplit", "EscrowRefunded"): lambda a, L: (
        f"{won(a['amount'])} refunded from escrow to {L(a['to'])}"
    ),
    ("RevenueSplit", "RefundDeferred"): lambda a, L: (
        f"{won(a['amount'])} refund held for {L(a['to'])} (suspended; claimable later)"
    ),
    ("RevenueSplit", "MonthlyStatement"): lambda a, L: (
        f"Statement {_epoch(a['epoch'])} for {L(a['payee'])} ({_enum(PAYEES, a['kind'])}): "
        f"earned {won(a['earned'])}, claimed {won(a['claimed'])}, closing balance "
        f"{won(a['closingBalance'])}"
    ),
    ("RevenueSplit", "SplitSet"): lambda a, L: (
        f"Split for {_enum(CATEGORIES, a['category'])} slots: owner {a['ownerBps'] / 100:g}%, "
        f"village {a['villageBps'] / 100:g}%, city {a['cityBps'] / 100:g}%, platform "
        f"{a['platformBps'] / 100:g}%"
    ),
    ("RevenueSplit", "SourceSet"): lambda a, L: (
        f"{L(a['source'])} "
        + ("may now escrow and allocate" if a["allowed"] else "may no longer escrow")
    ),
    ("RevenueSplit", "CreditSet"): lambda a, L: f"Credit token set to {L(a['credit'])}",
    # DeviceRegistry
    ("DeviceRegistry", "DeviceRegistered"): lambda a, L: (
        f"Device {L(a['device'])} ({_enum(DEVICE_KINDS, a['kind'])}) registered by operator "
        f"{L(a['operator'])}"
    ),
    ("DeviceRegistry", "DeviceSlotAdded"): lambda a, L: (
        f"Device {L(a['device'])} now watches slot {a['slotId']}"
    ),
    ("DeviceRegistry", "DeviceSlotRemoved"): lambda a, L: (
        f"Device {L(a['device'])} no longer watches slot {a['slotId']}"
    ),
    ("DeviceRegistry", "DeviceActiveSet"): lambda a, L: (
        f"Device {L(a['device'])} "
        + ("activated" if a["active"] else "deactivated")
        + f" by {L(a['by'])}"
    ),
    # OccupancyOracle
    ("OccupancyOracle", "OccupancyReported"): lambda a, L: (
        f"Occupancy report #{a['sequence']} observed {kst(a['observedAt'])}: {a['observed']} "
        f"slots observed, {a['changed']} changed"
    ),
    ("OccupancyOracle", "SlotOccupancyChanged"): lambda a, L: (
        f"Slot {a['slotId']} became "
        + ("occupied" if a["occupied"] else "free")
        + f" at {kst(a['observedAt'])}"
    ),
    ("OccupancyOracle", "LeaseDriven"): lambda a, L: (
        "Sensors "
        + ("checked in" if a["checkedIn"] else "checked out")
        + f" lease #{a['leaseId']} on slot {a['slotId']}"
    ),
    ("OccupancyOracle", "LeaseDriveFailed"): lambda a, L: (
        f"Sensors could not drive lease #{a['leaseId']} on slot {a['slotId']} (error "
        f"0x{bytes(a['errorSelector']).hex()})"
    ),
    ("OccupancyOracle", "IncidentFilingFailed"): lambda a, L: (
        f"Unauthorised-occupancy incident for slot {a['slotId']} could not be filed (error "
        f"0x{bytes(a['errorSelector']).hex()})"
    ),
    ("OccupancyOracle", "MarketSlotsSet"): lambda a, L: (
        f"Market slots of word {a['wordIndex']} set ({bin(a['mask']).count('1')} slots)"
    ),
    ("OccupancyOracle", "QuorumSet"): lambda a, L: f"Oracle quorum set to {a['quorum']}",
    ("OccupancyOracle", "SignerSet"): lambda a, L: (
        f"Oracle signer {L(a['signer'])} " + ("registered" if a["registered"] else "removed")
    ),
    # IncidentRegistry
    ("IncidentRegistry", "IncidentReported"): lambda a, L: (
        f"Incident #{a['incidentId']}: {_enum(INCIDENT_KINDS, a['kind'])}"
        + (f" at slot {a['slotId']}" if a["slotId"] else "")
        + f", observed {kst(a['observedAt'])}, confidence {a['confidenceBps'] / 100:g}%"
        + (", evidence anchored" if a["evidenceCid"] else ", sensor-derived")
    ),
    ("IncidentRegistry", "IncidentReviewed"): lambda a, L: (
        f"Incident #{a['incidentId']} {_enum(INCIDENT_STATUS, a['status'])} by inspector "
        f"{L(a['inspector'])}: “{a['reason']}”"
    ),
    ("IncidentRegistry", "OccupancyOracleSet"): lambda a, L: (
        f"Occupancy oracle set to {L(a['occupancyOracle'])}"
    ),
    # MobilityOperators
    ("MobilityOperators", "OperatorRegistered"): lambda a, L: (
        f"Mobility operator {L(a['operator'])} registered ({_enum(OPERATOR_KINDS, a['kind'])})"
    ),
    ("MobilityOperators", "OperatorActiveSet"): lambda a, L: (
        f"Mobility operator {L(a['operator'])} " + ("activated" if a["active"] else "deactivated")
    ),
    ("MobilityOperators", "AssetRegistered"): lambda a, L: (
        f"Asset #{a['assetId']} ({_enum(OPERATOR_KINDS, a['kind'])}) registered by "
        f"{L(a['operator'])}" + (" in the village zone" if a["villageZone"] else "")
    ),
    ("MobilityOperators", "AssetUpdated"): lambda a, L: (
        f"Asset #{a['assetId']} of {L(a['operator'])} now "
        + ("active" if a["active"] else "inactive")
        + (", in the village zone" if a["villageZone"] else ", outside the village zone")
    ),
    ("MobilityOperators", "FarePlanPublished"): lambda a, L: (
        f"Fare plan #{a['planId']} of {L(a['operator'])}: unlock {won(a['unlockFee'])}, "
        f"{won(a['perMinute'])}/min, {won(a['per100m'])}/100 m, daily cap {won(a['dailyCap'])}"
    ),
    # TripSettlement
    ("TripSettlement", "TripStarted"): lambda a, L: (
        f"Trip #{a['tripId']} started on asset #{a['assetId']} (plan #{a['planId']}) with "
        f"operator {L(a['operator'])}, deposit {won(a['deposit'])}"
    ),
    ("TripSettlement", "TripEnded"): lambda a, L: (
        f"Trip #{a['tripId']} ended at {kst(a['endedAt'])}: {a['distanceMeters']:,} m, fare "
        f"{won(a['fare'])}"
        + (" (closed by timeout)" if a["forced"] else "")
        + f", booked on {L(a['operator'])}'s day; {won(a['riderRefund'])} of the deposit back to "
        "the rider's deposit balance"
    ),
    ("TripSettlement", "TripDisputed"): lambda a, L: (
        f"Trip #{a['tripId']} disputed by rider {L(a['rider'])}: its fare leaves the day book of "
        f"{kst_date(a['day'])}"
    ),
    ("TripSettlement", "DisputeResolved"): lambda a, L: (
        f"Dispute on trip #{a['tripId']} resolved by inspector {L(a['inspector'])}: "
        f"{won(a['refund'])} refunded to the rider's deposit balance, fare {won(a['fare'])} booked "
        f"on {kst_date(a['day'])} (operator {won(a['operatorShare'])}, village enterprise "
        f"{won(a['villageShare'])}, platform {won(a['platformFee'])})"
    ),
    ("TripSettlement", "DayReleased"): lambda a, L: (
        f"Trip fares of {kst_date(a['day'])} released for {L(a['operator'])}: {a['legs']} legs, "
        f"gross {won(a['gross'])}; operator {won(a['operatorShare'])}, village enterprise "
        f"{won(a['villageShare'])}, platform {won(a['platformFee'])} credited to the revenue split"
    ),
    ("TripSettlement", "DepositWithdrawn"): lambda a, L: (
        f"Rider {L(a['rider'])} withdrew {won(a['amount'])} from the trip deposit balance"
    ),
    # JourneyClearing
    ("JourneyClearing", "JourneyOpened"): lambda a, L: (
        f"Journey #{a['journeyId']} opened by rider {L(a['rider'])}"
    ),
    ("JourneyClearing", "LegAdded"): lambda a, L: (
        f"Journey #{a['journeyId']} leg {a['legIndex'] + 1}: trip #{a['tripId']} with "
        f"{L(a['operator'])}, transfer discount {won(a['discount'])} on {won(a['eligible'])}"
    ),
    ("JourneyClearing", "EpochStatement"): lambda a, L: (
        f"Clearing statement {kst_date(a['epoch'])} for {L(a['operator'])}: {a['legs']} legs, "
        f"gross {won(a['gross'])}, discounts {won(a['discounts'])}, fees {won(a['fees'])}, "
        f"village {won(a['villageShare'])}, net {won(a['net'])}"
    ),
    ("JourneyClearing", "SubsidyToppedUp"): lambda a, L: (
        f"Transfer subsidy pool topped up by {won(a['amount'])} from {L(a['by'])} "
        f"(pool {won(a['pool'])})"
    ),
    # ValetService
    ("ValetService", "ValetRequested"): lambda a, L: (
        f"Valet request #{a['requestId']} for lot {a['lotId']}, {kst_window(a['start'], a['end'])}: "
        f"lease #{a['leaseId']} at {won(a['parkingPrice'])} plus valet fee {won(a['fee'])}"
    ),
    ("ValetService", "ValetAccepted"): lambda a, L: (
        f"Valet request #{a['requestId']} accepted by worker {L(a['worker'])}"
    ),
    ("ValetService", "ValetParked"): lambda a, L: (
        f"Valet request #{a['requestId']}: car parked by {L(a['worker'])} under lease "
        f"#{a['leaseId']}"
    ),
    ("ValetService", "ValetReturnRequested"): lambda a, L: (
        f"Valet request #{a['requestId']}: return requested by {L(a['rider'])}"
    ),
    ("ValetService", "ValetReturned"): lambda a, L: (
        f"Valet request #{a['requestId']}: car returned by {L(a['worker'])}; fee {won(a['fee'])}, "
        f"worker {won(a['workerShare'])}, village enterprise {won(a['villageShare'])}"
    ),
    ("ValetService", "ValetCancelled"): lambda a, L: (
        f"Valet request #{a['requestId']} cancelled by {L(a['rider'])}: {won(a['refund'])} refunded"
    ),
    ("ValetService", "ValetLotSet"): lambda a, L: (
        f"Valet lot {a['lotId']} serves slots {', '.join(str(s) for s in a['slotIds'])}"
    ),
}


def _epoch(epoch: int) -> str:
    """RevenueSplit month epoch (year * 12 + month - 1) as 'YYYY-MM'."""
    return f"{epoch // 12:04d}-{epoch % 12 + 1:02d}"


def generic(event: DecodedEvent) -> str:
    """EventName(arg=value, ...): the fallback for an event without a sentence."""
    args = ", ".join(f"{k}={_plain(v)}" for k, v in event.args.items())
    return f"{event.event}({args})"


def _plain(value: Any) -> str:
    value = hexify(value)
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return str(value)


def describe(event: DecodedEvent, label: Label = short) -> str:
    """The domain sentence of a decoded event; the generic form when it has none (or when its
    arguments do not fit the sentence, which a changed ABI could cause)."""
    sentence = D.get((event.contract, event.event))
    if sentence is None:
        return generic(event)
    try:
        return sentence(event.args, label)
    except (KeyError, IndexError, TypeError, ValueError):
        return generic(event)


def described_events() -> set[tuple[str, str]]:
    return set(D)
