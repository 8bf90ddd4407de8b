"""The village's parking demand, and where it parks: the same weekday of demand, met once
without sharing (the "before" day) and once with it (the "after" day).

Each member vehicle has one weekday pattern (its episodes of needing a space: arrive, leave),
drawn once from the seed, so both days see exactly the same demand. A need is met by a free
base space (the public and private spaces that existed before sharing), else, from the hour
sharing starts, by a shared slot whose sharing window covers it (a booking), else the vehicle
parks illegally. Street cameras see a stated fraction of the illegal parkers.

Pure Python and seeded: the demo turns the outcome into bookings (demo/day.py) and camera
detections (demo/sensors.py); docs/impact.md gives every parameter's source.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from citypass.core.timeunits import DAY_SECONDS, UNIT_SECONDS
from citypass.core.windows import covers

HOUR = 3600
MINUTE = 60


@dataclass(frozen=True)
class DemandModel:
    """Every parameter of the model, in one place (docs/impact.md says where each comes from).
    Hours are KST clock hours of the day; ranges are (earliest, latest), drawn uniformly."""

    # The mix of member vehicles by weekday pattern (the rest are regular daytime visitors).
    commuters: float = 0.45  # residents who park overnight and drive to work
    stayers: float = 0.25  # residents who stay (retired, home-based, second cars): one errand
    workers: float = 0.15  # people who work in the village and park there by day
    commute_leave: tuple[float, float] = (6.5, 9.0)
    commute_return: tuple[float, float] = (17.5, 21.0)
    errand_leave: tuple[float, float] = (9.5, 16.0)
    errand_hours: tuple[float, float] = (1.0, 3.0)
    work_arrive: tuple[float, float] = (7.5, 9.5)
    work_leave: tuple[float, float] = (17.0, 19.0)
    visit_arrive: tuple[float, float] = (9.0, 20.0)
    visit_hours: tuple[float, float] = (1.0, 4.0)
    camera_detection_rate: float = 0.6  # the part of illegal parkers a street camera records
    detection_delay_minutes: tuple[int, int] = (2, 30)  # from parking to the camera's detection


MODEL = DemandModel()
PROFILES = ("commuter", "stayer", "worker", "visitor")
WARM_UP, BEFORE, AFTER = 0, 1, 2  # the simulated days' indices


@dataclass(frozen=True)
class Need:
    """One vehicle needing a space over [arrive, leave) (unix seconds)."""

    vehicle: int
    arrive: int
    leave: int
    day: int  # the simulated day it arrives on: WARM_UP, BEFORE or AFTER


@dataclass(frozen=True)
class SharedSpace:
    slot_id: int
    windows: tuple[tuple[int, int, int], ...]


@dataclass
class Placement:
    need: Need
    where: str  # "base", "shared" or "illegal"
    space: int = -1  # base space index or shared slot id
    booked: tuple[int, int] = (0, 0)  # a shared slot's booked span (whole half-hours)


@dataclass
class Outcome:
    """Where every need parked, over the warm-up, the before and the after day."""

    days: tuple[int, int, int]  # 00:00 KST of the warm-up, before and after day
    placements: list[Placement] = field(default_factory=list)

    def on_day(self, day: int, where: str | None = None) -> list[Placement]:
        return [
            p for p in self.placements if p.need.day == day and (where is None or p.where == where)
        ]

    def illegal(self) -> Counter:
        """Illegal parkings by day index (a vehicle that parks illegally twice counts twice)."""
        return Counter(p.need.day for p in self.placements if p.where == "illegal")

    def detections(self, day: int, rng: random.Random, model: DemandModel = MODEL) -> list[int]:
        """When the street cameras recorded the illegal parkers of day index `day`: each with
        probability camera_detection_rate, a few minutes after parking; distinct seconds, so no
        two detections share a source event."""
        times: set[int] = set()
        for placement in self.on_day(day, "illegal"):
            if rng.random() < model.camera_detection_rate:
                at = placement.need.arrive + rng.randint(*model.detection_delay_minutes) * MINUTE
                at = min(at, placement.need.leave - 1)
                while at in times:
                    at += 1
                times.add(at)
        return sorted(times)


def vehicle_patterns(
    vehicles: int, rng: random.Random, model: DemandModel = MODEL
) -> list[tuple[str, list[tuple[int, int]]]]:
    """Each vehicle's profile and its day's needs as (arrive, leave) seconds after 00:00 of
    the day it arrives (a leave past 24 h is the next morning)."""
    patterns = []
    for _ in range(vehicles):
        roll = rng.random()
        if roll < model.commuters:
            leave = _clock(rng, model.commute_leave)
            back = _clock(rng, model.commute_return)
            patterns.append(("commuter", [(back, DAY_SECONDS + leave)]))
        elif roll < model.commuters + model.stayers:
            out = _clock(rng, model.errand_leave)
            back = out + _clock(rng, model.errand_hours)
            patterns.append(("stayer", [(back, DAY_SECONDS + out)]))
        elif roll < model.commuters + model.stayers + model.workers:
            patterns.append(
                ("worker", [(_clock(rng, model.work_arrive), _clock(rng, model.work_leave))])
            )
        else:
            arrive = _clock(rng, model.visit_arrive)
            patterns.append(("visitor", [(arrive, arrive + _clock(rng, model.visit_hours))]))
    return patterns


def simulate(
    vehicles: int,
    base_spaces: int,
    shared: Sequence[SharedSpace],
    before_day: int,
    after_day: int,
    seed: int,
    model: DemandModel = MODEL,
) -> Outcome:
    """The same demand over a warm-up day (so the before day starts with the overnight parkers
    in place), the before day and the after day; shared slots serve only needs arriving on the
    after day. `before_day`/`after_day`: 00:00 KST; the model treats them as consecutive
    weekdays (a Friday before a Monday), so the before day's overnight needs end on the after
    day's morning."""
    rng = random.Random(seed)
    patterns = vehicle_patterns(vehicles, rng, model)
    starts = (after_day - 2 * DAY_SECONDS, after_day - DAY_SECONDS, after_day)
    needs = sorted(
        (
            Need(vehicle, starts[day] + arrive, starts[day] + leave, day)
            for day in (WARM_UP, BEFORE, AFTER)
            for vehicle, (_, episodes) in enumerate(patterns)
            for arrive, leave in episodes
        ),
        key=lambda n: (n.arrive, n.vehicle),
    )
    outcome = Outcome((before_day - DAY_SECONDS, before_day, after_day))
    free = list(range(base_spaces))
    held: list[tuple[int, int]] = []  # (leave, base space)
    booked: dict[int, list[tuple[int, int]]] = {space.slot_id: [] for space in shared}
    for need in needs:
        while held and held[0][0] <= need.arrive:
            free.append(heapq.heappop(held)[1])
        if free:
            space = free.pop(rng.randrange(len(free)))
            heapq.heappush(held, (need.leave, space))
            outcome.placements.append(Placement(need, "base", space))
            continue
        if need.day == AFTER:
            span = (
                need.arrive // UNIT_SECONDS * UNIT_SECONDS,
                -(-need.leave // UNIT_SECONDS) * UNIT_SECONDS,
            )
            open_slots = [
                space.slot_id
                for space in shared
                if covers(space.windows, *span)
                and all(span[1] <= a or span[0] >= b for a, b in booked[space.slot_id])
            ]
            if open_slots:
                slot_id = rng.choice(open_slots)
                booked[slot_id].append(span)
                outcome.placements.append(Placement(need, "shared", slot_id, span))
                continue
        outcome.placements.append(Placement(need, "illegal"))
    # Shift the before day's needs onto its own date when it is not the day before (a Monday's
    # before day is the Friday): only their times move, not where they parked.
    shift = before_day - starts[1]
    if shift:
        for placement in outcome.placements:
            if placement.need.day < AFTER:
                need = placement.need
                placement.need = Need(
                    need.vehicle, need.arrive + shift, need.leave + shift, need.day
                )
    return outcome


def _clock(rng: random.Random, hours: tuple[float, float]) -> int:
    """A time in [earliest, latest] hours, to the minute."""
    return rng.randint(round(hours[0] * 60), round(hours[1] * 60)) * MINUTE
