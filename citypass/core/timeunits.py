"""Half-hour booking units in Korea Standard Time, mirroring contracts/libraries/HalfHours.sol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

UNIT_SECONDS = 1800
UNITS_PER_DAY = 48
KST = timezone(timedelta(hours=9), "KST")
LOCAL_OFFSET_SECONDS = 9 * 3600
MONDAY = 0


def align_up(timestamp: int) -> int:
    """The first half-hour boundary at or after `timestamp`."""
    return -(-timestamp // UNIT_SECONDS) * UNIT_SECONDS


def local_day(timestamp: int) -> int:
    """KST days since 1970-01-01 (what ParkingSlots.setBlackout takes)."""
    return (timestamp + LOCAL_OFFSET_SECONDS) // 86400


def weekday(timestamp: int) -> int:
    """Monday = 0 … Sunday = 6, in KST."""
    return datetime.fromtimestamp(timestamp, KST).weekday()


def kst(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, KST)


def next_local_midnight(timestamp: int) -> int:
    """The next 00:00 KST strictly after `timestamp`."""
    return (local_day(timestamp) + 1) * 86400 - LOCAL_OFFSET_SECONDS


def next_weekday_midnight(timestamp: int, wanted_weekday: int) -> int:
    """The next 00:00 KST that starts the given weekday (Monday = 0)."""
    midnight = next_local_midnight(timestamp)
    while weekday(midnight) != wanted_weekday:
        midnight += 86400
    return midnight


def epoch_of(timestamp: int) -> int:
    """Statement epoch (KST month) as the contracts count it: year * 12 + month - 1."""
    moment = datetime.fromtimestamp(timestamp, UTC) + timedelta(seconds=LOCAL_OFFSET_SECONDS)
    return moment.year * 12 + moment.month - 1
