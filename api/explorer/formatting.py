"""How the explorer writes times, money and addresses: KST wall-clock, whole won, short hex."""

from __future__ import annotations

from typing import Any

from citypass.core import timeunits


def kst(timestamp: int) -> str:
    """'2026-03-02 18:00 KST' (seconds only when they are not zero)."""
    moment = timeunits.kst(int(timestamp))
    pattern = "%Y-%m-%d %H:%M" if moment.second == 0 else "%Y-%m-%d %H:%M:%S"
    return moment.strftime(pattern) + " KST"


def kst_date(day: int) -> str:
    """A KST day number (days since 1970-01-01 in KST, FareMath.localDay) as '2026-03-02'."""
    return f"{timeunits.kst(timeunits.day_start(int(day))):%Y-%m-%d}"


def kst_window(start: int, end: int) -> str:
    """'2026-03-02 18:00–22:00 KST' within one day, else both ends in full."""
    a, b = timeunits.kst(int(start)), timeunits.kst(int(end))
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
