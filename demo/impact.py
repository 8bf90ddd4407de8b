"""The summary's impact figures, read off the chain at its latest block (contract calls and
logs only, never the simulation's own variables), computed as the explorer's KPIs compute them
(citypass/core/impact.py), each beside the pilot's reported figure."""

from __future__ import annotations

from typing import Any

from citypass.core import impact as core
from citypass.protocol.roles import ROLES
from demo.day import chain_logs
from demo.world import World

ILLEGAL_PARKING = 0  # IncidentType.ILLEGAL_PARKING
CATEGORIES = ("PUBLIC_LOT", "PRIVATE_LOT", "RESIDENT_PRIORITY", "PERSONAL")  # SlotCategory
INPUTS = {
    "supplyRatio": "ParkingSlots.slotCount/bookingTerms/ownerOf; CityAccess MemberOnboarded "
    "logs, isActiveMember and eth_getCode; RevenueSplit's house payees; the senders of "
    "CityForwarder's ExecutedForwardRequest transactions (relayers)",
    "extraSpacesPerDay": "LeaseMarket LeaseBooked and LeaseCancelled logs",
    "illegalParkingPerDay": "IncidentRegistry.dailyCounts; IncidentReported and LeaseBooked logs",
    "jobs": "CityAccess RoleGranted and RoleRevoked logs",
}
LABELS = {
    "supplyRatio": "Parking supply ratio",
    "extraSpacesPerDay": "Extra spaces a day",
    "illegalParkingPerDay": "Illegal parking per day",
    "jobs": "Jobs (staff roles)",
}


def chain_impact(world: World) -> dict[str, Any]:
    """The impact figures as of the chain's latest block."""
    from brownie import web3

    system = world.system
    block = web3.eth.get_block("latest")
    head = int(block["timestamp"])
    base = shared = 0
    organisations = {
        system.split.villageEnterprise(),
        system.split.cityFund(),
        system.split.platform(),
    }
    for slot_id in range(1, system.slots.slotCount() + 1):
        terms = system.slots.bookingTerms(slot_id)
        exists, active, category, windows = terms[0], terms[1], terms[3], terms[7]
        if exists and active:
            base, shared = (base + 1, shared) if windows == 0 else (base, shared + 1)
        if CATEGORIES[category] in core.ORGANISATION_SLOT_CATEGORIES:
            organisations.add(str(system.slots.ownerOf(slot_id)))
    # Relayers (the API's) send residents' signed requests to the forwarder: services, not
    # vehicles.
    relayed = {
        log["transactionHash"] for log in chain_logs(system.forwarder, "ExecutedForwardRequest", 0)
    }
    organisations |= {str(web3.eth.get_transaction(tx)["from"]) for tx in relayed}
    members = {log["args"]["account"] for log in chain_logs(system.access, "MemberOnboarded", 0)}
    vehicles = sum(  # our contracts (the ValetService holds credits) have code: not vehicles
        1
        for a in members
        if a not in organisations and system.access.isActiveMember(a) and not web3.eth.get_code(a)
    )
    booked = chain_logs(system.market, "LeaseBooked", 0)
    cancelled = {log["args"]["leaseId"] for log in chain_logs(system.market, "LeaseCancelled", 0)}
    first_lease = _time_of(booked[0]) if booked else None
    reported = [
        log
        for log in chain_logs(system.incidents, "IncidentReported", 0)
        if log["args"]["kind"] == ILLEGAL_PARKING
    ]
    first_incident = min((log["args"]["observedAt"] for log in reported), default=None)
    before, after = core.observed_days(first_incident, first_lease, head)
    day = core.complete_day(head)
    facts = core.ImpactFacts(
        as_of_block=int(block["number"]),
        head_time=head,
        vehicles=vehicles,
        base_spaces=base,
        shared_spaces=shared,
        leased_seconds=core.clipped_seconds(
            (
                (log["args"]["start"], log["args"]["end"])
                for log in booked
                if log["args"]["leaseId"] not in cancelled
            ),
            day,
        ),
        leased_day=day,
        before_days=before,
        after_days=after,
        illegal_by_day={
            d: int(system.incidents.dailyCounts(ILLEGAL_PARKING, d)[0]) for d in [*before, *after]
        },
        jobs_by_role=core.jobs_by_role(_roles_held(system.access)),
        first_lease_at=first_lease,
    )
    return core.figures(facts, INPUTS)


def render_impact(world: World) -> str:
    """The summary's last part: one line per figure, this simulation beside the pilot, with a
    bracketed `[key name=value …]` a test can parse."""
    impact = chain_impact(world)
    lines = [
        f"Impact, computed from the chain at block {impact['asOfBlock']} "
        f"(pilot reported: {impact['pilotSource']})"
    ]
    for figure in impact["figures"]:
        ours, pilot = _pair(figure, figure), _pair(figure["pilot"], figure)
        fields = " ".join(
            f"{name}={_raw(figure[name])}"
            for name in ("before", "after", "value")
            if name in figure
        )
        lines.append(
            f"  {LABELS[figure['key']]:<26} this simulation {ours:<16} pilot reported {pilot:<14}"
            f" [{figure['key']} {fields}]"
        )
        lines.append(f"      {figure['definition']}")
    counts = {f["key"]: f["counts"] for f in impact["figures"]}
    supply = counts["supplyRatio"]
    lines.append(
        f"  supply: {supply['baseSpaces']} base + {supply['sharedSpaces']} shared spaces for "
        f"{supply['vehicles']} member vehicles; illegal parking over "
        f"{counts['illegalParkingPerDay']['beforeDays']} day(s) before and "
        f"{counts['illegalParkingPerDay']['afterDays']} after sharing began"
    )
    return "\n".join(lines) + "\n"


def _pair(values: dict[str, Any], figure: dict[str, Any]) -> str:
    percent = figure["key"] == "supplyRatio"

    def show(value: Any) -> str:
        if value is None:
            return "n/a"
        return f"{value:.0%}" if percent else f"{value:g}"

    if "value" in values:
        return show(values["value"])
    return f"{show(values['before'])} → {show(values['after'])}"


def _raw(value: Any) -> str:
    return "none" if value is None else f"{value:g}"


def _time_of(log: Any) -> int:
    from brownie import web3

    return int(web3.eth.get_block(log["blockNumber"])["timestamp"])


def _roles_held(access: Any) -> list[tuple[str, str]]:
    """(account, role name) of the roles held now: grants not followed by a revoke."""
    names = {role: name for name, role in ROLES.items()}
    events = chain_logs(access, "RoleGranted", 0) + chain_logs(access, "RoleRevoked", 0)
    events.sort(key=lambda log: (log["blockNumber"], log["logIndex"]))
    held: dict[tuple[str, str], bool] = {}
    for log in events:
        name = names.get(bytes(log["args"]["role"]))
        if name is not None:
            held[(log["args"]["account"], name)] = log["event"] == "RoleGranted"
    return [pair for pair, now in held.items() if now]
