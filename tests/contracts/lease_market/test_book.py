"""LeaseMarket.book: the booking itself, every named refusal, sharing windows, lease ids and
generations, and quote."""

from __future__ import annotations

import pytest
from brownie import web3
from brownie.exceptions import VirtualMachineError
from eth_abi import encode

from citypass.core.timeunits import local_day
from citypass.core.windows import WEEKDAYS, Window, covers
from citypass.protocol.contracts import MAX_ADVANCE_SECONDS, MAX_LEASE_UNITS
from tests.contract_helpers import (
    expected_error,
    mine_at,
    plain,
    relay_call,
    reverts_with,
)
from tests.contracts.lease_market.helpers import (
    BOOKED,
    CANCELLED,
    DAY,
    HOUR,
    MAX_PRICE,
    MAX_UINT,
    MINUTE,
    OVERNIGHT_WINDOW,
    PERSONAL,
    PRICE,
    UNIT,
    WEEKDAY_WINDOW,
    lease_id,
    reverts_at_block,
)

# ------------------------------------------------------------------------ book: happy


def test_book_emits_lease_booked_and_escrows_price(
    market, credit, split, slot_id, resident, start, end
):
    lessee_before, vault_before = credit.balanceOf(resident), credit.balanceOf(split)
    tx = market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    expected_id = lease_id(slot_id, start)
    assert tx.return_value == expected_id
    event = tx.events["LeaseBooked"]
    assert event["leaseId"] == expected_id
    assert event["slotId"] == slot_id
    assert event["lessee"] == resident
    assert (event["start"], event["end"], event["price"]) == (start, end, PRICE)
    escrow = tx.events["Transfer"]
    assert (escrow["from"], escrow["to"], escrow["value"]) == (resident, split, PRICE)
    assert credit.balanceOf(resident) == lessee_before - PRICE
    assert credit.balanceOf(split) == vault_before + PRICE
    assert plain(market.decodeLeaseId(expected_id)) == (slot_id, start, end, 0)
    assert plain(market.leaseOf(expected_id)) == (resident, 4, BOOKED, 0, tx.timestamp, 0)
    assert not market.isFree(slot_id, start, end)
    assert not market.isFree(slot_id, end - UNIT, end)
    assert market.isFree(slot_id, end, end + HOUR)
    assert market.isFree(slot_id, start - HOUR, start)


def test_book_at_exact_max_price(market, slot_id, resident, start, end):
    tx = market.book(slot_id, start, end, PRICE, {"from": resident})
    assert tx.events["LeaseBooked"]["price"] == PRICE


def test_book_allows_adjacent_leases(market, slot_id, residents, start, end):
    first, second = residents
    market.book(slot_id, start, end, MAX_PRICE, {"from": first})
    after = market.book(slot_id, end, end + HOUR, MAX_PRICE, {"from": second})
    before = market.book(slot_id, start - HOUR, start, MAX_PRICE, {"from": second})
    assert after.events["LeaseBooked"]["leaseId"] == lease_id(slot_id, end)
    assert before.events["LeaseBooked"]["leaseId"] == lease_id(slot_id, start - HOUR)
    assert not market.isFree(slot_id, start - HOUR, end + HOUR)


def test_book_accepts_the_half_hour_under_way(market, slot_id, resident, start):
    mine_at(start + 10 * MINUTE)
    tx = market.book(slot_id, start, start + HOUR, MAX_PRICE, {"from": resident})
    assert tx.events["LeaseBooked"]["start"] == start


def test_book_accepts_the_longest_lease(market, slot_id, resident, start):
    tx = market.book(slot_id, start, start + MAX_LEASE_UNITS * UNIT, MAX_PRICE, {"from": resident})
    assert tx.events["LeaseBooked"]["price"] == MAX_LEASE_UNITS * 600
    assert market.maxLeaseUnits() == MAX_LEASE_UNITS


def test_book_accepts_the_furthest_start(market, slot_id, resident, day):
    far = day + 29 * DAY
    tx = market.book(slot_id, far, far + HOUR, MAX_PRICE, {"from": resident})
    assert tx.events["LeaseBooked"]["start"] == far
    assert market.maxAdvance() == MAX_ADVANCE_SECONDS


def test_book_via_forwarder_books_for_the_signer(
    market, credit, system, people, signer, slot_id, start
):
    key, account = signer
    credit.approve(market, MAX_UINT, {"from": account})
    data = market.book.encode_input(slot_id, start, start + HOUR, MAX_PRICE)
    tx = relay_call(system.forwarder, key.key, account.address, market, data, people.operator)
    assert tx.events["LeaseBooked"]["lessee"] == account
    assert credit.balanceOf(account) == 100_000 - 1200


# ---------------------------------------------------------------------- book: reverts


