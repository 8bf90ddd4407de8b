"""The app developer's journey from /docs alone: the ledger clock, a quote, and every resident
action prepared by the server (no call data encoded by the app), signed with eth-account as a
wallet's eth_signTypedData_v4 would, relayed through /v1/relay/forward, and checked on chain.
Times go in as ISO 8601 or Unix seconds. Requests bound to fail are refused at prepare time.
It moves the ledger clock, so it runs on a world of its own."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from api.ledger import CLOCK_CACHE_SECONDS
from citypass.core.timeunits import KST
from citypass.protocol.roles import ROLES
from citypass.protocol.trip_reports import sign_trip_end
from tests.api_helpers import World, relay_signed, sqlite_clock_moving_world
from tests.oracle_helpers import wait_until
from tests.siwe_helpers import resident_bearer

world = sqlite_clock_moving_world

MAX_UINT = 2**256 - 1
LEASE_STATUS = ["NONE", "BOOKED", "CHECKED_IN", "SETTLED", "CANCELLED", "NO_SHOW"]
KICK_SCOOTER = 2
SCOOTER_PLAN = (500, 150, 0, 20_000)  # unlock, per minute, per 100 m, daily cap (KRW)


def _own(world: World, resident) -> dict[str, str]:
    """The resident's own wallet session: her records need it."""
    return resident_bearer(world.api.url, world.chain.chain_id, resident)


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, KST).isoformat()


def _prepare(world: World, action: str, body: dict, status: int = 200) -> dict:
    reply = world.api.post(f"/v1/prepare/{action}", json=body)
    assert reply.status_code == status, reply.text
    return reply.json() if status == 200 else reply.json()["error"]


def _act(world: World, account, action: str, **fields) -> dict:
    """prepare → sign (eth-account, as a wallet signs typed data v4) → relay; must succeed."""
    typed = _prepare(world, action, {"from": account.address, **fields})
    assert typed["primaryType"] == "ForwardRequest" and typed["message"]["from"] == account.address
    return relay_signed(world, account, typed)


def _events(result: dict) -> dict[str, dict]:
    return {event["event"]: event["args"] for event in result["events"]}


def _lease_status(world: World, lease_id: int) -> str:
    return LEASE_STATUS[world.chain.contract("market").functions.leaseOf(lease_id).call()[2]]


def _balance(world: World, address: str) -> int:
    return world.chain.contract("credit").functions.balanceOf(address).call()


def _move_clock(world: World, timestamp: int) -> None:
    world.chain.set_clock(timestamp)
    time.sleep(CLOCK_CACHE_SECONDS + 0.1)  # the API caches the ledger clock for a second


def _quote(world: World, slot: int, start, end, status: int = 200) -> dict:
    reply = world.api.get(f"/v1/slots/{slot}/quote", params={"start": start, "end": end})
    assert reply.status_code == status, reply.text
    return reply.json() if status == 200 else reply.json()["error"]


# ------------------------------------------------------------------------ clock and times


def test_clock_gives_the_ledger_time_and_how_far_it_is_from_the_wall(world: World):
    clock = world.api.get("/v1/clock").json()
    head = world.chain.w3.eth.get_block("latest")
    assert clock["blockNumber"] <= head["number"] and clock["ledgerTime"] <= head["timestamp"]
    assert abs(clock["ledgerTime"] - head["timestamp"]) < 60
    assert abs(clock["wallTime"] - time.time()) < 5
    assert clock["ledgerAheadSeconds"] == clock["ledgerTime"] - clock["wallTime"]
    assert datetime.fromisoformat(clock["ledgerTimeIso"]).timestamp() == clock["ledgerTime"]
    assert clock["ledgerTimeIso"].endswith("+09:00") and "simulated" in clock["note"]


