"""Plan and run one simulated weekday of bookings, cancellations, check-ins and overstays: the
bookings are the demand model's needs that only a shared slot could meet (demo/demand.py).

With a sensor rig (demo/sensors.py) arrivals and departures are what the magnetometers
see: the oracle daemon's reports check leases in and settle them on chain. Without one (the bare
anvil engine) the ORACLE account checks in and out by direct calls, as before."""

from __future__ import annotations

import itertools
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from citypass.chain.session import head_time
from citypass.core.timeunits import UNIT_SECONDS
from citypass.protocol.reverts import revert_text
from citypass.protocol.signing import sign_permit
from demo.demand import AFTER, Outcome
from demo.sensors import SENSOR_TICK, SensorRig
from demo.world import Slot, World

HOUR = 3600
MINUTE = 60
OVERSTAY_RESERVE = 5_000  # ₩ a resident's permit allows beyond the price, for overstay charges
HEARTBEAT_PERIOD = 3 * HOUR  # DESIGN §4: magnetometers report their state every 3 h
INCIDENT_NAMES = ("illegal_parking", "unauthorised_occupancy", "illegal_dumping", "jaywalking")
SENSOR_KINDS = frozenset(
    {"arrive", "depart", "intruder_arrive", "intruder_depart", "heartbeat", "camera"}
)


@dataclass
class Plan:
    member: Any
    slot: Slot
    start: int
    end: int
    booked_at: int
    fate: str  # "use", "overstay", "cancel_free", "cancel_late", "no_show"
    arrive: int = 0
    depart: int = 0
    lease_id: int = 0
    checked_in_by_sensor: bool = True


@dataclass
class DayResult:
    day: int
    plans: list[Plan]
    bookings: int = 0
    failures: Counter = field(default_factory=Counter)
    cancellations: Counter = field(default_factory=Counter)
    refunds: int = 0
    no_shows: int = 0
    overstays: int = 0
    overstay_charges: int = 0
    overstay_debts: int = 0
    occupancy: dict[int, int] = field(default_factory=dict)
    gross: int = 0
    intruders: int = 0
    sensor_report: dict[str, Any] = field(default_factory=dict)


def plan_day(world: World, day: int, rng: random.Random, outcome: Outcome) -> list[Plan]:
    """The after day's bookings (`day` = its 00:00 KST): the needs of the demand model that no
    base space met and a shared slot's window covered (demo/demand.py), each booked a while
    ahead for whole half-hours around the vehicle's stay, with its fate (cancelled, no-show,
    overstay, or used as booked)."""
    slots = {slot.slot_id: slot for slot in world.slots}
    plans: list[Plan] = []
    for placement in outcome.on_day(AFTER, "shared"):
        need, slot = placement.need, slots[placement.space]
        member = world.members[need.vehicle]
        if slot.owner == member:  # a resident finding their own shared space free parks there
            continue
        start, end = placement.booked
        lead = rng.choice([30, 60, 90, 120, 180, 240]) * MINUTE
        booked_at = max(day + 5 * HOUR + 30 * MINUTE, start - lead)
        plan = Plan(member, slot, start, end, booked_at, _fate(rng, start - booked_at))
        plan.arrive = need.arrive
        plan.checked_in_by_sensor = rng.random() < 0.7
        if plan.fate == "overstay":
            plan.depart = plan.end + rng.randint(5, 50) * MINUTE
        else:
            plan.depart = max(need.leave, need.arrive + 10 * MINUTE)
        plans.append(plan)
    _leave_before_the_next_car(plans)
    return plans


def _leave_before_the_next_car(plans: list[Plan]) -> None:
    """A car cannot arrive where another still stands: an overstay that would run into the next
    lease's arrival on the same space ends ten minutes before it (and stays an overstay only if
    that is still past the end)."""
    by_slot: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        if plan.fate in ("use", "overstay"):
            by_slot[plan.slot.slot_id].append(plan)
    for same_slot in by_slot.values():
        same_slot.sort(key=lambda p: p.arrive)
        for earlier, later in itertools.pairwise(same_slot):
            if earlier.depart > later.arrive - 10 * MINUTE:
                earlier.depart = min(earlier.depart, later.arrive - 10 * MINUTE)
                if earlier.depart <= earlier.end:
                    earlier.fate = "use"


