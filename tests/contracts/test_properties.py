"""Hypothesis properties of the lease market: windows, prices, overstay, the split and times.

Each property draws its inputs with brownie's Hypothesis wrappers; brownie reverts the chain
between examples, so every example starts from the same deployment and the same `day`.
"""

from __future__ import annotations

import pytest
from brownie.test import given, strategy
from hypothesis import assume, event, settings
from hypothesis import strategies as st

from citypass.core.windows import MAX_WINDOWS, Window, covers
from citypass.protocol.contracts import MAX_ADVANCE_SECONDS
from tests.contract_helpers import head_time, mine_at, pin_next_block, reverts_with

HOUR = 3600
UNIT = 1800
BPS = 10_000
PENALTY = 2000
OVERAGE_STEP = 600
ZERO_RECEIPT = b"\x00" * 32
# Owner, village enterprise, city fund, platform basis points (DESIGN §4); dust to the village.
DEFAULT_SPLITS = {
    0: (0, 3000, 6000, 1000),
    1: (5000, 3000, 0, 2000),
    2: (0, 7000, 3000, 0),
    3: (6000, 2500, 0, 1500),
}
VILLAGE_ENTERPRISE = 1

WITHIN_A_DAY = strategy("uint32", max_value=86400)  # seconds from the head to the next block
windows_strategy = st.lists(
    st.builds(
        Window,
        days_mask=st.integers(min_value=1, max_value=127),
        start_unit=st.integers(min_value=0, max_value=47),
        end_unit=st.integers(min_value=1, max_value=48),
    ),
    min_size=1,
    max_size=5,
)


def book_at(system, slot_id, resident, now, start, end, refusal=None):
    """Book start..end in a block mined at exactly `now`: it must revert with `refusal`
    (error, *args) when one is given, else book (the transaction is returned)."""
    pin_next_block(now)
    if refusal:
        with reverts_with(*refusal):
            system.market.book(slot_id, start, end, 10**9, {"from": resident})
        return None
    tx = system.market.book(slot_id, start, end, 10**9, {"from": resident})
    assert tx.events["LeaseBooked"]["start"] == start
    return tx


