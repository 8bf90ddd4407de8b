"""The mobility part of the simulated day (issue 5): kick-scooter and car-share trips, MaaS
journeys (park, scooter, then bus) with transfer discounts from the city's subsidy pool, and
valet jobs at Samjeong public lot B done by the village enterprise's valet workers.

`build_mobility` registers the operators, their vehicles and fare plans, the valet workers and
the inspector, and fills the subsidy pool; `plan_mobility` draws the day's trips and jobs and
returns their steps as `(time, label, step)` for `run_day`, which runs them in time order with
the parking day's steps; `render_mobility` prints the summary, read back from the chain.
"""

from __future__ import annotations

import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from eth_account import Account

from citypass.chain.deploy_mobility import DISPUTE_WINDOW_SECONDS, VALET_FEE
from citypass.core.timeunits import UNIT_SECONDS, local_day
from citypass.protocol.roles import ROLES
from citypass.protocol.signing import sign_permit
from citypass.protocol.trip_reports import sign_trip_end
from demo.world import World, scaled

HOUR = 3600
MINUTE = 60
KICK_SCOOTER, CAR_SHARE, TRANSIT = 2, 1, 4
VALET_LOT = 3  # Samjeong public lot B: shared every day, all day
VALET_SLOTS = 16
SUBSIDY_BUDGET = 300_000  # ₩ the city puts into the transfer-discount pool for the day
RIDER_TOP_UP = 100_000  # ₩ each mobility rider tops up for the day's deposits


@dataclass(frozen=True)
class OperatorSpec:
    name: str
    kind: int
    plan: tuple[int, int, int, int]  # unlock, per minute, per 100 m, daily cap
    village_assets: int
    other_assets: int


OPERATORS = (
    OperatorSpec("Sangsalmi kick-scooters", KICK_SCOOTER, (1000, 150, 0, 20_000), 16, 8),
    OperatorSpec("Bucheon car share", CAR_SHARE, (0, 200, 20, 60_000), 2, 4),
    OperatorSpec("Bus (Technopark stop)", TRANSIT, (1500, 0, 0, 3_000), 0, 2),
)


@dataclass
class MobilityOperator:
    spec: OperatorSpec
    account: Any
    key: bytes
    plan_id: int
    assets: list[int]
    village: set[int]


@dataclass
class Mobility:
    operators: list[MobilityOperator]
    riders: list[Any]
    workers: list[Any]
    inspector: Any
    valet_lot: int


@dataclass
class Trip:
    operator: MobilityOperator
    rider: Any
    asset: int
    start: int
    end: int
    metres: int
    disputed: bool = False
    trip_id: int = 0
    fare: int = 0


@dataclass
class ValetJob:
    rider: Any
    worker: Any
    requested: int
    start: int
    end: int
    cancelled: bool
    request_id: int = 0


@dataclass
class MobilityResult:
    trips: Counter = field(default_factory=Counter)  # operator name -> ended trips
    fares: Counter = field(default_factory=Counter)  # operator name -> fares charged
    settled: int = 0
    journeys: int = 0
    transfers: int = 0  # legs that earned a discount
    discounts: int = 0
    disputes: int = 0
    dispute_refunds: int = 0
    valet_requests: int = 0
    valet_cancelled: int = 0
    valet_jobs: Counter = field(default_factory=Counter)  # worker -> cars returned


