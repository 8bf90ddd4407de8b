"""KST calendar days: date arguments, and the day numbers the contracts take."""

from __future__ import annotations

import argparse
import datetime as dt

_EPOCH_DAY = dt.date(1970, 1, 1)


def local_date(text: str) -> list[dt.date]:
    """'2025-05-05' or a range '2025-05-01..2025-05-05' (KST calendar days)."""
    first_text, sep, last_text = text.partition("..")
    try:
        first = dt.date.fromisoformat(first_text.strip())
        last = dt.date.fromisoformat(last_text.strip()) if sep else first
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date YYYY-MM-DD (or a range YYYY-MM-DD..YYYY-MM-DD)"
        ) from None
    if last < first:
        raise argparse.ArgumentTypeError(f"{text!r}: the range ends before it starts")
    if (last - first).days > 92:
        raise argparse.ArgumentTypeError(f"{text!r}: at most 93 days per range")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def day_number(day: dt.date) -> int:
    """KST days since 1970-01-01: what ParkingSlots.setBlackout takes."""
    return (day - _EPOCH_DAY).days


def day_label(number: int) -> str:
    """A KST day number as YYYY-MM-DD (the inverse of day_number)."""
    return (_EPOCH_DAY + dt.timedelta(days=number)).isoformat()
