"""LeaseMarket: booking (with allowance, permit or forwarder), cancellation policy, check-in and
check-out with overstay, no-shows, overstay debts, the policy and the constructor bounds.

Times: the `day` fixture is 00:00 KST of a fresh day and the chain sits at 02:00 KST the day
before. START..END (10:00-12:00 KST on `day`) is a 4-unit, ₩2,400 lease on the default slot.
"""

from __future__ import annotations

import ast
import contextlib

import pytest
from brownie import ZERO_ADDRESS, chain, web3
from brownie.exceptions import VirtualMachineError
from eth_abi import encode
from eth_account import Account

from citypass.core.timeunits import MONDAY, local_day, next_weekday_midnight
from citypass.core.windows import WEEKDAYS, Window, covers
from citypass.protocol.contracts import MAX_ADVANCE_SECONDS, MAX_LEASE_UNITS
from citypass.protocol.roles import ROLES
from citypass.protocol.signing import (
    forward_request,
    request_data_tuple,
    sign_forward_request,
    sign_permit,
)
from tests.contract_helpers import expected_error, head_time, mine_at, reverts_with

PERSONAL = 3
HOUR = 3600
MINUTE = 60
DAY = 86400
UNIT = 1800
MAX_UINT = 2**256 - 1
MAX_PRICE = 10**9

# LeaseStatus
NONE, BOOKED, CHECKED_IN, SETTLED, CANCELLED, NO_SHOW = range(6)

START_HOUR, HOURS = 10, 2
PRICE = HOURS * 2 * 600  # ₩600 per 30 min
OWNER_BPS, VILLAGE_BPS, PLATFORM_BPS = 6000, 2500, 1500  # PERSONAL split
DEFAULT_POLICY = (3600, 600, 5000, 2000, 900)


# ---------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def reverts_at_block(name, args_of_now):
    """Exactly `name(args_of_now(t))`, where t is the time of the block that mined the revert
    (for errors that carry block.timestamp; anvil may land a transaction a second after
    `mine_at`, so the time is read back rather than assumed)."""
    with pytest.raises(VirtualMachineError) as info:
        yield
    now = head_time()
    expected = expected_error(name, *args_of_now(now))
    assert info.value.revert_msg == expected


def permit_failure_reason(exc: VirtualMachineError) -> bytes:
    """The inner revert data of a LeaseMarketPermitFailed(bytes) message."""
    name, _, arg = exc.revert_msg.partition(": ")
    assert name == "LeaseMarketPermitFailed"
    return ast.literal_eval(arg)


def plain(value):
    """A brownie return value as plain Python ints, strs and tuples (brownie's ReturnValue
    cannot be compared with a tuple holding ints)."""
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, bool | str):
        return value
    return int(value)


def selector(signature: str) -> bytes:
    return bytes(web3.keccak(text=signature)[:4])


