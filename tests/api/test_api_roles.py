"""Owners, staff sessions (SIWE) and mobility over a real ledger node and a real citypass-api
(api_helpers' world): sign-in and every refusal, role re-checks against CityAccess, the city's
policy, operators' statements, and riders' trips and valet through the forwarder (the
inspector's review is tests/api/test_api_inspector.py). It moves the ledger clock, so it runs
on a world of its own (api_helpers.clock_moving_world)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from web3.logs import DISCARD

from citypass.chain.deploy_mobility import PLATFORM_FEE_BPS, TRIP_TIMEOUT_SECONDS, VALET_FEE
from citypass.protocol.contracts import MAX_LEASE_UNITS
from citypass.protocol.roles import ROLES
from citypass.protocol.trip_reports import sign_trip_end
from tests.api_helpers import World, clock_moving_world, error_of, relay_signed
from tests.indexer_helpers import EVERY_DAY, PERSONAL, Window
from tests.oracle_helpers import wait_until
from tests.siwe_helpers import bearer, personal_sign, resident_bearer, sign_in, siwe_message

# This module moves the ledger clock: it gets a world of its own (see clock_moving_world).
world = clock_moving_world

MAX_UINT = 2**256 - 1
KICK_SCOOTER = 2
SCOOTER_PLAN = (500, 150, 0, 20_000)  # unlock, per minute, per 100 m, daily cap (KRW)
VALET_LOT = 77
DEADLINE_SECONDS = 600  # the API's default CITYPASS_API_DEADLINE_SECONDS


def _message(world: World, account, nonce: str | None = None, **changes) -> str:
    return siwe_message(world.api.url, world.chain.chain_id, account, nonce, **changes)


def _sign_in(world: World, account, **changes):
    return sign_in(world.api.url, world.chain.chain_id, account, **changes)


def _token(world: World, account, **changes) -> dict[str, str]:
    return bearer(world.api.url, world.chain.chain_id, account, **changes)


def _own(world: World, account) -> dict[str, str]:
    """A resident's own wallet session: what reads of its own records need."""
    return resident_bearer(world.api.url, world.chain.chain_id, account)


def _relay(world: World, account, to: str, data: str) -> dict:
    # The API caches the ledger clock for a second (api/ledger.py): right after set_clock moved
    # it, a served deadline may still count from the old head and be already past. Wait until
    # the deadline counts from the current head.
    head = world.chain.w3.eth.get_block("latest")["timestamp"]
    params = {"from": account.address, "to": to, "data": data}

    def served() -> dict | None:
        reply = world.api.get("/v1/typed-data/forward-request", params=params)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        return body if body["message"]["deadline"] >= head + DEADLINE_SECONDS else None

    typed = wait_until(served, timeout=10, interval=0.2)
    return relay_signed(world, account, typed)


def _event(contract, name: str, receipt) -> dict:
    """The one `name` log of `receipt`, decoded (other contracts' logs skipped)."""
    [log] = getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    return dict(log["args"])


def _indexed(world: World, block: int) -> None:
    wait_until(lambda: world.api.get("/health").json()["indexedBlock"] >= block, timeout=30)


@pytest.fixture(scope="module")
def staff(world: World) -> dict:
    """An inspector, a scooter operator with a plan and an asset, and a rider (the inspector's
    review of incidents is tests/api/test_api_inspector.py)."""
    chain, system, people = world.chain, world.chain.system, world.chain.people
    admin = {"from": people.admin}
    inspector = Account.create()
    system.access.grantRole(ROLES["INSPECTOR"], inspector.address, admin)
    operator = Account.create()
    system.access.grantRole(ROLES["OPERATOR"], operator.address, admin)
    system.operators.registerOperator(operator.address, KICK_SCOOTER, admin)
    system.operators.publishPlan(*SCOOTER_PLAN, {"from": operator})
    system.operators.registerAsset(True, {"from": operator})
    asset = chain.contract("operators").functions.assetCount().call()
    plan = chain.contract("operators").functions.planCount().call()
    rider = chain.resident(credit=500_000)
    system.credit.approve(system.trips.address, MAX_UINT, {"from": rider})
    system.credit.approve(system.valet.address, MAX_UINT, {"from": rider})
    _indexed(world, chain.w3.eth.block_number)
    return {
        "inspector": inspector, "operator": operator, "asset": asset, "plan": plan,
        "rider": rider,
    }  # fmt: skip


