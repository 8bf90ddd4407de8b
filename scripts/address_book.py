"""Name organisations' addresses in the address book the citypass-api keeps (off chain), remove
a name, or list the book. Residents are never named: the API refuses their addresses.

brownie run scripts/address_book.py main set 0xAb… name="Village enterprise" \
    name_ko=상살미사람들 kind=stakeholder --network citypass-local
brownie run scripts/address_book.py main remove 0xAb… --network citypass-local
brownie run scripts/address_book.py main list --network citypass-local
"""

from __future__ import annotations

import argparse
from typing import Any

from api.address_book.tables import KINDS
from citypass.core.timeunits import kst

from ._cli.address_book import entries, name_text, put_name, remove_name
from ._cli.api_client import StaffApi, api_url, sign_text
from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.errors import UsageError
from ._cli.output import table
from ._cli.parsing import ACCOUNT_HELP, add_action, add_signer, new_parser

ACTIONS = ("set", "remove", "list")


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "address_book",
        "Name an organisation's address (set: create or replace its entry), remove a name, or "
        "list the address book the explorer, the statements and the KPIs label addresses with. "
        "The book is kept by the citypass-api, off chain: the script signs in to the API with "
        "the signer's key (OPERATOR, VILLAGE_ENTERPRISE or CITY_ADMIN). Residents stay "
        "pseudonymous: the API refuses to name a member resident's or a worker's address.",
        examples=(
            'brownie run scripts/address_book.py main set 0xAb… name="Village enterprise" '
            "name_ko=상살미사람들 kind=stakeholder --network citypass-local",
            "brownie run scripts/address_book.py main set 0xCd… name=Technopark "
            "kind=lot_operator api=http://127.0.0.1:8080 --network citypass-local",
            "brownie run scripts/address_book.py main remove 0xAb… --network citypass-local",
            "brownie run scripts/address_book.py main list --network citypass-local",
        ),
    )
    add_action(parser, ACTIONS)
    parser.add_argument(
        "address",
        nargs="?",
        metavar="ADDRESS",
        help=f"set and remove: the address ({ACCOUNT_HELP})",
    )
    parser.add_argument(
        "--name", type=name_text,
        help="set: the name in English (1-64 letters, digits, spaces and . , & ( ) ' - / ·)",
    )  # fmt: skip
    parser.add_argument(
        "--name-ko", type=name_text, help="set: the name in Korean (optional, same characters)"
    )
    parser.add_argument("--kind", choices=KINDS, help=f"set: {' | '.join(KINDS)}")
    parser.add_argument(
        "--api", metavar="URL",
        help="the citypass-api's base URL (default $CITYPASS_API_URL, else http://127.0.0.1:8080)",
    )  # fmt: skip
    add_signer(parser, "operator", "the sign-in to the API (set, remove)")
    return parser


def address_book(args: argparse.Namespace, ctx: Context) -> Any:
    url = api_url(args.api)
    if args.action == "list":
        if args.address is not None:
            raise UsageError("list takes no ADDRESS")
        return _list(StaffApi(url))
    if args.address is None:
        raise UsageError(f"{args.action} needs the ADDRESS to name")
    setting = args.action == "set"
    if setting and (args.name is None or args.kind is None):
        missing = " and ".join(
            n for n, v in (("name=", args.name), ("kind=", args.kind)) if v is None
        )
        raise UsageError(f"set needs {missing} (kind is one of {', '.join(KINDS)})")
    if not setting and (args.name, args.name_ko, args.kind) != (None, None, None):
        raise UsageError("name=, name_ko= and kind= go with set, not remove")
    address = ctx.address(args.address, what="address")
    signer = ctx.signer(what=f"the sign-in to the API ({args.action})")
    api = StaffApi.sign_in(url, signer.address, sign_text(signer))
    if setting:
        entry = put_name(api, address, args.name, args.name_ko, args.kind)
        korean = f" / {entry['nameKo']}" if entry["nameKo"] else ""
        print(f"named {entry['address']} {entry['name']}{korean} ({entry['kind']})")
        return entry
    entry = remove_name(api, address)
    print(f"removed the name of {entry['address']} ({entry['name']})")
    return entry


def _list(api: StaffApi) -> list[dict[str, Any]]:
    found = entries(api)
    print(f"{len(found)} named address(es)")
    if found:
        rows = [
            (e["address"], e["kind"], e["name"], e["nameKo"] or "—",
             kst(e["updatedAt"]).strftime("%Y-%m-%d %H:%M"), e["updatedBy"])
            for e in found
        ]  # fmt: skip
        print(table(rows, ("address", "kind", "name", "name (ko)", "updated (KST)", "by")))
    return found


def main(*argv: Any) -> Any:
    return run_script(build_parser, address_book, argv)
