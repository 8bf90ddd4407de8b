"""LeaseMarket cancellations: the lessee's (free within the grace period or before the cut-off,
half refunded after) and the owner's (always refunded in full)."""

from __future__ import annotations

import pytest

from citypass.core.timeunits import local_day
from tests.contract_helpers import (
    mine_at,
    reverts_with,
)
from tests.contracts.lease_market.helpers import (
    CANCELLED,
    CHECKED_IN,
    MAX_PRICE,
    MINUTE,
    PRICE,
    assert_allocated,
    assert_cancelled,
    shares,
)

# ---------------------------------------------------------------------------- cancel


def test_cancel_within_booking_grace_period_is_free(
    market, credit, split, slot_id, resident, start, end
):
    mine_at(start - 40 * MINUTE)  # already past the 1 h cut-off
    before = credit.balanceOf(resident)
    lease = market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value
    tx = market.cancel(lease, {"from": resident})
    assert_cancelled(tx, market, lease, resident, PRICE, 0)
    refunded = tx.events["EscrowRefunded"]
    assert (refunded["to"], refunded["amount"]) == (resident, PRICE)
    assert "RevenueAllocated" not in tx.events
    assert credit.balanceOf(resident) == before
    assert market.isFree(slot_id, start, end)


def test_cancel_before_cutoff_is_free(market, credit, slot_id, resident, lease, start, end):
    mine_at(start - 61 * MINUTE)
    before = credit.balanceOf(resident)
    tx = market.cancel(lease, {"from": resident})
    assert_cancelled(tx, market, lease, resident, PRICE, 0)
    assert credit.balanceOf(resident) == before + PRICE
    assert market.isFree(slot_id, start, end)


def test_cancel_after_cutoff_refunds_half_and_allocates_the_rest(
    market, credit, split, slot_id, owner, resident, lease, start
):
    mine_at(start - 59 * MINUTE)
    before = credit.balanceOf(resident)
    tx = market.cancel(lease, {"from": resident})
    assert_cancelled(tx, market, lease, resident, PRICE // 2, PRICE // 2)
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
    assert_cancelled(tx, market, lease, resident, PRICE // 2, PRICE // 2)


def test_cancel_after_cutoff_follows_the_policy_refund_share(market, admin, resident, lease, start):
    market.setPolicy((3600, 600, 2500, 2000, 900), {"from": admin})
    mine_at(start - 30 * MINUTE)
    tx = market.cancel(lease, {"from": resident})
    assert_cancelled(tx, market, lease, resident, PRICE // 4, PRICE - PRICE // 4)


def test_cancel_is_free_when_owner_made_slot_inactive(
    market, slots, slot_id, owner, resident, lease, start
):
    mine_at(start - 30 * MINUTE)
    slots.setActive(slot_id, False, {"from": owner})
    tx = market.cancel(lease, {"from": resident})
    assert_cancelled(tx, market, lease, resident, PRICE, 0)
    assert "RevenueAllocated" not in tx.events


def test_cancel_is_free_when_owner_blacked_out_the_day(
    market, slots, slot_id, owner, resident, lease, start
):
    mine_at(start - 30 * MINUTE)
    slots.setBlackout(slot_id, local_day(start), True, {"from": owner})
    tx = market.cancel(lease, {"from": resident})
    assert_cancelled(tx, market, lease, resident, PRICE, 0)


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


@pytest.mark.parametrize(
    "earlier, status", [("cancel", CANCELLED), ("checkIn", CHECKED_IN)], ids=["twice", "checked-in"]
)
def test_cancel_reverts_once_cancelled_or_checked_in(
    market, resident, lease, start, earlier, status
):
    if earlier == "checkIn":
        mine_at(start)
    getattr(market, earlier)(lease, {"from": resident})
    with reverts_with("LeaseMarketWrongStatus", lease, status):
        market.cancel(lease, {"from": resident})


# ----------------------------------------------------------------------- ownerCancel


@pytest.mark.parametrize("who", ["owner", "operator", "admin"])
def test_owner_cancel_refunds_in_full(
    market, credit, slot_id, owner, people, resident, lease, start, end, who
):
    caller = {"owner": owner, "operator": people.operator, "admin": people.admin}[who]
    mine_at(start - 10 * MINUTE)  # late: a lessee would only get half back
    before = credit.balanceOf(resident)
    tx = market.ownerCancel(lease, {"from": caller})
    assert_cancelled(tx, market, lease, caller, PRICE, 0)
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
    assert_cancelled(tx, market, lease, owner, PRICE, 0)
    deferred = tx.events["RefundDeferred"]
    assert (deferred["source"], deferred["to"], deferred["amount"]) == (market, resident, PRICE)
    assert "EscrowRefunded" not in tx.events
    assert market.isFree(slot_id, start, end)
    assert split.deferredRefundOf(resident) == PRICE
    system.access.reinstate(resident, {"from": people.operator})
    assert split.claim({"from": resident}).events["Claimed"]["amount"] == PRICE
