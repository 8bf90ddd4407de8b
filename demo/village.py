"""The Sangsalmi village as the pilot measured it (DESIGN §1), and the shared-space mix we seed.

The pilot shared 280 spaces. The seed document does not break them down by kind, so the mix
below is ours, chosen to match what it describes:
- the Technopark private lot, shared from the evening commute until the next morning,
- two public lots around the village,
- resident-priority on-street spaces, shared while their holders are at work,
- residents' own spaces, shared on weekdays.
"""

from __future__ import annotations

from dataclasses import dataclass

from citypass.core.pilot import PILOT_SHARED_SPACES, SPACES_BEFORE_SHARING
from citypass.core.windows import EVERY_DAY, WEEKDAYS, WEEKEND, Window

PUBLIC_LOT, PRIVATE_LOT, RESIDENT_PRIORITY, PERSONAL = 0, 1, 2, 3
CATEGORY_NAMES = {
    PUBLIC_LOT: "public lot",
    PRIVATE_LOT: "private lot",
    RESIDENT_PRIORITY: "resident-priority",
    PERSONAL: "personal",
}


# Samjeong-dong, Bucheon (micro-degrees).
VILLAGE_LAT_E6 = 37_517_000
VILLAGE_LON_E6 = 126_777_000


@dataclass(frozen=True)
class LotPlan:
    lot_id: int
    name: str
    category: int
    spaces: int
    windows: tuple[Window, ...]
    price_per_30min: int
    overage_per_10min: int
    lat_e6: int
    lon_e6: int
    owners: int  # how many distinct owners the spaces belong to (1 = one lot operator or the city)


LOTS: tuple[LotPlan, ...] = (
    LotPlan(
        1,
        "Technopark lot (evening to morning)",
        PRIVATE_LOT,
        120,
        (Window.hours(WEEKDAYS, "19:00", "08:00"), Window(WEEKEND, 0, 48)),
        500,
        200,
        37_519_500,
        126_772_000,
        1,
    ),
    LotPlan(
        2,
        "Samjeong public lot A",
        PUBLIC_LOT,
        48,
        (Window(EVERY_DAY, 0, 48),),
        600,
        200,
        37_516_200,
        126_779_400,
        1,
    ),
    LotPlan(
        3,
        "Samjeong public lot B",
        PUBLIC_LOT,
        32,
        (Window(EVERY_DAY, 0, 48),),
        600,
        200,
        37_514_800,
        126_775_100,
        1,
    ),
    LotPlan(
        4,
        "Resident-priority street spaces",
        RESIDENT_PRIORITY,
        50,
        (Window.hours(WEEKDAYS, "09:00", "18:00"),),
        400,
        200,
        37_517_300,
        126_777_600,
        1,
    ),
    LotPlan(
        5,
        "Residents' own spaces",
        PERSONAL,
        30,
        (Window.hours(WEEKDAYS, "09:00", "18:00"),),
        600,
        200,
        37_517_900,
        126_776_400,
        30,
    ),
)

assert sum(lot.spaces for lot in LOTS) == PILOT_SHARED_SPACES

# The spaces the village had before sharing (DESIGN §1: about 144), registered on chain as slots
# without sharing windows, in lots of their own, so the supply ratio counts them from the chain.
# The seed gives only the total; the split between public and private is our assumption.
BASE_LOTS: tuple[LotPlan, ...] = (
    LotPlan(
        11, "Public spaces (before sharing)", PUBLIC_LOT, 64, (), 0, 0, 37_516_600, 126_778_200, 1
    ),
    LotPlan(
        12, "Private spaces (before sharing)", PERSONAL, 80, (), 0, 0, 37_517_700, 126_776_900, 80
    ),
)

assert sum(lot.spaces for lot in BASE_LOTS) == SPACES_BEFORE_SHARING