def test_search_takes_iso_times_and_answers_both_forms(world: World):
    start, end = world.scenario.at(1, 10), world.scenario.at(1, 11)
    where = {"lat": 37.503, "lon": 126.787, "radius_m": 5000}
    by_seconds = world.api.get("/v1/slots/search", params={**where, "start": start, "end": end})
    # The same instant in KST and in UTC.
    utc = datetime.fromtimestamp(end, UTC)
    by_iso = world.api.get(
        "/v1/slots/search",
        params={**where, "start": _iso(start), "end": utc.isoformat()},
    )
    assert by_iso.status_code == 200, by_iso.text
    assert by_iso.json() == by_seconds.json()
    assert (by_iso.json()["start"], by_iso.json()["startIso"]) == (start, _iso(start))


@pytest.mark.parametrize(
    ("start", "problem"),
    [
        ("2026-12-08T19:00:00", "has no offset"),
        ("2026-12-08", "has no offset"),
        ("tomorrow", "ISO 8601 with an offset"),
        ("-1800", "ISO 8601 with an offset"),
        ("2026-12-08T19:00:00.5+09:00", "whole seconds"),
    ],
)
def test_times_without_offset_or_malformed_are_422_naming_the_field(world, start, problem):
    slot = world.scenario.slots["A"]
    error = _quote(world, slot, start, world.scenario.at(1, 11), status=422)
    assert error["code"] == "validation"
    assert error["message"].startswith("start:") and problem in error["message"]
    body = {"from": world.scenario.lessee.address, "slotId": slot, "start": start, "end": 0}
    error = _prepare(world, "book", body, status=422)
    assert "start:" in error["message"] and problem in error["message"]


# ---------------------------------------------------------------------------------- quote


def test_quote_is_what_the_market_charges_and_states_the_terms(world: World):
    resident = world.chain.resident(credit=100_000)
    slot, start, end = (
        world.scenario.slots["C"],
        world.scenario.at(2, 10),
        world.scenario.at(2, 11.5),
    )
    quote = _quote(world, slot, _iso(start), end)
    assert (quote["start"], quote["end"], quote["startIso"], quote["units"]) == (
        start, end, _iso(start), 3,
    )  # fmt: skip
    assert quote["bookable"] is True and quote["reason"] is None
    assert quote["price"] == 3 * 1000 == quote["units"] * quote["pricePerUnit"]
    policy = world.chain.contract("market").functions.policy().call()
    cutoff, grace, late_bps, penalty, early = policy
    assert quote["overage"]["per10Min"] == 300 and quote["overage"]["penalty"] == penalty
    terms = quote["cancellation"]
    assert terms["freeUntil"] == start - cutoff and terms["bookingGraceSeconds"] == grace
    assert terms["lateRefundBps"] == late_bps
    assert terms["lateRefund"] == quote["price"] * late_bps // 10_000
    assert quote["checkInFrom"] == start - early and len(terms["rules"]) >= 4
    # The booking on chain charges exactly the quote.
    booked = _act(world, resident, "book", slotId=slot, start=_iso(start), end=_iso(end))
    assert _events(booked)["LeaseBooked"]["price"] == quote["price"]
    assert _balance(world, resident.address) == 100_000 - quote["price"]
    again = _quote(world, slot, start, end)
    assert (again["bookable"], again["reasonCode"]) == (False, "LeaseMarketOverlap")
    assert again["price"] == quote["price"] and "already leased" in again["reason"]


def test_quote_says_why_a_window_is_not_bookable(world: World):
    s = world.scenario
    now = world.chain.head_time()
    cases = [
        (s.slots["B"], s.at(0, 20), s.at(0, 21), "LeaseMarketSlotUnavailable"),  # blackout
        (s.slots["E"], s.at(1, 10), s.at(1, 11), "LeaseMarketSlotUnavailable"),  # withdrawn
        (s.slots["C"], s.at(5, 10), s.at(5, 11), "LeaseMarketOutsideWindow"),  # Saturday
        (s.slots["A"], now - now % 1800 - 3600, now - now % 1800, "LeaseMarketStartInPast"),
    ]
    for slot, start, end, code in cases:
        quote = _quote(world, slot, start, end)
        assert (quote["bookable"], quote["reasonCode"]) == (False, code), quote
        assert quote["reason"] and code in quote["reason"]