def build_mobility(
    world: World,
    accounts: Any,
    rng: random.Random,
    riders: int = 60,
    parking_load: Counter | None = None,
) -> Mobility:
    """Register the three operators (each with a key of its own: it signs end reports), their
    vehicles and plans; three valet workers and an inspector; the valet lot; the subsidy pool.
    `parking_load` (slot id -> planned bookings of the day) steers the valet to the lot's least
    booked slots, so the simulated drivers rarely find a valet lease on the slot they planned."""
    system, people = world.system, world.people
    admin = {"from": people.admin}

    def new_account() -> tuple[Any, bytes]:
        local = Account.create(extra_entropy=str(rng.random()))
        return accounts.add(local.key), local.key

    operators = []
    with click.progressbar(
        OPERATORS, label="Registering mobility operators", file=sys.stderr
    ) as bar:
        for spec in bar:
            account, key = new_account()
            system.access.grantRole(ROLES["OPERATOR"], account, admin)
            system.operators.registerOperator(account, spec.kind, admin)
            plan_id = system.operators.publishPlan(*spec.plan, {"from": account}).return_value
            assets, village = [], set()
            for index in range(spec.village_assets + spec.other_assets):
                in_village = index < spec.village_assets
                tx = system.operators.registerAsset(in_village, {"from": account})
                asset = tx.events["AssetRegistered"]["assetId"]
                assets.append(asset)
                if in_village:
                    village.add(asset)
            operators.append(MobilityOperator(spec, account, key, plan_id, assets, village))
    workers = [new_account()[0] for _ in range(3)]
    for worker in workers:
        system.access.grantRole(ROLES["VALET"], worker, admin)
    inspector = new_account()[0]
    system.access.grantRole(ROLES["INSPECTOR"], inspector, admin)
    load = parking_load or Counter()
    candidates = [slot.slot_id for slot in world.slots_of(VALET_LOT)]
    lot_slots = sorted(candidates, key=lambda slot_id: (load[slot_id], -slot_id))[:VALET_SLOTS]
    system.valet.setLotSlots(VALET_LOT, lot_slots, {"from": people.operator})
    treasury = {"from": people.treasury}
    system.credit.mint(people.treasury, SUBSIDY_BUDGET, b"subsidy".ljust(32, b"\0"), treasury)
    system.credit.approve(system.journeys, SUBSIDY_BUDGET, treasury)
    system.journeys.topUp(SUBSIDY_BUDGET, treasury)
    chosen = rng.sample(world.members, min(riders, len(world.members)))
    for rider in chosen:
        system.credit.mint(rider, RIDER_TOP_UP, b"top-up".ljust(32, b"\0"), treasury)
    return Mobility(operators, chosen, workers, inspector, VALET_LOT)


Step = tuple[int, str, Callable[[], None]]


def plan_mobility(
    world: World,
    mobility: Mobility,
    day: int,
    rng: random.Random,
    result: MobilityResult,
    share: float = 1.0,
) -> list[Step]:
    """The day's mobility, as steps for run_day: about 60 scooter and 12 car-share trips, 20
    journeys of a scooter leg then a bus leg, and 12 valet requests (some cancelled); `share`
    of them (see demo.world.scaled)."""
    scooter, car, bus = mobility.operators
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    steps: list[Step] = []

    def free_asset(operator: MobilityOperator, start: int, end: int) -> int | None:
        for asset in rng.sample(operator.assets, len(operator.assets)):
            if all(end + 5 * MINUTE <= s or start >= e + 5 * MINUTE for s, e in busy[asset]):
                busy[asset].append((start, end))
                return asset
        return None

    def trip(
        operator: MobilityOperator, rider: Any, start: int, minutes: int, metres_per_minute: int
    ) -> Trip | None:
        end = start + minutes * MINUTE
        asset = free_asset(operator, start, end)
        if asset is None:
            return None
        metres = int(minutes * metres_per_minute * rng.uniform(0.6, 1.3))
        planned = Trip(operator, rider, asset, start, end, metres, disputed=rng.random() < 0.04)
        steps.extend(_trip_steps(world, mobility, planned, result))
        return planned

    for _ in range(scaled(60, share)):
        start = day + rng.randint(7 * 60, 22 * 60) * MINUTE
        trip(scooter, rng.choice(mobility.riders), start, rng.randint(4, 25), 220)
    for _ in range(scaled(12, share)):
        start = day + rng.randint(8 * 60, 19 * 60) * MINUTE
        trip(car, rng.choice(mobility.riders), start, rng.randint(30, 180), 450)
    # Park at Technopark, kick-scooter to the bus stop, then the bus; a few miss the window.
    for _ in range(scaled(20, share)):
        rider = rng.choice(mobility.riders)
        start = day + rng.randint(7 * 60, 20 * 60) * MINUTE
        first = trip(scooter, rider, start, rng.randint(5, 15), 220)
        if first is None:
            continue
        gap = rng.choice([3, 5, 8, 12, 20, 25, 45])
        second = trip(bus, rider, first.end + gap * MINUTE, rng.randint(15, 40), 500)
        if second is None:
            continue
        steps.extend(_journey_steps(world, first, second, result))
    for _ in range(scaled(12, share)):
        steps.extend(_valet_steps(world, mobility, day, rng, result))
    steps.extend(_release_steps(world, mobility, day))
    return steps


