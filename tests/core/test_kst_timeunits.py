"""citypass/core/timeunits: KST days, half-hour units and months as the contracts count them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from citypass.core.timeunits import (
    KST,
    day_number,
    day_start,
    day_weekday,
    epoch_of,
    epoch_of_month,
    kst,
    local_day,
    local_day_unit,
    month_bounds,
    month_of,
    month_text,
    next_local_midnight,
)

# 2026-03-02 00:00 KST is 2026-03-01 15:00 UTC.
MONDAY_KST = int(datetime(2026, 3, 1, 15, tzinfo=UTC).timestamp())


def test_a_kst_day_starts_at_15_00_utc():
    day = local_day(MONDAY_KST)
    assert day == day_number(date(2026, 3, 2)) == 20514
    assert local_day(MONDAY_KST - 1) == day - 1
    assert day_start(day) == MONDAY_KST
    assert next_local_midnight(MONDAY_KST) == MONDAY_KST + 86400
    assert next_local_midnight(MONDAY_KST - 1) == MONDAY_KST
    assert day_weekday(day) == 0 == kst(MONDAY_KST).weekday()
    assert kst(MONDAY_KST).isoformat() == "2026-03-02T00:00:00+09:00"
    assert kst(MONDAY_KST).tzinfo is KST


def test_local_day_unit_splits_a_utc_unit_into_kst_day_and_half_hour():
    unit = MONDAY_KST // 1800
    assert local_day_unit(unit) == (20514, 0)
    assert local_day_unit(unit - 1) == (20513, 47)


def test_months_roll_over_at_midnight_kst_not_utc():
    april_kst = int(datetime(2026, 4, 1, tzinfo=KST).timestamp())
    assert month_of(april_kst - 1) == "2026-03"
    assert month_of(april_kst) == "2026-04"  # still 31 March in UTC
    assert epoch_of(april_kst) == 2026 * 12 + 3 == epoch_of_month("2026-04")
    assert month_text(epoch_of(april_kst)) == "2026-04"
    start, end = month_bounds("2026-12")
    assert start == int(datetime(2026, 12, 1, tzinfo=KST).timestamp())
    assert end - start == 31 * 86400 and month_of(end) == "2027-01"