def test_quote_refuses_unknown_slots_and_bad_windows(world: World):
    s, start = world.scenario, world.scenario.at(1, 10)
    assert _quote(world, 9999, start, start + 1800, status=404)["code"] == "unknown_slot"
    assert _quote(world, s.slots["A"], start + 60, start + 1800, status=422)["code"] == (
        "misaligned_window"
    )
    assert _quote(world, s.slots["A"], start, start, status=422)["code"] == "empty_window"
    assert _quote(world, s.slots["A"], start, start + 8 * 86400, status=422)["code"] == (
        "window_too_long"
    )
    assert _quote(world, 0, start, start + 1800, status=422)["code"] == "validation"
    missing = world.api.get(f"/v1/slots/{s.slots['A']}/quote", params={"start": start})
    assert missing.status_code == 422 and "end:" in missing.json()["error"]["message"]


# --------------------------------------------------------------------------- lease actions


def test_book_and_cancel_prepared_by_the_server(world: World):
    resident = world.chain.resident(credit=100_000)
    slot, start = world.scenario.slots["A"], world.scenario.at(1, 14)
    booked = _act(world, resident, "book", slotId=slot, start=start, end=start + 3600)
    lease_id = booked["leaseId"]
    lease = world.chain.contract("market").functions.leaseOf(lease_id).call()
    assert (lease[0], lease[1], _lease_status(world, lease_id)) == (resident.address, 2, "BOOKED")
    cancelled = _act(world, resident, "cancel", leaseId=lease_id)
    assert _events(cancelled)["LeaseCancelled"]["refund"] == _events(booked)["LeaseBooked"]["price"]
    assert _lease_status(world, lease_id) == "CANCELLED"
    assert _balance(world, resident.address) == 100_000

    def listed() -> dict | None:
        leases = world.api.get(
            f"/v1/members/{resident.address}/leases", headers=_own(world, resident)
        ).json()["leases"]
        return next(
            (x for x in leases if x["leaseId"] == lease_id and x["status"] == "CANCELLED"), None
        )

    wait_until(listed, timeout=15)
    lease = listed()
    assert lease is not None and (lease["startIso"], lease["endIso"]) == (
        _iso(start),
        _iso(start + 3600),
    )


def test_prepaid_deposit_pays_bookings_without_a_transfer(world: World):
    resident = world.chain.resident(credit=100_000)
    slot, start = world.scenario.slots["A"], world.scenario.at(1, 18)
    _act(world, resident, "deposit-prepaid", amount=5_000)
    booked = _act(world, resident, "book", slotId=slot, start=start, end=start + 3600)
    assert "Transfer" not in _events(booked)
    price = _events(booked)["LeaseBooked"]["price"]
    _act(world, resident, "withdraw-prepaid", amount=1_000)
    assert _balance(world, resident.address) == 100_000 - 5_000 + 1_000
    left = 5_000 - price - 1_000

    def indexed() -> dict | None:
        reply = world.api.get(
            f"/v1/members/{resident.address}/prepaid", headers=_own(world, resident)
        ).json()
        return reply if reply["balance"] == left else None

    wait_until(indexed, timeout=15)
    assert indexed() is not None and indexed()["spent"] == price  # type: ignore[index]
    stranger = world.api.get(f"/v1/members/{resident.address}/prepaid")
    assert stranger.status_code in (401, 403)


def test_book_with_a_permit_when_the_allowance_is_short(world: World):
    chain = world.chain
    resident = chain.new_member()  # credit but no CityCredit approval
    chain.system.credit.mint(resident.address, 50_000, b"\0" * 32, {"from": chain.people.treasury})
    slot, start = world.scenario.slots["D"], world.scenario.at(1, 9)
    body = {"from": resident.address, "slotId": slot, "start": start, "end": start + 1800}
    refused = _prepare(world, "book", body, status=409)
    assert refused["code"] == "ERC20InsufficientAllowance"
    assert "/v1/typed-data/permit" in refused["message"]
    price = _quote(world, slot, start, start + 1800)["price"]
    permit = world.api.get(
        "/v1/typed-data/permit", params={"owner": resident.address, "value": price}
    ).json()
    assert permit["message"]["spender"] == chain.system.market.address
    signed = Account.sign_message(encode_typed_data(full_message=permit), resident.key)
    signature = "0x" + signed.signature.hex().removeprefix("0x")
    with_permit = {
        **body,
        "permit": {"deadline": permit["message"]["deadline"], "signature": signature},
    }
    typed = _prepare(world, "book", with_permit)
    booked = relay_signed(world, resident, typed)
    assert _lease_status(world, booked["leaseId"]) == "BOOKED"
    assert _balance(world, resident.address) == 50_000 - price
    short = {**with_permit, "permit": {"deadline": 1, "signature": "0x" + "11" * 64}}
    assert _prepare(world, "book", short, status=422)["code"] == "bad_permit_signature"