def _trip_steps(world: World, mobility: Mobility, trip: Trip, result: MobilityResult) -> list[Step]:
    system = world.system
    name = trip.operator.spec.name

    def start() -> None:
        deposit = trip.operator.spec.plan[3]
        permit = _permit(world, trip.rider, system.trips.address, deposit)
        tx = system.trips.startTripWithPermit(
            trip.asset, trip.operator.plan_id, deposit, *permit, {"from": trip.rider}
        )
        trip.trip_id = tx.events["TripStarted"]["tripId"]
        trip.start = max(trip.start, tx.timestamp)

    def end() -> None:
        if not trip.trip_id:
            return
        ended = max(trip.end, trip.start)
        signature = sign_trip_end(
            trip.operator.key,
            settlement_address=system.trips.address,
            chain_id=_chain_id(),
            trip_id=trip.trip_id,
            ended_at=ended,
            distance_meters=trip.metres,
        ).signature
        # the operator's back end signs; the platform relays
        tx = system.trips.endTrip(
            trip.trip_id, ended, trip.metres, signature, {"from": world.people.operator}
        )
        trip.end = ended
        trip.fare = tx.events["TripEnded"]["fare"]
        result.trips[name] += 1
        result.fares[name] += trip.fare
        if not trip.disputed:  # the end report settles; a disputed trip settles on resolution
            result.settled += 1

    def dispute() -> None:
        if trip.fare:
            system.trips.dispute(trip.trip_id, {"from": trip.rider})
            result.disputes += 1

    def resolve() -> None:
        if trip.fare:
            refund = trip.fare // 2
            system.trips.resolveDispute(trip.trip_id, refund, {"from": mobility.inspector})
            result.dispute_refunds += refund
            result.settled += 1

    steps: list[Step] = [(trip.start, "trip start", start), (trip.end, "trip end", end)]
    if trip.disputed:
        steps += [
            (trip.end + 20 * MINUTE, "dispute", dispute),
            (trip.end + HOUR, "resolve", resolve),
        ]
    return steps


def _release_steps(world: World, mobility: Mobility, day: int) -> list[Step]:
    """After the day's dispute window: the keeper releases each operator's day to the revenue
    split (where the operators claim), and the app returns the riders' unused deposits."""
    system = world.system
    kst_day = local_day(day)

    def release() -> None:
        for operator in mobility.operators:
            if system.trips.operatorDay(operator.account, kst_day)["gross"]:
                system.trips.releaseDay(operator.account, kst_day, {"from": world.people.operator})
        for rider in mobility.riders:
            balance = system.trips.depositBalanceOf(rider)
            if balance:
                system.trips.withdrawDeposit(balance, {"from": rider})

    final_at = int(system.trips.dayFinalAt(kst_day))
    return [(final_at + 5 * MINUTE, "release the day", release)]


def _journey_steps(world: World, first: Trip, second: Trip, result: MobilityResult) -> list[Step]:
    journeys = world.system.journeys
    journey: dict[str, int] = {}

    def open_journey() -> None:
        tx = journeys.openJourney({"from": first.rider})
        journey["id"] = tx.events["JourneyOpened"]["journeyId"]
        result.journeys += 1

    def add_legs() -> None:
        if not journey or not (first.fare and second.fare):
            return
        for leg in (first, second):
            tx = journeys.addLeg(journey["id"], leg.trip_id, {"from": leg.rider})
            discount = tx.events["LegAdded"]["discount"]
            if discount:
                result.transfers += 1
                result.discounts += discount

    # the app adds the legs once both are settled (final fares)
    latest = max(first.end, second.end) + DISPUTE_WINDOW_SECONDS + 2 * HOUR
    return [
        (first.start - MINUTE, "journey open", open_journey),
        (latest, "journey legs", add_legs),
    ]


