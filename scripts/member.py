"""Onboard, suspend, reinstate or look up members of the CityPass ledger; list, approve or
reject residents' membership applications (held by the citypass-api).

brownie run scripts/member.py main onboard 0xAb… 0xCd… --network citypass-local
brownie run scripts/member.py main suspend 0xAb… reason=LOST-CARD --network citypass-local
brownie run scripts/member.py main applications api=http://127.0.0.1:8080 --network citypass-local
brownie run scripts/member.py main approve 7 --network citypass-local
"""

from __future__ import annotations

import argparse
from typing import Any

from ._cli import applications
from ._cli.arg_types import bytes32_text
from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.errors import UsageError, after_partial_work
from ._cli.output import progress, show_bytes32, table
from ._cli.parsing import ACCOUNT_HELP, add_action, add_transaction_options, new_parser
from ._cli.terms import MEMBER_STATUSES

STATUS = MEMBER_STATUSES
_GERUND = {"onboard": "onboarding", "suspend": "suspending", "reinstate": "reinstating"}


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "member",
        "Onboard accounts as members, suspend them (with an opaque reason code, never personal "
        "data), reinstate them, or show their status. Needs CITY_ADMIN or OPERATOR. "
        "Residents' applications (in the citypass-api): list them, approve one (onboards the "
        "applicant, signed by you) or reject one with a reason code; the script signs in to the "
        "API with the same key (OPERATOR or VILLAGE_ENTERPRISE).",
        examples=(
            "brownie run scripts/member.py main onboard 0xAb… 0xCd… --network citypass-local",
            "brownie run scripts/member.py main suspend 0xAb… reason=LOST-CARD "
            "--network citypass-local",
            "brownie run scripts/member.py main reinstate 0xAb… --network citypass-local",
            "brownie run scripts/member.py main status 0xAb… --network citypass-local",
            "brownie run scripts/member.py main applications api=http://127.0.0.1:8080 "
            "--network citypass-local",
            "brownie run scripts/member.py main approve 7 --network citypass-local",
            "brownie run scripts/member.py main reject 8 reason=NOT_RESIDENT "
            "--network citypass-local",
        ),
    )
    add_action(parser, ("onboard", "suspend", "reinstate", "status", *applications.ACTIONS))
    parser.add_argument(
        "accounts", nargs="*", metavar="ACCOUNT|ID",
        help=f"{ACCOUNT_HELP}; for approve and reject, one application id",
    )  # fmt: skip
    parser.add_argument(
        "--reason",
        help="suspend: an opaque code of at most 32 characters (e.g. LOST-CARD, T-2025-114); "
        "reject: " + ", ".join(applications.REASON_CODES),
    )
    applications.add_options(parser)
    add_transaction_options(parser, "operator", "the transactions")
    return parser


def member(args: argparse.Namespace, ctx: Context) -> Any:
    if args.action in applications.ACTIONS:
        return applications.run(args, ctx)
    if not args.accounts:
        raise UsageError(f"{args.action} needs at least one ACCOUNT")
    if args.action == "suspend" and args.reason is None:
        raise UsageError("suspend needs --reason CODE (an opaque code such as LOST-CARD)")
    if args.action != "suspend" and args.reason is not None:
        raise UsageError(f"--reason only goes with suspend and reject, not {args.action}")
    if args.reason is not None:
        args.reason = _reason(args.reason)
    targets = list(dict.fromkeys(ctx.address(spec) for spec in args.accounts))
    system = ctx.system()
    access = system.access
    if args.action == "status":
        rows = [(a, STATUS[int(access.memberStatus(a))]) for a in targets]
        print(table(rows, ("account", "status")))
        return dict(rows)

    signer = ctx.signer(what=f"the {args.action}")
    done: list[str] = []
    skipped: list[str] = []
    for account in progress(targets, _GERUND[args.action]):
        status = int(access.memberStatus(account))
        if args.action == "onboard" and status != 0 and len(targets) > 1:
            skipped.append(account)
            continue
        with after_partial_work(done, lambda: f" ({len(done)} account(s) before it were done)"):
            ctx.send(
                getattr(access, args.action),
                account,
                *((args.reason,) if args.action == "suspend" else ()),
                signer=signer,
                what=f"{_GERUND[args.action]} {account}",
            )
        done.append(account)

    verb = {"onboard": "onboarded", "suspend": "suspended", "reinstate": "reinstated"}[args.action]
    for account in done:
        suffix = f" (reason {show_bytes32(args.reason)})" if args.action == "suspend" else ""
        print(f"{verb} {account}{suffix}; status now {STATUS[int(access.memberStatus(account))]}")
    for account in skipped:
        print(f"skipped {account}: already {STATUS[int(access.memberStatus(account))]}")
    return {account: STATUS[int(access.memberStatus(account))] for account in targets}


def _reason(text: str) -> bytes:
    try:
        return bytes32_text("reason")(text)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"argument --reason: {exc}") from exc


def main(*argv: Any) -> Any:
    return run_script(build_parser, member, argv)