def test_prepare_refuses_requests_bound_to_fail(world: World):
    s, chain = world.scenario, world.chain
    resident = chain.resident(credit=100_000)
    poor = chain.resident(credit=10)
    start = s.at(1, 16)
    book = {"slotId": s.slots["A"], "start": start, "end": start + 1800}
    lease_id = _act(world, resident, "book", **book)["leaseId"]
    cases = [
        ("book", {"from": Account.create().address, **book}, 403, "not_member"),
        ("book", {"from": s.suspended.address, **book}, 403, "not_member"),
        ("book", {"from": poor.address, **book}, 409, "LeaseMarketOverlap"),
        ("book", {"from": poor.address, **book, "start": start + 1800, "end": start + 3600},
         409, "ERC20InsufficientBalance"),
        ("book", {"from": resident.address, **book, "slotId": 9999}, 404, "unknown_slot"),
        ("book", {"from": resident.address, **book, "start": start + 1800, "end": start + 3600,
                  "maxPrice": 1}, 422, "LeaseMarketPriceAboveMax"),
        ("cancel", {"from": poor.address, "leaseId": lease_id}, 403, "LeaseMarketNotAuthorized"),
        ("check-in", {"from": resident.address, "leaseId": lease_id}, 422,
         "LeaseMarketOutsideLeaseTime"),
        ("check-out", {"from": resident.address, "leaseId": lease_id}, 409,
         "LeaseMarketWrongStatus"),
        ("cancel", {"from": resident.address, "leaseId": 12345}, 422, "LeaseMarketUnknownLease"),
        ("pay-overstay-debt", {"from": resident.address, "leaseId": lease_id}, 409,
         "LeaseMarketNoDebt"),
        ("claim", {"from": resident.address}, 409, "nothing_to_claim"),
        ("withdraw-deposit", {"from": resident.address, "amount": 1}, 409,
         "TripSettlementBalanceTooLow"),
        ("withdraw-prepaid", {"from": resident.address, "amount": 1}, 409,
         "LeaseMarketInsufficientPrepaid"),
        ("deposit-prepaid", {"from": s.suspended.address, "amount": 1}, 403, "not_member"),
        ("deposit-prepaid", {"from": poor.address, "amount": 11}, 409, "ERC20InsufficientBalance"),
    ]  # fmt: skip
    nonce = chain.contract("forwarder").functions.nonces(resident.address).call()
    for action, body, status, code in cases:
        assert _prepare(world, action, body, status=status)["code"] == code, (action, body)
    # Refused before anything was signed or sent.
    assert chain.contract("forwarder").functions.nonces(resident.address).call() == nonce


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("book", {"from": "0x12", "slotId": 1, "start": 0, "end": 1800}, "from"),
        ("book", {"slotId": 1, "start": 0, "end": 1800}, "from"),
        ("book", {"from": "0x" + "11" * 20, "slotId": 0, "start": 0, "end": 1800}, "slotId"),
        ("book", {"from": "0x" + "11" * 20, "slotId": 1, "start": 0, "end": 1800, "x": 1}, "x"),
        ("book", {"from": "0x" + "11" * 20, "slotId": 1, "start": 0, "end": 1800,
                  "permit": {"deadline": 1, "signature": "zz"}}, "permit.signature"),
        ("cancel", {"from": "0x" + "11" * 20, "leaseId": -1}, "leaseId"),
        ("start-trip", {"from": "0x" + "11" * 20}, "assetId"),
        ("end-trip", {"from": "0x" + "11" * 20, "tripId": 1, "endedAt": "noon", "distanceM": 1,
                      "operatorSignature": "0x00"}, "endedAt"),
        ("withdraw-deposit", {"from": "0x" + "11" * 20, "amount": 0}, "amount"),
        ("deposit-prepaid", {"from": "0x" + "11" * 20, "amount": 0}, "amount"),
        ("deposit-prepaid", {"from": "0x" + "11" * 20}, "amount"),
        ("withdraw-prepaid", {"from": "0x" + "11" * 20, "amount": -5}, "amount"),
    ],
)  # fmt: skip
def test_malformed_prepare_bodies_are_422_naming_the_field(world: World, action, body, field):
    error = _prepare(world, action, body, status=422)
    assert error["code"] == "validation" and f"{field}:" in error["message"], error


