"""Sharing windows as ParkingSlots packs them (contracts/libraries/SharingWindows.sol), and the
availability test the slot search needs, mirroring the contract (KST half-hour units)."""

from __future__ import annotations

from collections.abc import Iterable

UNIT_SECONDS = 1800
UNITS_PER_DAY = 48
LOCAL_OFFSET_SECONDS = 9 * 3600
WINDOW_BITS = 19
MAX_WINDOWS = 5
# 1970-01-01 was a Thursday: weekday (Monday = 0) of KST day d is (d + 3) % 7.
EPOCH_WEEKDAY = 3

Window = tuple[int, int, int]  # (days_mask, start_unit, end_unit); bit 0 of days_mask is Monday


def unpack_windows(packed: int) -> list[Window]:
    """The windows of a packed uint96 (19 bits each; a zero days mask ends the list)."""
    windows: list[Window] = []
    for i in range(MAX_WINDOWS):
        word = (packed >> (WINDOW_BITS * i)) & ((1 << WINDOW_BITS) - 1)
        if word & 0x7F == 0:
            break
        windows.append((word & 0x7F, (word >> 7) & 0x3F, (word >> 13) & 0x3F))
    return windows


def allowed_units(windows: Iterable[Window], weekday: int) -> set[int]:
    """Units (0..47) of a KST day with that weekday that the windows share."""
    yesterday = (weekday + 6) % 7
    allowed: set[int] = set()
    for days, start, end in windows:
        if end > start:
            if days >> weekday & 1:
                allowed.update(range(start, end))
        else:  # overnight: the evening part today, the morning part on the next day
            if days >> weekday & 1:
                allowed.update(range(start, UNITS_PER_DAY))
            if days >> yesterday & 1:
                allowed.update(range(0, end))
    return allowed


def local_day_of_unit(unit: int) -> int:
    return (unit + LOCAL_OFFSET_SECONDS // UNIT_SECONDS) // UNITS_PER_DAY


def covers(windows: list[Window], blackout_days: set[int], start: int, end: int) -> bool:
    """Whether every half-hour of [start, end) (unix seconds) is shared and not blacked out."""
    for unit in range(start // UNIT_SECONDS, -(-end // UNIT_SECONDS)):
        local = unit + LOCAL_OFFSET_SECONDS // UNIT_SECONDS
        day, offset = divmod(local, UNITS_PER_DAY)
        if day in blackout_days:
            return False
        if offset not in allowed_units(windows, (day + EPOCH_WEEKDAY) % 7):
            return False
    return True
