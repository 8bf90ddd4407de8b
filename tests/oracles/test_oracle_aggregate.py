"""The oracle daemon's aggregation, unit level (no chain): debounce, dual-source reconcile,
heartbeats, checkpoints, and splitting reports by words."""

from __future__ import annotations

from brownie.test import given
from hypothesis import settings
from hypothesis import strategies as st

from oracles.aggregate.aggregator import Aggregator
from oracles.aggregate.debounce import Debouncer
from oracles.aggregate.words import split_by_words

WINDOW = 3_000
RECONCILE = 10_000


def agg(debounce: int = WINDOW) -> Aggregator:
    return Aggregator(debounce, RECONCILE, camera_min_confidence_bps=8000)


def park(a: Aggregator, slot: int, occupied: bool, t: int, source: str = "in_ground", conf=10_000):
    a.feed("park_start" if occupied else "park_end", source, slot, occupied, conf, t)


def states(observed) -> dict[int, bool]:
    return {slot: o.occupied for slot, o in observed.items()}


def test_change_commits_only_after_holding_for_the_window():
    a = agg()
    park(a, 7, True, 1_000)
    assert a.collect(3_999) == {}
    observed = a.collect(4_000)
    assert states(observed) == {7: True}
    assert observed[7].event_time_ms == 1_000 and observed[7].changed


def test_flap_shorter_than_the_window_produces_nothing():
    a = agg()
    park(a, 7, True, 1_000)
    park(a, 7, True, 2_000)
    assert states(a.collect(10_000)) == {7: True}
    park(a, 7, False, 20_000)
    park(a, 7, True, 21_500)  # back within 3 s: a flap
    assert a.collect(60_000) == {}
    assert a.counts["flaps"] == 1


def test_window_zero_disables_debounce():
    a = agg(debounce=0)
    park(a, 9, True, 5_000)
    park(a, 9, False, 5_001)
    park(a, 9, True, 5_002)
    # The last state wins within one collect; every change was committed at once.
    assert states(a.collect(5_002)) == {9: True}


def test_heartbeat_marks_observed_without_changing_state():
    a = agg()
    park(a, 3, True, 0)
    assert states(a.collect(10_000)) == {3: True}
    a.feed("scheduled_report", "in_ground", 3, False, 10_000, 20_000)
    observed = a.collect(30_000)
    assert states(observed) == {3: True} and not observed[3].changed


def test_heartbeat_of_an_unknown_slot_sets_its_state():
    a = agg()
    a.feed("scheduled_report", "in_ground", 4, True, 10_000, 1_000)
    assert states(a.collect(1_000)) == {4: True}


def test_comms_lost_is_counted_and_changes_nothing():
    a = agg()
    a.feed("comms_lost", "in_ground", 0, False, 10_000, 1_000)
    assert a.collect(100_000) == {} and a.counts["comms_lost"] == 1


def test_camera_that_disagrees_longer_than_the_window_overrides_and_is_counted():
    a = agg()
    park(a, 5, False, 0)
    assert states(a.collect(5_000)) == {5: False}
    park(a, 5, True, 6_000, source="camera", conf=9_000)
    assert a.collect(6_000 + RECONCILE - 1) == {}
    assert states(a.collect(6_000 + RECONCILE)) == {5: True}
    assert a.counts["disagreement"] == 1


def test_sensor_decides_when_it_saw_the_slot_after_the_camera():
    a = agg()
    park(a, 5, True, 0, source="camera", conf=9_500)
    assert states(a.collect(5_000)) == {5: True}  # camera-only so far: it decides
    park(a, 5, False, 6_000)  # the magnetometer sees the car leave, the camera says nothing
    assert states(a.collect(60_000)) == {5: False}
    assert a.collect(600_000) == {} and a.counts["disagreement"] == 0


def test_low_confidence_camera_is_ignored_and_counted():
    a = agg()
    park(a, 5, True, 0, source="camera", conf=5_000)
    assert a.collect(100_000) == {} and a.counts["low_confidence"] == 1


def test_checkpoint_restores_a_pending_debounce():
    a = agg()
    park(a, 8, True, 1_000)
    assert a.collect(2_000) == {}
    b = agg()
    b.restore(a.snapshot())
    assert states(b.collect(4_000)) == {8: True}


def test_split_by_words_keeps_words_whole_and_ascending():
    observed = {s: bool(s % 2) for s in (1, 2, 256, 300, 600, 5000, 70)}
    chunks = split_by_words(observed, 2)
    assert [sorted({s >> 8 for s in c}) for c in chunks] == [[0, 1], [2, 19]]
    assert {k: v for c in chunks for k, v in c.items()} == observed


def test_debouncer_candidate_keeps_its_first_time():
    d = Debouncer()
    d.feed(True, 100, 50)
    d.feed(True, 120, 50)
    assert d.advance(150, 50) and d.stable_since_ms == 100


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 6), st.booleans(), st.integers(0, 8_000)), min_size=1, max_size=40
    )
)
def test_committed_state_equals_the_last_held_state(steps):
    """Model: with debounce, each slot ends in its last reported state once time passes the
    window; every observation emitted is a real change from the previous committed value."""
    a = agg()
    t = 0
    last: dict[int, bool] = {}
    committed: dict[int, bool] = {}
    for slot, occupied, gap in steps:
        t += gap
        park(a, slot, occupied, t)
        last[slot] = occupied
        for s, o in a.collect(t).items():
            assert committed.get(s) != o.occupied
            committed[s] = o.occupied
    for s, o in a.collect(t + WINDOW).items():
        assert committed.get(s) != o.occupied
        committed[s] = o.occupied
    assert committed == last
