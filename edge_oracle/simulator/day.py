"""One simulated day: who parks where and when, and what the sensors and cameras report.

Demand follows the pilot (DESIGN §1, §4): about 389 vehicles for 280 shared slots. Residents'
cars stand overnight, leave with the morning commute and come back in the evening; commuters and
visitors arrive in the morning and leave in the evening; short errands fill the day. So arrivals
and departures both peak at the morning and evening commute. Magnetometers report a change
5–7 s late, send a heartbeat every 3 h, and get a configurable share of reports wrong (missed,
a brief flap, a false reading). Cameras report illegal parking (~156–266 a day village-wide,
scaled to the simulated slots), illegal dumping and jaywalking, each with a generated still."""

from __future__ import annotations

import bisect
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from citypass.core.timeunits import KST
from edge_oracle.readings import CameraDetection, Reading, SlotReading
from edge_oracle.simulator.layout import Layout, village_layout
from edge_oracle.simulator.png import generated_still

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
HEARTBEAT_MS = 3 * HOUR_MS
PILOT_SLOTS, PILOT_VEHICLES = 280, 389
# Incidents per day village-wide: illegal parking mid-way between the pilot's before (266) and
# after (156); dumping and jaywalking are rarer, assumed figures.
ILLEGAL_PARKING_PER_DAY = 211
ILLEGAL_DUMPING_PER_DAY = 4
JAYWALKING_PER_DAY = 12
ERROR_KINDS = ("missed", "flap", "false_reading")
VEHICLE_MIX = (("car", 80), ("van", 10), ("truck", 5), ("motorcycle", 5))


@dataclass(frozen=True)
class SimConfig:
    seed: int = 1
    start: datetime = datetime(2026, 11, 24, tzinfo=KST)
    slots: int = PILOT_SLOTS
    vehicles: int = PILOT_VEHICLES
    street_bays: int = 0
    error_rate: float = 0.03
    hours: float = 24.0

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("start needs a time zone (e.g. +09:00 for KST)")
        if not 0 <= self.error_rate <= 0.5:
            raise ValueError("error_rate must be between 0 and 0.5")
        if self.slots < 1 or self.vehicles < 0 or self.street_bays < 0:
            raise ValueError("slots must be ≥ 1, vehicles and street_bays ≥ 0")
        if not 0 < self.hours <= 24 * 7:
            raise ValueError("hours must be in (0, 168]")


@dataclass(frozen=True)
class Session:
    vehicle: int
    slot: int
    arrive_ms: int
    leave_ms: int
    kind: str  # resident / commuter / errand


@dataclass
class SimulatedDay:
    config: SimConfig
    layout: Layout
    sessions: list[Session]
    readings: list[Reading]
    errors: Counter = field(default_factory=Counter)
    true_changes: int = 0  # arrivals and departures the magnetometers should report
    turned_away: int = 0  # vehicles that found no free slot

    @property
    def error_share(self) -> float:
        return sum(self.errors.values()) / max(1, self.true_changes)


def simulate_day(config: SimConfig | None = None) -> Iterator[Reading]:
    """The day's readings in time order (the adapters' input, already parsed)."""
    yield from plan_day(config or SimConfig()).readings


@dataclass
class _Plan:
    """What the sensors' and cameras' generators share: the settings and their one random
    stream, the village, the simulated span [t0, end) and the readings made so far."""

    rng: random.Random
    config: SimConfig
    layout: Layout
    day0: int  # midnight of the start's own day: habits follow the clock
    t0: int
    end: int
    readings: list[Reading] = field(default_factory=list)


def plan_day(config: SimConfig) -> SimulatedDay:
    rng = random.Random(config.seed)
    layout = village_layout(config.slots, config.street_bays)
    t0 = int(config.start.timestamp() * 1000)
    end = t0 + int(config.hours * HOUR_MS)
    # Habits follow the clock: hours of day count from midnight of the start's own day.
    midnight = config.start.replace(hour=0, minute=0, second=0, microsecond=0)
    day0 = int(midnight.timestamp() * 1000)
    sessions, turned_away = _sessions(rng, config, day0, t0, end)
    plan = _Plan(rng, config, layout, day0, t0, end)
    errors: Counter = Counter()
    changes = _magnetometer_readings(plan, sessions, errors)
    _heartbeats(plan, sessions)
    _incidents(plan)
    readings = plan.readings
    readings.sort(key=lambda r: (r.ts_ms, r.sensor))
    return SimulatedDay(config, layout, sessions, readings, errors, changes, turned_away)


