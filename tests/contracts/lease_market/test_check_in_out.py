"""LeaseMarket check-in, check-out with overstay charges and debts, and no-shows."""

from __future__ import annotations

import pytest

from tests.contract_helpers import (
    mine_at,
    pin_next_block,
    reverts_with,
)
from tests.contracts.lease_market.helpers import (
    BOOKED,
    CANCELLED,
    CHECKED_IN,
    HOUR,
    MAX_UINT,
    MINUTE,
    NO_SHOW,
    PRICE,
    SETTLED,
    assert_allocated,
    reverts_at_block,
    shares,
)

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


@pytest.mark.parametrize(
    "call, earlier, at, caller",
    [
        ("checkIn", "checkIn", None, "resident"),
        ("checkIn", "cancel", ("start", 0), "resident"),
        ("settleNoShow", "checkIn", ("end", HOUR), "stranger"),
        ("settleNoShow", "cancel", ("end", 0), "resident"),
    ],
    ids=["check-in-twice", "check-in-cancelled", "no-show-checked-in", "no-show-cancelled"],
)
def test_check_in_and_no_show_refuse_a_lease_checked_in_or_cancelled(
    market, resident, stranger, lease, start, end, call, earlier, at, caller
):
    if earlier == "checkIn":
        mine_at(start)
        market.checkIn(lease, {"from": resident})
    else:
        market.cancel(lease, {"from": resident})
    if at is not None:
        instant, offset = at
        mine_at({"start": start, "end": end}[instant] + offset)
    status = CHECKED_IN if earlier == "checkIn" else CANCELLED
    with reverts_with("LeaseMarketWrongStatus", lease, status):
        getattr(market, call)(lease, {"from": {"resident": resident, "stranger": stranger}[caller]})


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
    # The check-out's own block at exactly the end: a block mined at the end and the check-out
    # in the next one is a second or more later on a loaded machine, which is an overstay.
    pin_next_block(end)
    tx = market.checkOut(checked_in, {"from": resident})
    assert tx.timestamp == end
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