# ----------------------------------------------------------------------------- sign-in


def test_nonce_is_fresh_and_names_domain_and_chain(world: World):
    first, second = world.api.get("/v1/auth/nonce").json(), world.api.post("/v1/auth/nonce").json()
    assert first["nonce"] != second["nonce"] and len(first["nonce"]) >= 8
    assert (first["domain"], first["chainId"]) == (
        world.api.url.removeprefix("http://"),
        world.chain.chain_id,
    )
    assert first["expiresAt"] > time.time()


def test_inspector_signs_in_with_roles_from_city_access(world: World, staff: dict):
    reply = _sign_in(world, staff["inspector"])
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["address"] == staff["inspector"].address and body["roles"] == ["INSPECTOR"]
    me = world.api.get("/v1/auth/session", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.json()["roles"] == ["INSPECTOR"]


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"domain": "evil.example"}, 422, "siwe_wrong_domain"),
        ({"uri": "https://evil.example/login"}, 422, "siwe_wrong_uri"),
        ({"chain_id": 1}, 422, "siwe_wrong_chain"),
        ({"expiration_time": datetime.now(UTC) - timedelta(minutes=1)}, 422, "siwe_expired"),
        ({"not_before": datetime.now(UTC) + timedelta(hours=1)}, 422, "siwe_not_yet_valid"),
        ({"issued_at": datetime.now(UTC) + timedelta(hours=1)}, 422, "siwe_issued_in_future"),
        ({"nonce": "neverIssued123"}, 401, "siwe_unknown_nonce"),
    ],
)
def test_sign_in_refuses_with_what_to_fix(world: World, staff: dict, changes, status, code):
    error = error_of(_sign_in(world, staff["inspector"], **changes), status)
    assert error["code"] == code
    assert "sign" in error["message"]  # says what to sign again


def test_sign_in_refuses_a_reused_nonce_a_bad_signature_and_a_malformed_message(
    world: World, staff: dict
):
    inspector, other = staff["inspector"], Account.create()
    text = _message(world, inspector)
    forged = world.api.post(
        "/v1/auth/siwe", json={"message": text, "signature": personal_sign(other, text)}
    )
    assert error_of(forged, 401)["code"] == "siwe_bad_signature"
    # The forged attempt did not burn the nonce: the real signature still signs in, once.
    body = {"message": text, "signature": personal_sign(inspector, text)}
    assert world.api.post("/v1/auth/siwe", json=body).status_code == 200
    assert error_of(world.api.post("/v1/auth/siwe", json=body), 409)["code"] == "siwe_nonce_used"
    broken = text.replace("Version: 1", "Version: one")
    reply = world.api.post(
        "/v1/auth/siwe", json={"message": broken, "signature": personal_sign(inspector, broken)}
    )
    error = error_of(reply, 422)
    assert error["code"] == "siwe_malformed" and "Version" in error["message"]
    bad_hex = world.api.post("/v1/auth/siwe", json={"message": text, "signature": "0xzz"})
    assert error_of(bad_hex, 422)["code"] == "validation"


def test_resident_without_staff_role_cannot_sign_in(world: World):
    error = error_of(_sign_in(world, world.scenario.lessee), 403)
    assert error["code"] == "siwe_no_role" and "grant" in error["message"]


def test_protected_endpoints_need_a_live_session_and_the_role(world: World, staff: dict):
    for path in ("/v1/inspector/incidents", "/v1/operator/statements", "/v1/city/policy"):
        assert error_of(world.api.get(path), 401)["code"] == "session_missing"
        bogus = world.api.get(path, headers={"Authorization": "Bearer not-a-token"})
        assert error_of(bogus, 401)["code"] == "session_unknown"
    headers = _token(world, staff["inspector"])
    for path in ("/v1/operator/statements", "/v1/city/policy"):
        error = error_of(world.api.get(path, headers=headers), 403)
        assert error["code"] == "missing_role" and staff["inspector"].address in error["message"]
    assert world.api.post("/v1/auth/logout", headers=headers).status_code == 204
    assert error_of(world.api.get("/v1/inspector/incidents", headers=headers), 401)["code"] == (
        "session_unknown"
    )