def _valet_steps(
    world: World, mobility: Mobility, day: int, rng: random.Random, result: MobilityResult
) -> list[Step]:
    system = world.system
    requested = day + rng.randint(9 * 60, 19 * 60) * MINUTE
    start = -(-requested // UNIT_SECONDS) * UNIT_SECONDS + UNIT_SECONDS
    end = start + rng.randint(2, 6) * UNIT_SECONDS
    job = ValetJob(
        rng.choice(mobility.riders),
        rng.choice(mobility.workers),
        requested,
        start,
        end,
        rng.random() < 0.1,
    )

    def request() -> None:
        total = 600 * (job.end - job.start) // UNIT_SECONDS + VALET_FEE
        system.credit.approve(system.valet, total, {"from": job.rider})
        tx = system.valet.requestValet(
            mobility.valet_lot, job.start, job.end, total, {"from": job.rider}
        )
        job.request_id = tx.events["ValetRequested"]["requestId"]
        result.valet_requests += 1

    def count_cancel() -> None:
        result.valet_cancelled += 1

    def count_job() -> None:
        result.valet_jobs[job.worker.address] += 1

    def valet_call(
        call: str, caller: Any, then: Callable[[], None] = lambda: None
    ) -> Callable[[], None]:
        """A later step of the job: the rider or the worker calls ValetService, unless the
        request itself failed."""

        def step() -> None:
            if job.request_id:
                getattr(system.valet, call)(job.request_id, {"from": caller})
                then()

        return step

    steps: list[Step] = [
        (requested, "valet request", request),
        (requested + 2 * MINUTE, "valet accept", valet_call("accept", job.worker)),
    ]
    if job.cancelled:
        cancel = valet_call("cancel", job.rider, then=count_cancel)
        return steps + [(requested + 5 * MINUTE, "valet cancel", cancel)]
    return steps + [
        (start + 2 * MINUTE, "valet park", valet_call("park", job.worker)),
        (end - 15 * MINUTE, "valet call", valet_call("requestReturn", job.rider)),
        (end - 5 * MINUTE, "valet return", valet_call("returnCar", job.worker, then=count_job)),
    ]


def _permit(world: World, member: Any, spender: str, value: int) -> tuple[int, int, bytes, bytes]:
    from citypass.chain.session import head_time

    credit = world.system.credit
    deadline = head_time() + 24 * HOUR
    signature = sign_permit(
        world.member_keys[member.address],
        token_name="CityPass Credit",
        token_address=credit.address,
        chain_id=_chain_id(),
        owner=member.address,
        spender=spender,
        value=value,
        nonce=credit.nonces(member.address),
        deadline=deadline,
    )
    return deadline, signature.v, signature.r, signature.s


def _chain_id() -> int:
    from brownie import chain

    return chain.id


def render_mobility(world: World, mobility: Mobility, result: MobilityResult) -> str:
    """The mobility summary: trips per operator, journeys and subsidies, valet jobs per worker."""
    system = world.system
    lines = ["Mobility (TripSettlement, JourneyClearing, ValetService)"]
    out = lines.append
    for operator in mobility.operators:
        name = operator.spec.name
        claimable = system.split.claimable(operator.account)
        out(
            f"  {name:<28} trips {result.trips[name]:>4}  fares ₩{result.fares[name]:>9,}"
            f"  operator's share claimable ₩{claimable:,}"
        )
    pool = system.journeys.pool()
    out(
        f"  Trips settled: {result.settled}   disputes: {result.disputes}"
        f" (refunded ₩{result.dispute_refunds:,})"
    )
    out(
        f"  Journeys: {result.journeys}, transfer legs discounted: {result.transfers};"
        f" subsidies spent ₩{SUBSIDY_BUDGET - pool:,} of ₩{SUBSIDY_BUDGET:,}"
        f" (pool now ₩{pool:,})"
    )
    out(
        f"  Valet requests: {result.valet_requests} (cancelled {result.valet_cancelled}),"
        f" cars returned: {sum(result.valet_jobs.values())}"
    )
    for index, worker in enumerate(mobility.workers, start=1):
        out(
            f"    valet worker {index} ({worker.address[:10]}…): {result.valet_jobs[worker.address]} jobs,"
            f" claimable ₩{system.split.claimable(worker):,}"
        )
    out("")
    return "\n".join(lines)