def plan_intruders(
    world: World, day: int, plans: list[Plan], rng: random.Random, count: int = 12
) -> list[tuple[Slot, int, int]]:
    """Cars parked on a public-lot space open for sharing without a lease (unauthorised
    occupancy): (slot, arrive, depart) at midday, on spaces nobody booked around that time.
    Public lot A only: lot B's quiet spaces are where the valet parks (mobility_day)."""
    busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for plan in plans:
        busy[plan.slot.slot_id].append((plan.start - HOUR, max(plan.end, plan.depart) + HOUR))
    candidates = [s for s in world.slots if s.lot.lot_id == 2]
    intruders: list[tuple[Slot, int, int]] = []
    for _ in range(count * 10):
        if len(intruders) == count or not candidates:
            break
        slot = rng.choice(candidates)
        arrive = day + 11 * HOUR + rng.randint(0, 5 * 60) * MINUTE
        depart = arrive + rng.randint(20, 70) * MINUTE
        if all(depart <= s or arrive >= e for s, e in busy[slot.slot_id]):
            busy[slot.slot_id].append((arrive - HOUR, depart + HOUR))
            intruders.append((slot, arrive, depart))
    return intruders


def _fate(rng: random.Random, lead: int) -> str:
    roll = rng.random()
    if roll < 0.04:
        return "cancel_free"
    if roll < 0.07 and lead >= 90 * MINUTE:
        return "cancel_late"
    if roll < 0.11:
        return "no_show"
    if roll < 0.23:
        return "overstay"
    return "use"


def _events(plans: list[Plan], sensors: bool = False) -> list[tuple[int, int, str, Any]]:
    events: list[tuple[int, int, str, Any]] = []
    for order, plan in enumerate(plans):
        events.append((plan.booked_at, order, "book", plan))
        if plan.fate == "cancel_free":
            events.append((plan.booked_at + 5 * MINUTE, order, "cancel", plan))
        elif plan.fate == "cancel_late":
            events.append((plan.start - 30 * MINUTE, order, "cancel", plan))
        elif plan.fate == "no_show":
            events.append((plan.end + 15 * MINUTE, order, "no_show", plan))
        elif sensors:
            # The magnetometer sees every car; 30% of drivers also tap "check in" in the app.
            if not plan.checked_in_by_sensor:
                events.append((plan.arrive, order, "check_in", plan))
            events.append((plan.arrive, order, "arrive", plan))
            events.append((plan.depart, order, "depart", plan))
        else:
            events.append((plan.arrive, order, "check_in", plan))
            events.append((plan.depart, order, "check_out", plan))
    events.sort(key=lambda item: (item[0], item[1]))
    return events


