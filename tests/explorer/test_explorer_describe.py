"""The explorer's sentences for decoded logs of every contract (no chain: logs are encoded from
the compiled ABIs, then decoded by the explorer's own ContractBook as a node's logs would be)."""

from __future__ import annotations

import base64
import json

import pytest
from web3 import Web3

from api.explorer.contracts import ALL_CONTRACTS, ContractBook
from api.explorer.describe import describe, described_events
from api.explorer.formatting import kst_window, won
from api.i18n.locale import use as use_locale
from citypass.core.timeunits import month_bounds
from citypass.protocol.abi import BUILD
from citypass.protocol.review_reasons import reason_code
from tests.explorer_helpers import in_english  # noqa: F401
from tests.explorer_logs import make_log

# 2026-03-02 (a Monday) 18:00 and 22:00 KST.
EVENING = 1772442000
LATER = EVENING + 4 * 3600
RIDER = "0x" + "a1" * 20
WORKER = "0x" + "b2" * 20
OPERATOR = "0x" + "c3" * 20
ADDRESSES = {key: "0x" + f"{n + 1:040x}" for n, key in enumerate(ALL_CONTRACTS)}
# Events deliberately left to the generic "Name(arg=...)" form: configuration noise.
GENERIC = {
    ("CityForwarder", "EIP712DomainChanged"),
    ("CityCredit", "EIP712DomainChanged"),
    ("OccupancyOracle", "EIP712DomainChanged"),
    ("TripSettlement", "EIP712DomainChanged"),
    ("ParkingSlots", "Approval"),
    ("ParkingSlots", "ApprovalForAll"),
    ("LeaseMarket", "PolicySet"),
}


@pytest.fixture(scope="module")
def book() -> ContractBook:
    return ContractBook(Web3(), ADDRESSES)


def told(book: ContractBook, key: str, event: str, **args) -> str:
    contract = ALL_CONTRACTS[key]
    decoded = book.decode(
        make_log(Web3.to_checksum_address(ADDRESSES[key]), contract, event, **args)
    )
    assert decoded is not None and (decoded.contract, decoded.event) == (contract, event)
    return describe(decoded)


def test_every_event_of_our_contracts_has_a_sentence_or_is_listed_generic():
    events = set()
    for name in ALL_CONTRACTS.values():
        abi = json.loads((BUILD / f"{name}.json").read_text())["abi"]
        events |= {(name, e["name"]) for e in abi if e["type"] == "event"}
    missing = events - described_events() - GENERIC
    assert not missing, f"events without a sentence: {sorted(missing)}"
    assert not described_events() - events, "sentences for events that no ABI has"


def test_lease_booked_reads_like_the_issue(book):
    text = told(
        book, "market", "LeaseBooked", leaseId=812, slotId=37, lessee=RIDER, start=EVENING,
        end=LATER, price=4800,
    )  # fmt: skip
    assert text.startswith("Lease #812 booked on slot 37, 2 Mar 2026, 18:00–22:00, ₩4,800")


def test_settlement_with_overstay_and_revenue_split(book):
    settled = told(
        book, "market", "LeaseSettled", leaseId=9, by=RIDER, at=LATER, price=2400,
        overstayCharge=400, overstayPaid=False,
    )  # fmt: skip
    assert "Lease #9 checked out and settled at 2 Mar 2026, 22:00: ₩2,400" in settled
    assert "overstay ₩400 recorded as debt" in settled
    split = told(
        book, "split", "RevenueAllocated", source=RIDER, owner=OPERATOR, category=2, amount=10000,
        ownerShare=3000, villageShare=7000, cityShare=0, platformShare=0,
    )  # fmt: skip
    assert "₩10,000 from a resident priority slot split" in split
    assert "village enterprise ₩7,000" in split