def expected_split(amount: int, bps: tuple[int, int, int, int], dust_party: int) -> list[int]:
    parts = [amount * share // BPS for share in bps]
    parts[dust_party] += amount - sum(parts)
    return parts


# ------------------------------------------------------------------------------- windows


@given(
    windows=windows_strategy,
    start_unit=strategy("uint16", max_value=14 * 48),
    units=strategy("uint16", min_value=1, max_value=96),
)
@settings(max_examples=40)
def test_quote_matches_window_model(system, slot_id, owner, day, windows, start_unit, units):
    system.slots.setWindows(slot_id, [w.as_tuple() for w in windows], {"from": owner})
    start = day + start_unit * UNIT
    end = start + units * UNIT
    inside = covers(windows, start, end)
    event(
        f"inside windows: {inside}, overnight: {any(w.end_unit <= w.start_unit for w in windows)}"
    )
    if inside:
        assert system.market.quote(slot_id, start, end) == units * 600
    else:
        with reverts_with("LeaseMarketOutsideWindow", slot_id, start, end):
            system.market.quote(slot_id, start, end)


@given(windows=windows_strategy)
@settings(max_examples=30)
def test_windows_round_trip_through_packing(system, slot_id, owner, windows):
    system.slots.setWindows(slot_id, [w.as_tuple() for w in windows], {"from": owner})
    assert [tuple(w) for w in system.slots.windowsOf(slot_id)] == [w.as_tuple() for w in windows]


any_window = st.builds(
    Window,
    days_mask=st.one_of(st.integers(1, 127), st.integers(0, 255)),
    start_unit=st.one_of(st.integers(0, 47), st.integers(0, 255)),
    end_unit=st.one_of(st.integers(1, 48), st.integers(0, 255)),
)


@given(windows=st.lists(any_window, min_size=1, max_size=7))
@settings(max_examples=30)
def test_set_windows_rejects_the_first_invalid_window(system, slot_id, owner, windows):
    tuples = [w.as_tuple() for w in windows]
    invalid = [i for i, w in enumerate(windows) if not w.is_valid()]
    if len(windows) > MAX_WINDOWS:
        with reverts_with("ParkingSlotsInvalidWindow", len(windows)):
            system.slots.setWindows(slot_id, tuples, {"from": owner})
    elif invalid:
        with reverts_with("ParkingSlotsInvalidWindow", invalid[0]):
            system.slots.setWindows(slot_id, tuples, {"from": owner})
    else:
        system.slots.setWindows(slot_id, tuples, {"from": owner})
        assert [tuple(w) for w in system.slots.windowsOf(slot_id)] == tuples


# -------------------------------------------------------------------------------- prices


@given(
    price=strategy("uint32", min_value=1, max_value=1_000_000),
    units=strategy("uint16", min_value=1, max_value=336),
    start_unit=strategy("uint16", max_value=48 * 20),
)
@settings(max_examples=30)
def test_book_charges_units_times_price(
    system, people, slot_id, owner, resident, day, price, units, start_unit
):
    system.slots.setTerms(slot_id, price, 200, {"from": owner})
    cost = units * price
    system.credit.mint(resident, cost, ZERO_RECEIPT, {"from": people.treasury})
    start = day + start_unit * UNIT
    end = start + units * UNIT
    assert system.market.quote(slot_id, start, end) == cost
    resident_before = system.credit.balanceOf(resident)
    split_before = system.credit.balanceOf(system.split)

    tx = system.market.book(slot_id, start, end, cost, {"from": resident})

    assert tx.events["LeaseBooked"]["price"] == cost
    assert resident_before - system.credit.balanceOf(resident) == cost
    assert system.credit.balanceOf(system.split) - split_before == cost
    assert system.credit.balanceOf(system.market) == 0


@given(
    price=strategy("uint32", min_value=1, max_value=1_000_000),
    units=strategy("uint16", min_value=1, max_value=336),
)
@settings(max_examples=20)
def test_book_reverts_when_price_above_max(system, slot_id, owner, resident, day, price, units):
    system.slots.setTerms(slot_id, price, 200, {"from": owner})
    cost = units * price
    start = day + 10 * HOUR
    with reverts_with("LeaseMarketPriceAboveMax", cost, cost - 1):
        system.market.book(slot_id, start, start + units * UNIT, cost - 1, {"from": resident})


# ------------------------------------------------------------------------------ overstay


@given(
    minutes_late=strategy("uint16", max_value=600),
    extra_seconds=strategy("uint8", max_value=59),
    overage=strategy("uint32", max_value=10_000),
)
@settings(max_examples=30)
def test_check_out_charges_overstay_per_started_ten_minutes(
    system, slot_id, owner, resident, day, minutes_late, extra_seconds, overage
):
    system.slots.setTerms(slot_id, 600, overage, {"from": owner})
    start, end = day + 10 * HOUR, day + 11 * HOUR
    lease_id = system.market.book(slot_id, start, end, 1200, {"from": resident}).return_value
    mine_at(start)
    system.market.checkIn(lease_id, {"from": resident})
    late = minutes_late * 60 + (extra_seconds if minutes_late else 0)
    balance_before = system.credit.balanceOf(resident)

    pin_next_block(end + late)
    tx = system.market.checkOut(lease_id, {"from": resident})

    expected = (-(-late // OVERAGE_STEP)) * overage + PENALTY if late > 0 else 0
    settled = tx.events["LeaseSettled"]
    assert settled["at"] == end + late
    assert settled["overstayCharge"] == expected
    assert settled["overstayPaid"] is True
    assert balance_before - system.credit.balanceOf(resident) == expected
    assert tx.events["RevenueAllocated"]["amount"] == 1200 + expected


# --------------------------------------------------------------------------------- split


@given(
    category=strategy("uint8", max_value=3),
    amount=strategy("uint256", max_value=10**15),
)
@settings(max_examples=40)
def test_default_split_parts_sum_to_amount(system, category, amount):
    *bps, dust_party = system.split.splitOf(category)
    assert tuple(bps) == DEFAULT_SPLITS[category]
    assert dust_party == VILLAGE_ENTERPRISE
    parts = list(system.split.previewSplit(category, amount))

    assert sum(parts) == amount
    assert parts == expected_split(amount, DEFAULT_SPLITS[category], VILLAGE_ENTERPRISE)
    assert parts[dust_party] - amount * bps[dust_party] // BPS < 4


@st.composite
def basis_points(draw) -> tuple[int, int, int, int]:
    cuts = sorted(draw(st.lists(st.integers(0, BPS), min_size=3, max_size=3)))
    return (cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1], BPS - cuts[2])


@given(
    category=strategy("uint8", max_value=3),
    bps=basis_points(),
    dust_party=strategy("uint8", max_value=3),
    amount=strategy("uint256", max_value=10**15),
)
@settings(max_examples=30)
def test_any_split_gives_dust_party_the_remainder(
    system, people, category, bps, dust_party, amount
):
    system.split.setSplit(category, *bps, dust_party, {"from": people.admin})
    parts = list(system.split.previewSplit(category, amount))

    assert sum(parts) == amount
    assert parts == expected_split(amount, bps, dust_party)
    for party, share in enumerate(bps):
        floor = amount * share // BPS
        if party == dust_party:
            assert 0 <= parts[party] - floor < 4
        else:
            assert parts[party] == floor


# --------------------------------------------------------------------------------- times


@given(
    start_unit=strategy("uint16", max_value=20 * 48),
    start_shift=strategy("uint16", max_value=UNIT - 1),
    units=strategy("uint16", min_value=1, max_value=48),
    end_shift=strategy("uint16", max_value=UNIT - 1),
)
@settings(max_examples=30)
def test_misaligned_times_revert(
    system, slot_id, resident, day, start_unit, start_shift, units, end_shift
):
    assume(start_shift or end_shift)
    start = day + start_unit * UNIT + start_shift
    end = day + (start_unit + units) * UNIT + end_shift
    # the start is checked first
    bad = start if start_shift else end
    with reverts_with("LeaseMarketMisalignedTime", bad):
        system.market.quote(slot_id, start, end)
    with reverts_with("LeaseMarketMisalignedTime", bad):
        system.market.book(slot_id, start, end, 10**9, {"from": resident})


@given(
    start_unit=strategy("uint16", max_value=20 * 48),
    back_units=strategy("uint16", max_value=100),
)
@settings(max_examples=30)
def test_start_not_before_end_reverts_invalid_range(
    system, slot_id, resident, day, start_unit, back_units
):
    start = day + start_unit * UNIT
    end = start - back_units * UNIT
    with reverts_with("LeaseMarketInvalidRange", start, end):
        system.market.quote(slot_id, start, end)
    with reverts_with("LeaseMarketInvalidRange", start, end):
        system.market.book(slot_id, start, end, 10**9, {"from": resident})


@given(now_offset=WITHIN_A_DAY, units_from_now=strategy("int16", min_value=-6, max_value=6))
@settings(max_examples=30)
def test_book_accepts_the_current_half_hour_but_not_earlier(
    system, slot_id, resident, day, now_offset, units_from_now
):
    now = head_time() + 1 + now_offset
    current = now - now % UNIT
    start = current + units_from_now * UNIT
    refusal = ("LeaseMarketStartInPast", start, now) if start < current else None
    tx = book_at(system, slot_id, resident, now, start, start + 2 * UNIT, refusal)
    assert tx is None or tx.timestamp == now


@given(now_offset=WITHIN_A_DAY, past_horizon=strategy("int8", min_value=-3, max_value=3))
@settings(max_examples=20)
def test_book_reverts_beyond_thirty_days_ahead(
    system, slot_id, resident, day, now_offset, past_horizon
):
    latest = head_time() + 1 + now_offset + MAX_ADVANCE_SECONDS
    now = latest - MAX_ADVANCE_SECONDS
    start = latest - latest % UNIT + past_horizon * UNIT
    refusal = ("LeaseMarketTooFarAhead", start, latest) if start > latest else None
    book_at(system, slot_id, resident, now, start, start + UNIT, refusal)


@pytest.mark.parametrize("units", [337, 672])
def test_book_reverts_when_longer_than_policy(system, slot_id, resident, day, units):
    start = day + 10 * HOUR
    with reverts_with("LeaseMarketTooLong", units, 336):
        system.market.book(slot_id, start, start + units * UNIT, 10**9, {"from": resident})
