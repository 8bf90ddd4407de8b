"""The summary's figures read back from the chain itself (its event logs and views at one
block), with the definitions the dashboard and /v1/kpis use (api/explorer/figures.py). The
API computes the same figures from its read model, so the two can be compared: an auditor, and
tests/demo/test_demo_serving.py, find them equal at the same block."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.explorer import figures
from citypass.core.timeunits import DAY_SECONDS, day_start, local_day
from citypass.protocol.roles import ROLES
from demo.world import World

STAKEHOLDERS = (
    "village enterprise", "city fund", "platform", "space owners", "mobility operators",
    "valet workers",
)  # fmt: skip


@dataclass(frozen=True)
class ChainFigures:
    block: int
    timestamp: int
    day: int
    bookings: int  # LeaseBooked during `day`
    leased_by_hour: list[dict]
    leased_over_day: dict
    revenue: dict[str, int]  # allocated per stakeholder group, since the ledger began


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
    """Allocated per stakeholder group: RevenueAllocated's shares (the owner's to space owners)
    and FareAllocated's (the payee's to valet workers if it holds VALET, else to mobility
    operators)."""
    system = world.system
    groups: dict[str, int] = dict.fromkeys(STAKEHOLDERS, 0)
    for log in _logs(system.split, "RevenueAllocated", block):
        a = log["args"]
        groups["space owners"] += a["ownerShare"]
        groups["village enterprise"] += a["villageShare"]
        groups["city fund"] += a["cityShare"]
        groups["platform"] += a["platformShare"]
    valet = ROLES["VALET"]
    is_worker: dict[str, bool] = {}
    for log in _logs(system.split, "FareAllocated", block):
        a = log["args"]
        payee = a["payee"]
        if payee not in is_worker:
            is_worker[payee] = bool(system.access.hasRole(valet, payee))
        groups["valet workers" if is_worker[payee] else "mobility operators"] += a["payeeShare"]
        groups["village enterprise"] += a["villageShare"]
        groups["platform"] += a["platformShare"]
    return groups


def _logs(contract: Any, event: str, to_block: int) -> list[Any]:
    from brownie import web3

    handle = web3.eth.contract(address=contract.address, abi=contract.abi)
    return list(getattr(handle.events, event).get_logs(from_block=0, to_block=to_block))


def _block_times(numbers: set[int]) -> dict[int, int]:
    from brownie import web3

    return {number: int(web3.eth.get_block(number)["timestamp"]) for number in numbers}