# ------------------------------------------------------------------------------------ demand


def _clock(rng: random.Random, t0: int, mean_h: float, sd_h: float, lo: float, hi: float) -> int:
    hours = min(hi, max(lo, rng.gauss(mean_h, sd_h)))
    return t0 + int(hours * HOUR_MS)


def _sessions(
    rng: random.Random, config: SimConfig, t0: int, start: int, end: int
) -> tuple[list[Session], int]:
    wanted: list[tuple[int, int, int, str]] = []  # arrive, leave, vehicle, kind
    for vehicle in range(config.vehicles):
        roll = rng.random()
        if roll < 0.45:  # a resident: parked overnight, out for the day, back in the evening
            wanted.append((t0, _clock(rng, t0, 7.6, 0.8, 5, 11), vehicle, "resident"))
            back = _clock(rng, t0, 19.0, 1.3, 15, 23.5)
            wanted.append((back, t0 + DAY_MS + 8 * HOUR_MS, vehicle, "resident"))
        elif roll < 0.80:  # a commuter or all-day visitor
            arrive = _clock(rng, t0, 8.8, 0.7, 6, 12)
            wanted.append((arrive, _clock(rng, t0, 18.2, 0.9, 13, 23), vehicle, "commuter"))
        for _ in range(rng.choice((0, 1, 1, 2))):  # errands through the day
            arrive = _clock(rng, t0, 13.5, 3.2, 7, 22)
            wanted.append((arrive, arrive + rng.randrange(15, 120) * 60_000, vehicle, "errand"))
    wanted.sort()
    free_at = {slot: start - 600_000 for slot in range(1, config.slots + 1)}
    sessions: list[Session] = []
    turned_away = 0
    for arrive, leave, vehicle, kind in wanted:
        if arrive >= end or leave <= start:
            continue
        arrive = max(arrive, start)  # already parked when the simulation starts
        # A driver takes any free slot; two minutes between cars keeps sensor events apart.
        free = [slot for slot, at in free_at.items() if at + 120_000 <= arrive]
        if not free:
            turned_away += 1
            continue
        slot = rng.choice(free)
        free_at[slot] = leave
        sessions.append(Session(vehicle, slot, arrive, leave, kind))
    return sessions, turned_away


# --------------------------------------------------------------------------------- sensors


def _magnetometer_readings(plan: _Plan, sessions: list[Session], errors: Counter) -> int:
    rng, end, out = plan.rng, plan.end, plan.readings
    sensor_of = {slot: sensor for sensor, slot in plan.layout.magnetometers.items()}
    changes = 0
    for session in sessions:
        sensor = sensor_of[session.slot]
        for at, occupied in ((session.arrive_ms, True), (session.leave_ms, False)):
            if at <= plan.t0 or at >= end:
                continue  # already parked at the start, or still parked at the end
            changes += 1
            seen = at + rng.randrange(5_000, 7_001)  # magnetometer latency 5–7 s
            kind = rng.choice(ERROR_KINDS) if rng.random() < plan.config.error_rate else None
            if kind is not None:
                errors[kind] += 1
            if kind == "missed":
                continue
            out.append(SlotReading(sensor, "magnetometer", session.slot, occupied, seen))
            if kind == "flap":  # the field flickers back for a few seconds
                flip = seen + rng.randrange(1_000, 3_000)
                out.append(SlotReading(sensor, "magnetometer", session.slot, not occupied, flip))
                out.append(
                    SlotReading(
                        sensor,
                        "magnetometer",
                        session.slot,
                        occupied,
                        flip + rng.randrange(2_000, 6_000),
                    )
                )
            elif kind == "false_reading":  # a wrong state well after the change
                wrong = seen + rng.randrange(60_000, 600_000)
                if wrong < end:
                    out.append(
                        SlotReading(sensor, "magnetometer", session.slot, not occupied, wrong)
                    )
    return changes