def test_check_in_and_out_prepared_by_the_server(world: World):
    resident = world.chain.resident(credit=100_000)
    slot, start = world.scenario.slots["A"], world.scenario.at(3, 10)
    lease_id = _act(world, resident, "book", slotId=slot, start=start, end=start + 1800)["leaseId"]
    _move_clock(world, start + 60)
    _act(world, resident, "check-in", leaseId=lease_id)
    assert _lease_status(world, lease_id) == "CHECKED_IN"
    _move_clock(world, start + 1800 + 15 * 60)  # 15 minutes over: two started 10-minute steps
    settled = _events(_act(world, resident, "check-out", leaseId=lease_id))["LeaseSettled"]
    penalty = world.chain.contract("market").functions.policy().call()[3]
    overage = world.chain.contract("slots").functions.bookingTerms(slot).call()[6]
    assert settled["overstayCharge"] == 2 * overage + penalty
    assert _lease_status(world, lease_id) == "SETTLED"

    def listed() -> dict | None:
        leases = world.api.get(
            f"/v1/members/{resident.address}/leases", headers=_own(world, resident)
        ).json()["leases"]
        return next((x for x in leases if x["leaseId"] == lease_id and x["checkedOutAt"]), None)

    wait_until(listed, timeout=15)
    lease = listed()
    assert lease is not None and lease["checkedInAtIso"] == _iso(lease["checkedInAt"])
    assert lease["checkedOutAtIso"] == _iso(lease["checkedOutAt"])
    assert lease["bookedAtIso"] == _iso(lease["bookedAt"])


def test_owner_claims_revenue_prepared_by_the_server(world: World):
    owner = world.scenario.owner
    split = world.chain.contract("split")
    claimable = split.functions.claimable(owner.address).call()
    assert claimable > 0  # the scenario's settled leases pay the slots' owner
    before = _balance(world, owner.address)
    claimed = _events(_act(world, owner, "claim"))["Claimed"]
    assert claimed["amount"] >= claimable
    assert _balance(world, owner.address) == before + claimed["amount"]


# ---------------------------------------------------------------------------------- trips


@pytest.fixture(scope="module")
def scooter(world: World) -> dict:
    chain, system, people = world.chain, world.chain.system, world.chain.people
    operator = Account.create()
    system.access.grantRole(ROLES["OPERATOR"], operator.address, {"from": people.admin})
    system.operators.registerOperator(operator.address, KICK_SCOOTER, {"from": people.admin})
    system.operators.publishPlan(*SCOOTER_PLAN, {"from": operator})
    system.operators.registerAsset(True, {"from": operator})
    asset = chain.contract("operators").functions.assetCount().call()
    block = chain.w3.eth.block_number
    wait_until(lambda: world.api.get("/health").json()["indexedBlock"] >= block, timeout=30)
    return {"operator": operator, "asset": asset}


def _rider(world: World):
    rider = world.chain.resident(credit=500_000)
    world.chain.system.credit.approve(world.chain.system.trips.address, MAX_UINT, {"from": rider})
    return rider


