"""The impact figures' arithmetic (citypass/core/impact.py), pure."""

from __future__ import annotations

from citypass.core.impact import ImpactFacts, clipped_seconds, figures, jobs_by_role, observed_days
from citypass.core.timeunits import day_label, day_start

DAY = 20_000  # a KST day number
INPUTS = dict.fromkeys(("supplyRatio", "extraSpacesPerDay", "illegalParkingPerDay", "jobs"), "x")


def at(day: int, hour: float) -> int:
    return day_start(day) + int(hour * 3600)


def test_days_are_split_at_the_first_booking_and_only_complete_days_count():
    before, after = observed_days(at(DAY, 9), at(DAY + 2, 8), at(DAY + 4, 1))
    assert (before, after) == ([DAY, DAY + 1], [DAY + 2, DAY + 3])
    # No booking yet: every complete day since the first incident is "before".
    assert observed_days(at(DAY, 9), None, at(DAY + 2, 0)) == ([DAY, DAY + 1], [])
    assert observed_days(None, at(DAY, 9), at(DAY + 2, 0)) == ([], [])


def test_leased_seconds_are_clipped_to_the_day():
    spans = [
        (at(DAY - 1, 22), at(DAY, 2)),
        (at(DAY, 10), at(DAY, 12)),
        (at(DAY, 23), at(DAY + 1, 7)),
    ]
    assert clipped_seconds(spans, DAY) == (2 + 2 + 1) * 3600


def test_a_staff_member_with_two_roles_is_one_job_and_other_roles_are_none():
    held = [("0xA", "VALET"), ("0xa", "INSPECTOR"), ("0xB", "OPERATOR"), ("0xC", "TREASURY")]
    assert jobs_by_role(held) == {"VALET": 1, "INSPECTOR": 0, "OPERATOR": 1}


def test_days_without_any_report_are_not_watched_days():
    """A weekend between a Friday before sharing and a Monday after is not counted as zero."""
    facts = ImpactFacts(
        as_of_block=7, head_time=at(DAY + 4, 1), vehicles=4, base_spaces=1, shared_spaces=3,
        leased_seconds=6 * 3600, leased_day=DAY + 3, before_days=[DAY, DAY + 1, DAY + 2],
        after_days=[DAY + 3], illegal_by_day={DAY: 10, DAY + 3: 4},
    )  # fmt: skip
    impact = figures(facts, INPUTS)
    by_key = {f["key"]: f for f in impact["figures"]}
    illegal = by_key["illegalParkingPerDay"]
    assert (illegal["before"], illegal["after"]) == (10, 4)
    assert illegal["counts"]["byDay"] == {day_label(DAY): 10, day_label(DAY + 3): 4}
    assert (by_key["supplyRatio"]["before"], by_key["supplyRatio"]["after"]) == (0.25, 1.0)
    assert by_key["extraSpacesPerDay"]["value"] == 0.25
    assert impact["asOfBlock"] == 7
