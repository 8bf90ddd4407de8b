"""Register a mobility operator, its assets and its fare plan (MobilityOperators).

brownie run scripts/mobility_operator.py main register 0xAb… kind=kick-scooter --network citypass-local
brownie run scripts/mobility_operator.py main assets count=40 village=yes as=scooter-op --network …
brownie run scripts/mobility_operator.py main plan unlock=1,000 per-minute=150 cap=20,000 as=scooter-op
"""

from __future__ import annotations

import argparse
from typing import Any

from citypass.protocol.roles import ROLES

from ._cli.arg_types import krw, non_negative_int, positive_int
from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.errors import UsageError
from ._cli.output import compact_ids, progress, table, won
from ._cli.parsing import ACCOUNT_HELP, add_action, add_transaction_options, new_parser

KINDS = ("NONE", "CAR_SHARE", "KICK_SCOOTER", "VALET", "TRANSIT")
_KIND_NAMES = {
    "car": 1,
    "car_share": 1,
    "carshare": 1,
    "scooter": 2,
    "kick_scooter": 2,
    "kickscooter": 2,
    "valet": 3,
    "transit": 4,
    "bus": 4,
}
MAX_ASSETS = 500


def operator_kind(text: str) -> int:
    key = text.strip().lower().replace("-", "_")
    if key not in _KIND_NAMES:
        raise argparse.ArgumentTypeError(
            f"unknown operator kind {text!r}: use car-share, kick-scooter, valet or transit"
        )
    return _KIND_NAMES[key]


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "mobility_operator",
        "Mobility operators (car share, kick-scooters, valet, transit). register: CITY_ADMIN "
        "grants ACCOUNT the OPERATOR role if it lacks it and registers it with a kind. assets: "
        "the operator registers COUNT vehicles (village=yes for vehicles stationed in the "
        "village zone, whose trips pay the village enterprise its share). plan: the operator "
        "publishes a fare plan (unlock fee, per started minute, per started 100 m, daily cap, "
        "all KRW); it replaces the current plan for new trips, old trips keep theirs. "
        "show: an operator's record and current plan.",
        examples=(
            "brownie run scripts/mobility_operator.py main register 0xAb… kind=kick-scooter "
            "--network citypass-local",
            "brownie run scripts/mobility_operator.py main assets count=40 village=yes "
            "as=scooter-op --network citypass-local",
            "brownie run scripts/mobility_operator.py main plan unlock=1,000 per-minute=150 "
            "per-100m=0 cap=20,000 as=scooter-op --network citypass-local",
            "brownie run scripts/mobility_operator.py main show 0xAb… --network citypass-local",
        ),
    )
    add_action(parser, ("register", "assets", "plan", "show"))
    parser.add_argument("account", nargs="?", metavar="ACCOUNT", help=ACCOUNT_HELP)
    parser.add_argument(
        "--kind", type=operator_kind, help="register: car-share, kick-scooter, valet or transit"
    )
    parser.add_argument("--count", type=positive_int, help=f"assets: how many (1-{MAX_ASSETS})")
    parser.add_argument(
        "--village", action="store_true", help="assets: stationed in the village zone"
    )
    parser.add_argument(
        "--unlock", type=non_negative_int, default=0, metavar="KRW", help="plan: unlock fee"
    )
    parser.add_argument(
        "--per-minute",
        type=non_negative_int,
        default=0,
        metavar="KRW",
        help="plan: per started minute",
    )
    parser.add_argument(
        "--per-100m",
        type=non_negative_int,
        default=0,
        metavar="KRW",
        help="plan: per started 100 m",
    )
    parser.add_argument(
        "--cap",
        type=krw,
        metavar="KRW",
        help="plan: the daily cap, the most a trip costs (required)",
    )
    add_transaction_options(
        parser, None, "the transactions", shown="admin for register, the operator otherwise"
    )
    return parser


