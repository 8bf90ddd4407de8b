"""How the explorer writes times, money and addresses: KST wall-clock, whole won, short hex."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

KST = timezone(timedelta(hours=9), "KST")


def kst_datetime(timestamp: int) -> datetime:
    return datetime.fromtimestamp(int(timestamp), UTC).astimezone(KST)


def kst(timestamp: int) -> str:
    """'2026-03-02 18:00 KST' (seconds only when they are not zero)."""
    moment = kst_datetime(timestamp)
    pattern = "%Y-%m-%d %H:%M" if moment.second == 0 else "%Y-%m-%d %H:%M:%S"
    return moment.strftime(pattern) + " KST"


def kst_date(day: int) -> str:
    """A KST day number (days since 1970-01-01 in KST, FareMath.localDay) as '2026-03-02'."""
    return f"{kst_datetime(int(day) * 86400 - 9 * 3600):%Y-%m-%d}"


def kst_window(start: int, end: int) -> str:
    """'2026-03-02 18:00–22:00 KST' within one day, else both ends in full."""
    a, b = kst_datetime(start), kst_datetime(end)
    if a.date() == b.date():
        return f"{a:%Y-%m-%d %H:%M}–{b:%H:%M} KST"
    return f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M} KST"


def won(amount: int) -> str:
    """Credits are whole KRW (0 decimals): '₩4,800'."""
    amount = int(amount)
    return ("-₩" if amount < 0 else "₩") + f"{abs(amount):,}"


def short(address: str) -> str:
    return f"{address[:6]}…{address[-4:]}" if address and len(address) == 42 else str(address)


def hexify(value: Any) -> Any:
    """Event arguments made printable: bytes as 0x-hex, containers element-wise."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, list | tuple):
        return [hexify(v) for v in value]
    if isinstance(value, dict):
        return {k: hexify(v) for k, v in value.items()}
    return value


def month_of(timestamp: int) -> str:
    """The KST month 'YYYY-MM' a timestamp falls in (RevenueSplit's statement month)."""
    return f"{kst_datetime(timestamp):%Y-%m}"


def epoch_of_month(month: str) -> int:
    """RevenueSplit's epoch number of 'YYYY-MM': year * 12 + month - 1 (CivilMonth.sol)."""
    year, number = (int(part) for part in month.split("-"))
    return year * 12 + number - 1


def month_bounds(month: str) -> tuple[int, int]:
    """[start, end) Unix seconds of a KST month."""
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=KST)
    following = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=KST)
    return int(start.timestamp()), int(following.timestamp())
