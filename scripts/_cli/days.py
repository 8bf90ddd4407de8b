"""KST calendar days as command-line arguments (the day numbers the contracts take are
citypass.core.timeunits.day_number)."""

from __future__ import annotations

import argparse
import datetime as dt


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
