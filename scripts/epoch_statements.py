"""Close a KST day for the mobility operators and print their epoch statements (JourneyClearing).

brownie run scripts/epoch_statements.py main --network citypass-local
brownie run scripts/epoch_statements.py main day=2025-07-14 operator=0xAb… --network …
"""

from __future__ import annotations

import argparse
from typing import Any

from citypass.core.timeunits import day_label, day_number, kst

from ._cli.context import Context
from ._cli.days import local_date
from ._cli.entry import run_script
from ._cli.errors import UsageError
from ._cli.events import head_block, head_timestamp, scan_events
from ._cli.output import progress, table, won
from ._cli.parsing import ACCOUNT_HELP, add_from_block, add_transaction_options, new_parser

FIELDS = ("legs", "gross", "discounts", "fees", "villageShare", "net")


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "epoch_statements",
        "For every registered mobility operator (or the ones given), close one finished KST day "
        "(default: yesterday on the chain's clock, once its trips' dispute window has passed) with "
        "JourneyClearing.closeEpoch, which also releases the day's fares to the revenue split, "
        "and print its statement: settled legs, gross fares, transfer discounts granted on its legs (paid by "
        "the city's pool), platform fees, the village share and the operator's net. A day is "
        "closed once; an already closed day is printed from its event. Anyone may sign.",
        examples=(
            "brownie run scripts/epoch_statements.py main --network citypass-local",
            "brownie run scripts/epoch_statements.py main day=2025-07-14 operator=0xAb… "
            "--network citypass-local",
        ),
    )
    parser.add_argument(
        "--day", metavar="YYYY-MM-DD", help="the KST day to close (default: yesterday)"
    )
    parser.add_argument(
        "--operator",
        action="append",
        metavar="ACCOUNT",
        help=f"only this operator (repeatable); {ACCOUNT_HELP}",
    )
    add_from_block(parser, help="scan events from this block")
    add_transaction_options(parser, "operator", "the closeEpoch transactions")
    return parser


def epoch_statements(args: argparse.Namespace, ctx: Context) -> list[dict[str, Any]]:
    system = ctx.system()
    journeys = system.journeys
    today = int(journeys.currentEpoch())
    if args.day is None:
        epoch = today - 1
    else:
        try:
            days = local_date(args.day)
        except argparse.ArgumentTypeError as exc:
            raise UsageError(str(exc)) from None
        if len(days) != 1:
            raise UsageError("day= takes one date, not a range")
        epoch = day_number(days[0])
    label = day_label(epoch)
    if epoch >= today:
        raise UsageError(
            f"{label} is not over yet on the ledger's clock; close it from tomorrow on"
        )
    # the close also releases the day's fares, so it waits until no trip of it can be disputed
    final_at = int(system.trips.dayFinalAt(epoch))
    if head_timestamp() <= final_at:
        raise UsageError(
            f"trips of {label} may still be disputed until {kst(final_at):%Y-%m-%d %H:%M} KST; "
            "close it after that"
        )
    if args.operator:
        operators = list(dict.fromkeys(ctx.address(spec, "operator") for spec in args.operator))
    else:
        operators = [
            str(log["args"]["operator"])
            for log in scan_events(system.operators, "OperatorRegistered", args.from_block)
        ]
    if not operators:
        print("no mobility operators are registered; nothing to close")
        return []
    signer = None
    statements: list[dict[str, Any]] = []
    for operator in progress(operators, f"closing {label}"):
        if journeys.isClosed(operator, epoch):
            logs = journeys.events.EpochStatement.get_logs(
                from_block=args.from_block,
                to_block=head_block(),
                argument_filters={"operator": operator, "epoch": epoch},
            )
            values = dict(logs[-1]["args"]) if logs else {}
            statements.append(
                {"operator": operator, "closed": "earlier", **{f: values.get(f, 0) for f in FIELDS}}
            )
            continue
        signer = signer or ctx.signer(what="the closeEpoch transactions")
        tx = ctx.send(
            journeys.closeEpoch,
            operator,
            epoch,
            signer=signer,
            what=f"closing {label} for {operator}",
        )
        values = tx.events["EpochStatement"]
        statements.append(
            {"operator": operator, "closed": "now", **{f: int(values[f]) for f in FIELDS}}
        )
    print(f"Epoch statements for {label} (KST day {epoch})")
    print(
        table(
            [
                (s["operator"], s["closed"], s["legs"], *(won(s[f]) for f in FIELDS[1:]))
                for s in statements
            ],
            ("operator", "closed", "legs", "gross", "discounts", "fees", "village", "net KRW"),
            right=(2, 3, 4, 5, 6, 7),
        )
    )
    return statements


def main(*argv: Any) -> Any:
    return run_script(build_parser, epoch_statements, argv)
