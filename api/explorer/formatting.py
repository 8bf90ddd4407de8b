"""How the explorer writes times, money and addresses. Times and money follow the reader's
language (their one home is api/i18n/formats.py; the explorer's modules keep these names):
`kst` '2026년 3월 2일 오후 6:00' / '2 Mar 2026, 18:00', `kst_window`, `won` '₩4,800',
`day_text` for a KST day number. `kst_date` stays the ISO day ('2026-03-02') because the JSON
API (/v1/kpis) names days by it."""

from __future__ import annotations

from typing import Any

from api.i18n.formats import day_number as day_text
from api.i18n.formats import moment as kst
from api.i18n.formats import number, won
from api.i18n.formats import window as kst_window
from citypass.core import timeunits

__all__ = ["day_text", "hexify", "kst", "kst_date", "kst_window", "number", "short", "won"]


def kst_date(day: int) -> str:
    """A KST day number (days since 1970-01-01 in KST, FareMath.localDay) as '2026-03-02'."""
    return f"{timeunits.kst(timeunits.day_start(int(day))):%Y-%m-%d}"


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
