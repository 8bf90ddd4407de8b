"""The summary's figures read back from the chain itself (its event logs and views at one
block), with the definitions the dashboard and /v1/kpis use (api/explorer/figures.py). The
API computes the same figures from its read model, so the two can be compared: an auditor, and
tests/demo/test_demo_serving.py, find them equal at the same block."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.address_book.facts import GROUPS, HOUSE
from api.explorer import figures
from citypass.core.timeunits import DAY_SECONDS, day_start, local_day
from citypass.protocol.roles import ROLES
from demo.world import World

# SlotCategory PUBLIC_LOT and PRIVATE_LOT: their owners are lot operators (facts.LOT_CATEGORIES).
LOT_CATEGORIES = (0, 1)


@dataclass(frozen=True)
class ChainFigures:
    block: int
    timestamp: int
    day: int
    bookings: int  # LeaseBooked during `day`
    leased_by_hour: list[dict]
    leased_over_day: dict
    revenue: dict[str, int]  # allocated per stakeholder group (facts.GROUPS), since the start


def read(world: World, midnight: int, shared: int) -> ChainFigures:
    """The figures at the chain's current head (the demo's day is over: nothing else moves) for
    the KST day starting at `midnight` (the demo's day, a timestamp)."""
    from brownie import web3

    head = web3.eth.get_block("latest")
    block = int(head["number"])
    system = world.system
    booked = _logs(system.market, "LeaseBooked", block)
    cancelled = {log["args"]["leaseId"] for log in _logs(system.market, "LeaseCancelled", block)}
    day = local_day(midnight)
    first = day_start(day)
    times = _block_times({log["blockNumber"] for log in booked})
    spans = [
        (log["args"]["start"], log["args"]["end"])
        for log in booked
        if log["args"]["leaseId"] not in cancelled
    ]
    return ChainFigures(
        block=block,
        timestamp=int(head["timestamp"]),
        day=day,
        bookings=sum(
            1 for log in booked if first <= times[log["blockNumber"]] < first + DAY_SECONDS
        ),
        leased_by_hour=figures.leased_by_hour(spans, day, shared),
        leased_over_day=figures.leased_over_day(spans, day, shared),
        revenue=_revenue(world, block),
    )


def _revenue(world: World, block: int) -> dict[str, int]:
    """Allocated per stakeholder group (api/address_book/facts.py's groups, decided here from
    the chain): RevenueAllocated's house shares and its owner's share, FareAllocated's house
    shares and its payee's share, each payee counted in the group of what it is."""
    system = world.system
    groups: dict[str, int] = dict.fromkeys(HOUSE, 0)
    group_of = _grouper(world, block)
    for log in _logs(system.split, "RevenueAllocated", block):
        a = log["args"]
        _add(groups, group_of(a["owner"]), a["ownerShare"])
        groups["village enterprise"] += a["villageShare"]
        groups["city fund"] += a["cityShare"]
        groups["platform"] += a["platformShare"]
    for log in _logs(system.split, "FareAllocated", block):
        a = log["args"]
        _add(groups, group_of(a["payee"]), a["payeeShare"])
        groups["village enterprise"] += a["villageShare"]
        groups["platform"] += a["platformShare"]
    return groups


def _add(groups: dict[str, int], group: str, amount: int) -> None:
    groups[group] = groups.get(group, 0) + int(amount)


def _grouper(world: World, block: int) -> Callable[[str], str]:
    """payee → its stakeholder group, by the first fact that holds (facts.LABELS' order):
    RevenueSplit's payee, TREASURY, a registered mobility operator, an owner of public or
    private lot spaces, VALET, an owner of other spaces; else 'other payees'."""
    system = world.system
    split = system.split
    house = {
        split.villageEnterprise(): "village enterprise",
        split.cityFund(): "city fund",
        split.platform(): "platform",
    }
    lot_owners: set[str] = set()
    space_owners: set[str] = set()
    for log in _logs(system.slots, "SlotRegistered", block):
        category = log["args"]["category"]
        (lot_owners if category in LOT_CATEGORIES else space_owners).add(log["args"]["owner"])
    operators = (
        {log["args"]["operator"] for log in _logs(system.operators, "OperatorRegistered", block)}
        if system.operators is not None
        else set()
    )
    found: dict[str, str] = {}

    def has(role: str, payee: str) -> bool:
        return bool(system.access.hasRole(ROLES[role], payee))

    def group_of(payee: str) -> str:
        if payee not in found:
            if payee in house:
                label = house[payee]
            elif has("TREASURY", payee):
                label = "treasury"
            elif payee in operators:
                label = "mobility operator"
            elif payee in lot_owners:
                label = "lot operator"
            elif has("VALET", payee):
                label = "valet worker"
            elif payee in space_owners:
                label = "space owner"
            else:
                label = ""
            found[payee] = GROUPS.get(label, "other payees")
        return found[payee]

    return group_of


def _logs(contract: Any, event: str, to_block: int) -> list[Any]:
    from brownie import web3

    handle = web3.eth.contract(address=contract.address, abi=contract.abi)
    return list(getattr(handle.events, event).get_logs(from_block=0, to_block=to_block))


def _block_times(numbers: set[int]) -> dict[int, int]:
    from brownie import web3

    return {number: int(web3.eth.get_block(number)["timestamp"]) for number in numbers}
