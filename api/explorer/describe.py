"""Each decoded log of our contracts told in domain language, keyed by (contract, event).

"Lease #812 booked on slot 37, 2 Mar 2026, 18:00–22:00, ₩4,800", in Korean "임대(예약) #812:
주차면 37, 2026년 3월 2일 오후 6:00~10:00, ₩4,800 …". The sentences name no
person (DESIGN §6): accounts appear as addresses (shortened, or the stakeholder's role when the
caller's `label` knows it). An event without a sentence yet falls back to
"EventName(arg=value, ...)" so nothing on chain is hidden from an auditor.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from typing import Any

from api.explorer.formatting import day_text, hexify, kst, kst_window, short, won
from api.explorer.terms import term
from api.i18n.catalog import N_, gettext
from citypass.core.windows import format_window, unpack_windows
from citypass.protocol.abi import DecodedEvent
from citypass.protocol.review_reasons import REVIEW_REASONS
from indexer.handler_base import ZERO
from indexer.handlers import (
    CATEGORIES,
    DEVICE_KINDS,
    INCIDENT_KINDS,
    INCIDENT_STATUS,
    PAYEES,
    ROLE_BY_ID,
)
from indexer.handlers_mobility import OPERATOR_KINDS
from oracles.evidence import parse_cid

Label = Callable[[str], str]
Describer = Callable[[dict[str, Any], Label], str]


def _enum(names: tuple[str, ...], value: int) -> str:
    return term(names[value]) if 0 <= value < len(names) else f"#{value}"


def _role(role: bytes) -> str:
    code = "0x" + bytes(role).hex()
    return term(ROLE_BY_ID[code]) if code in ROLE_BY_ID else code[:10] + "…"


def _bytes32_text(value: bytes) -> str:
    """A bytes32 reason: its text when it is printable ASCII, else hex."""
    raw = bytes(value).rstrip(b"\0")
    if raw and all(32 <= c < 127 for c in raw):
        return f"“{raw.decode()}”"
    return "0x" + bytes(value).hex()


def _e6(value: int) -> str:
    return f"{value / 1e6:.6f}"


def windows_text(packed: int) -> str:
    """'Mon-Fri 09:00-18:00; Sun 00:00-24:00' (KST half-hour windows, as slot_terms takes them:
    the operators' text form, the same in both languages)."""
    windows = unpack_windows(packed)
    if not windows:
        return gettext("no sharing windows (not shared)")
    return "; ".join(format_window(window) for window in windows)


# ------------------------------------------------------------------------------ sentences

# A sentence is a template, an English msgid translated when it is told: {arg} is the argument
# as is (or with a format spec like {arg:,}); {arg:NAME} formats it with FORMATS[NAME] ("who"
# names an account through the caller's label); {arg:?yes|no} says "yes" when the argument is
# true, "no" otherwise (both words are part of the template, so the translation has its own).
# Sentences whose shape depends on the arguments beyond that are functions, each of whose
# pieces is a template too.
FORMATS: dict[str, Callable[[Any], str]] = {
    "won": won,
    "kst": kst,
    "day": day_text,
    "epoch": lambda epoch: _epoch(epoch),
    "role": lambda role: _role(role),
    "text32": lambda value: _bytes32_text(value),
    "hash": lambda value: short("0x" + bytes(value).hex()),
    "hex": lambda value: "0x" + bytes(value).hex(),
    "e6": lambda value: _e6(value),
    "pct": lambda bps: f"{bps / 100:g}%",
    "bits": lambda mask: str(bin(mask).count("1")),
    "from1": lambda index: str(index + 1),
    "list": lambda items: ", ".join(str(item) for item in items),
    "windows": lambda packed: windows_text(packed),
    "allowance": lambda value: gettext("any amount") if value >= 2**255 else won(value),
    "window": lambda pair: kst_window(*pair),
    "category": lambda value: _enum(CATEGORIES, value),
    "payee_kind": lambda value: _enum(PAYEES, value),
    "device_kind": lambda value: _enum(DEVICE_KINDS, value),
    "incident_kind": lambda value: _enum(INCIDENT_KINDS, value),
    "incident_status": lambda value: _enum(INCIDENT_STATUS, value),
    "review_reason": lambda value: _enum(REVIEW_REASONS, value),
    "cid": lambda value: parse_cid(bytes(value)).text,
    "operator_kind": lambda value: _enum(OPERATOR_KINDS, value),
}


class _Sentence(string.Formatter):
    def __init__(self, label: Label) -> None:
        self.label = label

    def format_field(self, value: Any, spec: str) -> str:
        if spec == "who":
            return self.label(value)
        if spec.startswith("?"):
            yes, _, no = spec[1:].partition("|")
            return yes if value else no
        if spec in FORMATS:
            return FORMATS[spec](value)
        return format(value, spec)


def _tell(template: str, args: dict[str, Any], label: Label) -> str:
    """`template` (an English msgid) translated, then filled in from the event's arguments."""
    return _Sentence(label).vformat(gettext(template), (), args)


def _credit_transfer(a: dict[str, Any], L: Label) -> str:
    if a["from"] == ZERO:
        return _tell(N_("{value:won} credits minted to {to:who}"), a, L)
    if a["to"] == ZERO:
        return _tell(N_("{value:won} credits burned from {from:who}"), a, L)
    return _tell(N_("{value:won} credits moved from {from:who} to {to:who}"), a, L)


def _slot_transfer(a: dict[str, Any], L: Label) -> str:
    if a["from"] == ZERO:
        return _tell(N_("Slot {tokenId} token minted to {to:who}"), a, L)
    return _tell(N_("Slot {tokenId} handed from {from:who} to {to:who}"), a, L)


def _slot_user(a: dict[str, Any], L: Label) -> str:
    if a["user"] == ZERO:
        return _tell(N_("Slot {tokenId} user cleared"), a, L)
    return _tell(N_("Slot {tokenId} used by {user:who} until {expires:kst}"), a, L)


def _lease_booked(a: dict[str, Any], L: Label) -> str:
    return _tell(
        N_("Lease #{leaseId} booked on slot {slotId}, {span:window}, {price:won} by {lessee:who}"),
        {**a, "span": (a["start"], a["end"])}, L,
    )  # fmt: skip


def _lease_settled(a: dict[str, Any], L: Label) -> str:
    text = _tell(N_("Lease #{leaseId} checked out and settled at {at:kst}: {price:won}"), a, L)
    if a["overstayCharge"]:
        text += _tell(
            N_(" plus overstay {overstayCharge:won} {overstayPaid:?paid|recorded as debt}"), a, L
        )
    return text


def _incident_reported(a: dict[str, Any], L: Label) -> str:
    return (
        _tell(N_("Incident #{incidentId}: {kind:incident_kind}"), a, L)
        + (_tell(N_(" at slot {slotId}"), a, L) if a["slotId"] else "")
        + _tell(N_(", observed {observedAt:kst}, confidence {confidenceBps:pct}"), a, L)
        + (gettext(", evidence anchored") if a["evidenceCid"] else gettext(", sensor-derived"))
    )


def _incident_reviewed(a: dict[str, Any], L: Label) -> str:
    # A reason code, never free text (issue 15): the details, if any, are sealed off chain.
    text = _tell(
        N_("Incident #{incidentId} {status:incident_status} by inspector {inspector:who}: "
           "{reasonCode:review_reason}"),
        a, L,
    )  # fmt: skip
    if a["detailsCid"]:
        text += _tell(N_(" (details sealed off chain: {detailsCid:cid})"), a, L)
    return text


def _valet_requested(a: dict[str, Any], L: Label) -> str:
    return _tell(
        N_("Valet request #{requestId} for lot {lotId}, {span:window}: lease #{leaseId} at "
           "{parkingPrice:won} plus valet fee {fee:won}"),
        {**a, "span": (a["start"], a["end"])}, L,
    )  # fmt: skip


SENTENCES: dict[str, dict[str, str | Describer]] = {
    "CityAccess": {
        "MemberOnboarded": N_("Member {account:who} onboarded by {by:who}"),
        "MemberSuspended": N_("Member {account:who} suspended by {by:who}, reason {reason:text32}"),
        "MemberReinstated": N_("Member {account:who} reinstated by {by:who}"),
        "WitnessSet": N_("{witness:who} is a witness of the ledger, named {name:text32}"),
        "WitnessRemoved": N_("{witness:who} is no longer a witness of the ledger"),
        "RoleGranted": N_("Role {role:role} granted to {account:who} by {sender:who}"),
        "RoleRevoked": N_("Role {role:role} revoked from {account:who} by {sender:who}"),
        "RoleAdminChanged": N_("Role {role:role} now administered by {newAdminRole:role}"),
        "MembershipListenerSet": N_(
            "{listener:who} is now told of every suspension and reinstatement"
        ),
    },
    "CityForwarder": {
        "ExecutedForwardRequest": N_(
            "Relayed request #{nonce} signed by {signer:who} {success:?executed|failed}"
        ),
    },
    "CityCredit": {
        "Transfer": _credit_transfer,
        "TopUp": N_("Top-up of {amount:won} for {account:who} (payment receipt {receipt:hash})"),
        "CashOut": N_("Cash-out of {amount:won} by {account:who} (payout receipt {receipt:hash})"),
        "Approval": N_("{owner:who} allows {spender:who} to spend up to {value:allowance}"),
        "PlatformContractSet": N_(
            "{platformContract:who} {allowed:?may now move credits as a platform contract"
            "|is no longer a platform contract}"
        ),
    },
    "ParkingSlots": {
        "SlotRegistered": N_(
            "Slot {slotId} registered ({category:category}, lot {lotId}) for owner {owner:who} "
            "at {latE6:e6}, {lonE6:e6}"
        ),
        "TermsSet": N_(
            "Slot {slotId} terms v{version}: {pricePerUnit:won} per half-hour, overstay "
            "{overagePer10Min:won} per 10 min"
        ),
        "WindowsSet": N_("Slot {slotId} sharing windows (KST): {windows:windows}"),
        "BlackoutSet": N_("Slot {slotId} {blackedOut:?not shared|shared again} on {localDay:day}"),
        "SlotActiveSet": N_(
            "Slot {slotId} {active:?reactivated|withdrawn from sharing} by {by:who}"
        ),
        "Transfer": _slot_transfer,
        "UpdateUser": _slot_user,
        "LeaseMarketSet": N_("Lease market set to {leaseMarket:who}"),
    },
    "LeaseMarket": {
        "LeaseBooked": _lease_booked,
        "LeaseCancelled": N_(
            "Lease #{leaseId} cancelled by {by:who}: {refund:won} refunded, {retained:won} kept"
        ),
        "LeaseCheckedIn": N_("Lease #{leaseId} checked in at {at:kst} by {by:who}"),
        "LeaseSettled": _lease_settled,
        "LeaseNoShow": N_("Lease #{leaseId} marked no-show by {by:who}; {price:won} kept"),
        "OverstayDebtRecorded": N_(
            "Lease #{leaseId}: overstay debt of {amount:won} recorded for {lessee:who}"
        ),
        "OverstayDebtPaid": N_(
            "Lease #{leaseId}: overstay debt of {amount:won} paid by {payer:who}"
        ),
        "PrepaidDeposited": N_(
            "{account:who} prepaid {amount:won} for bookings (prepaid balance {balance:won})"
        ),
        "PrepaidWithdrawn": N_(
            "{account:who} withdrew {amount:won} of prepaid credits (prepaid balance {balance:won})"
        ),
    },
    "RevenueSplit": {
        "RevenueAllocated": N_(
            "{amount:won} from a {category:category} slot split: owner {owner:who} "
            "{ownerShare:won}, village enterprise {villageShare:won}, city fund {cityShare:won}, "
            "platform {platformShare:won}"
        ),
        "FareAllocated": N_(
            "{amount:won} fare split: {payee:who} {payeeShare:won}, village enterprise "
            "{villageShare:won}, platform {platformShare:won}"
        ),
        "Claimed": N_("{payee:who} claimed {amount:won}"),
        "EscrowRefunded": N_("{amount:won} refunded from escrow to {to:who}"),
        "RefundDeferred": N_("{amount:won} refund held for {to:who} (suspended; claimable later)"),
        "MonthlyStatement": N_(
            "Statement {epoch:epoch} for {payee:who} ({kind:payee_kind}): earned {earned:won}, "
            "claimed {claimed:won}, closing balance {closingBalance:won}"
        ),
        "SplitSet": N_(
            "Split for {category:category} slots: owner {ownerBps:pct}, village {villageBps:pct}, "
            "city {cityBps:pct}, platform {platformBps:pct}"
        ),
        "SourceSet": N_("{source:who} {allowed:?may now escrow and allocate|may no longer escrow}"),
    },
    "DeviceRegistry": {
        "DeviceRegistered": N_(
            "Device {device:who} ({kind:device_kind}) registered by operator {operator:who}"
        ),
        "DeviceSlotAdded": N_("Device {device:who} now watches slot {slotId}"),
        "DeviceSlotRemoved": N_("Device {device:who} no longer watches slot {slotId}"),
        "DeviceActiveSet": N_("Device {device:who} {active:?activated|deactivated} by {by:who}"),
    },
    "OccupancyOracle": {
        "OccupancyReported": N_(
            "Occupancy report #{sequence} observed {observedAt:kst}: {observed} slots observed, "
            "{changed} changed"
        ),
        "SlotOccupancyChanged": N_(
            "Slot {slotId} became {occupied:?occupied|free} at {observedAt:kst}"
        ),
        "LeaseDriven": N_(
            "Sensors {checkedIn:?checked in|checked out} lease #{leaseId} on slot {slotId}"
        ),
        "LeaseDriveFailed": N_(
            "Sensors could not drive lease #{leaseId} on slot {slotId} (error {errorSelector:hex})"
        ),
        "IncidentFilingFailed": N_(
            "Unauthorised-occupancy incident for slot {slotId} could not be filed (error "
            "{errorSelector:hex})"
        ),
        "MarketSlotsSet": N_("Market slots of word {wordIndex} set ({mask:bits} slots)"),
        "QuorumSet": N_("Oracle quorum set to {quorum}"),
        "SignerSet": N_("Oracle signer {signer:who} {registered:?registered|removed}"),
    },
    "IncidentRegistry": {
        "IncidentReported": _incident_reported,
        "IncidentReviewed": _incident_reviewed,
        "OccupancyOracleSet": N_("Occupancy oracle set to {occupancyOracle:who}"),
    },
    "MobilityOperators": {
        "OperatorRegistered": N_(
            "Mobility operator {operator:who} registered ({kind:operator_kind})"
        ),
        "OperatorActiveSet": N_("Mobility operator {operator:who} {active:?activated|deactivated}"),
        "AssetRegistered": N_(
            "Asset #{assetId} ({kind:operator_kind}) registered by {operator:who}"
            "{villageZone:? in the village zone|}"
        ),
        "AssetUpdated": N_(
            "Asset #{assetId} of {operator:who} now {active:?active|inactive}"
            "{villageZone:?, in the village zone|, outside the village zone}"
        ),
        "FarePlanPublished": N_(
            "Fare plan #{planId} of {operator:who}: unlock {unlockFee:won}, {perMinute:won}/min, "
            "{per100m:won}/100 m, daily cap {dailyCap:won}"
        ),
    },
    "TripSettlement": {
        "TripStarted": N_(
            "Trip #{tripId} started on asset #{assetId} (plan #{planId}) with operator "
            "{operator:who}, deposit {deposit:won}"
        ),
        "TripEnded": N_(
            "Trip #{tripId} ended at {endedAt:kst}: {distanceMeters:,} m, fare {fare:won}"
            "{forced:? (closed by timeout)|}, booked on {operator:who}'s day; {riderRefund:won} "
            "of the deposit back to the rider's deposit balance"
        ),
        "TripDisputed": N_(
            "Trip #{tripId} disputed by rider {rider:who}: its fare leaves the day book of "
            "{day:day}"
        ),
        "DisputeResolved": N_(
            "Dispute on trip #{tripId} resolved by inspector {inspector:who}: {refund:won} "
            "refunded to the rider's deposit balance, fare {fare:won} booked on {day:day} "
            "(operator {operatorShare:won}, village enterprise {villageShare:won}, platform "
            "{platformFee:won})"
        ),
        "DayReleased": N_(
            "Trip fares of {day:day} released for {operator:who}: {legs} legs, gross {gross:won}; "
            "operator {operatorShare:won}, village enterprise {villageShare:won}, platform "
            "{platformFee:won} credited to the revenue split"
        ),
        "DepositWithdrawn": N_(
            "Rider {rider:who} withdrew {amount:won} from the trip deposit balance"
        ),
    },
    "JourneyClearing": {
        "JourneyOpened": N_("Journey #{journeyId} opened by rider {rider:who}"),
        "LegAdded": N_(
            "Journey #{journeyId} leg {legIndex:from1}: trip #{tripId} with {operator:who}, "
            "transfer discount {discount:won} on {eligible:won}"
        ),
        "EpochStatement": N_(
            "Clearing statement {epoch:day} for {operator:who}: {legs} legs, gross {gross:won}, "
            "discounts {discounts:won}, fees {fees:won}, village {villageShare:won}, net {net:won}"
        ),
        "SubsidyToppedUp": N_(
            "Transfer subsidy pool topped up by {amount:won} from {by:who} (pool {pool:won})"
        ),
    },
    "ValetService": {
        "ValetRequested": _valet_requested,
        "ValetAccepted": N_("Valet request #{requestId} accepted by worker {worker:who}"),
        "ValetParked": N_(
            "Valet request #{requestId}: car parked by {worker:who} under lease #{leaseId}"
        ),
        "ValetReturnRequested": N_("Valet request #{requestId}: return requested by {rider:who}"),
        "ValetReturned": N_(
            "Valet request #{requestId}: car returned by {worker:who}; fee {fee:won}, worker "
            "{workerShare:won}, village enterprise {villageShare:won}"
        ),
        "ValetCancelled": N_(
            "Valet request #{requestId} cancelled by {rider:who}: {refund:won} refunded"
        ),
        "ValetLotSet": N_("Valet lot {lotId} serves slots {slotIds:list}"),
    },
}


def _epoch(epoch: int) -> str:
    """RevenueSplit month epoch (year * 12 + month - 1) as 'YYYY-MM'."""
    return f"{epoch // 12:04d}-{epoch % 12 + 1:02d}"


def generic(event: DecodedEvent, shown: Label = str) -> str:
    """EventName(arg=value, ...): the fallback for an event without a sentence. `shown` writes
    an address argument (the address itself; a page for the public masks persons' addresses)."""
    args = ", ".join(f"{k}={_plain(v, shown)}" for k, v in event.args.items())
    return f"{event.event}({args})"


def _plain(value: Any, shown: Label) -> str:
    value = hexify(value)
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v, shown) for v in value) + "]"
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return shown(value)
    return str(value)


def describe(event: DecodedEvent, label: Label = short, shown: Label = str) -> str:
    """The domain sentence of a decoded event; the generic form (addresses written by `shown`)
    when it has none (or when its arguments do not fit the sentence, which a changed ABI could
    cause)."""
    sentence = SENTENCES.get(event.contract, {}).get(event.event)
    if sentence is None:
        return generic(event, shown)
    try:
        if isinstance(sentence, str):
            return _tell(sentence, event.args, label)
        return sentence(event.args, label)
    except (KeyError, IndexError, TypeError, ValueError):
        return generic(event, shown)


def described_events() -> set[tuple[str, str]]:
    return {(contract, event) for contract, events in SENTENCES.items() for event in events}
