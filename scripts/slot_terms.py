"""Set a slot's weekly sharing windows, its prices and its blackout days (as the slot's owner).

    brownie run scripts/slot_terms.py main 7-12 "window=Mon-Fri 09:00-18:00" \
        "window=Mon-Sun 19:00-08:00" price=800 overage=300 blackout=2025-05-05 \
        --network citypass-local
"""

from __future__ import annotations

import argparse
from typing import Any

from citypass.core.timeunits import day_label, day_number, local_day
from citypass.core.windows import format_window

from ._cli.accounts import resolve_signer
from ._cli.arg_types import capped, non_negative_int, positive_int, slot_ids
from ._cli.context import Context
from ._cli.days import local_date
from ._cli.entry import run_script
from ._cli.errors import UsageError, after_partial_work
from ._cli.events import head_timestamp
from ._cli.output import compact_ids, progress
from ._cli.parsing import add_transaction_options, new_parser
from ._cli.windows import check_windows, parse_window

MAX_PRICE = 1_000_000
MAX_BLACKOUT_AHEAD_DAYS = 731


_price = capped(
    positive_int,
    MAX_PRICE,
    lambda _, value: f"price {value:,} is above the {MAX_PRICE:,} KRW ceiling",
)
_overage = capped(
    non_negative_int,
    MAX_PRICE,
    lambda _, value: f"overage {value:,} is above the {MAX_PRICE:,} KRW ceiling",
)


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "slot_terms",
        "Set what a slot's owner decides: when the slot is shared (up to 5 weekly windows in "
        "Korea time; an end at or before the start runs overnight), the price per 30 minutes, "
        "the overage per started 10 minutes, and blacked-out days. Only what you pass changes. "
        "The signer must own the slots (or be approved for them).",
        examples=(
            'brownie run scripts/slot_terms.py main 7 "window=Mon-Fri 09:00-18:00" '
            "--network citypass-local",
            'brownie run scripts/slot_terms.py main 7-12 "window=Mon-Sun 19:00-08:00" '
            '"window=Sat,Sun 08:00-19:00" price=800 overage=300 --network citypass-local',
            "brownie run scripts/slot_terms.py main 7 blackout=2025-05-05 "
            "blackout=2025-06-01..2025-06-03 --network citypass-local",
            "brownie run scripts/slot_terms.py main 7 clear-windows=yes --network citypass-local",
        ),
    )
    parser.add_argument(
        "slots", type=slot_ids, metavar="SLOTS", help="slot id, range or list: 7, 7-12, 7,9,11-13"
    )
    parser.add_argument(
        "--window",
        type=parse_window,
        action="append",
        default=[],
        metavar='"DAYS HH:MM-HH:MM"',
        help=(
            "a sharing window, e.g. 'Mon-Fri 09:00-18:00', 'Sat,Sun 10:00-16:00', "
            "'daily 19:00-08:00' (overnight), 'weekend 00:00-24:00'; repeat for several; "
            "replaces the slot's windows"
        ),
    )
    parser.add_argument(
        "--clear-windows",
        action="store_true",
        help="remove every window (the slot is then not bookable)",
    )
    parser.add_argument("--price", type=_price, help="KRW per 30 minutes (1..1,000,000)")
    parser.add_argument(
        "--overage", type=_overage, help="KRW per started 10 minutes of overstay (0..1,000,000)"
    )
    parser.add_argument(
        "--blackout",
        type=local_date,
        action="append",
        default=[],
        metavar="YYYY-MM-DD[..YYYY-MM-DD]",
        help="a KST day (or range) when the slot is not shared; repeatable",
    )
    parser.add_argument(
        "--reopen",
        type=local_date,
        action="append",
        default=[],
        metavar="YYYY-MM-DD[..YYYY-MM-DD]",
        help="undo a blackout; repeatable",
    )
    add_transaction_options(
        parser,
        None,
        "the changes",
        shown="the slot's owner on development; on live networks name the owner's keystore",
    )
    return parser


def _check_days(days: list[int], today: int) -> None:
    for day in days:
        if day < today:
            raise UsageError(
                f"{day_label(day)} is in the past (today in Korea is {day_label(today)})"
            )
        if day > today + MAX_BLACKOUT_AHEAD_DAYS:
            raise UsageError(
                f"{day_label(day)} is more than {MAX_BLACKOUT_AHEAD_DAYS} days ahead "
                f"(latest: {day_label(today + MAX_BLACKOUT_AHEAD_DAYS)})"
            )


