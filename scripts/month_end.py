"""Close the finished KST month: emit every payee's MonthlyStatement and print them.

brownie run scripts/month_end.py main --network citypass-local
"""

from __future__ import annotations

import argparse
from typing import Any

from ._cli.arg_types import positive_int
from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.errors import after_partial_work
from ._cli.events import scan_events
from ._cli.output import epoch_label, progress, table, won
from ._cli.parsing import add_from_block, add_transaction_options, new_parser
from ._cli.terms import PAYEE_KINDS

ZERO = "0x" + "0" * 40


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "month_end",
        "Call RevenueSplit.closeStatements for every slot owner seen on the ledger (slot "
        "registrations, slot transfers, revenue allocations) and for the village enterprise, "
        "city fund and platform, then print the MonthlyStatement of each payee whose month "
        "closed. Anyone may sign; it is safe to run twice (a closed month is not repeated).",
        examples=(
            "brownie run scripts/month_end.py main --network citypass-local",
            "brownie run scripts/month_end.py main from-block=120000 batch=100 "
            "--network citypass-local",
        ),
    )
    add_from_block(parser)
    parser.add_argument(
        "--batch",
        type=positive_int,
        default=150,
        metavar="N",
        help="payees per closeStatements transaction (default 150)",
    )
    add_transaction_options(parser, "operator", "the closeStatements transactions")
    return parser


def payees_of(system: Any, from_block: int) -> list[str]:
    """Slot owners (registrations, transfers, revenue), mobility payees and the house payees."""
    seen: dict[str, None] = {}
    for log in scan_events(system.slots, "SlotRegistered", from_block):
        seen[str(log["args"]["owner"])] = None
    for log in scan_events(system.slots, "Transfer", from_block):
        seen[str(log["args"]["to"])] = None
    for log in scan_events(system.split, "RevenueAllocated", from_block):
        seen[str(log["args"]["owner"])] = None
    # mobility operators and valet workers, paid through creditFareShares
    for log in scan_events(system.split, "FareAllocated", from_block):
        seen[str(log["args"]["payee"])] = None
    split = system.split
    for house in (split.villageEnterprise(), split.cityFund(), split.platform()):
        seen[str(house)] = None
    seen.pop(ZERO, None)
    return list(seen)


def month_end(args: argparse.Namespace, ctx: Context) -> list[dict[str, Any]]:
    system = ctx.system()
    split = system.split
    payees = payees_of(system, args.from_block)
    signer = ctx.signer(what="the month-end close")
    current = int(split.currentEpoch())
    print(
        f"closing statements before {epoch_label(current)} for {len(payees)} payee(s) "
        f"(signed by {signer}) …"
    )
    batches = [payees[i : i + args.batch] for i in range(0, len(payees), args.batch)]
    statements: list[dict[str, Any]] = []
    for number, batch in enumerate(progress(batches, "closing"), start=1):
        with after_partial_work(
            statements, lambda: " (earlier batches closed; re-run month_end to finish)"
        ):
            tx = ctx.send(
                split.closeStatements,
                batch,
                signer=signer,
                what=f"closeStatements batch {number} of {len(batches)}",
            )
        if "MonthlyStatement" in tx.events:
            for event in tx.events["MonthlyStatement"]:
                statements.append(
                    {
                        "payee": str(event["payee"]),
                        "epoch": int(event["epoch"]),
                        "month": epoch_label(event["epoch"]),
                        "kind": PAYEE_KINDS[int(event["kind"])],
                        "earned": int(event["earned"]),
                        "claimed": int(event["claimed"]),
                        "closingBalance": int(event["closingBalance"]),
                    }
                )
    if not statements:
        print(
            f"no statements to close: every payee's open month is already {epoch_label(current)} "
            "(or it never earned anything)"
        )
        return statements
    print(
        table(
            [
                (
                    s["month"],
                    s["kind"],
                    s["payee"],
                    won(s["earned"]),
                    won(s["claimed"]),
                    won(s["closingBalance"]),
                )
                for s in statements
            ],
            ("month", "kind", "payee", "earned KRW", "claimed KRW", "closing KRW"),
            right=(3, 4, 5),
        )
    )
    print(f"{len(statements)} MonthlyStatement event(s) emitted")
    return statements


def main(*argv: Any) -> Any:
    return run_script(build_parser, month_end, argv)
