"""Mint CityPass credits (KRW, no decimals) against a top-up payment.

    brownie run scripts/mint_credits.py main 0xAb… 50,000 receipt=PG-2025-000123 \
        --network citypass-local
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from ._cli.arg_types import bytes32_text, krw
from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.errors import UsageError, after_partial_work
from ._cli.output import progress, show_bytes32, table, won
from ._cli.parsing import ACCOUNT_HELP, add_transaction_options, new_parser

_receipt = bytes32_text("receipt reference")


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "mint_credits",
        "Mint credits to a member against a top-up (1 credit = 1 KRW). The receipt reference "
        "(payment id, at most 32 characters, or a 0x 32-byte hash) is stored in the TopUp event "
        "so auditors can match it to the payment. Needs TREASURY.",
        examples=(
            "brownie run scripts/mint_credits.py main 0xAb… 50,000 receipt=PG-2025-000123 "
            "--network citypass-local",
            "brownie run scripts/mint_credits.py main csv=topups.csv --network citypass-local"
            "   # lines: account,amount,receipt",
        ),
    )
    parser.add_argument("account", nargs="?", metavar="ACCOUNT", help=ACCOUNT_HELP)
    parser.add_argument("amount", nargs="?", type=krw, metavar="AMOUNT", help="KRW, e.g. 50000")
    parser.add_argument("--receipt", type=_receipt, help="payment reference (required)")
    parser.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="mint many: a CSV file of account,amount,receipt lines (a header line is allowed)",
    )
    add_transaction_options(parser, "treasury", "the mint")
    return parser


def _from_csv(path: Path, ctx: Context) -> list[tuple[str, int, bytes]]:
    if not path.is_file():
        raise UsageError(f"CSV file {path} not found")
    rows: list[tuple[str, int, bytes]] = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
                continue
            if number == 1 and row[0].strip().lower() in ("account", "address"):
                continue
            if len(row) != 3:
                raise UsageError(f"{path}:{number}: expected account,amount,receipt")
            try:
                rows.append((ctx.address(row[0]), krw(row[1].strip()), _receipt(row[2].strip())))
            except (argparse.ArgumentTypeError, UsageError) as exc:
                raise UsageError(f"{path}:{number}: {exc}") from None
    if not rows:
        raise UsageError(f"{path} has no mint lines")
    return rows


def mint_credits(args: argparse.Namespace, ctx: Context) -> list[dict[str, Any]]:
    if args.csv is not None:
        if args.account or args.amount or args.receipt:
            raise UsageError("pass either --csv FILE or ACCOUNT AMOUNT --receipt REF, not both")
        mints = _from_csv(args.csv, ctx)
    else:
        if args.account is None or args.amount is None:
            raise UsageError("say who gets how much: ACCOUNT AMOUNT --receipt REF (or --csv FILE)")
        if args.receipt is None:
            raise UsageError("--receipt REF is required (the top-up's payment reference)")
        mints = [(ctx.address(args.account), args.amount, args.receipt)]
    credit = ctx.system().credit
    signer = ctx.signer(what="the mint")
    done: list[dict[str, Any]] = []
    for account, amount, receipt in progress(mints, "minting"):
        with after_partial_work(done, lambda: f" ({len(done)} mint(s) before it went through)"):
            tx = ctx.send(
                credit.mint,
                account,
                amount,
                receipt,
                signer=signer,
                what=f"minting {won(amount)} KRW to {account}",
            )
        done.append(
            {
                "account": account,
                "amount": int(tx.events["TopUp"]["amount"]),
                "receipt": show_bytes32(receipt),
                "balance": int(credit.balanceOf(account)),
                "tx": tx.txid,
            }
        )
    print(
        table(
            [(d["account"], won(d["amount"]), d["receipt"], won(d["balance"])) for d in done],
            ("account", "minted KRW", "receipt", "balance KRW"),
            right=(1, 3),
        )
    )
    print(f"total supply now {won(credit.totalSupply())} KRW")
    return done


def main(*argv: Any) -> Any:
    return run_script(build_parser, mint_credits, argv)
