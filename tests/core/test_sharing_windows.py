"""citypass/core/windows: the one sharing-window model (unpacking, coverage, the text form)."""

from __future__ import annotations

from datetime import datetime

import pytest

from citypass.core.timeunits import KST, UNIT_SECONDS, local_day
from citypass.core.windows import (
    EVERY_DAY,
    WEEKDAYS,
    WEEKEND,
    WINDOW_BITS,
    Window,
    allowed_units,
    covers,
    format_days,
    format_window,
    unpack_windows,
)

# Monday 2026-03-02 in KST; the night of Friday 2026-03-06 runs into Saturday.
MONDAY = int(datetime(2026, 3, 2, tzinfo=KST).timestamp())
FRIDAY = MONDAY + 4 * 86400
HOUR = 3600


def pack(windows: list[Window]) -> int:
    """What SharingWindows.pack stores: 19 bits a window, mask | start << 7 | end << 13."""
    return sum(
        (w.days_mask | w.start_unit << 7 | w.end_unit << 13) << (WINDOW_BITS * i)
        for i, w in enumerate(windows)
    )


def test_window_is_a_tuple_the_contracts_and_the_read_model_take_as_is():
    window = Window.hours(WEEKDAYS, "19:00", "08:00")
    assert window == (WEEKDAYS, 38, 16) == window.as_tuple()
    days_mask, start, end = window
    assert (days_mask, start, end) == (0b0011111, 38, 16)
    assert Window.hours(EVERY_DAY, "00:00", "00:00").end_unit == 48
    with pytest.raises(ValueError, match="hour or half-hour"):
        Window.hours(EVERY_DAY, "09:15", "10:00")


def test_unpack_reads_back_what_the_contract_packs_and_stops_at_a_zero_mask():
    windows = [Window.hours(WEEKDAYS, "09:00", "18:00"), Window(WEEKEND, 0, 48)]
    assert unpack_windows(pack(windows)) == windows
    assert unpack_windows(0) == []
    assert all(isinstance(w, Window) for w in unpack_windows(pack(windows)))


def test_an_overnight_window_shares_the_next_mornings_units():
    overnight = [Window.hours(WEEKDAYS, "19:00", "08:00")]
    friday, saturday, sunday = 4, 5, 6
    assert allowed_units(overnight, friday) == set(range(0, 16)) | set(range(38, 48))
    assert allowed_units(overnight, saturday) == set(range(0, 16))  # Friday night's morning
    assert allowed_units(overnight, sunday) == set()


def test_covers_a_lease_across_midnight_kst_and_refuses_one_past_the_window():
    overnight = [Window.hours(WEEKDAYS, "19:00", "08:00")]
    friday_night = FRIDAY + 22 * HOUR
    assert covers(overnight, friday_night, friday_night + 9 * HOUR)  # 22:00 Fri → 07:00 Sat
    assert not covers(overnight, friday_night, friday_night + 11 * HOUR)  # → 09:00 Sat
    saturday_night = friday_night + 86400
    assert not covers(overnight, saturday_night, saturday_night + HOUR)


def test_covers_refuses_a_blacked_out_day_and_counts_a_partial_half_hour():
    every_day = [Window(EVERY_DAY, 0, 48)]
    start = MONDAY + 10 * HOUR
    assert covers(every_day, start, start + 2 * HOUR)
    assert not covers(every_day, start, start + 2 * HOUR, {local_day(start)})
    assert covers(every_day, start, start + 2 * HOUR, {local_day(start) + 1})
    office = [Window.hours(WEEKDAYS, "09:00", "18:00")]
    end_of_day = MONDAY + 18 * HOUR
    assert covers(office, end_of_day - UNIT_SECONDS, end_of_day)
    assert not covers(office, end_of_day - UNIT_SECONDS, end_of_day + 1)


@pytest.mark.parametrize(
    ("window", "text"),
    [
        (Window.hours(WEEKDAYS, "09:00", "18:00"), "Mon-Fri 09:00-18:00"),
        (Window.hours(EVERY_DAY, "19:00", "08:00"), "daily 19:00-08:00"),
        (Window(WEEKEND, 0, 48), "Sat-Sun 00:00-24:00"),
        (Window(0b0010111, 1, 47), "Mon-Wed,Fri 00:30-23:30"),
        ((0b1000001, 20, 21), "Mon,Sun 10:00-10:30"),
    ],
)
def test_format_window_writes_what_slot_terms_reads(window, text):
    assert format_window(window) == text


def test_format_days_names_runs_of_days():
    assert format_days(0b0000001) == "Mon"
    assert format_days(0b0110110) == "Tue-Wed,Fri-Sat"
