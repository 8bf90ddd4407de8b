"""The definitions behind the figures the dashboard, /v1/kpis and the demo's summary share, as
pure functions over plain data: the read model feeds them in the API, the chain's own logs in
the demo's summary, so the two can be compared and must agree (one truth per figure)."""

from __future__ import annotations

from collections.abc import Iterable

from api.i18n.catalog import N_
from citypass.core.impact import clipped_seconds
from citypass.core.timeunits import DAY_SECONDS, day_start

HOUR = 3600

# In English in /v1/kpis; the pages show them in the reader's language (the `translate` filter).
LEASED_DEFINITION = N_(
    "a shared space is leased while a lease that was not cancelled covers it (its booked span, "
    "paid for whether or not the car came); per hour: leased space-hours / shared spaces"
)
BOOKINGS_DEFINITION = N_("leases booked (LeaseBooked) during the KST day")
ILLEGAL_PARKING_DEFINITION = N_(
    "illegal-parking incidents reported on chain (IncidentReported, kind ILLEGAL_PARKING) by "
    "KST day of observation"
)
REVENUE_DEFINITION = N_(
    "credits allocated on chain to each stakeholder (RevenueAllocated for parking, FareAllocated "
    "for mobility fares) since the ledger began, earned whether or not yet claimed"
)


def leased_seconds_by_hour(spans: Iterable[tuple[int, int]], day: int) -> list[int]:
    """Leased space-seconds in each KST hour (0-23) of `day`, from lease spans [start, end).
    Leases of one slot never overlap (the market refuses it), so spans simply add up."""
    first = day_start(day)
    seconds = [0] * 24
    for start, end in spans:
        a, b = max(int(start), first), min(int(end), first + DAY_SECONDS)
        while a < b:
            hour_end = first + ((a - first) // HOUR + 1) * HOUR
            seconds[(a - first) // HOUR] += min(b, hour_end) - a
            a = hour_end
    return seconds


def leased_by_hour(spans: Iterable[tuple[int, int]], day: int, shared: int) -> list[dict]:
    """Per hour of `day`: the spaces leased on average over the hour and their share of the
    shared spaces."""
    return [
        {
            "hour": hour,
            "spacesLeased": round(seconds / HOUR, 2),
            "utilisation": round(seconds / (HOUR * shared), 4) if shared else 0.0,
        }
        for hour, seconds in enumerate(leased_seconds_by_hour(spans, day))
    ]


def leased_over_day(spans: Iterable[tuple[int, int]], day: int, shared: int) -> dict:
    """The day as a whole: spaces leased on average over its 24 hours (the impact's extra
    spaces a day, citypass/core/impact.py), and their share."""
    seconds = clipped_seconds(spans, day)
    return {
        "spacesLeased": round(seconds / DAY_SECONDS, 2),
        "utilisation": round(seconds / (DAY_SECONDS * shared), 4) if shared else 0.0,
    }
