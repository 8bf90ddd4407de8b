"""The prepaid booking balance (LeasePrepaid): deposits into the vault, bookings that move no
token, withdrawals, CityAccess's suspensions carried by the balance word, and conservation of
the vault's credits through a mixed run."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS

from tests.contract_helpers import head_time, mine_at, reverts_with
from tests.contracts.lease_market.helpers import BOOKED, HOUR, MAX_PRICE, permit

PRICE = 2_400  # START..END: 4 units at ₩600
SUSPEND_REASON = b"\x01" * 32


@pytest.fixture
def prepaid(market, resident):
    """`resident` has prepaid ₩10,000."""
    market.deposit(10_000, {"from": resident})
    return 10_000


def test_deposit_moves_credits_into_the_vault(market, system, resident):
    wallet, vault = system.credit.balanceOf(resident), system.credit.balanceOf(system.split)
    tx = market.deposit(5_000, {"from": resident})
    assert tx.events["PrepaidDeposited"] == {"account": resident, "amount": 5_000, "balance": 5_000}
    assert tx.events["Transfer"]["to"] == system.split
    assert market.prepaidBalanceOf(resident) == 5_000
    assert system.credit.balanceOf(resident) == wallet - 5_000
    assert system.credit.balanceOf(system.split) == vault + 5_000
    tx = market.deposit(1, {"from": resident})
    assert tx.events["PrepaidDeposited"]["balance"] == 5_001


def test_booking_from_the_balance_moves_no_token(
    market, system, slot_id, resident, start, end, prepaid
):
    wallet, vault = system.credit.balanceOf(resident), system.credit.balanceOf(system.split)
    tx = market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    assert "Transfer" not in tx.events
    assert tx.events["LeaseBooked"]["price"] == PRICE
    assert market.prepaidBalanceOf(resident) == prepaid - PRICE
    assert system.credit.balanceOf(resident) == wallet
    assert system.credit.balanceOf(system.split) == vault
    lease = market.leaseOf(tx.return_value)
    assert (lease[0], lease[1], lease[2]) == (resident, 4, BOOKED)


def test_a_short_balance_is_left_whole_and_the_wallet_pays(
    market, system, slot_id, resident, start, end
):
    market.deposit(PRICE - 1, {"from": resident})
    tx = market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    assert tx.events["Transfer"]["value"] == PRICE
    assert market.prepaidBalanceOf(resident) == PRICE - 1


def test_withdraw_pays_out_of_the_vault(market, system, resident, prepaid):
    wallet = system.credit.balanceOf(resident)
    tx = market.withdraw(4_000, {"from": resident})
    assert tx.events["PrepaidWithdrawn"] == {"account": resident, "amount": 4_000, "balance": 6_000}
    assert tx.events["EscrowRefunded"]["to"] == resident
    assert system.credit.balanceOf(resident) == wallet + 4_000
    assert market.prepaidBalanceOf(resident) == 6_000


def test_deposit_with_a_permit_needs_no_prior_approval(market, system, signer):
    key, account = signer
    credit = system.credit
    deadline = head_time() + HOUR
    sig = permit(credit, market, key, account, 7_000, deadline)
    tx = market.depositWithPermit(7_000, deadline, sig.v, sig.r, sig.s, {"from": account})
    assert tx.events["PrepaidDeposited"]["balance"] == 7_000
    assert credit.allowance(account, market) == 0
    stale = permit(credit, market, key, account, 1, head_time() - 1)
    with reverts_with("LeaseMarketPermitFailed"):
        market.depositWithPermit(1, head_time() - 1, stale.v, stale.r, stale.s, {"from": account})


def test_bad_amounts_and_strangers(market, accounts, resident, prepaid):
    with reverts_with("LeaseMarketZeroAmount"):
        market.deposit(0, {"from": resident})
    with reverts_with("LeaseMarketZeroAmount"):
        market.withdraw(0, {"from": resident})
    with reverts_with("LeaseMarketInsufficientPrepaid", resident, prepaid, prepaid + 1):
        market.withdraw(prepaid + 1, {"from": resident})
    stranger = accounts[15]
    with reverts_with("LeaseMarketNotMember", stranger):
        market.deposit(1, {"from": stranger})


def test_suspension_stops_bookings_from_the_balance(
    market, system, people, slot_id, resident, start, end, prepaid
):
    system.access.suspend(resident, SUSPEND_REASON, {"from": people.admin})
    assert market.prepaidBalanceOf(resident) == prepaid  # the flag is not part of the balance
    with reverts_with("LeaseMarketNotMember", resident):
        market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    with reverts_with("LeaseMarketNotMember", resident):
        market.deposit(1, {"from": resident})
    # A suspended member's withdrawal waits in the vault, as any refund to it does.
    tx = market.withdraw(prepaid, {"from": resident})
    assert tx.events["RefundDeferred"]["amount"] == prepaid
    with reverts_with("LeaseMarketNotMember", resident):
        market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    system.access.reinstate(resident, {"from": people.admin})
    market.deposit(PRICE, {"from": resident})
    tx = market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    assert "Transfer" not in tx.events
    assert market.prepaidBalanceOf(resident) == 0


def test_reinstatement_reopens_the_balance(
    market, system, people, slot_id, resident, start, end, prepaid
):
    system.access.suspend(resident, SUSPEND_REASON, {"from": people.admin})
    system.access.reinstate(resident, {"from": people.admin})
    tx = market.book(slot_id, start, end, MAX_PRICE, {"from": resident})
    assert "Transfer" not in tx.events
    assert market.prepaidBalanceOf(resident) == prepaid - PRICE


def test_only_city_access_reports_suspensions(market, resident, people, prepaid):
    for caller in (resident, people.admin, people.operator):
        with reverts_with("LeaseMarketNotAuthorized", 0, caller):
            market.onMembershipChanged(resident, True, {"from": caller})


def test_the_listener_is_set_once_by_the_admin(system, people, accounts):
    assert system.access.membershipListener() == system.market
    with reverts_with("CityAccessListenerAlreadySet"):
        system.access.setMembershipListener(accounts[15], {"from": people.admin})
    with reverts_with("AccessControlUnauthorizedAccount"):
        system.access.setMembershipListener(accounts[15], {"from": people.operator})


def test_no_deposit_into_a_market_city_access_does_not_tell(LeaseMarket, system, people, resident):
    """A second market (not the listener) would not learn of suspensions: it takes no deposit."""
    unheard = LeaseMarket.deploy(
        system.access, system.credit, system.slots, system.split, system.forwarder, 86400, 48,
        {"from": people.admin},
    )  # fmt: skip
    system.credit.approve(unheard, PRICE, {"from": resident})
    with reverts_with("LeaseMarketPrepaidClosed"):
        unheard.deposit(PRICE, {"from": resident})


def test_setting_the_listener_checks_its_address(CityAccess, people):
    fresh = CityAccess.deploy(people.admin, {"from": people.admin})
    with reverts_with("CityAccessZeroAddress"):
        fresh.setMembershipListener(ZERO_ADDRESS, {"from": people.admin})
    tx = fresh.setMembershipListener(people.operator, {"from": people.admin})
    assert tx.events["MembershipListenerSet"]["listener"] == people.operator


def test_the_vault_holds_every_prepaid_credit_and_escrow(
    market, system, people, slot_id, residents, owner, start, day
):
    """Conservation through deposits, prepaid and wallet-paid bookings, a cancellation, a
    settlement, a withdrawal and claims: the vault's credits are always the prepaid balances plus
    the escrow of open leases plus what payees may claim (nothing else holds them)."""
    first, second = residents
    split = system.split
    payees = [owner, people.village_enterprise, people.city_fund, people.platform]
    open_leases: dict[int, int] = {}

    def held() -> int:
        prepaid = sum(market.prepaidBalanceOf(r) for r in residents)
        return prepaid + sum(open_leases.values()) + sum(split.claimable(p) for p in payees)

    # Whatever the module's earlier set-up left in the vault (no lease is open yet).
    other = system.credit.balanceOf(split) - held()

    def check() -> None:
        assert system.credit.balanceOf(split) == other + held()

    market.deposit(20_000, {"from": first})
    check()
    for hour, who in ((10, first), (13, second), (16, first)):  # second pays from its wallet
        begin = start + (hour - 10) * HOUR
        tx = market.book(slot_id, begin, begin + 2 * HOUR, MAX_PRICE, {"from": who})
        open_leases[tx.return_value] = tx.events["LeaseBooked"]["price"]
        check()
    cancelled = list(open_leases)[2]
    tx = market.cancel(cancelled, {"from": first})
    del open_leases[cancelled]
    check()
    used = list(open_leases)[0]
    mine_at(start)
    market.checkIn(used, {"from": first})
    mine_at(start + 2 * HOUR - 60)
    market.checkOut(used, {"from": first})
    del open_leases[used]
    check()
    market.withdraw(market.prepaidBalanceOf(first), {"from": first})
    check()
    split.claim({"from": owner})
    check()
    assert market.prepaidBalanceOf(first) == 0
