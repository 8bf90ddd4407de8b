"""The impact figures as outcomes: their definitions, and how each is computed from facts read
off the chain. One home for both readers: the explorer's KPIs (api/explorer/impact.py, from the
read model and contract calls) and the demo's summary (demo/impact.py, from contract calls and
logs). docs/impact.md explains each choice."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from citypass.core.pilot import PILOT_REPORTED, PILOT_SOURCE
from citypass.core.timeunits import DAY_SECONDS, day_label, day_start, local_day

# Roles whose holders are people the pilot employs: valet workers, the village enterprise's
# illegal-parking inspectors, and operators' staff (each OPERATOR key is one staff member's:
# the platform operator's and the mobility operators'). CITY_ADMIN, TREASURY and AUDITOR are
# the city's and auditors' existing posts, ORACLE a daemon's key, MEMBER a resident.
JOB_ROLES = ("VALET", "INSPECTOR", "OPERATOR")
# Members that are organisations, not vehicles: owners of public and private lots' slots (the
# stakeholders of the split and our contracts are not vehicles either).
ORGANISATION_SLOT_CATEGORIES = ("PUBLIC_LOT", "PRIVATE_LOT")

DEFINITIONS = {
    "supplyRatio": "Legal spaces per member vehicle: registered base spaces (active slots "
    "without sharing windows) / vehicles before; (base + shared slots) / vehicles after.",
    "extraSpacesPerDay": "Leased space-hours of the latest complete KST day (booked spans of "
    "leases not cancelled, clipped to the day) / 24.",
    "illegalParkingPerDay": "ILLEGAL_PARKING incidents reported per complete KST day the "
    "cameras reported on: before = days before the day of the first booking, after = days since.",
    "jobs": "Accounts holding a staff role: " + ", ".join(JOB_ROLES) + ".",
}


@dataclass
class ImpactFacts:
    """What the figures are computed from, as read off the chain at block `as_of_block`."""

    as_of_block: int
    head_time: int
    vehicles: int
    base_spaces: int
    shared_spaces: int
    leased_seconds: int  # on `leased_day`
    leased_day: int  # KST day number
    before_days: list[int]
    after_days: list[int]
    illegal_by_day: Mapping[int, int]  # KST day number → reported incidents
    jobs_by_role: Mapping[str, int] = field(default_factory=dict)
    first_lease_at: int | None = None


def complete_day(head_time: int) -> int:
    """The latest KST day that is over at `head_time`."""
    return local_day(head_time) - 1


def observed_days(
    first_incident_at: int | None, first_lease_at: int | None, head_time: int
) -> tuple[list[int], list[int]]:
    """(before, after): the complete KST days the cameras watched (from the day of the first
    illegal-parking incident), split at the day of the first booking."""
    if first_incident_at is None:
        return [], []
    last = complete_day(head_time)
    first = local_day(first_incident_at)
    sharing = local_day(first_lease_at) if first_lease_at is not None else last + 1
    before = list(range(first, min(sharing, last + 1)))
    after = list(range(max(sharing, first), last + 1))
    return before, after


def clipped_seconds(spans: Iterable[tuple[int, int]], day: int) -> int:
    """Seconds of the spans [start, end) that fall on KST day `day`."""
    start = day_start(day)
    end = start + DAY_SECONDS
    return sum(max(0, min(b, end) - max(a, start)) for a, b in spans)


def figures(facts: ImpactFacts, inputs: Mapping[str, str]) -> dict[str, Any]:
    """The `impact` object of /v1/kpis (docs/api.md): each figure with the pilot's beside it.
    A day without a single illegal-parking report is taken as a day the cameras did not watch
    (the demo simulates no weekend), not as a day without illegal parking."""
    vehicles = facts.vehicles
    before = [day for day in facts.before_days if facts.illegal_by_day.get(day, 0)]
    after = [day for day in facts.after_days if facts.illegal_by_day.get(day, 0)]

    def ratio(spaces: int) -> float | None:
        return round(spaces / vehicles, 4) if vehicles else None

    def mean(days: list[int]) -> float | None:
        if not days:
            return None
        return round(sum(facts.illegal_by_day.get(day, 0) for day in days) / len(days), 2)

    items: list[dict[str, Any]] = [
        {
            "key": "supplyRatio",
            "before": ratio(facts.base_spaces),
            "after": ratio(facts.base_spaces + facts.shared_spaces),
            "counts": {
                "baseSpaces": facts.base_spaces,
                "sharedSpaces": facts.shared_spaces,
                "vehicles": vehicles,
            },
        },
        {
            "key": "extraSpacesPerDay",
            "value": round(facts.leased_seconds / DAY_SECONDS, 2),
            "counts": {"leasedSpaceHours": round(facts.leased_seconds / 3600, 2)},
            "day": day_label(facts.leased_day),
        },
        {
            "key": "illegalParkingPerDay",
            "before": mean(before),
            "after": mean(after),
            "counts": {
                "beforeDays": len(before),
                "afterDays": len(after),
                "byDay": {day_label(day): facts.illegal_by_day[day] for day in [*before, *after]},
            },
        },
        {
            "key": "jobs",
            "value": sum(facts.jobs_by_role.values()),
            "counts": dict(facts.jobs_by_role),
        },
    ]
    for item in items:
        item["pilot"] = PILOT_REPORTED[item["key"]]
        item["definition"] = DEFINITIONS[item["key"]]
        item["inputs"] = inputs[item["key"]]
    return {"asOfBlock": facts.as_of_block, "pilotSource": PILOT_SOURCE, "figures": items}


def jobs_by_role(holders: Iterable[tuple[str, str]]) -> dict[str, int]:
    """(address, role name) pairs of held roles → distinct holders per job role; an account
    with two staff roles is one job, counted under the first of JOB_ROLES it holds."""
    roles: dict[str, set[str]] = {}
    for address, role in holders:
        if role in JOB_ROLES:
            roles.setdefault(address.lower(), set()).add(role)
    counts = dict.fromkeys(JOB_ROLES, 0)
    for held in roles.values():
        counts[next(role for role in JOB_ROLES if role in held)] += 1
    return counts
