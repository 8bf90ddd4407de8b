"""LeaseMarket.bookWithPermit (an EIP-2612 permit instead of a standing allowance) and the
terms a lease keeps when the owner changes the price."""

from __future__ import annotations

import pytest
from brownie.exceptions import VirtualMachineError
from eth_abi import encode
from eth_account import Account

from tests.contract_helpers import (
    head_time,
    mine_at,
    reverts_with,
    selector,
)
from tests.contracts.lease_market.helpers import (
    HOUR,
    MAX_PRICE,
    MINUTE,
    PRICE,
    assert_allocated,
    permit,
    permit_failure_reason,
)

# --------------------------------------------------------------------- bookWithPermit


def test_book_with_permit_books_without_prior_approval(market, credit, slot_id, signer, start, end):
    key, account = signer
    assert credit.allowance(account, market) == 0
    max_price = PRICE + 600
    deadline = head_time() + HOUR
    sig = permit(credit, market, key, account, max_price, deadline)
    tx = market.bookWithPermit(
        slot_id, start, end, max_price, deadline, sig.v, sig.r, sig.s, {"from": account}
    )
    assert tx.events["LeaseBooked"]["lessee"] == account
    assert tx.events["Approval"][0]["value"] == max_price
    assert credit.balanceOf(account) == 100_000 - PRICE
    assert credit.allowance(account, market) == max_price - PRICE
    assert credit.nonces(account) == 1


def test_book_with_permit_reverts_for_expiredpermit(market, credit, slot_id, signer, start, end):
    key, account = signer
    deadline = head_time() - 1
    sig = permit(credit, market, key, account, PRICE, deadline)
    inner = selector("ERC2612ExpiredSignature(uint256)") + encode(["uint256"], [deadline])
    with reverts_with("LeaseMarketPermitFailed", inner):
        market.bookWithPermit(
            slot_id, start, end, PRICE, deadline, sig.v, sig.r, sig.s, {"from": account}
        )


def test_book_with_permit_reverts_for_forgedpermit(market, credit, slot_id, signer, start, end):
    key, account = signer
    forger = Account.create()
    deadline = head_time() + HOUR
    sig = permit(credit, market, key, account, PRICE, deadline, signing_key=forger.key)
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
    sig = permit(credit, market, key, account, PRICE, deadline)
    with pytest.raises(VirtualMachineError) as info:
        market.bookWithPermit(
            slot_id, start, end, PRICE + 1, deadline, sig.v, sig.r, sig.s, {"from": account}
        )
    inner = permit_failure_reason(info.value)
    assert inner[:4] == selector("ERC2612InvalidSigner(address,address)")
    assert inner[-20:] == bytes.fromhex(account.address[2:])  # the owner argument


def test_book_with_permit_survives_a_front_runpermit(
    market, credit, slot_id, signer, other, start, end
):
    key, account = signer
    deadline = head_time() + HOUR
    sig = permit(credit, market, key, account, PRICE, deadline)
    credit.permit(account, market, PRICE, deadline, sig.v, sig.r, sig.s, {"from": other})
    tx = market.bookWithPermit(
        slot_id, start, end, PRICE, deadline, sig.v, sig.r, sig.s, {"from": account}
    )
    assert tx.events["LeaseBooked"]["lessee"] == account
    assert credit.allowance(account, market) == 0


def test_book_with_permit_still_checks_the_booking(market, credit, slot_id, signer, start, end):
    key, account = signer
    deadline = head_time() + HOUR
    sig = permit(credit, market, key, account, PRICE - 1, deadline)
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
