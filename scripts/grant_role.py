"""Grant (or revoke) one of the nine CityPass roles.

brownie run scripts/grant_role.py main INSPECTOR 0xAb… --network citypass-local
brownie run scripts/grant_role.py main OPERATOR 0xAb… revoke=yes --network citypass-local
"""

from __future__ import annotations

import argparse
from typing import Any

from citypass.protocol.roles import ROLE_NAMES, ROLES

from ._cli.arg_types import role_name
from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.parsing import ACCOUNT_HELP, add_transaction_options, new_parser


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "grant_role",
        f"Grant or revoke a role. Roles: {', '.join(ROLE_NAMES)} (case-insensitive, "
        "village-enterprise works too). Only CITY_ADMIN may do this.",
        examples=(
            "brownie run scripts/grant_role.py main inspector 0xAb… --network citypass-local",
            "brownie run scripts/grant_role.py main operator 0xAb… revoke=yes "
            "--network citypass-local",
        ),
    )
    parser.add_argument("role", type=role_name, metavar="ROLE", help="the role's name")
    parser.add_argument("account", metavar="ACCOUNT", help=ACCOUNT_HELP)
    parser.add_argument(
        "--revoke", action="store_true", help="take the role away instead (also: revoke=yes)"
    )
    add_transaction_options(parser, "admin", "the grant")
    return parser


def grant_role(args: argparse.Namespace, ctx: Context) -> bool:
    account = ctx.address(args.account)
    access = ctx.system().access
    role = ROLES[args.role]
    holds = bool(access.hasRole(role, account))
    if holds != args.revoke:
        state = "does not hold" if args.revoke else "already holds"
        print(f"{account} {state} {args.role}; nothing to do")
        return holds
    signer = ctx.signer(what="the grant")
    if args.revoke:
        ctx.send(access.revokeRole, role, account, signer=signer, what=f"revoking {args.role}")
    else:
        ctx.send(access.grantRole, role, account, signer=signer, what=f"granting {args.role}")
    holds = bool(access.hasRole(role, account))
    verb = "revoked" if args.revoke else "granted"
    print(f"{verb} {args.role} {'from' if args.revoke else 'to'} {account} (signed by {signer})")
    return holds


def main(*argv: Any) -> Any:
    return run_script(build_parser, grant_role, argv)
