"""Timestamps as each standard wants them: NGSI-LD and GBFS use RFC 3339 strings, CDS uses
integer milliseconds since the Unix epoch."""

from __future__ import annotations

from datetime import UTC, datetime

from citypass.core.timeunits import KST


def rfc3339(unix_seconds: int | float) -> str:
    """'2019-06-03T09:00:00Z' (UTC, whole seconds)."""
    return datetime.fromtimestamp(int(unix_seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_kst(unix_seconds: int | float) -> str:
    """'2019-06-03T18:00:00+09:00': GBFS documents carry the system's local offset."""
    return datetime.fromtimestamp(int(unix_seconds), KST).isoformat()


def millis(unix_seconds: int | float) -> int:
    return int(unix_seconds) * 1000