def test_mobility_trip_journey_and_valet_sentences(book):
    started = told(
        book, "trips", "TripStarted", tripId=5, rider=RIDER, operator=OPERATOR, assetId=3,
        planId=2, deposit=3000,
    )  # fmt: skip
    assert started.startswith("Trip #5 started on asset #3 (plan #2)") and "₩3,000" in started
    ended = told(
        book, "trips", "TripEnded", tripId=5, rider=RIDER, operator=OPERATOR, endedAt=LATER,
        distanceMeters=2350, fare=2150, forced=True, riderRefund=850,
    )  # fmt: skip
    assert "2,350 m, fare ₩2,150 (closed by timeout)" in ended
    assert "₩850 of the deposit back to the rider's deposit balance" in ended
    day = 20514  # 2026-03-02 in KST
    disputed = told(book, "trips", "TripDisputed", tripId=5, rider=RIDER, day=day)
    assert disputed.endswith("its fare leaves the day book of 2 Mar 2026")
    resolved = told(
        book, "trips", "DisputeResolved", tripId=5, inspector=OPERATOR, day=day + 1, refund=650,
        fare=1500, operatorShare=1300, villageShare=120, platformFee=80,
    )  # fmt: skip
    assert "₩650 refunded to the rider's deposit balance" in resolved
    assert "fare ₩1,500 booked on 3 Mar 2026 (operator ₩1,300" in resolved
    released = told(
        book, "trips", "DayReleased", operator=OPERATOR, day=day, legs=12, gross=25800,
        operatorShare=23000, villageShare=1500, platformFee=1300,
    )  # fmt: skip
    assert released.startswith("Trip fares of 2 Mar 2026 released") and "12 legs" in released
    assert "village enterprise ₩1,500, platform ₩1,300 credited" in released
    withdrawn = told(book, "trips", "DepositWithdrawn", rider=RIDER, amount=4000)
    assert withdrawn.endswith("withdrew ₩4,000 from the trip deposit balance")
    leg = told(
        book, "journeys", "LegAdded", journeyId=4, tripId=5, operator=OPERATOR, legIndex=1,
        eligible=1200, discount=300,
    )  # fmt: skip
    assert leg.startswith("Journey #4 leg 2: trip #5") and "discount ₩300 on ₩1,200" in leg
    statement = told(
        book, "journeys", "EpochStatement", operator=OPERATOR, epoch=day, legs=7,
        gross=9000, discounts=600, fees=450, villageShare=200, net=7750,
    )  # fmt: skip
    # JourneyClearing epochs are KST days.
    assert statement.startswith("Clearing statement 2 Mar 2026") and "net ₩7,750" in statement
    requested = told(
        book, "valet", "ValetRequested", requestId=2, rider=RIDER, lotId=1, leaseId=44,
        start=EVENING, end=LATER, parkingPrice=4000, fee=5000,
    )  # fmt: skip
    assert requested == (
        "Valet request #2 for lot 1, 2 Mar 2026, 18:00–22:00: lease #44 at ₩4,000 plus "
        "valet fee ₩5,000"
    )
    returned = told(
        book, "valet", "ValetReturned", requestId=2, worker=WORKER, fee=5000, workerShare=3500,
        villageShare=1500,
    )  # fmt: skip
    assert "worker ₩3,500, village enterprise ₩1,500" in returned
    lot = told(book, "valet", "ValetLotSet", lotId=1, slotIds=[3, 4, 9])
    assert lot == "Valet lot 1 serves slots 3, 4, 9"
    plan = told(
        book, "operators", "FarePlanPublished", planId=2, operator=OPERATOR, unlockFee=1000,
        perMinute=150, per100m=0, dailyCap=20000,
    )  # fmt: skip
    assert "unlock ₩1,000, ₩150/min" in plan and "daily cap ₩20,000" in plan


def test_sensor_sentences(book):
    changed = told(
        book, "occupancy", "SlotOccupancyChanged", slotId=37, occupied=True, observedAt=EVENING
    )
    assert changed == "Slot 37 became occupied at 2 Mar 2026, 18:00"
    incident = told(
        book, "incidents", "IncidentReported", incidentId=7, kind=0, slotId=37,
        latE6=37_517_000, lonE6=126_777_000, observedAt=EVENING, confidenceBps=9100,
        sourceEventId=b"\1" * 32, contentHash=b"\2" * 32, evidenceCid=b"\1\x55\x12\x20" + b"\3" * 32,
        reporter=OPERATOR,
    )  # fmt: skip
    assert incident.startswith("Incident #7: illegal parking at slot 37, observed 2 Mar 2026")
    assert "confidence 91%" in incident
    device = told(book, "devices", "DeviceRegistered", device=WORKER, kind=2, operator=OPERATOR)
    assert "(camera) registered" in device


def test_a_review_is_told_by_its_reason_code_in_the_readers_language(book):
    """IncidentReviewed carries a code (no free text on chain): the sentence names it in words,
    in English and in Korean, and points at sealed details by their CID when there are any."""
    details = b"\1\x55\x12\x20" + b"\3" * 32
    review = {"incidentId": 7, "status": 3, "inspector": OPERATOR}
    plain = told(book, "incidents", "IncidentReviewed", **review,
                 reasonCode=reason_code("AUTHORISED_USE"), detailsCid=b"")  # fmt: skip
    assert plain.startswith("Incident #7 dismissed by inspector ")
    assert plain.endswith(": authorised use")
    other = told(book, "incidents", "IncidentReviewed", **review,
                 reasonCode=reason_code("OTHER"), detailsCid=details)  # fmt: skip
    cid_text = "b" + base64.b32encode(details).decode().lower().rstrip("=")
    assert other.endswith(f": other (details sealed off chain: {cid_text})")
    with use_locale("ko"):
        korean = told(book, "incidents", "IncidentReviewed", **review,
                      reasonCode=reason_code("FALSE_DETECTION"), detailsCid=b"")  # fmt: skip
    assert korean.startswith("사건 #7 기각됨(단속원 ") and korean.endswith("): 오탐지")


def test_generic_fallback_shows_every_argument(book):
    text = told(book, "credit", "EIP712DomainChanged")
    assert text == "EIP712DomainChanged()"
    approval = told(book, "slots", "ApprovalForAll", owner=RIDER, operator=OPERATOR, approved=True)
    assert approval.startswith("ApprovalForAll(owner=0x") and "approved=True" in approval


def test_a_log_of_an_unknown_contract_or_event_is_not_decoded(book):
    log = make_log(Web3.to_checksum_address(ADDRESSES["market"]), "ValetService", "ValetAccepted",
                   requestId=1, worker=WORKER)  # fmt: skip
    assert book.decode(log) is None
    log["address"] = "0x" + "ee" * 20
    assert book.decode(log) is None


def test_formatting_helpers():
    assert won(1234567) == "₩1,234,567" and won(-5) == "-₩5"
    assert kst_window(EVENING, EVENING + 86400) == "2 Mar 2026, 18:00 – 3 Mar 2026, 18:00"
    start, end = month_bounds("2026-12")
    assert (end - start) == 31 * 86400 and kst_window(start, start + 1800).startswith(
        "1 Dec 2026, 00:00"
    )
