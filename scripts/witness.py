"""The witness set on CityAccess: the organisations whose daemons re-execute the ledger and
co-sign its checkpoints (docs/witnesses.md). Add a witness's key with its name, remove one, or
list the set. Only CITY_ADMIN may change it; being a witness grants no role.

brownie run scripts/witness.py main add 0xAb… audit-office --network citypass-local
brownie run scripts/witness.py main remove 0xAb… --network citypass-local
brownie run scripts/witness.py main list --network citypass-local
"""

from __future__ import annotations

import argparse
from typing import Any

from api.explorer.terms import WITNESS_NAMES
from citypass.protocol.witness_names import decode_witness_name, encode_witness_name

from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.errors import CliError, UsageError
from ._cli.output import table
from ._cli.parsing import ACCOUNT_HELP, add_action, add_transaction_options, new_parser

ACTIONS = ("add", "remove", "list")
# The labels the explorer shows in Korean and English; any other label is shown as it is.
KNOWN_LABELS = tuple(WITNESS_NAMES)


def witness_label(text: str) -> str:
    """An argparse type: a name CityAccess stores as bytes32 (citypass.protocol.witness_names)."""
    try:
        encode_witness_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "witness",
        "Add a witness to CityAccess's witness set (or rename one: add it again with the new "
        "name), remove one, or list the set. A witness is another organisation's key: its "
        "daemon re-executes every block and co-signs checkpoints, which the node collects and "
        "the explorer shows. NAME is a label of 1-32 lower-case letters, digits and hyphens; "
        f"the explorer translates {', '.join(KNOWN_LABELS)} and shows any other as it is. "
        "add and remove need CITY_ADMIN; list reads only.",
        examples=(
            "brownie run scripts/witness.py main add 0xAb… audit-office --network citypass-local",
            "brownie run scripts/witness.py main add 0xCd… village-enterprise as=admin "
            "--network citypass-local",
            "brownie run scripts/witness.py main remove 0xAb… --network citypass-local",
            "brownie run scripts/witness.py main list --network citypass-local",
        ),
    )
    add_action(parser, ACTIONS)
    parser.add_argument(
        "account", nargs="?", metavar="ACCOUNT", help=f"add and remove: the witness's key ({ACCOUNT_HELP})"
    )  # fmt: skip
    parser.add_argument(
        "name", nargs="?", type=witness_label, metavar="NAME",
        help="add: the organisation's label, e.g. audit-office",
    )  # fmt: skip
    add_transaction_options(parser, "admin", "add and remove")
    return parser


def witness(args: argparse.Namespace, ctx: Context) -> Any:
    if args.action == "list":
        if args.account is not None:
            raise UsageError("list takes no ACCOUNT or NAME")
        return _list(ctx)
    if args.account is None:
        raise UsageError(f"{args.action} needs the witness's ACCOUNT")
    if args.action == "add" and args.name is None:
        raise UsageError(f"add needs the witness's NAME, e.g. add ACCOUNT {KNOWN_LABELS[2]}")
    if args.action == "remove" and args.name is not None:
        raise UsageError(f"remove takes only the ACCOUNT, not a NAME ({args.name!r})")
    account = ctx.address(args.account, what="ACCOUNT")
    access = ctx.system().access
    member = bool(access.isWitness(account))
    if args.action == "remove":
        if not member:
            raise CliError(
                f"ACCOUNT {account} is not in the witness set: nothing to remove (see `list`)"
            )
        signer = ctx.signer(what="the removal")
        ctx.send(access.removeWitness, account, signer=signer, what=f"removing witness {account}")
        print(f"removed {account} from the witness set (signed by {signer})")
        return _members(access)
    current = decode_witness_name(access.witnessName(account)) if member else None
    if current == args.name:
        print(f"{account} is already the witness {args.name}; nothing to do")
        return _members(access)
    signer = ctx.signer(what="the witness set")
    name = encode_witness_name(args.name)
    ctx.send(access.setWitness, account, name, signer=signer, what=f"adding witness {account}")
    verb = f"renamed {account} from {current} to" if member else f"added {account} as"
    print(f"{verb} witness {args.name} (signed by {signer})")
    return _members(access)


def _members(access: Any) -> list[dict[str, str]]:
    accounts, names = access.witnesses()
    return [
        {"witness": str(account), "name": decode_witness_name(name)}
        for account, name in zip(accounts, names, strict=True)
    ]


def _list(ctx: Context) -> list[dict[str, str]]:
    access = ctx.system().access
    members = _members(access)
    print(f"{len(members)} witness(es) of at most {int(access.MAX_WITNESSES())}")
    if members:
        rows = [(n, m["witness"], m["name"]) for n, m in enumerate(members, start=1)]
        print(table(rows, ("#", "witness", "name"), right=(0,)))
    return members


def main(*argv: Any) -> Any:
    return run_script(build_parser, witness, argv)
