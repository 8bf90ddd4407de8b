"""A read-only overview of the ledger: slots, members, roles, leases, revenue, escrow, supply.

brownie run scripts/report.py main --network citypass-local
brownie run scripts/report.py main json=yes --network citypass-local
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

from citypass.protocol.roles import ROLE_NAMES, ROLES

from ._cli import (
    CATEGORIES,
    LEASE_STATUSES,
    Context,
    epoch_label,
    new_parser,
    non_negative_int,
    run_script,
    scan_events,
    table,
    won,
)

_LEASE_EVENTS = {
    "LeaseBooked": "BOOKED",
    "LeaseCheckedIn": "CHECKED_IN",
    "LeaseSettled": "SETTLED",
    "LeaseCancelled": "CANCELLED",
    "LeaseNoShow": "NO_SHOW",
}
_MEMBER_EVENTS = {
    "MemberOnboarded": "ACTIVE",
    "MemberSuspended": "SUSPENDED",
    "MemberReinstated": "ACTIVE",
}


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "report",
        "Print slots per category, members by status, role holders, leases by status, revenue "
        "per stakeholder (from RevenueAllocated events), what the vault holds in escrow and "
        "owes in claims, and the credit supply. Read-only: no transaction, no signer.",
        examples=(
            "brownie run scripts/report.py main --network citypass-local",
            "brownie run scripts/report.py main json=yes --network citypass-local",
        ),
    )
    parser.add_argument(
        "--from-block",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="scan events from this block (default 0, the whole chain)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    return parser


def _by_order(*groups: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    merged = [item for group in groups for item in group]
    merged.sort(key=lambda item: (item[1]["blockNumber"], item[1]["logIndex"]))
    return merged


def collect(ctx: Context, from_block: int) -> dict[str, Any]:
    system = ctx.system()
    slots, access, market, split, credit = (
        system.slots,
        system.access,
        system.market,
        system.split,
        system.credit,
    )

    per_category: Counter[str] = Counter()
    for log in scan_events(slots, "SlotRegistered", from_block):
        per_category[CATEGORIES[int(log["args"]["category"])]] += 1

    member_state: dict[str, str] = {}
    member_logs = _by_order(
        *[[(name, log) for log in scan_events(access, name, from_block)] for name in _MEMBER_EVENTS]
    )
    # The platform's own contracts are not people (ValetService is a member: it books leases).
    contracts = set(system.addresses().values())
    for name, log in member_logs:
        if str(log["args"]["account"]) not in contracts:
            member_state[str(log["args"]["account"])] = _MEMBER_EVENTS[name]
    members = Counter(member_state.values())

    holders: dict[str, set[str]] = {name: set() for name in ROLE_NAMES}
    role_names = {ROLES[name]: name for name in ROLE_NAMES}
    role_logs = _by_order(
        [("grant", log) for log in scan_events(access, "RoleGranted", from_block)],
        [("revoke", log) for log in scan_events(access, "RoleRevoked", from_block)],
    )
    for kind, log in role_logs:
        name = role_names.get(bytes(log["args"]["role"]))
        if name is None:
            continue
        if kind == "grant":
            holders[name].add(str(log["args"]["account"]))
        else:
            holders[name].discard(str(log["args"]["account"]))

    lease_state: dict[int, str] = {}
    lease_logs = _by_order(
        *[[(name, log) for log in scan_events(market, name, from_block)] for name in _LEASE_EVENTS]
    )
    booked_value = 0
    for name, log in lease_logs:
        lease_state[int(log["args"]["leaseId"])] = _LEASE_EVENTS[name]
        if name == "LeaseBooked":
            booked_value += int(log["args"]["price"])
    leases = Counter(lease_state.values())

    revenue = {"owners": 0, "village enterprise": 0, "city fund": 0, "platform": 0}
    per_owner: Counter[str] = Counter()
    settled_by_category: Counter[str] = Counter()
    for log in scan_events(split, "RevenueAllocated", from_block):
        event = log["args"]
        revenue["owners"] += int(event["ownerShare"])
        revenue["village enterprise"] += int(event["villageShare"])
        revenue["city fund"] += int(event["cityShare"])
        revenue["platform"] += int(event["platformShare"])
        settled_by_category[CATEGORIES[int(event["category"])]] += int(event["amount"])
        if int(event["ownerShare"]):
            per_owner[str(event["owner"])] += int(event["ownerShare"])

    house_epoch, village, city, platform = (int(v) for v in split.houseBalances())
    owners_claimable = sum(int(split.accountOf(owner)[3]) for owner in per_owner)
    vault = int(credit.balanceOf(split))
    claimable = owners_claimable + village + city + platform
    return {
        "network": ctx.network,
        "block": _head(),
        "slots": {"total": int(slots.slotCount()), **{c: per_category[c] for c in CATEGORIES}},
        "members": {
            "active": members["ACTIVE"],
            "suspended": members["SUSPENDED"],
            "total": len(member_state),
        },
        "roles": {name: sorted(holders[name]) for name in ROLE_NAMES},
        "leases": {
            **{status: leases[status] for status in LEASE_STATUSES[1:]},
            "total": len(lease_state),
            "bookedValue": booked_value,
        },
        "revenue": {
            **revenue,
            "total": sum(revenue.values()),
            "byCategory": {c: settled_by_category[c] for c in CATEGORIES},
            "byOwner": dict(per_owner.most_common()),
        },
        "vault": {
            "balance": vault,
            "claimableOwners": owners_claimable,
            "claimableVillage": village,
            "claimableCity": city,
            "claimablePlatform": platform,
            "escrow": vault - claimable,
            "houseMonth": epoch_label(house_epoch) if house_epoch else None,
        },
        "credit": {"totalSupply": int(credit.totalSupply())},
    }


def _head() -> int:
    from brownie import web3

    return int(web3.eth.block_number)


def render(data: dict[str, Any]) -> str:
    out = [f"CityPass ledger report: {data['network']} at block {data['block']}", ""]
    slots = data["slots"]
    out.append(
        table(
            [(c, slots[c]) for c in CATEGORIES] + [("total", slots["total"])],
            ("slot category", "slots"),
            right=(1,),
        )
    )
    members = data["members"]
    out += [
        "",
        table(
            [(k, members[k]) for k in ("active", "suspended", "total")],
            ("members", "count"),
            right=(1,),
        ),
    ]
    out += [
        "",
        table(
            [(name, len(holders)) for name, holders in data["roles"].items()],
            ("role", "holders"),
            right=(1,),
        ),
    ]
    leases = data["leases"]
    out += [
        "",
        table(
            [(s, leases[s]) for s in LEASE_STATUSES[1:]] + [("total", leases["total"])],
            ("lease status", "leases"),
            right=(1,),
        ),
    ]
    revenue = data["revenue"]
    out += [
        "",
        table(
            [
                (k, won(revenue[k]))
                for k in ("owners", "village enterprise", "city fund", "platform")
            ]
            + [("total settled", won(revenue["total"]))],
            ("revenue to", "KRW"),
            right=(1,),
        ),
    ]
    if revenue["byOwner"]:
        out += [
            "",
            table(
                [(owner, won(amount)) for owner, amount in revenue["byOwner"].items()],
                ("slot owner", "earned KRW"),
                right=(1,),
            ),
        ]
    vault = data["vault"]
    out += [
        "",
        table(
            [
                ("escrow (open leases)", won(vault["escrow"])),
                ("claimable by owners", won(vault["claimableOwners"])),
                ("claimable by village enterprise", won(vault["claimableVillage"])),
                ("claimable by city fund", won(vault["claimableCity"])),
                ("claimable by platform", won(vault["claimablePlatform"])),
                ("vault balance", won(vault["balance"])),
                ("credit total supply", won(data["credit"]["totalSupply"])),
            ],
            ("money", "KRW"),
            right=(1,),
        ),
    ]
    return "\n".join(out)


def report(args: argparse.Namespace, ctx: Context) -> dict[str, Any]:
    data = collect(ctx, args.from_block)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return data


def main(*argv: Any) -> Any:
    return run_script(build_parser, report, argv)
