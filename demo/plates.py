"""Keyed-hash plates in the demo (docs/privacy.md, "Keyed-hash plates"): a few lessees register
their vehicle through the API (only the plate's tags are kept), and the cameras watching their
spaces read plates as they park and leave: the registered ones (the oracle checks the lease in)
and one intruder's, on a leased space (an unauthorised occupancy with the camera's still). A
village too small for its demand to book that many stays gets a few afternoon bookings of its
own for them (`lessees_for_plates`).

The plates are generated from the run's seed (`demo_plates`), so a test can know every plate a
run used without the demo writing them down anywhere; only the camera's own feed (the edge's
input file, what the device emits) carries them."""

from __future__ import annotations

import random

import click

from citypass.core.timeunits import UNIT_SECONDS
from citypass.core.windows import covers
from citypass.protocol.plate_tags import REGIONS, USAGE_SYLLABLES
from demo.day import HOUR, MINUTE, Plan
from demo.sensors import PlateSighting
from demo.world import World
from edge_oracle.readings import CameraDetection
from edge_oracle.simulator.png import generated_still
from scripts._cli.api_client import StaffApi, sign_text
from scripts._cli.errors import CliError

REGISTERED = 6  # lessees who register a vehicle
CAMERA_DELAY_S = 20  # the camera's read comes after the magnetometer's (6 s)
FATES_THAT_PARK = ("use", "overstay")


def demo_plates(seed: int) -> tuple[list[str], str]:
    """The plates of a run with `seed`: the registered vehicles' (in the spellings residents
    type: spaces, a hyphen, an older regional plate) and the intruder's."""
    rng = random.Random(f"plates-{seed}")
    spellings = ("{d}{u}{s}", "{d}{u} {s}", "{d} {u} {s}", "{d}{u}-{s}")
    plates = []
    for index in range(REGISTERED):
        usage = rng.choice(USAGE_SYLLABLES[:32])  # private cars
        serial = f"{rng.randrange(1000, 10_000)}"
        if index == 1:  # an older regional plate
            plates.append(f"{rng.choice(REGIONS)}{rng.randrange(10, 100)}{usage}{serial}")
            continue
        digits = f"{rng.randrange(100, 1000)}" if index % 2 else f"{rng.randrange(10, 100)}"
        plates.append(rng.choice(spellings).format(d=digits, u=usage, s=serial))
    intruder = f"{rng.randrange(10, 100)}허{rng.randrange(1000, 10_000)}"  # a rental car
    return plates, intruder


def lessees_for_plates(world: World, day: int, plans: list[Plan]) -> list[Plan]:
    """Bookings for the lessees who register a vehicle, when the day's demand booked fewer
    parking stays than REGISTERED (a small village): each a member parking two hours in the
    afternoon on a shared space nobody else books that day. Empty when the demand has enough."""
    missing = REGISTERED - sum(p.fate in FATES_THAT_PARK and p.arrive > 0 for p in plans)
    booked = {p.slot.slot_id for p in plans}
    extra: list[Plan] = []
    for slot in world.slots:
        if len(extra) >= missing:
            break
        start = day + 13 * HOUR + len(extra) * UNIT_SECONDS
        windows = [w.as_tuple() for w in slot.lot.windows]
        members = [
            m for m in world.members if m != slot.owner and m not in {p.member for p in extra}
        ]
        if slot.slot_id in booked or not members or not covers(windows, start, start + 2 * HOUR):
            continue
        plan = Plan(members[len(extra)], slot, start, start + 2 * HOUR, day + 6 * HOUR, "use")
        plan.arrive, plan.depart = start + 5 * MINUTE, start + 2 * HOUR - 10 * MINUTE
        extra.append(plan)
    return extra


def plate_sightings(
    api_url: str, plans: list[Plan], cameras: dict[str, tuple[int, ...]], seed: int
) -> list[PlateSighting]:
    """Register the demo's vehicles for the first lessees whose car parks (each with her own
    wallet session), and the cameras' reads of them: arrival and departure of each, the last
    one's arrival read as the intruder's plate."""
    plates, intruder = demo_plates(seed)
    parking = [p for p in plans if p.fate in FATES_THAT_PARK and p.arrive]
    chosen = sorted(parking, key=lambda p: p.arrive)[: len(plates)]
    rng = random.Random(seed)
    sightings: list[PlateSighting] = []
    for plan, plate in zip(chosen, plates, strict=False):
        try:
            api = StaffApi.sign_in(
                api_url, plan.member.address, sign_text(plan.member), scope="resident"
            )
            api.call("POST", "/v1/vehicles", json={"plate": plate}, what="register a vehicle")
        except CliError as exc:
            raise click.ClickException(f"registering the demo's vehicles: {exc}") from exc
        read = intruder if plan is chosen[-1] else plate
        sensor = next(s for s, bays in cameras.items() if plan.slot.slot_id in bays)
        for event, when in (("parked", plan.arrive), ("left", plan.depart)):
            detection = CameraDetection(
                sensor=sensor, slot=plan.slot.slot_id, event=event, vehicle_type="car",
                confidence_bps=9_500, ts_ms=(when + CAMERA_DELAY_S) * 1000,
                image=generated_still(rng, "illegal_parking") if event == "parked" else None,
            )  # fmt: skip
            sightings.append(PlateSighting(detection, read))
    return sightings