def mobility_operator(args: argparse.Namespace, ctx: Context) -> dict[str, Any]:
    action = args.action
    if action in ("register", "show") and not args.account:
        raise UsageError(f"{action} needs the operator's ACCOUNT")
    if action in ("assets", "plan") and args.account:
        raise UsageError(
            f"{action} acts for the signer; drop {args.account!r} and sign with as=OPERATOR"
        )
    if action == "register" and args.kind is None:
        raise UsageError("register needs kind=car-share|kick-scooter|valet|transit")
    if action == "assets" and (args.count is None or args.count > MAX_ASSETS):
        raise UsageError(f"assets needs count=N with N between 1 and {MAX_ASSETS}")
    if action == "plan" and args.cap is None:
        raise UsageError("plan needs cap=KRW (the daily cap, at least the unlock fee)")
    system = ctx.system()
    operators = system.operators
    if action == "show":
        return _show(operators, ctx.address(args.account))
    if action == "register":
        return _register(args, ctx, system)
    signer = ctx.signer(what=f"the {action}")
    if action == "assets":
        ids = []
        for _ in progress(range(args.count), "registering assets"):
            tx = ctx.send(
                operators.registerAsset, args.village, signer=signer, what="registering an asset"
            )
            ids.append(int(tx.events["AssetRegistered"]["assetId"]))
        zone = "village zone" if args.village else "outside the village zone"
        print(f"registered {len(ids)} asset(s) of {signer.address} ({zone}): {compact_ids(ids)}")
        return {"operator": signer.address, "assets": ids}
    tx = ctx.send(
        operators.publishPlan,
        args.unlock,
        args.per_minute,
        args.per_100m,
        args.cap,
        signer=signer,
        what="publishing the fare plan",
    )
    plan_id = int(tx.events["FarePlanPublished"]["planId"])
    print(
        f"plan {plan_id} of {signer.address}: unlock {won(args.unlock)}, {won(args.per_minute)}/min, "
        f"{won(args.per_100m)}/100 m, daily cap {won(args.cap)} KRW (current for new trips)"
    )
    return {"operator": signer.address, "plan": plan_id}


def _register(args: argparse.Namespace, ctx: Context, system: Any) -> dict[str, Any]:
    account = ctx.address(args.account, "operator")
    signer = ctx.signer(args.signer or "admin", what="the registration")
    if not system.access.hasRole(ROLES["OPERATOR"], account):
        ctx.send(
            system.access.grantRole,
            ROLES["OPERATOR"],
            account,
            signer=signer,
            what=f"granting OPERATOR to {account}",
        )
        print(f"granted OPERATOR to {account}")
    ctx.send(
        system.operators.registerOperator,
        account,
        args.kind,
        signer=signer,
        what=f"registering {account}",
    )
    print(f"registered {account} as a {KINDS[args.kind]} operator")
    return {"operator": account, "kind": KINDS[args.kind]}


def _show(operators: Any, account: str) -> dict[str, Any]:
    kind, active, plan_id = operators.operatorOf(account)
    if int(kind) == 0:
        print(f"{account} is not a registered mobility operator")
        return {"operator": account, "kind": "NONE"}
    rows = [
        ("kind", KINDS[int(kind)]),
        ("active", "yes" if active else "no"),
        ("current plan", plan_id or "none"),
    ]
    if plan_id:
        _, (unlock, per_minute, per_100m, cap) = operators.planOf(plan_id)
        rows.append(
            (
                "prices KRW",
                f"unlock {won(unlock)}, {won(per_minute)}/min, {won(per_100m)}/100 m, cap {won(cap)}",
            )
        )
    print(table(rows, ("operator " + account, "")))
    return {
        "operator": account,
        "kind": KINDS[int(kind)],
        "active": bool(active),
        "plan": int(plan_id),
    }


def main(*argv: Any) -> Any:
    return run_script(build_parser, mobility_operator, argv)
