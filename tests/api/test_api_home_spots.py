"""A home space's exact spot and access instructions (docs/privacy.md, "Where a home space is"):
on chain the PERSONAL slot has only its 0.001° cell; its owner sets the spot through the API
with her wallet session, and she and the lessee of a confirmed lease read it, from booking until
the lease ends. Everyone else (no session, another resident, staff, the lessee of a cancelled
lease, a lessee after her lease) is refused; search and the feeds carry the cell only. Real API
over HTTP, a real node, real SIWE signatures; this module's own world, as it moves the clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account

from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.coarse_location import PERSONAL, cell_of
from citypass.protocol.roles import ROLES
from tests.api_helpers import World, error_of, sqlite_clock_moving_world
from tests.indexer_helpers import PRIVATE_LOT
from tests.oracle_helpers import wait_until
from tests.siwe_helpers import bearer, resident_bearer

# The clock moves (the last test): a world of the module's own, on SQLite (who may read is
# decided in Python; the queries behind it run on both databases in the read model's suites).
world = sqlite_clock_moving_world

HOUR = 3600
# The home's exact spot, and the cell it is registered by on chain (far from the scenario's).
EXACT = (37_531_234, 126_800_789)
CELL = cell_of(*EXACT)
LOT_SPACE = (37_540_123, 126_810_456)  # a private lot's space, 1.5 km away: exact on chain
INSTRUCTIONS = "Gate code 4821.\nThe left space by the wall; 대문은 닫아 주세요."


@dataclass
class Home:
    slot: int
    owner: Any
    lessee: Any  # holds a booked lease on the slot
    cancelled: Any  # held a lease on the slot, cancelled
    lease: int
    lease_end: int
    lot_slot: int  # a private lot's space: exact coordinates, no private spot


def _indexed(world: World) -> None:
    head = world.chain.w3.eth.block_number
    wait_until(lambda: world.api.get("/health").json()["indexedBlock"] >= head, timeout=30)


def _register(world: World, owner: Any, category: int, at: tuple[int, int]) -> int:
    chain = world.chain
    slot = chain.contract("slots").functions.slotCount().call() + 1
    chain.system.slots.registerSlot(
        owner.address, category, 31, *at, {"from": chain.people.operator}
    )
    chain.system.slots.setWindows(slot, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
    return slot


@pytest.fixture(scope="module")
def home(world: World) -> Home:
    chain = world.chain
    owner, lessee, cancelled = chain.resident(), chain.resident(), chain.resident()
    slot = _register(world, owner, PERSONAL, CELL)
    lot_slot = _register(world, owner, PRIVATE_LOT, LOT_SPACE)
    start = (chain.head_time() // 1800 + 4) * 1800  # two hours ahead, on a half-hour
    lease = chain.book(lessee, slot, start, start + 2 * HOUR)
    gone = chain.book(cancelled, slot, start + 3 * HOUR, start + 4 * HOUR)
    chain.system.market.cancel(gone, {"from": cancelled})
    _indexed(world)
    return Home(slot, owner, lessee, cancelled, lease, start + 2 * HOUR, lot_slot)


def _own(world: World, account: Any) -> dict:
    return resident_bearer(world.api.url, world.chain.chain_id, account)


def _put(world: World, slot: int, body: dict, headers: dict | None = None):
    return world.api.request("PUT", f"/v1/slots/{slot}/spot", json=body, headers=headers or {})


def _get(world: World, slot: int, headers: dict | None = None):
    return world.api.get(f"/v1/slots/{slot}/spot", headers=headers or {})


BODY = {"lat": EXACT[0] / 1e6, "lon": EXACT[1] / 1e6, "instructions": INSTRUCTIONS}


@pytest.fixture(scope="module")
def spot_set(world: World, home: Home) -> dict:
    """The owner sets the spot: 201 the first time, 200 when she replaces it."""
    first = _put(world, home.slot, {**BODY, "instructions": "first draft"}, _own(world, home.owner))
    assert first.status_code == 201, first.text
    again = _put(world, home.slot, BODY, _own(world, home.owner))
    assert again.status_code == 200, again.text
    return again.json()


def test_the_owner_sets_the_spot_inside_its_cell_and_reads_it_back(
    world: World, home: Home, spot_set: dict
):
    assert spot_set["instructions"] == INSTRUCTIONS.strip()
    assert (spot_set["lat"], spot_set["lon"]) == (EXACT[0] / 1e6, EXACT[1] / 1e6)
    assert (spot_set["cellLat"], spot_set["cellLon"]) == (37.531, 126.801)
    mine = _get(world, home.slot, _own(world, home.owner)).json()
    assert mine == {**spot_set, "readAs": "owner", "leaseId": None, "until": None}


def test_the_lessee_of_a_confirmed_lease_reads_the_spot(world: World, home: Home, spot_set: dict):
    reply = _get(world, home.slot, _own(world, home.lessee))
    assert reply.status_code == 200, reply.text
    spot = reply.json()
    assert spot["readAs"] == "lessee" and spot["leaseId"] == home.lease
    assert spot["until"] == home.lease_end
    assert (spot["lat"], spot["lon"], spot["instructions"]) == (
        spot_set["lat"], spot_set["lon"], INSTRUCTIONS.strip(),
    )  # fmt: skip


def test_everyone_else_is_refused(world: World, home: Home, spot_set: dict):
    chain = world.chain
    missing = error_of(_get(world, home.slot), 401)
    assert missing["code"] == "session_missing"
    assert error_of(_put(world, home.slot, BODY), 401)["code"] == "session_missing"
    forged = {"Authorization": "Bearer not-a-token"}
    assert error_of(_get(world, home.slot, forged), 401)["code"] == "session_unknown"
    stranger = Account.create()
    for who in (stranger, home.cancelled):  # another resident; the lessee of a cancelled lease
        error = error_of(_get(world, home.slot, _own(world, who)), 403)
        assert error["code"] == "not_your_spot" and who.address in error["message"]
        assert "lessee of a booked (not cancelled) lease" in error["message"]
    # A lessee or anyone but the owner may not set it.
    for who in (home.lessee, stranger):
        error = error_of(_put(world, home.slot, BODY, _own(world, who)), 403)
        assert error["code"] == "not_slot_owner"
    # Not even the record readers: no audit needs a home's gate code.
    auditor = Account.create()
    chain.system.access.grantRole(ROLES["AUDITOR"], auditor.address, {"from": chain.people.admin})
    staff = bearer(world.api.url, chain.chain_id, auditor)
    assert error_of(_get(world, home.slot, staff), 403)["code"] == "not_your_spot"
    # What was stored stays as the owner set it.
    assert _get(world, home.slot, _own(world, home.owner)).json()["instructions"] == INSTRUCTIONS


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"lat": 37.5304}, "lat", "outside the slot's cell"),  # the next cell south
        ({"lat": 37.5315}, "lat", "outside the slot's cell"),  # a half goes to the next cell
        ({"lon": 126.8004}, "lon", "outside the slot's cell"),  # the next cell west
        ({"lat": 91}, "lat", "less than or equal to 90"),
        ({"lon": "east"}, "lon", "valid number"),
        ({"instructions": "x" * 501}, "instructions", "at most 500 characters"),
        ({"instructions": "<b>gate</b> 1234"}, "instructions", "markup"),
        ({"instructions": "gate\x07 1234"}, "instructions", "control or invisible character"),
        ({"instructions": "   \n "}, "instructions", "blank"),
        ({"instructions": None}, "instructions", "valid string"),
        ({"floor": 2}, "floor", "Extra inputs are not permitted"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    world: World, home: Home, change: dict, field: str, words: str
):
    reply = _put(world, home.slot, {**BODY, **change}, _own(world, home.owner))
    error = error_of(reply, 422)
    assert error["message"].startswith(f"{field}:") or f"{field}:" in error["message"]
    assert words in error["message"], error["message"]


def test_a_missing_field_an_unknown_slot_and_another_category_are_refused(world: World, home: Home):
    own = _own(world, home.owner)
    body = {k: v for k, v in BODY.items() if k != "lat"}
    assert "lat: Field required" in error_of(_put(world, home.slot, body, own), 422)["message"]
    assert error_of(_put(world, 0, BODY, own), 422)["message"].startswith("slot_id:")
    unknown = error_of(_put(world, 10**9, BODY, own), 404)
    assert unknown["code"] == "unknown_slot"
    lot = error_of(_put(world, home.lot_slot, BODY, own), 422)
    assert lot["code"] == "not_a_home_space" and "PRIVATE_LOT" in lot["message"]
    assert error_of(_get(world, home.lot_slot, own), 422)["code"] == "not_a_home_space"


def test_search_finds_the_home_by_its_cell_and_nothing_public_carries_the_spot(
    world: World, home: Home, spot_set: dict
):
    start = (world.chain.head_time() // 1800 + 12) * 1800
    where = {"start": start, "end": start + 1800, "radius_m": 150}
    # Searching from the exact spot, 71 m at most from its cell's centre, finds the home.
    found = world.api.get(
        "/v1/slots/search", params={**where, "lat": EXACT[0] / 1e6, "lon": EXACT[1] / 1e6}
    ).json()["slots"]
    offer = next(s for s in found if s["slotId"] == home.slot)
    assert (offer["lat"], offer["lon"]) == (37.531, 126.801) and offer["distanceM"] < 71
    exact = [f"{EXACT[0] / 1e6}", f"{EXACT[1] / 1e6}", "4821"]
    texts = {
        "search": world.api.get(
            "/v1/slots/search", params={**where, "lat": 37.531, "lon": 126.801}
        ).text,
        "slot": world.api.get(f"/v1/slots/{home.slot}").text,
        "owner": world.api.get(
            f"/v1/owners/{home.owner.address}/slots", headers=_own(world, home.owner)
        ).text,
        "ngsi": world.api.get("/v1/feeds/ngsi-ld/v1/entities", params={"limit": 1000}).text,
        "cds": world.api.get("/v1/cds/status").text,
        "explorer": world.api.get(f"/explorer/slot/{home.slot}?lang=en").text,
    }
    for name, text in texts.items():
        assert not [e for e in exact if e in text], name
    assert "37.531" in texts["slot"] and "37.531" in texts["ngsi"]
    # A lot's space is not a home: its exact coordinates stay public.
    assert "37.540123" in world.api.get(f"/v1/slots/{home.lot_slot}").text
    assert "a cell of about 100 m" in texts["explorer"]


def test_the_lessee_is_refused_once_her_lease_has_ended(world: World, home: Home, spot_set: dict):
    # Last: it moves the ledger clock past the lease (this module's own world).
    own = _own(world, home.lessee)
    assert _get(world, home.slot, own).status_code == 200
    world.chain.set_clock(home.lease_end + 60)
    _indexed(world)
    wait_until(lambda: _get(world, home.slot, own).status_code == 403, timeout=10)
    assert error_of(_get(world, home.slot, own), 403)["code"] == "not_your_spot"
    assert _get(world, home.slot, _own(world, home.owner)).status_code == 200