def _signer_for(ctx: Context, owner: str, slot: int) -> Any:
    if ctx.args.signer:
        return ctx.signer(what="the changes")
    if ctx.is_development:
        return resolve_signer(owner, development=True)
    raise UsageError(
        f"slot {slot} is owned by {owner}: sign with that owner's keystore, e.g. --as NAME"
    )


def slot_terms(args: argparse.Namespace, ctx: Context) -> dict[int, dict[str, Any]]:
    windows = list(args.window)
    check_windows(windows)
    if windows and args.clear_windows:
        raise UsageError("pass either --window or --clear-windows, not both")
    blackouts = sorted({day_number(d) for group in args.blackout for d in group})
    reopens = sorted({day_number(d) for group in args.reopen for d in group})
    if set(blackouts) & set(reopens):
        raise UsageError("the same day is both blacked out and reopened; pick one")
    changes_terms = args.price is not None or args.overage is not None
    if not (windows or args.clear_windows or changes_terms or blackouts or reopens):
        raise UsageError(
            "nothing to change: pass --window, --clear-windows, --price, --overage, "
            "--blackout or --reopen"
        )
    system = ctx.system()
    slots = system.slots
    slot_list = list(dict.fromkeys(args.slots))
    count = int(slots.slotCount())
    unknown = [s for s in slot_list if s > count]
    if unknown:
        known = f"slots are numbered 1-{count}" if count else "no slots are registered yet"
        raise UsageError(f"unknown slot {compact_ids(unknown)}: {known}")
    if blackouts or reopens:
        _check_days(blackouts + reopens, local_day(head_timestamp()))

    owners = {slot: str(slots.ownerOf(slot)) for slot in slot_list}
    signers: dict[str, Any] = {}
    summary: dict[int, dict[str, Any]] = {}
    window_tuples = [w.as_tuple() for w in windows]
    for slot in progress(slot_list, "updating slots"):
        owner = owners[slot]
        if owner not in signers:
            signers[owner] = _signer_for(ctx, owner, slot)
        signer = signers[owner]
        with after_partial_work(
            summary, lambda: f" (slots {compact_ids(list(summary))} were already updated)"
        ):
            if windows or args.clear_windows:
                ctx.send(
                    slots.setWindows,
                    slot,
                    window_tuples,
                    signer=signer,
                    what=f"setting the windows of slot {slot}",
                )
            if changes_terms:
                current = slots.bookingTerms(slot)
                price = args.price if args.price is not None else int(current["pricePerUnit"])
                overage = (
                    args.overage if args.overage is not None else int(current["overagePer10Min"])
                )
                ctx.send(
                    slots.setTerms,
                    slot,
                    price,
                    overage,
                    signer=signer,
                    what=f"setting the prices of slot {slot}",
                )
            for day, blacked in [(d, True) for d in blackouts] + [(d, False) for d in reopens]:
                ctx.send(
                    slots.setBlackout,
                    slot,
                    day,
                    blacked,
                    signer=signer,
                    what=f"{'blacking out' if blacked else 'reopening'} {day_label(day)} on slot {slot}",
                )
        summary[slot] = _describe(slots, slot)

    for slot, info in summary.items():
        shown = "; ".join(info["windows"]) or "not shared (no windows)"
        print(
            f"slot {slot}: {shown} | {info['price']:,} KRW/30 min, "
            f"{info['overage']:,} KRW/10 min overage (terms v{info['version']})"
        )
        if blackouts:
            print(f"  blacked out: {', '.join(day_label(d) for d in blackouts)}")
        if reopens:
            print(f"  reopened: {', '.join(day_label(d) for d in reopens)}")
    return summary


def _describe(slots: Any, slot: int) -> dict[str, Any]:
    terms = slots.bookingTerms(slot)
    return {
        "windows": [format_window(w) for w in slots.windowsOf(slot)],
        "price": int(terms["pricePerUnit"]),
        "overage": int(terms["overagePer10Min"]),
        "version": int(terms["termsVersion"]),
    }


def main(*argv: Any) -> Any:
    return run_script(build_parser, slot_terms, argv)