def _sensor_only_events(
    day: int, intruders: list[tuple[Slot, int, int]], cameras: list[Any]
) -> list[tuple[int, int, str, Any]]:
    """What only the sensors know: intruders, the 3-hourly heartbeats, street cameras."""
    events: list[tuple[int, int, str, Any]] = []
    for slot, arrive, depart in intruders:
        events.append((arrive, -1, "intruder_arrive", slot))
        events.append((depart, -1, "intruder_depart", slot))
    for beat in range(day + 6 * HOUR, day + 32 * HOUR, HEARTBEAT_PERIOD):
        events.append((beat, -1, "heartbeat", None))
    for detection in cameras:
        events.append((detection.ts_ms // 1000, -1, "camera", detection))
    return events


def run_day(
    world: World,
    day: int,
    plans: list[Plan],
    advance_to: Callable[[int], None],
    rig: SensorRig | None = None,
    intruders: list[tuple[Slot, int, int]] | None = None,
    cameras: list[Any] | None = None,
    also: Sequence[tuple[int, str, Callable[[], None]]] = (),
) -> DayResult:
    """Run the plans in time order; `advance_to(t)` moves chain time to t before each step.
    With a sensor `rig`, arrivals and departures go through the sensors and the oracle, and the
    chain waits for the oracle's reports at every SENSOR_TICK boundary. `also`: other parts of
    the day (the mobility steps) as (time, label, step), run among them."""
    result = DayResult(day, plans)
    occupied: list[tuple[int, int]] = []
    events = _events(plans, sensors=rig is not None)
    events += [(when, len(plans) + i, label, step) for i, (when, label, step) in enumerate(also)]
    if rig is not None:
        events += _sensor_only_events(day, intruders or [], cameras or [])
        result.intruders = len(intruders or [])
    events.sort(key=lambda item: (item[0], item[1]))
    first_block = _block_number()
    flush_before = None
    with click.progressbar(events, label="Simulating the day on chain", file=sys.stderr) as bar:
        for when, _, kind, subject in bar:
            if rig is not None and flush_before is not None and when >= flush_before:
                rig.wait_until_on_chain()
                flush_before = None
            if head_time() < when:
                advance_to(when)
            try:
                if callable(subject):  # a step of another part of the day
                    subject()
                elif rig is not None and kind in SENSOR_KINDS:
                    _sense(rig, kind, subject, when, occupied)
                    flush_before = flush_before or (when // SENSOR_TICK + 1) * SENSOR_TICK
                else:
                    _apply(world, kind, subject, result, occupied)
            except Exception as exc:  # a refused step is counted, never hidden
                result.failures[f"{kind}: {_reason(exc)}"] += 1
    if rig is not None:
        rig.wait_until_on_chain(settled=True)
        _settlements_from_chain(world, first_block, result)
    result.occupancy = _occupancy_by_hour(day, occupied)
    result.gross = sum(
        p.slot.lot.price_per_30min * (p.end - p.start) // UNIT_SECONDS for p in plans if p.lease_id
    )
    return result


def _sense(rig: SensorRig, kind: str, subject: Any, when: int, occupied: list) -> None:
    if kind == "arrive":
        if subject.lease_id:
            rig.slot_changed(subject.slot.slot_id, True, when)
            occupied.append((subject.arrive, subject.depart))
    elif kind == "depart":
        if subject.lease_id:
            rig.slot_changed(subject.slot.slot_id, False, when)
    elif kind == "intruder_arrive":
        rig.slot_changed(subject.slot_id, True, when)
    elif kind == "intruder_depart":
        rig.slot_changed(subject.slot_id, False, when)
    elif kind == "heartbeat":
        rig.heartbeat(when)
    elif kind == "camera":
        rig.camera(subject, when)


def _block_number() -> int:
    from brownie import web3

    return web3.eth.block_number


def _settlements_from_chain(world: World, first_block: int, result: DayResult) -> None:
    """The oracle settled the sensor-driven leases in its own transactions: read the outcome
    back from the LeaseSettled and LeaseDriven logs."""
    system = world.system
    for log in chain_logs(system.market, "LeaseSettled", first_block):
        charge = log["args"]["overstayCharge"]
        if charge:
            result.overstays += 1
            paid = log["args"]["overstayPaid"]
            result.overstay_charges += charge if paid else 0
            result.overstay_debts += 0 if paid else 1
    driven = Counter(
        "checked in" if log["args"]["checkedIn"] else "checked out"
        for log in chain_logs(system.occupancy, "LeaseDriven", first_block)
    )
    failed = len(chain_logs(system.occupancy, "LeaseDriveFailed", first_block))
    incidents = Counter(
        INCIDENT_NAMES[log["args"]["kind"]]
        for log in chain_logs(system.incidents, "IncidentReported", first_block)
    )
    result.sensor_report = {
        "leases checked in by sensors": driven["checked in"],
        "leases settled by sensors": driven["checked out"],
        "sensor drives refused by the market": failed,
        "occupancy reports on chain": system.occupancy.lastSequence(),
        **{f"incidents: {name}": incidents[name] for name in INCIDENT_NAMES},
    }


def chain_logs(contract: Any, event: str, first_block: int) -> list[Any]:
    from brownie import web3

    handle = web3.eth.contract(address=contract.address, abi=contract.abi)
    return list(getattr(handle.events, event).get_logs(from_block=first_block))


def _reason(exc: Exception) -> str:
    """The custom error, decoded: on the ledger node a revert surfaces at gas estimation as the
    raw error data rather than brownie's decoded revert message."""
    message = getattr(exc, "revert_msg", None)
    if message:
        return message
    for arg in exc.args:
        for part in arg if isinstance(arg, tuple) else (arg,):
            if isinstance(part, str) and part.startswith("0x") and len(part) >= 10:
                return revert_text(part)
    return str(exc)


def _apply(world: World, kind: str, plan: Plan, result: DayResult, occupied: list) -> None:
    market, people = world.system.market, world.people
    if kind == "book":
        price = plan.slot.lot.price_per_30min * (plan.end - plan.start) // UNIT_SECONDS
        plan.lease_id = _book_with_permit(world, plan, price)
        result.bookings += 1
    elif not plan.lease_id:
        return
    elif kind == "cancel":
        tx = market.cancel(plan.lease_id, {"from": plan.member})
        event = tx.events["LeaseCancelled"]
        result.cancellations["free" if event["retained"] == 0 else "partial refund"] += 1
        result.refunds += event["refund"]
    elif kind == "no_show":
        market.settleNoShow(plan.lease_id, {"from": people.operator})
        result.no_shows += 1
    elif kind == "check_in":
        by = people.oracle if plan.checked_in_by_sensor else plan.member
        market.checkIn(plan.lease_id, {"from": by})
        occupied.append((plan.arrive, plan.depart))
    elif kind == "check_out":
        by = people.oracle if plan.checked_in_by_sensor else plan.member
        tx = market.checkOut(plan.lease_id, {"from": by})
        settled = tx.events["LeaseSettled"]
        if settled["overstayCharge"]:
            result.overstays += 1
            result.overstay_charges += settled["overstayCharge"] if settled["overstayPaid"] else 0
            result.overstay_debts += 0 if settled["overstayPaid"] else 1


def _book_with_permit(world: World, plan: Plan, price: int) -> int:
    """The wallet flow: the resident signs an EIP-2612 permit and books in one transaction."""
    system = world.system
    member = plan.member
    allowance = price + OVERSTAY_RESERVE
    deadline = max(head_time(), plan.booked_at) + 24 * HOUR
    signature = sign_permit(
        world.member_keys[member.address],
        token_name="CityPass Credit",
        token_address=system.credit.address,
        chain_id=_chain_id(),
        owner=member.address,
        spender=system.market.address,
        value=allowance,
        nonce=system.credit.nonces(member.address),
        deadline=deadline,
    )
    tx = system.market.bookWithPermit(
        plan.slot.slot_id,
        plan.start,
        plan.end,
        allowance,
        deadline,
        signature.v,
        signature.r,
        signature.s,
        {"from": member},
    )
    return tx.events["LeaseBooked"]["leaseId"]


def _chain_id() -> int:
    from brownie import chain

    return chain.id


def _occupancy_by_hour(day: int, occupied: list[tuple[int, int]]) -> dict[int, int]:
    """Vehicles parked in shared spaces at half past each hour, 06:00 to 05:00 the next morning
    (the simulated day runs from the morning commute until the overnight leases end)."""
    counts = {}
    for offset in range(24):
        moment = day + (6 + offset) * HOUR + 30 * MINUTE
        counts[moment - 30 * MINUTE] = sum(
            1 for arrive, depart in occupied if arrive <= moment < depart
        )
    return counts