@pytest.mark.parametrize(
    "offsets",
    [
        (-HOUR, 30 * MINUTE),
        (30 * MINUTE, HOUR),
        (-HOUR, 3 * HOUR),
        (0, 2 * HOUR),
        (90 * MINUTE, 3 * HOUR),
    ],
    ids=["overlaps-start", "inside", "encloses", "identical", "overlaps-end"],
)
def test_book_reverts_when_overlapping(market, slot_id, residents, start, end, offsets):
    first, second = residents
    market.book(slot_id, start, end, MAX_PRICE, {"from": first})
    s, e = start + offsets[0], start + offsets[1]
    with reverts_with("LeaseMarketOverlap", slot_id, s, e):
        market.book(slot_id, s, e, MAX_PRICE, {"from": second})
    with reverts_with("LeaseMarketOverlap", slot_id, s, e):
        market.quote(slot_id, s, e)


def test_book_reverts_for_misaligned_start(market, slot_id, resident, start, end):
    with reverts_with("LeaseMarketMisalignedTime", start + 60):
        market.book(slot_id, start + 60, end, MAX_PRICE, {"from": resident})


def test_book_reverts_for_misaligned_end(market, slot_id, resident, start, end):
    with reverts_with("LeaseMarketMisalignedTime", end + 15 * MINUTE):
        market.book(slot_id, start, end + 15 * MINUTE, MAX_PRICE, {"from": resident})


@pytest.mark.parametrize("swap", [False, True], ids=["empty", "reversed"])
def test_book_reverts_when_start_not_before_end(market, slot_id, resident, start, end, swap):
    s, e = (end, start) if swap else (start, start)
    with reverts_with("LeaseMarketInvalidRange", s, e):
        market.book(slot_id, s, e, MAX_PRICE, {"from": resident})


def test_book_reverts_for_start_in_past(market, slot_id, resident, day):
    past = day - 23 * HOUR  # the chain is at day - 22 h
    with reverts_at_block("LeaseMarketStartInPast", lambda now: (past, now)):
        market.book(slot_id, past, past + 2 * HOUR, MAX_PRICE, {"from": resident})


def test_book_reverts_for_the_half_hour_before_the_current_one(market, slot_id, resident, start):
    mine_at(start + 10 * MINUTE)
    previous = start - UNIT
    with reverts_at_block("LeaseMarketStartInPast", lambda now: (previous, now)):
        market.book(slot_id, previous, start + HOUR, MAX_PRICE, {"from": resident})


def test_book_reverts_when_too_far_ahead(market, slot_id, resident, day):
    far = day + 30 * DAY
    with reverts_at_block("LeaseMarketTooFarAhead", lambda now: (far, now + MAX_ADVANCE_SECONDS)):
        market.book(slot_id, far, far + HOUR, MAX_PRICE, {"from": resident})


def test_book_reverts_when_too_long(market, slot_id, resident, start):
    units = MAX_LEASE_UNITS + 1
    with reverts_with("LeaseMarketTooLong", units, MAX_LEASE_UNITS):
        market.book(slot_id, start, start + units * UNIT, MAX_PRICE, {"from": resident})


@pytest.mark.parametrize(
    "unknown", [0, 999, 2**32 + 1], ids=["zero", "unregistered", "over-32-bits"]
)
def test_book_reverts_for_unknown_slot(market, resident, start, end, unknown):
    with reverts_with("LeaseMarketUnknownSlot", unknown):
        market.book(unknown, start, end, MAX_PRICE, {"from": resident})


def test_book_reverts_when_slot_inactive(market, slots, slot_id, owner, resident, start, end):
    slots.setActive(slot_id, False, {"from": owner})
    with reverts_with("LeaseMarketSlotUnavailable", slot_id):
        market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    slots.setActive(slot_id, True, {"from": owner})
    assert market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).events["LeaseBooked"]


def test_book_reverts_when_blacked_out(market, slots, slot_id, owner, resident, start, end):
    slots.setBlackout(slot_id, local_day(start), True, {"from": owner})
    with reverts_with("LeaseMarketSlotUnavailable", slot_id):
        market.book(slot_id, start, end, MAX_PRICE, {"from": resident})


def test_book_reverts_when_lease_runs_into_blacked_out_day(
    market, slots, slot_id, owner, resident, day
):
    slots.setBlackout(slot_id, local_day(day + DAY), True, {"from": owner})
    late = day + 23 * HOUR
    with reverts_with("LeaseMarketSlotUnavailable", slot_id):
        market.book(slot_id, late, late + 2 * HOUR, MAX_PRICE, {"from": resident})
    # the same day up to midnight is still bookable
    tx = market.book(slot_id, late, late + HOUR, MAX_PRICE, {"from": resident})
    assert tx.events["LeaseBooked"]["end"] == day + DAY


