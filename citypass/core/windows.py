"""Weekly sharing windows: the one Python model of contracts/libraries/SharingWindows.sol.

A window is (days_mask, start_unit, end_unit) in KST half-hours; bit 0 of days_mask is Monday.
`end_unit <= start_unit` means the window runs overnight into the next day. ParkingSlots packs
up to five windows into a uint96, 19 bits each; `unpack_windows` reads that back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from citypass.core.timeunits import UNIT_SECONDS, UNITS_PER_DAY, day_weekday, local_day_unit

MAX_WINDOWS = 5
WINDOW_BITS = 19
WEEKDAYS = 0b0011111
WEEKEND = 0b1100000
EVERY_DAY = 0b1111111
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Masks written (and read, by scripts/_cli.py) as one word.
DAY_GROUP_NAMES = (("daily", EVERY_DAY), ("Mon-Fri", WEEKDAYS), ("Sat-Sun", WEEKEND))


class Window(NamedTuple):
    """A tuple, so it passes to the contracts as is and unpacks as (days_mask, start, end)."""

    days_mask: int
    start_unit: int
    end_unit: int

    @classmethod
    def hours(cls, days_mask: int, start: str, end: str) -> Window:
        """Window from 'HH:MM' strings, e.g. Window.hours(WEEKDAYS, '19:00', '08:00')."""
        return cls(days_mask, _unit(start), _unit(end) or UNITS_PER_DAY)

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.days_mask, self.start_unit, self.end_unit)

    def is_valid(self) -> bool:
        return (
            0 < self.days_mask < 128
            and 0 <= self.start_unit < UNITS_PER_DAY
            and 0 < self.end_unit <= UNITS_PER_DAY
        )


def _unit(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    if minutes not in ("00", "30"):
        raise ValueError(f"{hhmm!r}: windows start and end on the hour or half-hour")
    return int(hours) * 2 + (1 if minutes == "30" else 0)


def unpack_windows(packed: int) -> list[Window]:
    """The windows of a packed uint96 (19 bits each; a zero days mask ends the list)."""
    windows: list[Window] = []
    for i in range(MAX_WINDOWS):
        word = (packed >> (WINDOW_BITS * i)) & ((1 << WINDOW_BITS) - 1)
        if word & 0x7F == 0:
            break
        windows.append(Window(word & 0x7F, (word >> 7) & 0x3F, (word >> 13) & 0x3F))
    return windows


def allowed_units(windows: Iterable[tuple[int, int, int]], weekday: int) -> set[int]:
    """Units (0..47) of a KST day with that weekday (Monday = 0) that the windows share."""
    yesterday = (weekday + 6) % 7
    allowed: set[int] = set()
    for days_mask, start_unit, end_unit in windows:
        starts_today = bool(days_mask >> weekday & 1)
        if end_unit > start_unit:
            if starts_today:
                allowed.update(range(start_unit, end_unit))
        else:  # overnight: the evening part today, the morning part on the next day
            if starts_today:
                allowed.update(range(start_unit, UNITS_PER_DAY))
            if days_mask >> yesterday & 1:
                allowed.update(range(0, end_unit))
    return allowed


def covers(
    windows: Iterable[tuple[int, int, int]],
    start: int,
    end: int,
    blackout_days: frozenset[int] | set[int] = frozenset(),
) -> bool:
    """Whether every half-hour [start, end) touches (unix seconds) is shared by the windows and
    lies on no blacked-out KST day."""
    windows = list(windows)
    for unit in range(start // UNIT_SECONDS, -(-end // UNIT_SECONDS)):
        day, offset = local_day_unit(unit)
        if day in blackout_days or offset not in allowed_units(windows, day_weekday(day)):
            return False
    return True


def format_window(window: Iterable[int]) -> str:
    """'Mon-Fri 09:00-18:00', 'daily 19:00-08:00' (overnight), 'Sat,Sun 00:00-24:00': the form
    scripts/slot_terms.py reads back, so what the explorer or the demo shows can be typed."""
    days_mask, start_unit, end_unit = (int(v) for v in window)
    return f"{format_days(days_mask)} {_clock(start_unit)}-{_clock(end_unit)}"


def format_days(mask: int) -> str:
    """'daily', 'Mon-Fri', 'Sat-Sun', or runs of days such as 'Mon-Wed,Fri'."""
    for name, group in DAY_GROUP_NAMES:
        if mask == group:
            return name
    runs: list[str] = []
    day = 0
    while day < 7:
        if mask >> day & 1:
            last = day
            while last + 1 < 7 and mask >> (last + 1) & 1:
                last += 1
            runs.append(DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}")
            day = last + 1
        else:
            day += 1
    return ",".join(runs)


def _clock(unit: int) -> str:
    return f"{unit // 2:02d}:{'30' if unit % 2 else '00'}"
