"""A resident manages their own leases through the API, paying no gas: book, cancel, and a manual
check-in and check-out, each a ForwardRequest signed from served typed data and relayed; the
chain and the resident's lease list and balance history agree. It moves the ledger
clock, so it runs on a world of its own (api_helpers.clock_moving_world)."""

from __future__ import annotations

import time

from api.ledger import CLOCK_CACHE_SECONDS
from tests.api_helpers import World, relay_signed, sqlite_clock_moving_world
from tests.oracle_helpers import wait_until
from tests.siwe_helpers import resident_bearer

# This module moves the ledger clock: it gets a world of its own (see clock_moving_world).
world = sqlite_clock_moving_world

LEASE_STATUS = ["NONE", "BOOKED", "CHECKED_IN", "SETTLED", "CANCELLED", "NO_SHOW"]


def _relay(world: World, resident, function: str, *args) -> dict:
    market = world.chain.contract("market")
    data = market.encode_abi(function, args=list(args))
    typed = world.api.get(
        "/v1/typed-data/forward-request",
        params={"from": resident.address, "to": market.address, "data": data},
    )
    assert typed.status_code == 200, typed.text
    return relay_signed(world, resident, typed.json())


def _move_clock(world: World, timestamp: int) -> None:
    world.chain.set_clock(timestamp)
    # The API caches the ledger clock for a second (CLOCK_CACHE_SECONDS); a development clock
    # jump of a day would otherwise give the next forward request an already-past deadline.
    time.sleep(CLOCK_CACHE_SECONDS + 0.1)


def _status_on_chain(world: World, lease_id: int) -> str:
    lease = world.chain.contract("market").functions.leaseOf(lease_id).call()
    return LEASE_STATUS[lease[2]]


def _own(world: World, resident) -> dict[str, str]:
    """The resident's own wallet session: her records need it."""
    return resident_bearer(world.api.url, world.chain.chain_id, resident)


def _listed_status(world: World, resident, lease_id: int) -> str | None:
    leases = world.api.get(
        f"/v1/members/{resident.address}/leases", headers=_own(world, resident)
    ).json()["leases"]
    return next((lease["status"] for lease in leases if lease["leaseId"] == lease_id), None)


def test_resident_cancels_a_booking_through_the_relay(world: World):
    resident = world.chain.resident(credit=100_000)
    slot, start = world.scenario.slots["A"], world.scenario.at(2, 14)
    booked = _relay(world, resident, "book", slot, start, start + 3600, 10**9)
    lease_id = booked["leaseId"]
    paid = 100_000 - world.chain.contract("credit").functions.balanceOf(resident.address).call()
    assert paid > 0
    cancelled = _relay(world, resident, "cancel", lease_id)
    assert "LeaseCancelled" in {event["event"] for event in cancelled["events"]}
    assert _status_on_chain(world, lease_id) == "CANCELLED"
    # Cancelled well before the start: the whole price comes back.
    balance = world.chain.contract("credit").functions.balanceOf(resident.address).call()
    assert balance == 100_000
    wait_until(lambda: _listed_status(world, resident, lease_id) == "CANCELLED", timeout=15)
    history = world.api.get(
        f"/v1/members/{resident.address}/balance", headers=_own(world, resident)
    ).json()
    assert history["balance"] == balance


def test_resident_checks_in_and_out_by_hand_through_the_relay(world: World):
    resident = world.chain.resident(credit=100_000)  # sends its own CityCredit approval
    sent_before = world.chain.w3.eth.get_transaction_count(resident.address)
    slot, start = world.scenario.slots["A"], world.scenario.at(2, 10)
    lease_id = _relay(world, resident, "book", slot, start, start + 3600, 10**9)["leaseId"]
    _move_clock(world, start + 60)
    checked_in = _relay(world, resident, "checkIn", lease_id)
    assert "LeaseCheckedIn" in {event["event"] for event in checked_in["events"]}
    assert _status_on_chain(world, lease_id) == "CHECKED_IN"
    _move_clock(world, start + 1800)
    checked_out = _relay(world, resident, "checkOut", lease_id)
    assert "LeaseSettled" in {event["event"] for event in checked_out["events"]}
    assert _status_on_chain(world, lease_id) == "SETTLED"
    wait_until(lambda: _listed_status(world, resident, lease_id) == "SETTLED", timeout=15)
    # The relayer sent all three; the resident's account sent no transaction of its own.
    assert world.chain.w3.eth.get_transaction_count(resident.address) == sent_before
