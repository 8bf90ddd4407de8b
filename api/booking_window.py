"""A booking window as the API checks it before asking the chain: on half-hours, not empty, at
most LeaseMarket's longest lease (search, quote and the book prepare share these checks)."""

from __future__ import annotations

from api.errors import ValidationFailed
from citypass.core.timeunits import UNIT_SECONDS as UNIT
from citypass.protocol.contracts import MAX_LEASE_UNITS

MAX_WINDOW = MAX_LEASE_UNITS * UNIT  # LeaseMarket's longest lease (7 days)


def check_window(start: int, end: int) -> None:
    """422 unless [start, end) is a window LeaseMarket could book at all: on half-hours, not
    empty, at most a lease long (whether it is bookable now is the chain's answer)."""
    if start % UNIT or end % UNIT:
        raise ValidationFailed(
            f"start {start} and end {end} must be on a half-hour (multiples of {UNIT} s): "
            f"round start down to {start - start % UNIT} and end up to {-(-end // UNIT) * UNIT}",
            code="misaligned_window",
        )
    if end <= start:
        raise ValidationFailed(f"end {end} must be after start {start}", code="empty_window")
    if end - start > MAX_WINDOW:
        raise ValidationFailed(
            f"the window is {(end - start) // UNIT} half-hours; a lease lasts at most "
            f"{MAX_LEASE_UNITS} (7 days): shorten it",
            code="window_too_long",
        )
