"""Weekly sharing windows: a Python model of contracts/libraries/SharingWindows.sol.

A window is (days_mask, start_unit, end_unit) in KST half-hours; bit 0 of days_mask is Monday.
`end_unit <= start_unit` means the window runs overnight into the next day.
"""

from __future__ import annotations

from dataclasses import dataclass

from citypass.core.timeunits import LOCAL_OFFSET_SECONDS, UNIT_SECONDS, UNITS_PER_DAY

MAX_WINDOWS = 5
WEEKDAYS = 0b0011111
WEEKEND = 0b1100000
EVERY_DAY = 0b1111111


@dataclass(frozen=True)
class Window:
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


def allowed_units(windows: list[Window], weekday: int) -> set[int]:
    """Units of a local day (0..47) shared on that weekday."""
    yesterday = (weekday + 6) % 7
    allowed: set[int] = set()
    for window in windows:
        starts_today = bool(window.days_mask >> weekday & 1)
        if window.end_unit > window.start_unit:
            if starts_today:
                allowed.update(range(window.start_unit, window.end_unit))
        else:
            if starts_today:
                allowed.update(range(window.start_unit, UNITS_PER_DAY))
            if window.days_mask >> yesterday & 1:
                allowed.update(range(0, window.end_unit))
    return allowed


def covers(windows: list[Window], start: int, end: int) -> bool:
    """Whether every half-hour of [start, end) (unix seconds) lies inside the windows."""
    for unit in range(start // UNIT_SECONDS, end // UNIT_SECONDS):
        local_unit = unit + LOCAL_OFFSET_SECONDS // UNIT_SECONDS
        day, offset = divmod(local_unit, UNITS_PER_DAY)
        weekday = (day + 3) % 7
        if offset not in allowed_units(windows, weekday):
            return False
    return True
