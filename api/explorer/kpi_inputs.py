"""The query parameters /v1/kpis and /dashboard share: which KST day the figures speak of, and
over how many days."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query

from api.errors import ValidationFailed
from citypass.core.timeunits import day_number

Days = Annotated[
    int,
    Query(ge=1, le=31, description="KST days (ending with `day`) for the per-day figures"),
]
Day = Annotated[
    date | None,
    Query(
        description="The KST day (YYYY-MM-DD) the per-hour and per-day figures speak of "
        "[default: the latest complete day as of the indexed block]"
    ),
]


# The days a figure can speak of: the pilot's year on (the first day any ledger here could hold)
# until far ahead; a day outside gets a 422, not a contract call with a nonsense day.
FIRST_DAY, LAST_DAY = date(2019, 1, 1), date(2099, 12, 31)


def day_or_latest(day: date | None) -> int | None:
    if day is None:
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(
            f"day {day.isoformat()} is out of range: use {FIRST_DAY.isoformat()} … "
            f"{LAST_DAY.isoformat()} (YYYY-MM-DD, a KST day)"
        )
    return day_number(day)