def lease_id(slot: int, start: int, generation: int = 0) -> int:
    return (slot << 48) | ((start // UNIT) << 8) | generation


def shares(amount: int) -> tuple[int, int, int, int]:
    """The PERSONAL split of `amount` (dust to the village enterprise)."""
    owner = amount * OWNER_BPS // 10_000
    village = amount * VILLAGE_BPS // 10_000
    platform = amount * PLATFORM_BPS // 10_000
    return owner, village + (amount - owner - village - platform), 0, platform


def assert_allocated(tx, owner, amount):
    event = tx.events["RevenueAllocated"]
    assert event["owner"] == owner
    assert event["category"] == PERSONAL
    assert event["amount"] == amount
    parts = (event["ownerShare"], event["villageShare"], event["cityShare"], event["platformShare"])
    assert parts == shares(amount)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def other(residents):
    return residents[1]


@pytest.fixture(scope="module")
def start(day):
    return day + START_HOUR * HOUR


@pytest.fixture(scope="module")
def end(start):
    return start + HOURS * HOUR


@pytest.fixture
def lease(market, slot_id, resident, start, end):
    """START..END booked by `resident` long before the start (outside the grace period)."""
    return market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value


@pytest.fixture
def checked_in(market, lease, resident, start):
    mine_at(start)
    market.checkIn(lease, {"from": resident})
    return lease


def _member(system, people, account, credits=0, approve=False):
    system.access.onboard(account, {"from": people.admin})
    if credits:
        system.credit.mint(account, credits, b"\x00" * 32, {"from": people.treasury})
    if approve:
        system.credit.approve(system.market, MAX_UINT, {"from": account})
    return account


@pytest.fixture(scope="module")
def penniless(accounts, system, people):
    """A member who approved the market but holds no credits."""
    return _member(system, people, accounts[11], approve=True)


@pytest.fixture(scope="module")
def unapproved(accounts, system, people):
    """A member with credits who never approved the market."""
    return _member(system, people, accounts[12], credits=100_000)


@pytest.fixture(scope="module")
def signer(accounts, system, people):
    """A throwaway key (a wallet app's resident) with credits and no allowance."""
    key = Account.create()
    account = accounts.add(key.key)
    _member(system, people, account, credits=100_000)
    return key, account


def _permit(credit, market, key, owner, value, deadline, signing_key=None):
    return sign_permit(
        signing_key or key.key,
        token_name="CityPass Credit",
        token_address=credit.address,
        chain_id=chain.id,
        owner=owner.address,
        spender=market.address,
        value=value,
        nonce=credit.nonces(owner.address),
        deadline=deadline,
    )


def _new_slot(slots, people, owner, window: Window) -> int:
    slot = slots.registerSlot(
        owner, PERSONAL, 2, 37_500_000, 126_780_000, {"from": people.operator}
    )
    slots.setWindows(slot.return_value, [window.as_tuple()], {"from": owner})
    return slot.return_value


@pytest.fixture(scope="module")
def weekday_slot(slots, people, owner):
    """A commuter's space: Mon-Fri 09:00-18:00."""
    return _new_slot(slots, people, owner, Window.hours(WEEKDAYS, "09:00", "18:00"))


@pytest.fixture(scope="module")
def overnight_slot(slots, people, owner):
    """The Technopark lot: nights starting Mon-Fri, 19:00-08:00."""
    return _new_slot(slots, people, owner, Window.hours(WEEKDAYS, "19:00", "08:00"))


@pytest.fixture(scope="module")
def monday(day):
    """00:00 KST of the first Monday on or after `day`."""
    return next_weekday_midnight(day - 1, MONDAY)


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
    request = forward_request(
        account.address,
        market.address,
        bytes.fromhex(data[2:]),
        nonce=system.forwarder.nonces(account.address),
        deadline=head_time() + HOUR,
    )
    signature = sign_forward_request(
        key.key, forwarder_address=system.forwarder.address, chain_id=chain.id, request=request
    )
    tx = system.forwarder.execute(
        request_data_tuple(request, signature.signature), {"from": people.operator}
    )
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


WEEKDAY_CASES = [
    ("mon-09-18", 9, 18, True),
    ("fri-09-18", 4 * 24 + 9, 4 * 24 + 18, True),
    ("mon-0830-10", 8.5, 10, False),
    ("mon-1730-1830", 17.5, 18.5, False),
    ("sat-10-11", 5 * 24 + 10, 5 * 24 + 11, False),
    ("mon-09-tue-10", 9, 24 + 10, False),
]


@pytest.mark.parametrize("case", WEEKDAY_CASES, ids=[c[0] for c in WEEKDAY_CASES])
def test_book_respects_weekday_window(market, weekday_slot, resident, monday, case):
    _, from_hour, to_hour, inside = case
    s, e = monday + int(from_hour * HOUR), monday + int(to_hour * HOUR)
    assert covers([Window.hours(WEEKDAYS, "09:00", "18:00")], s, e) is inside
    if inside:
        tx = market.book(weekday_slot, s, e, MAX_PRICE, {"from": resident})
        assert tx.events["LeaseBooked"]["slotId"] == weekday_slot
    else:
        with reverts_with("LeaseMarketOutsideWindow", weekday_slot, s, e):
            market.book(weekday_slot, s, e, MAX_PRICE, {"from": resident})


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


@pytest.mark.parametrize("case", OVERNIGHT_CASES, ids=[c[0] for c in OVERNIGHT_CASES])
def test_book_respects_overnight_window(market, overnight_slot, resident, monday, case):
    _, from_hour, to_hour, inside = case
    s, e = monday + int(from_hour * HOUR), monday + int(to_hour * HOUR)
    assert covers([Window.hours(WEEKDAYS, "19:00", "08:00")], s, e) is inside
    if inside:
        tx = market.book(overnight_slot, s, e, MAX_PRICE, {"from": resident})
        assert (tx.events["LeaseBooked"]["start"], tx.events["LeaseBooked"]["end"]) == (s, e)
    else:
        with reverts_with("LeaseMarketOutsideWindow", overnight_slot, s, e):
            market.book(overnight_slot, s, e, MAX_PRICE, {"from": resident})


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
    """Generation 255 is the last: the byte is set directly in storage (slot 1 is `_leases`)
    rather than cancelling 255 times."""
    first = market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value
    market.cancel(first, {"from": resident})
    key = first >> 8
    slot = web3.keccak(encode(["uint256", "uint256"], [key, 1]))
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


# --------------------------------------------------------------------- bookWithPermit


def test_book_with_permit_books_without_prior_approval(market, credit, slot_id, signer, start, end):
    key, account = signer
    assert credit.allowance(account, market) == 0
    max_price = PRICE + 600
    deadline = head_time() + HOUR
    sig = _permit(credit, market, key, account, max_price, deadline)
    tx = market.bookWithPermit(
        slot_id, start, end, max_price, deadline, sig.v, sig.r, sig.s, {"from": account}
    )
    assert tx.events["LeaseBooked"]["lessee"] == account
    assert tx.events["Approval"][0]["value"] == max_price
    assert credit.balanceOf(account) == 100_000 - PRICE
    assert credit.allowance(account, market) == max_price - PRICE
    assert credit.nonces(account) == 1


def test_book_with_permit_reverts_for_expired_permit(market, credit, slot_id, signer, start, end):
    key, account = signer
    deadline = head_time() - 1
    sig = _permit(credit, market, key, account, PRICE, deadline)
    inner = selector("ERC2612ExpiredSignature(uint256)") + encode(["uint256"], [deadline])
    with reverts_with("LeaseMarketPermitFailed", inner):
        market.bookWithPermit(
            slot_id, start, end, PRICE, deadline, sig.v, sig.r, sig.s, {"from": account}
        )


def test_book_with_permit_reverts_for_forged_permit(market, credit, slot_id, signer, start, end):
    key, account = signer
    forger = Account.create()
    deadline = head_time() + HOUR
    sig = _permit(credit, market, key, account, PRICE, deadline, signing_key=forger.key)
    inner = selector("ERC2612InvalidSigner(address,address)") + encode(
        ["address", "address"], [forger.address, account.address]
    )
    with reverts_with("LeaseMarketPermitFailed", inner):
        market.bookWithPermit(
            slot_id, start, end, PRICE, deadline, sig.v, sig.r, sig.s, {"from": account}
        )
    assert credit.nonces(account) == 0


def test_book_with_permit_reverts_when_max_price_differs_from_signed_value(
    market, credit, slot_id, signer, start, end
):
    key, account = signer
    deadline = head_time() + HOUR
    sig = _permit(credit, market, key, account, PRICE, deadline)
    with pytest.raises(VirtualMachineError) as info:
        market.bookWithPermit(
            slot_id, start, end, PRICE + 1, deadline, sig.v, sig.r, sig.s, {"from": account}
        )
    inner = permit_failure_reason(info.value)
    assert inner[:4] == selector("ERC2612InvalidSigner(address,address)")
    assert inner[-20:] == bytes.fromhex(account.address[2:])  # the owner argument


def test_book_with_permit_survives_a_front_run_permit(
    market, credit, slot_id, signer, other, start, end
):
    key, account = signer
    deadline = head_time() + HOUR
    sig = _permit(credit, market, key, account, PRICE, deadline)
    credit.permit(account, market, PRICE, deadline, sig.v, sig.r, sig.s, {"from": other})
    tx = market.bookWithPermit(
        slot_id, start, end, PRICE, deadline, sig.v, sig.r, sig.s, {"from": account}
    )
    assert tx.events["LeaseBooked"]["lessee"] == account
    assert credit.allowance(account, market) == 0


def test_book_with_permit_still_checks_the_booking(market, credit, slot_id, signer, start, end):
    key, account = signer
    deadline = head_time() + HOUR
    sig = _permit(credit, market, key, account, PRICE - 1, deadline)
    with reverts_with("LeaseMarketPriceAboveMax", PRICE, PRICE - 1):
        market.bookWithPermit(
            slot_id, start, end, PRICE - 1, deadline, sig.v, sig.r, sig.s, {"from": account}
        )


# ----------------------------------------------------------------------- price change


def test_price_change_after_booking_keeps_old_terms_at_settlement(
    market, slots, slot_id, owner, resident, start, end
):
    lease = market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value
    slots.setTerms(slot_id, 1000, 500, {"from": owner})
    assert market.leaseOf(lease)[5] == 0  # termsVersion
    mine_at(start)
    market.checkIn(lease, {"from": resident})
    mine_at(end + 5 * MINUTE)
    tx = market.checkOut(lease, {"from": resident})
    settled = tx.events["LeaseSettled"]
    assert settled["price"] == PRICE
    assert settled["overstayCharge"] == 200 + 2000  # old overage, one started 10 min
    assert_allocated(tx, owner, PRICE + 2200)


def test_booking_after_price_change_uses_new_terms(
    market, slots, slot_id, owner, resident, start, end
):
    slots.setTerms(slot_id, 1000, 500, {"from": owner})
    tx = market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    assert tx.events["LeaseBooked"]["price"] == 4000
    assert market.leaseOf(tx.return_value)[5] == 1


def test_late_cancel_after_price_change_splits_the_escrowed_price(
    market, slots, slot_id, owner, resident, lease, start
):
    slots.setTerms(slot_id, 1000, 500, {"from": owner})
    mine_at(start - 30 * MINUTE)
    tx = market.cancel(lease, {"from": resident})
    assert (tx.events["LeaseCancelled"]["refund"], tx.events["LeaseCancelled"]["retained"]) == (
        PRICE // 2,
        PRICE // 2,
    )


# ---------------------------------------------------------------------------- cancel


def _assert_cancelled(tx, market, lease, by, refund, retained):
    event = tx.events["LeaseCancelled"]
    assert event["leaseId"] == lease
    assert event["by"] == by
    assert (event["refund"], event["retained"]) == (refund, retained)
    assert market.leaseOf(lease)[2] == CANCELLED


def test_cancel_within_booking_grace_period_is_free(
    market, credit, split, slot_id, resident, start, end
):
    mine_at(start - 40 * MINUTE)  # already past the 1 h cut-off
    before = credit.balanceOf(resident)
    lease = market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value
    tx = market.cancel(lease, {"from": resident})
    _assert_cancelled(tx, market, lease, resident, PRICE, 0)
    refunded = tx.events["EscrowRefunded"]
    assert (refunded["to"], refunded["amount"]) == (resident, PRICE)
    assert "RevenueAllocated" not in tx.events
    assert credit.balanceOf(resident) == before
    assert market.isFree(slot_id, start, end)


def test_cancel_before_cutoff_is_free(market, credit, slot_id, resident, lease, start, end):
    mine_at(start - 61 * MINUTE)
    before = credit.balanceOf(resident)
    tx = market.cancel(lease, {"from": resident})
    _assert_cancelled(tx, market, lease, resident, PRICE, 0)
    assert credit.balanceOf(resident) == before + PRICE
    assert market.isFree(slot_id, start, end)


def test_cancel_after_cutoff_refunds_half_and_allocates_the_rest(
    market, credit, split, slot_id, owner, resident, lease, start
):
    mine_at(start - 59 * MINUTE)
    before = credit.balanceOf(resident)
    tx = market.cancel(lease, {"from": resident})
    _assert_cancelled(tx, market, lease, resident, PRICE // 2, PRICE // 2)
    assert tx.events["EscrowRefunded"]["amount"] == PRICE // 2
    assert_allocated(tx, owner, PRICE // 2)
    assert credit.balanceOf(resident) == before + PRICE // 2
    assert split.claimable(owner) == shares(PRICE // 2)[0]


def test_cancel_after_grace_period_when_booked_late_refunds_half(
    market, slot_id, resident, start, end
):
    mine_at(start - 40 * MINUTE)
    lease = market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value
    mine_at(start - 25 * MINUTE)  # 15 min after booking
    tx = market.cancel(lease, {"from": resident})
    _assert_cancelled(tx, market, lease, resident, PRICE // 2, PRICE // 2)


def test_cancel_after_cutoff_follows_the_policy_refund_share(market, admin, resident, lease, start):
    market.setPolicy((3600, 600, 2500, 2000, 900), {"from": admin})
    mine_at(start - 30 * MINUTE)
    tx = market.cancel(lease, {"from": resident})
    _assert_cancelled(tx, market, lease, resident, PRICE // 4, PRICE - PRICE // 4)


def test_cancel_is_free_when_owner_made_slot_inactive(
    market, slots, slot_id, owner, resident, lease, start
):
    mine_at(start - 30 * MINUTE)
    slots.setActive(slot_id, False, {"from": owner})
    tx = market.cancel(lease, {"from": resident})
    _assert_cancelled(tx, market, lease, resident, PRICE, 0)
    assert "RevenueAllocated" not in tx.events


def test_cancel_is_free_when_owner_blacked_out_the_day(
    market, slots, slot_id, owner, resident, lease, start
):
    mine_at(start - 30 * MINUTE)
    slots.setBlackout(slot_id, local_day(start), True, {"from": owner})
    tx = market.cancel(lease, {"from": resident})
    _assert_cancelled(tx, market, lease, resident, PRICE, 0)


@pytest.mark.parametrize("offset", [0, 30 * MINUTE])
def test_cancel_reverts_once_started(market, resident, lease, start, offset):
    mine_at(start + offset)
    with reverts_with("LeaseMarketAlreadyStarted", lease):
        market.cancel(lease, {"from": resident})


@pytest.mark.parametrize("who", ["other", "owner", "operator"])
def test_cancel_reverts_for_anyone_but_the_lessee(market, lease, other, owner, people, who):
    caller = {"other": other, "owner": owner, "operator": people.operator}[who]
    with reverts_with("LeaseMarketNotAuthorized", lease, caller):
        market.cancel(lease, {"from": caller})


def test_cancel_reverts_when_already_cancelled(market, resident, lease):
    market.cancel(lease, {"from": resident})
    with reverts_with("LeaseMarketWrongStatus", lease, CANCELLED):
        market.cancel(lease, {"from": resident})


def test_cancel_reverts_when_checked_in(market, resident, checked_in):
    with reverts_with("LeaseMarketWrongStatus", checked_in, CHECKED_IN):
        market.cancel(checked_in, {"from": resident})


# ----------------------------------------------------------------------- ownerCancel


@pytest.mark.parametrize("who", ["owner", "operator", "admin"])
def test_owner_cancel_refunds_in_full(
    market, credit, slot_id, owner, people, resident, lease, start, end, who
):
    caller = {"owner": owner, "operator": people.operator, "admin": people.admin}[who]
    mine_at(start - 10 * MINUTE)  # late: a lessee would only get half back
    before = credit.balanceOf(resident)
    tx = market.ownerCancel(lease, {"from": caller})
    _assert_cancelled(tx, market, lease, caller, PRICE, 0)
    assert "RevenueAllocated" not in tx.events
    assert credit.balanceOf(resident) == before + PRICE
    assert market.isFree(slot_id, start, end)


@pytest.mark.parametrize("who", ["stranger", "lessee", "oracle"])
def test_owner_cancel_reverts_for_others(market, lease, stranger, resident, people, who):
    caller = {"stranger": stranger, "lessee": resident, "oracle": people.oracle}[who]
    with reverts_with("LeaseMarketNotAuthorized", lease, caller):
        market.ownerCancel(lease, {"from": caller})


def test_owner_cancel_reverts_after_the_lease_ended(market, owner, lease, end):
    """An unused lease that ended is a no-show for the owner, not a refund for the lessee."""
    mine_at(end)
    with reverts_with("LeaseMarketOutsideLeaseTime"):  # the second argument is the block time
        market.ownerCancel(lease, {"from": owner})
    tx = market.settleNoShow(lease, {"from": owner})
    assert tx.events["LeaseNoShow"]["price"] == PRICE


def test_owner_cancel_reverts_when_checked_in(market, owner, checked_in):
    with reverts_with("LeaseMarketWrongStatus", checked_in, CHECKED_IN):
        market.ownerCancel(checked_in, {"from": owner})


def test_owner_cancel_reverts_for_unknown_lease(market, owner):
    with reverts_with("LeaseMarketUnknownLease", 77):
        market.ownerCancel(77, {"from": owner})


def test_owner_cancel_of_suspended_lessees_lease_defers_the_refund(
    market, system, split, people, slot_id, owner, resident, lease, start, end
):
    """A suspended member may not receive credits: the vault keeps the refund for them, and the
    owner can still withdraw the space."""
    system.access.suspend(resident, b"\x03" * 32, {"from": people.operator})
    tx = market.ownerCancel(lease, {"from": owner})
    _assert_cancelled(tx, market, lease, owner, PRICE, 0)
    deferred = tx.events["RefundDeferred"]
    assert (deferred["source"], deferred["to"], deferred["amount"]) == (market, resident, PRICE)
    assert "EscrowRefunded" not in tx.events
    assert market.isFree(slot_id, start, end)
    assert split.deferredRefundOf(resident) == PRICE
    system.access.reinstate(resident, {"from": people.operator})
    assert split.claim({"from": resident}).events["Claimed"]["amount"] == PRICE


# ---------------------------------------------------------------------------- checkIn


def test_check_in_fifteen_minutes_early(market, resident, lease, start):
    mine_at(start - 15 * MINUTE)
    tx = market.checkIn(lease, {"from": resident})
    event = tx.events["LeaseCheckedIn"]
    assert (event["leaseId"], event["by"], event["at"]) == (lease, resident, tx.timestamp)
    assert market.leaseOf(lease)[2] == CHECKED_IN


def test_check_in_late_during_the_lease(market, resident, lease, start):
    mine_at(start + 90 * MINUTE)
    tx = market.checkIn(lease, {"from": resident})
    assert tx.events["LeaseCheckedIn"]["at"] == tx.timestamp


def test_check_in_by_oracle(market, people, lease, start):
    mine_at(start)
    tx = market.checkIn(lease, {"from": people.oracle})
    assert tx.events["LeaseCheckedIn"]["by"] == people.oracle


@pytest.mark.parametrize("when", ["16-min-early", "at-end", "after-end"])
def test_check_in_reverts_outside_lease_time(market, resident, lease, start, end, when):
    mine_at({"16-min-early": start - 16 * MINUTE, "at-end": end, "after-end": end + HOUR}[when])
    with reverts_at_block("LeaseMarketOutsideLeaseTime", lambda now: (lease, now)):
        market.checkIn(lease, {"from": resident})


def test_check_in_follows_policy_check_in_early(market, admin, resident, lease, start):
    market.setPolicy((3600, 600, 5000, 2000, 2 * HOUR), {"from": admin})
    mine_at(start - 110 * MINUTE)
    assert market.checkIn(lease, {"from": resident}).events["LeaseCheckedIn"]


@pytest.mark.parametrize("who", ["stranger", "other", "operator", "owner"])
def test_check_in_reverts_for_others(market, lease, start, stranger, other, people, owner, who):
    caller = {"stranger": stranger, "other": other, "operator": people.operator, "owner": owner}[
        who
    ]
    mine_at(start)
    with reverts_with("LeaseMarketNotAuthorized", lease, caller):
        market.checkIn(lease, {"from": caller})


def test_check_in_reverts_for_suspended_oracle(market, system, people, lease, start):
    system.access.suspend(people.oracle, b"\x04" * 32, {"from": people.admin})
    mine_at(start)
    with reverts_with("LeaseMarketNotAuthorized", lease, people.oracle):
        market.checkIn(lease, {"from": people.oracle})


def test_check_in_reverts_when_already_checked_in(market, resident, checked_in):
    with reverts_with("LeaseMarketWrongStatus", checked_in, CHECKED_IN):
        market.checkIn(checked_in, {"from": resident})


def test_check_in_reverts_when_cancelled(market, resident, lease, start):
    market.cancel(lease, {"from": resident})
    mine_at(start)
    with reverts_with("LeaseMarketWrongStatus", lease, CANCELLED):
        market.checkIn(lease, {"from": resident})


# --------------------------------------------------------------------------- checkOut


def test_check_out_on_time_settles_without_charge(
    market, credit, split, owner, resident, checked_in, start
):
    mine_at(start + HOUR)  # leaving early
    before = credit.balanceOf(resident)
    tx = market.checkOut(checked_in, {"from": resident})
    settled = tx.events["LeaseSettled"]
    assert settled["leaseId"] == checked_in
    assert settled["by"] == resident
    assert settled["at"] == tx.timestamp
    assert (settled["price"], settled["overstayCharge"], settled["overstayPaid"]) == (
        PRICE,
        0,
        True,
    )
    assert "OverstayDebtRecorded" not in tx.events
    assert_allocated(tx, owner, PRICE)
    assert credit.balanceOf(resident) == before
    assert market.leaseOf(checked_in)[2] == SETTLED
    assert split.claimable(owner) == shares(PRICE)[0]


def test_check_out_at_the_end_is_not_an_overstay(market, owner, resident, checked_in, end):
    mine_at(end)
    tx = market.checkOut(checked_in, {"from": resident})
    assert tx.events["LeaseSettled"]["overstayCharge"] == 0


@pytest.mark.parametrize(
    "late, steps",
    [(5 * MINUTE, 1), (10 * MINUTE + 30, 2), (25 * MINUTE, 3)],
    ids=["5m", "10m30s", "25m"],
)
def test_check_out_late_charges_overstay(
    market, credit, split, owner, resident, checked_in, end, late, steps
):
    mine_at(end + late)
    before = credit.balanceOf(resident)
    tx = market.checkOut(checked_in, {"from": resident})
    charge = steps * 200 + 2000
    settled = tx.events["LeaseSettled"]
    assert (settled["price"], settled["overstayCharge"], settled["overstayPaid"]) == (
        PRICE,
        charge,
        True,
    )
    assert credit.balanceOf(resident) == before - charge
    assert_allocated(tx, owner, PRICE + charge)
    assert market.overstayDebtOf(checked_in) == 0


def test_check_out_by_oracle(market, people, owner, checked_in, start):
    mine_at(start + HOUR)
    tx = market.checkOut(checked_in, {"from": people.oracle})
    assert tx.events["LeaseSettled"]["by"] == people.oracle
    assert_allocated(tx, owner, PRICE)


def test_overstay_unpaid_is_recorded_as_debt_and_paid_later(
    market, credit, split, people, owner, resident, checked_in, end
):
    credit.approve(market, 0, {"from": resident})  # the lessee cannot be charged
    mine_at(end + 25 * MINUTE)
    before = credit.balanceOf(resident)
    tx = market.checkOut(checked_in, {"from": people.oracle})
    debt = 3 * 200 + 2000
    recorded = tx.events["OverstayDebtRecorded"]
    assert (recorded["leaseId"], recorded["lessee"], recorded["amount"]) == (
        checked_in,
        resident,
        debt,
    )
    settled = tx.events["LeaseSettled"]
    assert (settled["overstayCharge"], settled["overstayPaid"]) == (debt, False)
    assert_allocated(tx, owner, PRICE)  # only the escrowed price
    assert credit.balanceOf(resident) == before
    assert market.overstayDebtOf(checked_in) == debt
    assert market.leaseOf(checked_in)[2] == SETTLED

    credit.approve(market, MAX_UINT, {"from": resident})
    tx = market.payOverstayDebt(checked_in, {"from": resident})
    paid = tx.events["OverstayDebtPaid"]
    assert (paid["leaseId"], paid["payer"], paid["amount"]) == (checked_in, resident, debt)
    assert_allocated(tx, owner, debt)
    assert credit.balanceOf(resident) == before - debt
    assert market.overstayDebtOf(checked_in) == 0
    assert split.claimable(owner) == shares(PRICE)[0] + shares(debt)[0]
    with reverts_with("LeaseMarketNoDebt", checked_in):
        market.payOverstayDebt(checked_in, {"from": resident})


def test_overstay_debt_when_balance_too_low(
    market, credit, people, resident, other, checked_in, end
):
    credit.transfer(other, credit.balanceOf(resident) - 100, {"from": resident})
    mine_at(end + 25 * MINUTE)
    tx = market.checkOut(checked_in, {"from": resident})
    assert tx.events["OverstayDebtRecorded"]["amount"] == 2600
    assert credit.balanceOf(resident) == 100


def test_overstay_debt_may_be_paid_by_someone_else(
    market, credit, owner, resident, other, checked_in, end
):
    credit.approve(market, 0, {"from": resident})
    mine_at(end + 5 * MINUTE)
    market.checkOut(checked_in, {"from": resident})
    before = credit.balanceOf(other)
    tx = market.payOverstayDebt(checked_in, {"from": other})
    assert tx.events["OverstayDebtPaid"]["payer"] == other
    assert credit.balanceOf(other) == before - 2200


def test_pay_overstay_debt_reverts_without_debt(market, resident, lease, checked_in, start):
    with reverts_with("LeaseMarketNoDebt", lease):
        market.payOverstayDebt(lease, {"from": resident})
    mine_at(start + HOUR)
    market.checkOut(checked_in, {"from": resident})
    with reverts_with("LeaseMarketNoDebt", checked_in):
        market.payOverstayDebt(checked_in, {"from": resident})


def test_pay_overstay_debt_reverts_for_unknown_lease(market, resident):
    with reverts_with("LeaseMarketUnknownLease", 5):
        market.payOverstayDebt(5, {"from": resident})


def test_check_out_reverts_before_check_in(market, resident, lease, start):
    mine_at(start + HOUR)
    with reverts_with("LeaseMarketWrongStatus", lease, BOOKED):
        market.checkOut(lease, {"from": resident})


def test_check_out_reverts_when_already_settled(market, resident, checked_in):
    market.checkOut(checked_in, {"from": resident})
    with reverts_with("LeaseMarketWrongStatus", checked_in, SETTLED):
        market.checkOut(checked_in, {"from": resident})


@pytest.mark.parametrize("who", ["stranger", "other", "owner"])
def test_check_out_reverts_for_others(market, checked_in, stranger, other, owner, who):
    caller = {"stranger": stranger, "other": other, "owner": owner}[who]
    with reverts_with("LeaseMarketNotAuthorized", checked_in, caller):
        market.checkOut(checked_in, {"from": caller})


# ------------------------------------------------------------------------ settleNoShow


@pytest.mark.parametrize("when", ["before-start", "during"])
def test_settle_no_show_reverts_before_the_end(market, stranger, lease, start, end, when):
    if when == "during":
        mine_at(end - 10 * MINUTE)
    with reverts_with("LeaseMarketNotEnded", lease, end):
        market.settleNoShow(lease, {"from": stranger})


def test_settle_no_show_pays_the_owner(market, split, owner, stranger, lease, end):
    mine_at(end)
    tx = market.settleNoShow(lease, {"from": stranger})
    event = tx.events["LeaseNoShow"]
    assert (event["leaseId"], event["by"], event["price"]) == (lease, stranger, PRICE)
    assert_allocated(tx, owner, PRICE)
    assert market.leaseOf(lease)[2] == NO_SHOW
    assert split.claimable(owner) == shares(PRICE)[0]
    with reverts_with("LeaseMarketWrongStatus", lease, NO_SHOW):
        market.settleNoShow(lease, {"from": stranger})


def test_settle_no_show_reverts_when_checked_in(market, stranger, checked_in, end):
    mine_at(end + HOUR)
    with reverts_with("LeaseMarketWrongStatus", checked_in, CHECKED_IN):
        market.settleNoShow(checked_in, {"from": stranger})


def test_settle_no_show_reverts_when_cancelled(market, resident, lease, end):
    market.cancel(lease, {"from": resident})
    mine_at(end)
    with reverts_with("LeaseMarketWrongStatus", lease, CANCELLED):
        market.settleNoShow(lease, {"from": resident})


# ------------------------------------------------------------------- views during lease


def test_current_lease_and_user_follow_the_clock(market, slot_id, resident, lease, start, end):
    assert market.currentLeaseId(slot_id) == 0
    assert market.userOf(slot_id) == ZERO_ADDRESS
    mine_at(start + 10 * MINUTE)
    assert market.currentLeaseId(slot_id) == lease
    assert market.userOf(slot_id) == resident
    assert market.userExpires(slot_id) == end
    mine_at(end + 10 * MINUTE)
    assert market.currentLeaseId(slot_id) == 0
    assert market.userExpires(slot_id) == 0


def test_current_lease_id_carries_the_generation(market, slot_id, residents, start, end):
    first, second = residents
    old = market.book(slot_id, start, end, MAX_PRICE, {"from": first}).return_value
    market.cancel(old, {"from": first})
    new = market.book(slot_id, start, end, MAX_PRICE, {"from": second}).return_value
    mine_at(start + HOUR)
    assert market.currentLeaseId(slot_id) == new == old + 1
    assert market.userOf(slot_id) == second


def test_lease_across_calendar_words_books_and_releases_both(
    market, slot_id, owner, residents, start
):
    """The booking bitmap holds 128 half-hours per word; a lease may straddle two words."""
    first, second = residents
    boundary = ((start // UNIT) // 128 + 1) * 128 * UNIT
    lease = market.book(
        slot_id, boundary - 2 * HOUR, boundary + 2 * HOUR, MAX_PRICE, {"from": first}
    )
    for s, e in ((boundary + HOUR, boundary + 3 * HOUR), (boundary - 3 * HOUR, boundary - HOUR)):
        with reverts_with("LeaseMarketOverlap", slot_id, s, e):
            market.book(slot_id, s, e, MAX_PRICE, {"from": second})
    mine_at(boundary + HOUR)  # a unit in the second word: the start is found in the first
    assert market.userOf(slot_id) == first
    assert market.userExpires(slot_id) == boundary + 2 * HOUR
    market.ownerCancel(lease.return_value, {"from": owner})
    assert market.isFree(slot_id, boundary - 2 * HOUR, boundary + 2 * HOUR)
    assert market.userOf(slot_id) == ZERO_ADDRESS
    tx = market.book(slot_id, boundary + HOUR, boundary + 2 * HOUR, MAX_PRICE, {"from": second})
    assert tx.events["LeaseBooked"]["lessee"] == second


def test_user_of_finds_the_start_of_the_longest_lease(market, slot_id, resident, start):
    end = start + MAX_LEASE_UNITS * UNIT
    lease = market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value
    mine_at(end - 10 * MINUTE)  # 335 units after the start, three calendar words away
    assert market.currentLeaseId(slot_id) == lease
    assert market.userOf(slot_id) == resident
    assert market.userExpires(slot_id) == end


# ---------------------------------------------------------------------------- setPolicy


def test_default_policy_is_design_section_4(market):
    assert plain(market.policy()) == DEFAULT_POLICY


def test_set_policy_emits_and_stores(market, admin):
    policy = (2 * HOUR, 5 * MINUTE, 2500, 3000, 30 * MINUTE)
    tx = market.setPolicy(policy, {"from": admin})
    assert plain(tx.events["PolicySet"]["policy"]) == policy
    assert plain(market.policy()) == policy


def test_set_policy_emits_nothing_when_unchanged(market, admin):
    tx = market.setPolicy(DEFAULT_POLICY, {"from": admin})
    assert "PolicySet" not in tx.events
    assert plain(market.policy()) == tuple(DEFAULT_POLICY)


def test_set_policy_accepts_every_bound(market, admin):
    policy = (7 * DAY, DAY, 10_000, 1_000_000, 2 * HOUR)
    market.setPolicy(policy, {"from": admin})
    assert plain(market.policy()) == policy


@pytest.mark.parametrize(
    "index, value, field",
    [
        (0, 7 * DAY + 1, "freeCancelCutoff"),
        (1, DAY + 1, "bookingGracePeriod"),
        (2, 10_001, "lateCancelRefundBps"),
        (3, 1_000_001, "overstayPenalty"),
        (4, 2 * HOUR + 1, "checkInEarly"),
    ],
)
def test_set_policy_reverts_out_of_bounds(market, admin, index, value, field):
    policy = list(DEFAULT_POLICY)
    policy[index] = value
    with reverts_with("LeaseMarketInvalidPolicy", field):
        market.setPolicy(tuple(policy), {"from": admin})


@pytest.mark.parametrize("who", ["operator", "stranger", "resident"])
def test_set_policy_reverts_without_city_admin(market, people, stranger, resident, who):
    caller = {"operator": people.operator, "stranger": stranger, "resident": resident}[who]
    with reverts_with("CityAccessMissingRole", caller, ROLES["CITY_ADMIN"]):
        market.setPolicy(DEFAULT_POLICY, {"from": caller})


# -------------------------------------------------------------------------- constructor


def _deploy(LeaseMarket, system, people, max_advance, max_units, **override):
    args = {
        "access": system.access,
        "credit": system.credit,
        "slots": system.slots,
        "vault": system.split,
        "forwarder": system.forwarder,
    }
    args.update(override)
    return LeaseMarket.deploy(*args.values(), max_advance, max_units, {"from": people.admin})


@pytest.mark.parametrize(
    "max_advance, max_units, field",
    [
        (0, MAX_LEASE_UNITS, "maxAdvance"),
        (365 * DAY + 1, MAX_LEASE_UNITS, "maxAdvance"),
        (MAX_ADVANCE_SECONDS, 0, "maxLeaseUnits"),
        (MAX_ADVANCE_SECONDS, 673, "maxLeaseUnits"),
    ],
)
def test_constructor_reverts_for_bad_limits(
    LeaseMarket, system, people, max_advance, max_units, field
):
    with reverts_with("LeaseMarketInvalidPolicy", field):
        _deploy(LeaseMarket, system, people, max_advance, max_units)


def test_constructor_accepts_the_ceilings(LeaseMarket, system, people):
    deployed = _deploy(LeaseMarket, system, people, 365 * DAY, 672)
    assert deployed.maxAdvance() == 365 * DAY == deployed.MAX_ADVANCE_CEILING()
    assert deployed.maxLeaseUnits() == 672 == deployed.MAX_LEASE_UNITS_CEILING()
    assert plain(deployed.policy()) == DEFAULT_POLICY
    assert (deployed.credit(), deployed.slots(), deployed.vault()) == (
        system.credit,
        system.slots,
        system.split,
    )


@pytest.mark.parametrize("missing", ["credit", "slots", "vault"])
def test_constructor_reverts_for_zero_address(LeaseMarket, system, people, missing):
    with reverts_with("LeaseMarketZeroAddress"):
        _deploy(
            LeaseMarket,
            system,
            people,
            MAX_ADVANCE_SECONDS,
            MAX_LEASE_UNITS,
            **{missing: ZERO_ADDRESS},
        )


def test_constructor_reverts_for_zero_access(LeaseMarket, system, people):
    with reverts_with("CityAccessZeroAddress"):
        _deploy(
            LeaseMarket, system, people, MAX_ADVANCE_SECONDS, MAX_LEASE_UNITS, access=ZERO_ADDRESS
        )


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