def test_revoked_role_loses_access_within_the_cache_time(world: World):
    chain = world.chain
    inspector = Account.create()
    admin = {"from": chain.people.admin}
    chain.system.access.grantRole(ROLES["INSPECTOR"], inspector.address, admin)
    headers = _token(world, inspector)
    assert world.api.get("/v1/inspector/incidents", headers=headers).status_code == 200
    chain.system.access.revokeRole(ROLES["INSPECTOR"], inspector.address, admin)
    revoked_at = time.monotonic()
    wait_until(
        lambda: world.api.get("/v1/inspector/incidents", headers=headers).status_code == 403,
        timeout=10, interval=0.2,
    )  # fmt: skip
    assert time.monotonic() - revoked_at < 2.0 + 1.5  # ROLE_CACHE_SECONDS + slack


def test_session_ends_at_the_message_expiration_time(world: World, staff: dict):
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    headers = _token(world, staff["inspector"], expiration_time=ends)
    assert world.api.get("/v1/inspector/incidents", headers=headers).status_code == 200
    time.sleep(max(0.0, ends.timestamp() - time.time()) + 0.3)
    error = error_of(world.api.get("/v1/inspector/incidents", headers=headers), 401)
    assert error["code"] == "session_expired" and "sign in again" in error["message"]


def test_concurrent_sign_ins_with_one_nonce_exactly_one_wins(world: World, staff: dict):
    text = _message(world, staff["inspector"])
    body = {"message": text, "signature": personal_sign(staff["inspector"], text)}
    racers = 4
    start = threading.Barrier(racers)

    def race(_: int):
        start.wait(timeout=30)
        return world.api.post("/v1/auth/siwe", json=body)

    with ThreadPoolExecutor(racers) as pool:
        replies = list(pool.map(race, range(racers)))
    assert sorted(r.status_code for r in replies) == [200] + [409] * (racers - 1)
    assert {error_of(r, 409)["code"] for r in replies if r.status_code != 200} == {
        "siwe_nonce_used"
    }


