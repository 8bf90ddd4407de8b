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

from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.events import head_block, scan_events
from ._cli.output import epoch_label, table, won
from ._cli.parsing import add_from_block, new_parser
from ._cli.terms import CATEGORIES, LEASE_STATUSES

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
    add_from_block(parser)
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
        "block": head_block(),
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


def render(data: dict[str, Any]) -> str:
    """Two-column tables (a name, a number), one per part of the report."""
    slots, members, leases = data["slots"], data["members"], data["leases"]
    revenue, vault = data["revenue"], data["vault"]
    sections: list[tuple[tuple[str, str], list[tuple[str, Any]]]] = [
        (
            ("slot category", "slots"),
            [(c, slots[c]) for c in CATEGORIES] + [("total", slots["total"])],
        ),
        (("members", "count"), [(k, members[k]) for k in ("active", "suspended", "total")]),
        (("role", "holders"), [(name, len(holders)) for name, holders in data["roles"].items()]),
        (
            ("lease status", "leases"),
            [(s, leases[s]) for s in LEASE_STATUSES[1:]] + [("total", leases["total"])],
        ),
        (
            ("revenue to", "KRW"),
            [
                (k, won(revenue[k]))
                for k in ("owners", "village enterprise", "city fund", "platform")
            ]
            + [("total settled", won(revenue["total"]))],
        ),
    ]
    if revenue["byOwner"]:
        earned = [(owner, won(amount)) for owner, amount in revenue["byOwner"].items()]
        sections.append((("slot owner", "earned KRW"), earned))
    money = [
        ("escrow (open leases)", vault["escrow"]),
        ("claimable by owners", vault["claimableOwners"]),
        ("claimable by village enterprise", vault["claimableVillage"]),
        ("claimable by city fund", vault["claimableCity"]),
        ("claimable by platform", vault["claimablePlatform"]),
        ("vault balance", vault["balance"]),
        ("credit total supply", data["credit"]["totalSupply"]),
    ]
    sections.append((("money", "KRW"), [(name, won(amount)) for name, amount in money]))
    tables = [table(rows, header, right=(1,)) for header, rows in sections]
    return "\n\n".join(
        [f"CityPass ledger report: {data['network']} at block {data['block']}", *tables]
    )


def report(args: argparse.Namespace, ctx: Context) -> dict[str, Any]:
    data = collect(ctx, args.from_block)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return data


def main(*argv: Any) -> Any:
    return run_script(build_parser, report, argv)
