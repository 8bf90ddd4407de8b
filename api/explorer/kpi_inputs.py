"""The query parameters /v1/kpis and /dashboard share: which KST day the figures speak of, and
over how many days."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query

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


def day_or_latest(day: date | None) -> int | None:
    return None if day is None else day_number(day)
