"""KST calendar months, the way RevenueSplit's CivilMonth numbers them (year * 12 + month - 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

KST = timedelta(hours=9)


def epoch_of(timestamp: int) -> int:
    moment = datetime.fromtimestamp(timestamp, UTC) + KST
    return moment.year * 12 + moment.month - 1


def month_text(epoch: int) -> str:
    return f"{epoch // 12:04d}-{epoch % 12 + 1:02d}"
