"""Korea Standard Time as the contracts count it: half-hour booking units, KST day numbers and
KST calendar months (mirroring contracts/libraries/HalfHours.sol, FareMath.localDay and
CivilMonth.sol). The one home of the KST offset: everything else imports it from here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

UNIT_SECONDS = 1800
UNITS_PER_DAY = 48
DAY_SECONDS = 86400
KST = timezone(timedelta(hours=9), "KST")
LOCAL_OFFSET_SECONDS = 9 * 3600
LOCAL_OFFSET_UNITS = LOCAL_OFFSET_SECONDS // UNIT_SECONDS
MONDAY = 0
# 1970-01-01 (KST day 0) was a Thursday: the weekday (Monday = 0) of KST day d is (d + 3) % 7.
EPOCH_WEEKDAY = 3


def align_up(timestamp: int) -> int:
    """The first half-hour boundary at or after `timestamp`."""
    return -(-timestamp // UNIT_SECONDS) * UNIT_SECONDS


def local_day(timestamp: int) -> int:
    """KST days since 1970-01-01 (what ParkingSlots.setBlackout takes)."""
    return (timestamp + LOCAL_OFFSET_SECONDS) // DAY_SECONDS


def day_start(day: int) -> int:
    """Unix seconds of 00:00 KST on KST day number `day` (the inverse of `local_day`)."""
    return day * DAY_SECONDS - LOCAL_OFFSET_SECONDS


def day_number(day: date) -> int:
    """The KST day number of a calendar date (days since 1970-01-01)."""
    return (day - date(1970, 1, 1)).days


def day_label(day: int) -> str:
    """A KST day number as YYYY-MM-DD (the inverse of `day_number`)."""
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def day_weekday(day: int) -> int:
    """Monday = 0 … Sunday = 6 of KST day number `day`."""
    return (day + EPOCH_WEEKDAY) % 7


def local_day_unit(unit: int) -> tuple[int, int]:
    """(KST day number, half-hour of that day 0..47) of a UTC unit (timestamp // UNIT_SECONDS)."""
    return divmod(unit + LOCAL_OFFSET_UNITS, UNITS_PER_DAY)


def weekday(timestamp: int) -> int:
    """Monday = 0 … Sunday = 6, in KST."""
    return datetime.fromtimestamp(timestamp, KST).weekday()


def kst(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, KST)


def next_local_midnight(timestamp: int) -> int:
    """The next 00:00 KST strictly after `timestamp`."""
    return day_start(local_day(timestamp) + 1)


def next_weekday_midnight(timestamp: int, wanted_weekday: int) -> int:
    """The next 00:00 KST that starts the given weekday (Monday = 0)."""
    midnight = next_local_midnight(timestamp)
    while weekday(midnight) != wanted_weekday:
        midnight += DAY_SECONDS
    return midnight


def epoch_of(timestamp: int) -> int:
    """Statement epoch (KST month) as the contracts count it: year * 12 + month - 1."""
    moment = datetime.fromtimestamp(timestamp, UTC) + timedelta(seconds=LOCAL_OFFSET_SECONDS)
    return moment.year * 12 + moment.month - 1


def month_text(epoch: int) -> str:
    """'YYYY-MM' of a statement epoch."""
    return f"{epoch // 12:04d}-{epoch % 12 + 1:02d}"


def month_of(timestamp: int) -> str:
    """The KST month 'YYYY-MM' a timestamp falls in (RevenueSplit's statement month)."""
    return month_text(epoch_of(timestamp))


def epoch_of_month(month: str) -> int:
    """RevenueSplit's epoch number of 'YYYY-MM': year * 12 + month - 1 (CivilMonth.sol)."""
    year, number = (int(part) for part in month.split("-"))
    return year * 12 + number - 1


def month_bounds(month: str) -> tuple[int, int]:
    """[start, end) Unix seconds of a KST month 'YYYY-MM'."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=KST)
    following = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=KST)
    return int(start.timestamp()), int(following.timestamp())