def _occupied_at(sessions_by_slot: dict[int, list[Session]], slot: int, at: int) -> bool:
    return any(s.arrive_ms <= at < s.leave_ms for s in sessions_by_slot.get(slot, ()))


def _heartbeats(plan: _Plan, sessions: list[Session]) -> None:
    by_slot: dict[int, list[Session]] = {}
    for session in sessions:
        by_slot.setdefault(session.slot, []).append(session)
    for index, (sensor, slot) in enumerate(plan.layout.magnetometers.items()):
        # Staggered over the first ten minutes, so 280 sensors do not all report at once.
        at = plan.t0 + (index * 2_137) % 600_000
        while at < plan.end:
            plan.readings.append(
                SlotReading(
                    sensor,
                    "magnetometer",
                    slot,
                    _occupied_at(by_slot, slot, at),
                    at,
                    heartbeat=True,
                )
            )
            at += HEARTBEAT_MS


# --------------------------------------------------------------------------------- cameras


def _incident_times(
    rng: random.Random, count: int, day0: int, peaks: tuple[float, ...], days: int
) -> list[int]:
    return sorted(
        _clock(rng, day0 + rng.randrange(days) * DAY_MS, rng.choice(peaks), 1.5, 0, 23.99)
        for _ in range(count)
    )


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method is fine for these small means; a normal approximation beyond.
    if mean > 50:
        return max(0, int(round(rng.gauss(mean, mean**0.5))))
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _incidents(plan: _Plan) -> None:
    rng, layout, day0, end = plan.rng, plan.layout, plan.day0, plan.end
    # Per-day rates scaled to the simulated slots; a shorter run keeps the incidents that fall
    # inside its window.
    scale = plan.config.slots / PILOT_SLOTS
    bays = layout.street_bays or layout.shared_slots
    plans = (
        ("illegal_parking", ILLEGAL_PARKING_PER_DAY, (8.5, 13.0, 19.5, 21.5)),
        ("illegal_dumping", ILLEGAL_DUMPING_PER_DAY, (2.0, 22.0)),
        ("jaywalking", JAYWALKING_PER_DAY, (8.0, 18.5)),
    )
    vehicles = [name for name, _ in VEHICLE_MIX]
    weights = [weight for _, weight in VEHICLE_MIX]
    for incident, per_day, peaks in plans:
        days = max(1, -(-(end - day0) // DAY_MS))
        for at in _incident_times(rng, _poisson(rng, per_day * scale * days), day0, peaks, days):
            if not plan.t0 <= at < end:
                continue
            bay = rng.choice(bays)
            lat, lon = layout.position_e6(bay)
            plan.readings.append(
                CameraDetection(
                    sensor=layout.camera_for(bay),
                    # Illegal parking is at a bay; dumping and jaywalking only have a position.
                    slot=bay if incident == "illegal_parking" else 0,
                    event=incident,
                    vehicle_type=rng.choices(vehicles, weights)[0]
                    if incident == "illegal_parking"
                    else ("person" if incident == "jaywalking" else ""),
                    confidence_bps=rng.randrange(6_000, 9_900),
                    ts_ms=at,
                    lat_e6=lat + rng.randrange(-20, 21),
                    lon_e6=lon + rng.randrange(-20, 21),
                    image=generated_still(rng, incident),
                )
            )


def bisect_hour(readings: list[Reading], t0: int) -> list[int]:
    """Readings per hour of the day (for charts and tests)."""
    counts = [0] * 24
    times = [r.ts_ms for r in readings]
    for hour in range(24):
        lo = bisect.bisect_left(times, t0 + hour * HOUR_MS)
        hi = bisect.bisect_left(times, t0 + (hour + 1) * HOUR_MS)
        counts[hour] = hi - lo
    return counts
