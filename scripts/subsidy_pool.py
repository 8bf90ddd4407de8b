"""Top up (or look at) the city's transfer-discount subsidy pool (JourneyClearing).

brownie run scripts/subsidy_pool.py main top-up 500,000 --network citypass-local
brownie run scripts/subsidy_pool.py main top-up 500,000 receipt=BUDGET-2025-07 --network …
brownie run scripts/subsidy_pool.py main status --network citypass-local
"""

from __future__ import annotations

import argparse
from typing import Any

from ._cli.arg_types import bytes32_text, krw
from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.errors import CliError, UsageError
from ._cli.output import show_bytes32, table, won
from ._cli.parsing import add_action, add_transaction_options, new_parser


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "subsidy_pool",
        "The subsidy pool pays MaaS transfer discounts (a leg starting soon after the previous "
        "one ended). top-up: TREASURY (or CITY_ADMIN) moves AMOUNT of its own credits into the "
        "pool; with receipt=REF it first mints them against that budget reference. status: the "
        "pool and the discount rules. The pool never goes negative: discounts shrink to what it holds.",
        examples=(
            "brownie run scripts/subsidy_pool.py main top-up 500,000 --network citypass-local",
            "brownie run scripts/subsidy_pool.py main top-up 500,000 receipt=BUDGET-2025-07 "
            "--network citypass-local",
            "brownie run scripts/subsidy_pool.py main status --network citypass-local",
        ),
    )
    add_action(parser, ("top-up", "status"))
    parser.add_argument(
        "amount", nargs="?", type=krw, metavar="AMOUNT", help="top-up: KRW, e.g. 500000"
    )
    parser.add_argument(
        "--receipt",
        type=bytes32_text("receipt reference"),
        help="top-up: mint the amount to the signer first, against this budget reference",
    )
    add_transaction_options(parser, "treasury", "the top-up")
    return parser


def subsidy_pool(args: argparse.Namespace, ctx: Context) -> dict[str, Any]:
    journeys = ctx.system().journeys
    credit = ctx.system().credit
    if args.action == "status":
        if args.amount is not None or args.receipt is not None:
            raise UsageError("status takes no AMOUNT or receipt")
        return _status(journeys, credit)
    if args.amount is None:
        raise UsageError("top-up needs the AMOUNT in KRW")
    signer = ctx.signer(what="the top-up")
    if args.receipt is not None:
        ctx.send(
            credit.mint,
            signer.address,
            args.amount,
            args.receipt,
            signer=signer,
            what="minting the top-up",
        )
        print(
            f"minted {won(args.amount)} KRW to {signer.address} (receipt {show_bytes32(args.receipt)})"
        )
    balance = int(credit.balanceOf(signer.address))
    if balance < args.amount:
        raise CliError(
            f"{signer.address} holds {won(balance)} KRW, less than {won(args.amount)}; "
            "mint first (receipt=REF) or top up less"
        )
    ctx.send(
        credit.approve, journeys.address, args.amount, signer=signer, what="approving the pool"
    )
    tx = ctx.send(journeys.topUp, args.amount, signer=signer, what="topping up the pool")
    pool = int(tx.events["SubsidyToppedUp"]["pool"])
    print(f"topped up {won(args.amount)} KRW; the subsidy pool holds {won(pool)} KRW")
    return {"amount": args.amount, "pool": pool}


def _status(journeys: Any, credit: Any) -> dict[str, Any]:
    pool = int(journeys.pool())
    rows = [
        ("pool", f"{won(pool)} KRW"),
        ("credits held", f"{won(credit.balanceOf(journeys))} KRW"),
        ("transfer window", f"{int(journeys.transferWindow()) // 60} min"),
        ("discount", f"{int(journeys.discountBps()) / 100:g}% of the transfer leg's fare"),
        ("cap per rider per day", f"{won(journeys.riderDailyCap())} KRW"),
    ]
    print(table(rows, ("subsidy pool", "")))
    return {"pool": pool}


def main(*argv: Any) -> Any:
    return run_script(build_parser, subsidy_pool, argv)