def _ride(world: World, scooter: dict, rider) -> dict:
    """A trip started through prepare (two relays a rider may make at most three of, in the
    test world's signer rate), ten minutes and 1.2 km long, and its operator-signed end report."""
    trips = world.chain.contract("trips")
    # planId and deposit default to the operator's plan in force and its daily cap.
    started = _events(_act(world, rider, "start-trip", assetId=scooter["asset"]))["TripStarted"]
    trip_id = started["tripId"]
    trip = trips.functions.tripOf(trip_id).call()
    assert (trip[0], trip[1], trip[5]) == (rider.address, SCOOTER_PLAN[3], scooter["asset"])
    ended_at = trip[2] + 10 * 60
    _move_clock(world, ended_at + 1)
    signature = sign_trip_end(
        scooter["operator"].key, settlement_address=trips.address,
        chain_id=world.chain.chain_id, trip_id=trip_id, ended_at=ended_at, distance_meters=1200,
    ).signature  # fmt: skip
    return {"tripId": trip_id, "endedAt": _iso(ended_at), "distanceM": 1200,
            "operatorSignature": "0x" + bytes(signature).hex()}  # fmt: skip


def test_a_trip_started_ended_and_its_deposit_withdrawn_through_prepare(world: World, scooter):
    chain, rider = world.chain, _rider(world)
    trips = chain.contract("trips")
    report = _ride(world, scooter, rider)
    stranger = chain.new_member()
    assert _prepare(world, "end-trip", {"from": stranger.address, **report}, 403)["code"] == (
        "not_rider"
    )
    forged = {**report, "distanceM": 1}
    assert _prepare(world, "end-trip", {"from": rider.address, **forged}, 422)["code"] == (
        "TripSettlementInvalidSigner"
    )
    unknown = {**report, "tripId": 999_999}
    assert _prepare(world, "end-trip", {"from": rider.address, **unknown}, 404)["code"] == (
        "unknown_trip"
    )
    ended = _events(_act(world, rider, "end-trip", **report))["TripEnded"]
    fare = SCOOTER_PLAN[0] + 10 * SCOOTER_PLAN[1]
    assert (ended["fare"], ended["riderRefund"]) == (fare, SCOOTER_PLAN[3] - fare)
    deposit = trips.functions.depositBalanceOf(rider.address).call()
    assert deposit == ended["riderRefund"]
    too_much = {"from": rider.address, "amount": deposit + 1}
    assert _prepare(world, "withdraw-deposit", too_much, 409)["code"] == (
        "TripSettlementBalanceTooLow"
    )
    before = _balance(world, rider.address)
    _act(world, rider, "withdraw-deposit", amount=deposit)
    assert _balance(world, rider.address) == before + deposit
    assert trips.functions.depositBalanceOf(rider.address).call() == 0

    def listed() -> dict | None:
        mine = world.api.get(
            f"/v1/members/{rider.address}/trips", headers=_own(world, rider)
        ).json()["trips"]
        return next((t for t in mine if t["tripId"] == report["tripId"] and t["endedAt"]), None)

    wait_until(listed, timeout=15)
    trip = listed()
    assert trip is not None and trip["endedAtIso"] == report["endedAt"]
    assert trip["startedAtIso"] == _iso(trip["startedAt"])


def test_a_trip_disputed_through_prepare(world: World, scooter):
    rider = _rider(world)
    trips = world.chain.contract("trips")
    report = _ride(world, scooter, rider)
    early = {"from": rider.address, "tripId": report["tripId"]}
    assert _prepare(world, "dispute-trip", early, 409)["code"] == "TripSettlementWrongStatus"
    _act(world, rider, "end-trip", **report)
    other = world.chain.new_member()
    assert _prepare(world, "dispute-trip", {**early, "from": other.address}, 403)["code"] == (
        "TripSettlementNotRider"
    )
    _act(world, rider, "dispute-trip", tripId=report["tripId"])
    assert trips.functions.tripOf(report["tripId"]).call()[7] == 3  # status: DISPUTED


def test_start_trip_on_an_unknown_asset_is_404(world: World, scooter):
    body = {"from": _rider(world).address, "assetId": 4_000_000}
    assert _prepare(world, "start-trip", body, 404)["code"] == "unknown_asset"
