"""The world of the standard-feeds tests (tests/api/test_feeds.py), on a REAL ledger node.

Monday 08:00 KST of a fresh chain: four slots, a lease on the shared one checked in and out by
two signed OccupancyOracle reports (the sensor, not the lessee, drives it), a resident-priority
bay seen occupied, a slot no report ever observed (UNKNOWN) and a withdrawn one (closed); a
kick-scooter operator with a fare plan and three scooters, a car-share operator with one car,
and one open trip on a scooter. `citypass-api serve` runs as a child process on loopback with a
1-second feed TTL, its read model at the URL the test gives (SQLite or PostgreSQL). Keys are
throwaway keys generated per run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from citypass.core.timeunits import next_weekday_midnight
from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.coarse_location import on_chain_location
from citypass.protocol.occupancy_report import (
    ReportDomain,
    build_report,
    report_args,
    sign_report_quorum,
)
from citypass.protocol.roles import ROLES
from tests.api_helpers import ApiServer, start_api_server, wait_healthy
from tests.oracle_helpers import MAX_UINT, Chain, start_chain

HOUR = 3600
RESIDENT_PRIORITY = 2
KICK_SCOOTER, CAR_SHARE = 2, 1
SCOOTER_PLAN = (1000, 150, 20, 20_000)  # unlock, per minute, per 100 m, daily cap
CAR_PLAN = (0, 200, 20, 60_000)
FEED_TTL = 1


@dataclass
class FeedsWorld:
    chain: Chain
    api: ApiServer
    monday: int
    slots: dict[str, int] = field(default_factory=dict)
    lease: int = 0
    owner: Any = None
    lessee: Any = None
    rider: Any = None
    scooter_operator: Any = None
    car_operator: Any = None
    scooter_plan: int = 0
    scooters: dict[str, int] = field(default_factory=dict)
    car: int = 0
    trip: int = 0
    # vehicle_status as served before the trip started (for the vehicle_id rotation test)
    vehicles_before_trip: list[dict[str, Any]] = field(default_factory=list)

    def at(self, day: int, hour: float) -> int:
        return self.monday + day * 86400 + int(hour * HOUR)

    def personal_addresses(self) -> list[str]:
        """Accounts of people: none of them may appear in any feed."""
        return [a.address for a in (self.owner, self.lessee, self.rider)]


def submit_report(chain: Chain, observed: dict[int, bool], at: int) -> dict[str, Any]:
    """The next OccupancyOracle report of `observed`, signed by the deployment's signer."""
    oracle = chain.contract("occupancy")
    report = build_report(oracle.functions.lastSequence().call() + 1, at, observed)
    domain = ReportDomain(chain.chain_id, chain.system.occupancy.address)
    signatures = sign_report_quorum(report, [bytes(chain.people.oracle.key)], domain)
    return chain.system.occupancy.submitReport(
        report_args(report), signatures, {"from": chain.people.oracle}
    )


def _operator(chain: Chain, kind: int, plan: tuple[int, int, int, int]) -> tuple[Any, int]:
    account = chain.new_member()
    admin = {"from": chain.people.admin}
    chain.system.access.grantRole(ROLES["OPERATOR"], account.address, admin)
    chain.system.operators.registerOperator(account.address, kind, admin)
    chain.system.operators.publishPlan(*plan, {"from": account})
    return account, chain.contract("operators").functions.planCount().call()


def _asset(chain: Chain, operator: LocalAccount, village: bool) -> int:
    chain.system.operators.registerAsset(village, {"from": operator})
    return chain.contract("operators").functions.assetCount().call()


def build_parking(w: FeedsWorld) -> None:
    chain, system, people = w.chain, w.chain.system, w.chain.people
    w.owner = chain.resident()
    w.lessee = chain.resident(credit=100_000)
    w.slots["shared"] = chain.shared_slot(w.owner)  # lot 1, flagged as a market slot
    slots = chain.contract("slots")

    def register(category: int, lot: int, lat_e6: int, lon_e6: int) -> int:
        # A personal space goes on chain by its coarse cell (docs/privacy.md).
        at = on_chain_location(category, lat_e6, lon_e6)
        system.slots.registerSlot(w.owner.address, category, lot, *at, {"from": people.operator})
        slot = slots.functions.slotCount().call()
        system.slots.setWindows(slot, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": w.owner})
        return slot

    w.slots["street"] = register(RESIDENT_PRIORITY, 2, 37_503_500, 126_787_500)
    # OccupancyOracle emits per-slot change events only for market slots: flag the bay too.
    mask = chain._market_mask.get(0, 0) | (1 << w.slots["street"])
    chain._market_mask[0] = mask
    system.occupancy.setMarketSlots(0, mask, {"from": people.operator})
    w.slots["silent"] = register(3, 1, 37_503_100, 126_787_100)
    w.slots["withdrawn"] = register(3, 1, 37_502_900, 126_786_900)
    system.slots.setActive(w.slots["withdrawn"], False, {"from": w.owner})
    chain.register_device("magnetometer", [w.slots["shared"]])

    w.lease = chain.book(w.lessee, w.slots["shared"], w.at(0, 9), w.at(0, 11))
    chain.set_clock(w.at(0, 9) + 60)
    submit_report(chain, {w.slots["shared"]: True, w.slots["street"]: False}, w.at(0, 9) + 60)
    chain.set_clock(w.at(0, 10.5))
    submit_report(chain, {w.slots["shared"]: False, w.slots["street"]: True}, w.at(0, 10.5))


def build_mobility(w: FeedsWorld) -> None:
    chain = w.chain
    w.scooter_operator, w.scooter_plan = _operator(chain, KICK_SCOOTER, SCOOTER_PLAN)
    w.car_operator, _ = _operator(chain, CAR_SHARE, CAR_PLAN)
    for name, village in (("village", True), ("ridden", True), ("town", False)):
        w.scooters[name] = _asset(chain, w.scooter_operator, village)
    w.car = _asset(chain, w.car_operator, True)
    w.rider = chain.resident(credit=100_000)
    chain.system.credit.approve(chain.system.trips.address, MAX_UINT, {"from": w.rider})


def start_trip(w: FeedsWorld) -> int:
    trips = w.chain.system.trips
    trips.startTrip(w.scooters["ridden"], w.scooter_plan, SCOOTER_PLAN[3], {"from": w.rider})
    return w.chain.contract("trips").functions.openTripOf(w.scooters["ridden"]).call()


def start_api(chain: Chain, base: Path, db_url: str | None) -> ApiServer:
    _, api = start_api_server(
        chain, base, db_url=db_url, CITYPASS_API_POLL_INTERVAL="0.1",
        CITYPASS_API_FEEDS_TTL_SECONDS=str(FEED_TTL),
    )  # fmt: skip
    return api


def wait_indexed(api: ApiServer, chain: Chain) -> None:
    head = chain.w3.eth.block_number
    wait_healthy(api, lambda health: health.get("ok") and health.get("indexedBlock", -1) >= head)


def start_feeds_world(base: Path, db_url: str | None = None) -> FeedsWorld:
    chain = start_chain(base / "chain")
    monday = next_weekday_midnight(chain.head_time() + HOUR, 0)
    chain.set_clock(monday + 8 * HOUR)
    world = FeedsWorld(chain, api=None, monday=monday)  # type: ignore[arg-type]
    build_parking(world)
    build_mobility(world)
    world.api = start_api(chain, base, db_url)
    wait_indexed(world.api, chain)
    world.vehicles_before_trip = world.api.get("/v1/gbfs/vehicle_status.json").json()["data"][
        "vehicles"
    ]
    world.trip = start_trip(world)
    return world