def test_session_and_used_nonce_survive_an_api_restart(world: World, staff: dict):
    text = _message(world, staff["inspector"])
    body = {"message": text, "signature": personal_sign(staff["inspector"], text)}
    signed_in = world.api.post("/v1/auth/siwe", json=body)
    assert signed_in.status_code == 200, signed_in.text
    headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
    unused_nonce = world.api.post("/v1/auth/nonce").json()["nonce"]
    old_pid = world.api.process.pid
    world.api.restart()  # SIGTERM, then the same command on the same port and read model
    assert world.api.process.pid != old_pid
    me = world.api.get("/v1/auth/session", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["address"] == staff["inspector"].address
    assert world.api.get("/v1/inspector/incidents", headers=headers).status_code == 200
    replay = world.api.post("/v1/auth/siwe", json=body)
    assert error_of(replay, 409)["code"] == "siwe_nonce_used"
    # A nonce issued before the restart is still open, and good for one sign-in.
    assert _sign_in(world, staff["inspector"], nonce=unused_nonce).status_code == 200
    # Signing out after the restart ends the session for good.
    assert world.api.post("/v1/auth/logout", headers=headers).status_code == 204
    assert error_of(world.api.get("/v1/auth/session", headers=headers), 401)["code"] == (
        "session_unknown"
    )


# -------------------------------------------------------------------------------- city


def test_city_policy_is_read_from_chain(world: World):
    headers = _token(world, world.chain.people.admin)
    reply = world.api.get("/v1/city/policy", headers=headers)
    assert reply.status_code == 200, reply.text
    policy = reply.json()
    c = world.chain
    assert policy["leaseMarket"]["maxLeaseUnits"] == MAX_LEASE_UNITS
    assert (
        policy["leaseMarket"]["freeCancelCutoff"]
        == c.contract("market").functions.policy().call()[0]
    )
    assert policy["tripSettlement"]["platformFeeBps"] == PLATFORM_FEE_BPS
    assert policy["tripSettlement"]["tripTimeoutSeconds"] == TRIP_TIMEOUT_SECONDS
    assert policy["valetService"]["valetFee"] == VALET_FEE
    assert policy["occupancyOracle"]["quorum"] == c.contract("occupancy").functions.quorum().call()
    personal = policy["revenueSplit"]["splits"]["PERSONAL"]
    assert sum(personal[k] for k in ("ownerBps", "villageBps", "cityBps", "platformBps")) == 10_000
    assert personal["ownerBps"] == c.contract("split").functions.splitOf(3).call()[0]


# ------------------------------------------------------------------------------ owners


def test_owner_slots_show_windows_blackouts_and_price_history(world: World):
    s = world.scenario
    reply = world.api.get(f"/v1/owners/{s.owner.address}/slots", headers=_own(world, s.owner))
    assert reply.status_code == 200, reply.text
    slots = {x["slotId"]: x for x in reply.json()["slots"]}
    assert set(s.slots.values()) <= set(slots)
    b, c, e = slots[s.slots["B"]], slots[s.slots["C"]], slots[s.slots["E"]]
    assert b["blackoutDays"] == [(s.monday + 9 * 3600) // 86400]
    assert [p["pricePerUnit"] for p in c["priceHistory"]][-1] == 1000 == c["pricePerUnit"]
    assert c["windows"] == [{"daysMask": 0b0011111, "startUnit": 18, "endUnit": 36}]
    assert e["active"] is False
    nobody = Account.create()
    assert (
        world.api.get(f"/v1/owners/{nobody.address}/slots", headers=_own(world, nobody)).json()[
            "slots"
        ]
        == []
    )
    assert error_of(world.api.get("/v1/owners/0x1234/slots"), 422)["code"] == "validation"


def test_owner_earnings_reconcile_with_revenue_split(world: World):
    s = world.scenario
    earnings = world.api.get(
        f"/v1/owners/{s.owner.address}/earnings", headers=_own(world, s.owner)
    ).json()
    split = world.chain.contract("split")
    events = split.events.RevenueAllocated().get_logs(
        from_block=0, argument_filters={"owner": s.owner.address}
    )
    assert (
        sum(m["ownerShare"] for m in earnings["months"])
        == sum(e["args"]["ownerShare"] for e in events)
        == earnings["earned"]
        > 0
    )
    assert sum(m["allocations"] for m in earnings["months"]) == len(events)
    assert earnings["claimed"] == s.claimed
    assert earnings["claimable"] == split.functions.claimable(s.owner.address).call()
    assert earnings["earned"] - earnings["claimed"] == earnings["claimable"]


def test_owner_changes_a_price_through_the_relayer(world: World):
    chain = world.chain
    owner = chain.new_member()
    slot = chain.contract("slots").functions.slotCount().call() + 1
    chain.system.slots.registerSlot(
        owner.address, PERSONAL, 9, 37_600_000, 126_900_000, {"from": chain.people.operator}
    )
    data = chain.contract("slots").encode_abi("setTerms", args=[slot, 700, 250])
    relayed = _relay(world, owner, chain.system.slots.address, data)
    assert any(
        e["event"] == "TermsSet" or e["event"].startswith("Terms") for e in relayed["events"]
    )
    _indexed(world, relayed["blockNumber"])
    mine = world.api.get(f"/v1/owners/{owner.address}/slots", headers=_own(world, owner)).json()[
        "slots"
    ]
    assert [(x["slotId"], x["pricePerUnit"], x["overagePer10Min"]) for x in mine] == [
        (slot, 700, 250)
    ]
    assert mine[0]["priceHistory"][-1]["pricePerUnit"] == 700
    terms = chain.contract("slots").functions.bookingTerms(slot).call()
    assert 700 in terms and 250 in terms


# ---------------------------------------------------------------------------- mobility


def test_operators_list_kind_and_plan_in_force(world: World, staff: dict):
    listed = {o["address"]: o for o in world.api.get("/v1/mobility/operators").json()["operators"]}
    mine = listed[staff["operator"].address]
    assert mine["kind"] == "KICK_SCOOTER" and mine["active"] is True
    plan = mine["planInForce"]
    assert (plan["planId"], plan["unlockFee"], plan["perMinute"], plan["dailyCap"]) == (
        staff["plan"], SCOOTER_PLAN[0], SCOOTER_PLAN[1], SCOOTER_PLAN[3],
    )  # fmt: skip
    assert (mine["assets"], mine["villageZoneAssets"]) == (1, 1)


def test_rider_trip_through_forwarder_settles_into_operator_statements(world: World, staff: dict):
    chain, rider, operator = world.chain, staff["rider"], staff["operator"]
    rider_session = _own(world, rider)
    trips = chain.contract("trips")
    deposit = SCOOTER_PLAN[3]
    data = trips.encode_abi("startTrip", args=[staff["asset"], staff["plan"], deposit])
    relayed = _relay(world, rider, chain.system.trips.address, data)
    trip_id = next(e["args"]["tripId"] for e in relayed["events"] if e["event"] == "TripStarted")
    _indexed(world, relayed["blockNumber"])
    listed = world.api.get(f"/v1/members/{rider.address}/trips", headers=rider_session).json()[
        "trips"
    ]
    assert [(t["tripId"], t["status"], t["operator"]) for t in listed] == [
        (trip_id, "OPEN", operator.address)
    ]
    started = listed[0]["startedAt"]
    ended = started + 10 * 60
    chain.set_clock(ended + 1)
    signature = sign_trip_end(
        operator.key, settlement_address=trips.address, chain_id=chain.chain_id,
        trip_id=trip_id, ended_at=ended, distance_meters=1200,
    ).signature  # fmt: skip
    # The end report settles: the fare is booked on the operator's KST day, the unused deposit
    # goes to the rider's deposit balance.
    end = chain.system.trips.endTrip(
        trip_id, ended, 1200, signature, {"from": chain.people.operator}
    )
    ended_log = _event(trips, "TripEnded", end)
    fare, refund = SCOOTER_PLAN[0] + 10 * SCOOTER_PLAN[1], ended_log["riderRefund"]
    assert (ended_log["fare"], refund) == (fare, deposit - fare) and refund > 0
    _indexed(world, end["blockNumber"])
    mine = world.api.get(f"/v1/members/{rider.address}/trips", headers=rider_session).json()
    trip = mine["trips"][0]
    booked_day = trip["bookedDay"]
    assert (trip["tripId"], trip["status"], trip["fare"], trip["distanceM"]) == (
        trip_id, "ENDED", fare, 1200,
    )  # fmt: skip
    end_time = chain.w3.eth.get_block(end["blockNumber"])["timestamp"]
    assert (trip["riderRefund"], trip["closedAt"]) == (refund, end_time)
    assert (
        mine["depositBalance"] == refund == trips.functions.depositBalanceOf(rider.address).call()
    )
    headers = _token(world, operator)
    before = world.api.get("/v1/operator/statements", headers=headers).json()
    assert [(d["day"], d["trips"], d["fares"], d["released"], d["operatorShare"])
            for d in before["settlementDays"]] == [(booked_day, 1, fare, False, None)]  # fmt: skip
    on_chain = trips.functions.operatorDay(operator.address, booked_day).call()
    assert (on_chain[0], on_chain[1], on_chain[4]) == (1, fare, False)  # legs, gross, released
    split = chain.contract("split")
    claimable_before = split.functions.claimable(operator.address).call()

    # The operator's money becomes claimable when the day is released, after its dispute window.
    final_at = trips.functions.dayFinalAt(booked_day).call()
    chain.set_clock(final_at + 1)
    release = chain.system.trips.releaseDay(
        operator.address, booked_day, {"from": chain.people.operator}
    )
    released = _event(trips, "DayReleased", release)
    assert (released["legs"], released["gross"]) == (1, fare)
    assert released["operatorShare"] + released["villageShare"] + released["platformFee"] == fare
    _indexed(world, release["blockNumber"])
    trip = world.api.get(
        f"/v1/members/{rider.address}/trips", params={"status": "SETTLED"}, headers=rider_session
    ).json()["trips"][0]
    assert (trip["tripId"], trip["fare"], trip["bookedDay"]) == (trip_id, fare, booked_day)
    statements = world.api.get("/v1/operator/statements", headers=headers)
    assert statements.status_code == 200, statements.text
    statements = statements.json()
    [day] = statements["settlementDays"]
    assert (day["day"], day["trips"], day["fares"], day["released"]) == (booked_day, 1, fare, True)
    assert (day["operatorShare"], day["villageShare"], day["platformFee"]) == (
        released["operatorShare"], released["villageShare"], released["platformFee"],
    )  # fmt: skip
    assert day["releaseTxHash"] == "0x" + bytes(release["transactionHash"]).hex()
    claimable = split.functions.claimable(operator.address).call()
    assert claimable == claimable_before + released["operatorShare"] == statements["claimable"]
    own = world.api.get("/v1/operator/trips", headers=headers).json()["trips"]
    assert [t["tripId"] for t in own] == [trip_id]
    journeys = world.api.get(f"/v1/members/{rider.address}/journeys", headers=rider_session).json()
    assert journeys["journeys"] == []

    # The rider takes the unused deposit out, gasless.
    data = trips.encode_abi("withdrawDeposit", args=[refund])
    relayed = _relay(world, rider, chain.system.trips.address, data)
    assert [e["args"]["amount"] for e in relayed["events"] if e["event"] == "DepositWithdrawn"] == [
        refund
    ]
    _indexed(world, relayed["blockNumber"])
    mine = world.api.get(f"/v1/members/{rider.address}/trips", headers=rider_session).json()
    assert mine["depositBalance"] == 0 == trips.functions.depositBalanceOf(rider.address).call()


def test_rider_requests_valet_through_forwarder(world: World, staff: dict):
    chain, rider = world.chain, staff["rider"]
    rider_session = _own(world, rider)
    owner = chain.new_member()
    slot = chain.contract("slots").functions.slotCount().call() + 1
    chain.system.slots.registerSlot(
        owner.address, PERSONAL, VALET_LOT, 37_610_000, 126_910_000, {"from": chain.people.operator}
    )
    chain.system.slots.setWindows(slot, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
    chain.system.valet.setLotSlots(VALET_LOT, [slot], {"from": chain.people.operator})
    start = (chain.head_time() // 1800 + 2) * 1800
    data = chain.contract("valet").encode_abi(
        "requestValet", args=[VALET_LOT, start, start + 3600, 10**9]
    )
    relayed = _relay(world, rider, chain.system.valet.address, data)
    request_id = next(
        e["args"]["requestId"] for e in relayed["events"] if e["event"] == "ValetRequested"
    )
    _indexed(world, relayed["blockNumber"])
    listed = world.api.get(
        "/v1/valet/requests", params={"lot": VALET_LOT}, headers=rider_session
    ).json()["requests"]
    assert [(r["requestId"], r["rider"], r["status"], r["fee"]) for r in listed] == [
        (request_id, rider.address, "REQUESTED", VALET_FEE)
    ]
    assert listed[0]["parkingPrice"] == 2 * 600
    # Riders' requests are theirs: another wallet sees none of them, staff see them all, and
    # without a session the list is refused.
    stranger = _own(world, Account.create())
    lot = {"lot": VALET_LOT}
    assert (
        world.api.get("/v1/valet/requests", params=lot, headers=stranger).json()["requests"] == []
    )
    inspector = _token(world, staff["inspector"])
    seen = world.api.get("/v1/valet/requests", params=lot, headers=inspector).json()["requests"]
    assert [r["requestId"] for r in seen] == [request_id]
    refused = error_of(world.api.get("/v1/valet/requests", params=lot), 401)
    assert refused["code"] == "session_missing" and "scope" in refused["message"]
    assert (
        world.api.get(
            "/v1/valet/requests", params={"lot": VALET_LOT + 1}, headers=rider_session
        ).json()["requests"]
        == []
    )
    assert (
        error_of(
            world.api.get("/v1/valet/requests", params={"status": "LOST"}, headers=rider_session),
            422,
        )["code"]
        == "validation"
    )
