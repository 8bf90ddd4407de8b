"""Weekly sharing windows as operators type and read them: 'Mon-Fri 09:00-18:00'.

The operators' parser; the text form it reads is the one citypass.core.windows.format_window
writes, so a window shown by a script, the explorer or the demo can be typed back."""

from __future__ import annotations

import argparse
import re
from collections.abc import Sequence

from citypass.core.windows import MAX_WINDOWS, Window

from .errors import UsageError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_GROUPS = {
    "daily": 0b1111111,
    "everyday": 0b1111111,
    "weekdays": 0b0011111,
    "weekend": 0b1100000,
}


def parse_window(text: str) -> Window:
    """'Mon-Fri 09:00-18:00', 'Sat,Sun 10:00-16:00', 'daily 19:00-08:00' (overnight)."""
    parts = text.split()
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(
            f"window {text!r} should be DAYS HH:MM-HH:MM, e.g. 'Mon-Fri 09:00-18:00'"
        )
    days_text, hours_text = parts
    mask = _days_mask(days_text, text)
    match = re.fullmatch(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})", hours_text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"window {text!r}: hours should be HH:MM-HH:MM, e.g. 09:00-18:00"
        )
    start = _half_hour(int(match[1]), match[2], text, is_end=False)
    end = _half_hour(int(match[3]), match[4], text, is_end=True)
    if start == end:
        raise argparse.ArgumentTypeError(
            f"window {text!r} starts and ends at the same time; for all day use 00:00-24:00"
        )
    window = Window(mask, start, end or 48)
    if not window.is_valid():  # pragma: no cover - the checks above make this unreachable
        raise argparse.ArgumentTypeError(f"window {text!r} is not valid")
    return window


def _days_mask(days_text: str, whole: str) -> int:
    lowered = days_text.lower()
    if lowered in _DAY_GROUPS:
        return _DAY_GROUPS[lowered]
    mask = 0
    for item in lowered.split(","):
        first, sep, last = item.partition("-")
        start_day = _day_index(first, whole)
        end_day = _day_index(last, whole) if sep else start_day
        day = start_day
        while True:  # ranges may wrap, e.g. Fri-Mon
            mask |= 1 << day
            if day == end_day:
                break
            day = (day + 1) % 7
    return mask


def _day_index(name: str, whole: str) -> int:
    key = name.strip()[:3]
    if key not in DAY_NAMES or not name.strip():
        raise argparse.ArgumentTypeError(
            f"window {whole!r}: unknown day {name!r}; use Mon Tue Wed Thu Fri Sat Sun, ranges "
            "like Mon-Fri, lists like Sat,Sun, or daily/weekdays/weekend"
        )
    return DAY_NAMES.index(key)


def _half_hour(hours: int, minutes: str, whole: str, *, is_end: bool) -> int:
    if minutes not in ("00", "30"):
        raise argparse.ArgumentTypeError(
            f"window {whole!r}: times are on the hour or half-hour (:00 or :30), not :{minutes}"
        )
    if is_end and hours == 24 and minutes == "00":
        return 48
    if not 0 <= hours <= 23:
        raise argparse.ArgumentTypeError(
            f"window {whole!r}: hour {hours:02d} is out of range (00-23, or 24:00 as an end)"
        )
    return hours * 2 + (1 if minutes == "30" else 0)


def check_windows(windows: Sequence[Window]) -> None:
    if len(windows) > MAX_WINDOWS:
        raise UsageError(
            f"{len(windows)} windows given; a slot takes at most {MAX_WINDOWS} (merge some)"
        )
