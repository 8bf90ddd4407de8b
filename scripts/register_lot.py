"""Register a parking lot's spaces as slot tokens (one ERC-721 per space).

    brownie run scripts/register_lot.py main 12 public 0xAb… count=40 lat=37.50312 \
        lon=126.78745 spacing=2.5 --network citypass-local
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from citypass.protocol.coarse_location import PERSONAL, on_chain_location

from ._cli.arg_types import capped, category, degrees, non_negative_int, positive_int
from ._cli.context import Context
from ._cli.entry import run_script
from ._cli.errors import CliError, after_partial_work
from ._cli.output import compact_ids, progress
from ._cli.parsing import ACCOUNT_HELP, add_transaction_options, new_parser
from ._cli.terms import CATEGORIES

MAX_LOT_ID = 2**32 - 1
MAX_COUNT = 500
METRES_PER_DEGREE = 111_320.0


_lot_id = capped(
    non_negative_int, MAX_LOT_ID, lambda text, _: f"lot id {text} is above {MAX_LOT_ID:,} (uint32)"
)
_count = capped(
    positive_int,
    MAX_COUNT,
    lambda _, value: f"{value} slots at once is too many; register at most {MAX_COUNT} per run",
)


def _metres(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a distance in metres") from None
    if not math.isfinite(value) or value < 0 or value > 1000:
        raise argparse.ArgumentTypeError(f"spacing {text!r} must be 0..1000 metres")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "register_lot",
        "Register COUNT slots of one lot for OWNER (one slot token each, at the default price "
        "of 600 KRW per 30 min and 200 KRW per 10 min overage, with no sharing windows yet: "
        "set them with scripts/slot_terms.py). Needs OPERATOR.",
        examples=(
            "brownie run scripts/register_lot.py main 12 public 0xAb… count=40 lat=37.50312 "
            "lon=126.78745 spacing=2.5 --network citypass-local",
            "brownie run scripts/register_lot.py main 0 personal 7 lat=37.5031 lon=126.7874 "
            "--network development",
        ),
    )
    parser.add_argument("lot", type=_lot_id, metavar="LOT_ID", help="lot number (0 = no lot)")
    parser.add_argument(
        "category",
        type=category,
        metavar="CATEGORY",
        help="public | private | resident | personal (decides the revenue split)",
    )
    parser.add_argument(
        "owner", metavar="OWNER", help=f"who receives the slot tokens: {ACCOUNT_HELP}"
    )
    parser.add_argument("--count", type=_count, default=1, help="how many slots (default 1)")
    parser.add_argument(
        "--lat", type=degrees(90, "latitude"), required=True, help="latitude in degrees"
    )
    parser.add_argument(
        "--lon", type=degrees(180, "longitude"), required=True, help="longitude in degrees"
    )
    parser.add_argument(
        "--spacing",
        type=_metres,
        default=0.0,
        metavar="METRES",
        help="place the slots in a row running east, this many metres apart (default 0)",
    )
    add_transaction_options(parser, "operator", "the registrations")
    return parser


def place(lat: float, lon: float, index: int, spacing: float) -> tuple[int, int]:
    """Micro-degrees of slot `index` in a row running east from (lat, lon), exact."""
    east = index * spacing
    lon_offset = east / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 1e-6))
    lat_e6 = round(lat * 1_000_000)
    lon_e6 = round((lon + lon_offset) * 1_000_000)
    if abs(lon_e6) > 180_000_000:
        raise CliError(f"slot {index + 1} would lie beyond longitude ±180; reduce --spacing")
    return lat_e6, lon_e6


def register_lot(args: argparse.Namespace, ctx: Context) -> list[int]:
    owner = ctx.address(args.owner, "owner")
    system = ctx.system()
    signer = ctx.signer(what="the registrations")
    name = CATEGORIES[args.category]
    # A personal (home) space goes on chain as its coarse cell only (docs/privacy.md); its
    # owner gives the exact spot to her lessees through the API (PUT /v1/slots/{id}/spot).
    positions = [
        on_chain_location(args.category, *place(args.lat, args.lon, i, args.spacing))
        for i in range(args.count)
    ]
    if not system.access.isActiveMember(owner):
        print(
            f"warning: owner {owner} is not an active member; onboard it with "
            "scripts/member.py before it can claim revenue"
        )
    print(f"registering {args.count} {name} slot(s) of lot {args.lot} for {owner} …")
    registered: list[int] = []
    for lat_e6, lon_e6 in progress(positions, "registering slots"):
        with after_partial_work(
            registered,
            lambda: (
                f"; slots {compact_ids(registered)} were registered before it, so "
                f"re-run with count={args.count - len(registered)} for the rest"
            ),
        ):
            tx = ctx.send(
                system.slots.registerSlot,
                owner,
                args.category,
                args.lot,
                lat_e6,
                lon_e6,
                signer=signer,
                what=f"registering slot {len(registered) + 1} of {args.count}",
            )
        registered.append(int(tx.events["SlotRegistered"]["slotId"]))
    print(f"registered {len(registered)} slot(s) in lot {args.lot} ({name}) for {owner}")
    print(f"slot ids: {' '.join(str(i) for i in registered)}")
    if args.category == PERSONAL:
        lat_e6, lon_e6 = positions[0]
        print(
            f"placed on chain by the cell at {lat_e6 / 1e6:.3f}, {lon_e6 / 1e6:.3f} only: the "
            "owner sets the exact spot and access instructions through the API "
            "(PUT /v1/slots/ID/spot, her own session)"
        )
    return registered


def main(*argv: Any) -> Any:
    return run_script(build_parser, register_lot, argv)