def test_book_reverts_when_slot_has_no_windows(market, slots, slot_id, owner, resident, start, end):
    slots.setWindows(slot_id, [], {"from": owner})
    with reverts_with("LeaseMarketOutsideWindow", slot_id, start, end):
        market.book(slot_id, start, end, MAX_PRICE, {"from": resident})


def test_book_reverts_when_price_above_max(market, slot_id, resident, start, end):
    with reverts_with("LeaseMarketPriceAboveMax", PRICE, PRICE - 1):
        market.book(slot_id, start, end, PRICE - 1, {"from": resident})


def test_book_reverts_for_insufficient_credit(market, slot_id, penniless, start, end):
    with reverts_with("ERC20InsufficientBalance", penniless, 0, PRICE):
        market.book(slot_id, start, end, MAX_PRICE, {"from": penniless})


def test_book_reverts_for_insufficient_allowance(market, credit, slot_id, unapproved, start, end):
    with reverts_with("ERC20InsufficientAllowance", market, 0, PRICE):
        market.book(slot_id, start, end, MAX_PRICE, {"from": unapproved})
    credit.approve(market, PRICE - 1, {"from": unapproved})
    with reverts_with("ERC20InsufficientAllowance", market, PRICE - 1, PRICE):
        market.book(slot_id, start, end, MAX_PRICE, {"from": unapproved})


def test_book_reverts_for_stranger(market, slot_id, stranger, start, end):
    with reverts_with("LeaseMarketNotMember", stranger):
        market.book(slot_id, start, end, MAX_PRICE, {"from": stranger})


def test_book_reverts_for_role_holder_who_is_not_a_member(market, slot_id, people, start, end):
    with reverts_with("LeaseMarketNotMember", people.operator):
        market.book(slot_id, start, end, MAX_PRICE, {"from": people.operator})


def test_book_reverts_for_suspended_member(market, system, people, slot_id, resident, start, end):
    system.access.suspend(resident, b"\x02" * 32, {"from": people.operator})
    with reverts_with("LeaseMarketNotMember", resident):
        market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    system.access.reinstate(resident, {"from": people.operator})
    tx = market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    assert tx.events["LeaseBooked"]["lessee"] == resident


WEEKDAY_CASES = [
    ("mon-09-18", 9, 18, True),
    ("fri-09-18", 4 * 24 + 9, 4 * 24 + 18, True),
    ("mon-0830-10", 8.5, 10, False),
    ("mon-1730-1830", 17.5, 18.5, False),
    ("sat-10-11", 5 * 24 + 10, 5 * 24 + 11, False),
    ("mon-09-tue-10", 9, 24 + 10, False),
]


OVERNIGHT_CASES = [
    ("mon-19-tue-08", 19, 24 + 8, True),
    ("fri-19-sat-08", 4 * 24 + 19, 5 * 24 + 8, True),
    ("tue-07-08", 24 + 7, 24 + 8, True),  # the tail of Monday's night
    ("sat-07-08", 5 * 24 + 7, 5 * 24 + 8, True),  # the tail of Friday's night
    ("mon-07-08", 7, 8, False),  # Sunday's night is not shared
    ("sat-19-20", 5 * 24 + 19, 5 * 24 + 20, False),
    ("sun-23-mon-01", -1, 1, False),
    ("tue-0730-0830", 24 + 7.5, 24 + 8.5, False),
    ("mon-1830-1930", 18.5, 19.5, False),
    ("mon-19-tue-19", 19, 24 + 19, False),
]


SHARED_WINDOWS = {"weekday_slot": WEEKDAY_WINDOW, "overnight_slot": OVERNIGHT_WINDOW}
WINDOW_CASES = [("weekday_slot", *case) for case in WEEKDAY_CASES] + [
    ("overnight_slot", *case) for case in OVERNIGHT_CASES
]


@pytest.mark.parametrize(
    "slot_fixture, name, from_hour, to_hour, inside",
    WINDOW_CASES,
    ids=[f"{c[0].removesuffix('_slot')}-{c[1]}" for c in WINDOW_CASES],
)
def test_book_respects_the_sharing_window(
    market, resident, monday, weekday_slot, overnight_slot, slot_fixture, name, from_hour, to_hour,
    inside,
):  # fmt: skip
    # Both slots are module fixtures, registered before the test's chain snapshot.
    slot = {"weekday_slot": weekday_slot, "overnight_slot": overnight_slot}[slot_fixture]
    s, e = monday + int(from_hour * HOUR), monday + int(to_hour * HOUR)
    assert covers([SHARED_WINDOWS[slot_fixture]], s, e) is inside
    if inside:
        booked = market.book(slot, s, e, MAX_PRICE, {"from": resident}).events["LeaseBooked"]
        assert (booked["slotId"], booked["start"], booked["end"]) == (slot, s, e)
    else:
        with reverts_with("LeaseMarketOutsideWindow", slot, s, e):
            market.book(slot, s, e, MAX_PRICE, {"from": resident})


# -------------------------------------------------------------------- generations / ids


def test_rebook_of_cancelled_start_gets_generation_one(market, slot_id, residents, start, end):
    first, second = residents
    old = market.book(slot_id, start, end, MAX_PRICE, {"from": first}).return_value
    market.cancel(old, {"from": first})
    tx = market.book(slot_id, start, end - HOUR, MAX_PRICE, {"from": second})
    new = tx.return_value
    assert new == old + 1 == lease_id(slot_id, start, 1)
    assert tx.events["LeaseBooked"]["leaseId"] == new
    assert plain(market.decodeLeaseId(new)) == (slot_id, start, end - HOUR, 1)
    assert plain(market.leaseOf(new))[:4] == (second, 2, BOOKED, 1)
    with reverts_with("LeaseMarketUnknownLease", old):
        market.leaseOf(old)
    with reverts_with("LeaseMarketUnknownLease", old):
        market.cancel(old, {"from": first})


def test_rebook_limit_after_255_generations(market, slot_id, resident, start, end):
    """Generation 255 is the last: the byte is set directly in storage (slot 2 is `_leases`,
    after LeasePrepaid's `_prepaid` and the policy) rather than cancelling 255 times."""
    first = market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value
    market.cancel(first, {"from": resident})
    key = first >> 8
    slot = web3.keccak(encode(["uint256", "uint256"], [key, 2]))
    word = int.from_bytes(web3.eth.get_storage_at(market.address, slot), "big")
    assert word & (2**160 - 1) == int(resident.address, 16)  # the layout is what we think
    assert (word >> 176) & 0xFF == CANCELLED
    word |= 0xFF << 184  # generation 255
    web3.provider.make_request(
        "anvil_setStorageAt",
        [market.address, "0x" + slot.hex().removeprefix("0x"), f"0x{word:064x}"],
    )
    assert market.leaseOf(first | 0xFF)[3] == 255
    with reverts_with("LeaseMarketRebookLimit", slot_id, start):
        market.book(slot_id, start, end, MAX_PRICE, {"from": resident})


@pytest.mark.parametrize("view", ["leaseOf", "decodeLeaseId", "overstayDebtOf"])
def test_lease_views_revert_for_unknown_lease(market, slot_id, start, lease, view):
    for unknown in (123, lease + 1, lease_id(slot_id, start + UNIT), lease | (1 << 80)):
        with reverts_with("LeaseMarketUnknownLease", unknown):
            getattr(market, view)(unknown)


# ----------------------------------------------------------------------------- quote


def test_quote_prices_a_free_period(market, slots, slot_id, owner, stranger, start, end):
    assert market.quote(slot_id, start, end, {"from": stranger}) == PRICE
    slots.setTerms(slot_id, 1000, 300, {"from": owner})
    assert market.quote(slot_id, start, end) == 4 * 1000


def test_quote_reverts_like_book(market, weekday_slot, monday):
    s, e = monday + 8 * HOUR, monday + 10 * HOUR
    with reverts_with("LeaseMarketOutsideWindow", weekday_slot, s, e):
        market.quote(weekday_slot, s, e)
    with reverts_with("LeaseMarketMisalignedTime", s + 1):
        market.quote(weekday_slot, s + 1, e)


def test_is_free_rejects_malformed_ranges(market, slot_id, start, end):
    assert market.isFree(slot_id, start, end)
    assert not market.isFree(slot_id, start + 1, end)
    assert not market.isFree(slot_id, end, start)


def test_window_coverage_matches_the_python_model(market, slots, people, owner, monday):
    """A sweep over one week of starts and lengths: the contract and citypass.core.windows agree."""
    windows = [
        Window.hours(WEEKDAYS, "09:00", "18:00"),
        Window.hours(0b1100000, "22:00", "06:00"),  # weekend nights, into Monday morning
        Window(0b0000100, 40, 40),  # Wednesday 20:00 to Thursday 20:00
    ]
    slot = slots.registerSlot(owner, PERSONAL, 3, 0, 0, {"from": people.operator}).return_value
    slots.setWindows(slot, [w.as_tuple() for w in windows], {"from": owner})
    agreed = 0
    for s in range(monday, monday + 7 * DAY, 90 * MINUTE):
        for units in (1, 4, 13, 40):
            e = s + units * UNIT
            inside = covers(windows, s, e)
            try:
                assert market.quote(slot, s, e) == units * 600
                booked = True
            except VirtualMachineError as exc:
                assert exc.revert_msg == expected_error("LeaseMarketOutsideWindow", slot, s, e)
                booked = False
            assert booked is inside, (s - monday, units)
            agreed += inside
    assert agreed > 20  # the sweep saw both answers
