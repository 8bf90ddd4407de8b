"""CityForwarder (ERC-2771): a resident signs a ForwardRequest, a relayer submits it, and the
trusting targets (LeaseMarket, ParkingSlots, RevenueSplit) act for the signer."""

from __future__ import annotations

import pytest
from brownie import chain
from eth_account import Account
from eth_account.messages import encode_typed_data

from citypass.core.windows import WEEKDAYS, Window
from citypass.protocol.signing import (
    FORWARD_REQUEST_TYPES,
    domain,
    forward_request,
    request_data_tuple,
    sign_forward_request,
)
from tests.contract_helpers import head_time, key_member, mine_at, reverts_with, shared_slot

ZERO = "0x0000000000000000000000000000000000000000"
HOUR = 3600
PERSONAL = 3
MAX_UINT = 2**256 - 1
PRICE_2H = 4 * 600


# -------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def relayer(operator):
    """The CityPass API's relaying account."""
    return operator


@pytest.fixture(scope="module")
def signer_key(accounts, system, people):
    """A resident's wallet key: onboarded, funded, with a standing approval for the market."""
    return key_member(accounts, system, people, 100_000, approve=True)


@pytest.fixture(scope="module")
def signer(accounts, signer_key):
    return accounts.at(signer_key.address)


@pytest.fixture(scope="module")
def signer_slot(system, people, signer):
    """A personal slot owned by the signer, shared all day."""
    return shared_slot(system, people, signer, lot=7, at=(37_504_000, 126_788_000))


def _request(forwarder, key, target, data, *, deadline=None, nonce=None, value=0, sender=None):
    sender = sender or key.address
    return forward_request(
        sender,
        str(target),
        bytes.fromhex(data[2:]) if isinstance(data, str) else data,
        nonce=forwarder.nonces(sender) if nonce is None else nonce,
        deadline=head_time() + HOUR if deadline is None else deadline,
        value=value,
    )


def _signed(forwarder, key, request):
    signature = sign_forward_request(
        key.key, forwarder_address=forwarder.address, chain_id=chain.id, request=request
    )
    return request_data_tuple(request, signature.signature), signature


def _recovered(forwarder, request, signature, nonce):
    """The address ECDSA recovers from `signature` over `request` with `nonce`."""
    signable = encode_typed_data(
        domain_data=domain("CityPassForwarder", "1", chain.id, forwarder.address),
        message_types=FORWARD_REQUEST_TYPES,
        message_data={**request, "nonce": nonce},
    )
    return Account.recover_message(signable, signature=signature.signature)


def _book_data(system, slot, day, start_hour=10, hours=2):
    start = day + start_hour * HOUR
    return system.market.book.encode_input(slot, start, start + hours * HOUR, 10**9)


# ---------------------------------------------------------------------------- the basics


def test_forwarder_domain_and_trusting_targets(forwarder, system):
    domain_fields = forwarder.eip712Domain()
    assert domain_fields[1] == "CityPassForwarder"
    assert domain_fields[2] == "1"
    assert domain_fields[3] == chain.id
    assert domain_fields[4] == forwarder.address
    for target in (system.market, system.slots, system.split):
        assert target.isTrustedForwarder(forwarder)
    assert not hasattr(system.credit, "isTrustedForwarder")


def test_book_through_forwarder_leases_to_signer(
    forwarder, system, relayer, signer_key, signer, slot_id, day
):
    request = _request(forwarder, signer_key, system.market, _book_data(system, slot_id, day))
    data, _ = _signed(forwarder, signer_key, request)
    assert forwarder.verify(data)
    signer_before = system.credit.balanceOf(signer)
    relayer_before = system.credit.balanceOf(relayer)
    tx = forwarder.execute(data, {"from": relayer})
    executed = tx.events["ExecutedForwardRequest"]
    assert executed["signer"] == signer
    assert executed["nonce"] == 0
    assert executed["success"] is True
    booked = tx.events["LeaseBooked"]
    assert booked["lessee"] == signer
    assert booked["price"] == PRICE_2H
    lease = booked["leaseId"]
    assert system.market.leaseOf(lease)[0] == signer
    assert system.credit.balanceOf(signer) == signer_before - PRICE_2H
    assert system.credit.balanceOf(relayer) == relayer_before
    assert forwarder.nonces(signer) == 1
    assert not forwarder.verify(data)
    # the signer (not the relayer) now holds the lease and may check in directly
    mine_at(day + 10 * HOUR)
    assert system.market.userOf(slot_id) == signer
    with reverts_with("LeaseMarketNotAuthorized", lease, relayer):
        system.market.cancel(lease, {"from": relayer})


def test_cancel_through_forwarder_refunds_signer(
    forwarder, system, relayer, signer_key, signer, slot_id, day
):
    tx = system.market.book(slot_id, day + 10 * HOUR, day + 12 * HOUR, 10**9, {"from": signer})
    lease = tx.return_value
    before = system.credit.balanceOf(signer)
    request = _request(
        forwarder, signer_key, system.market, system.market.cancel.encode_input(lease)
    )
    data, _ = _signed(forwarder, signer_key, request)
    tx = forwarder.execute(data, {"from": relayer})
    cancelled = tx.events["LeaseCancelled"]
    assert cancelled["by"] == signer
    assert cancelled["refund"] == PRICE_2H
    assert system.credit.balanceOf(signer) == before + PRICE_2H


def test_set_windows_through_forwarder_acts_as_slot_owner(
    forwarder, system, relayer, signer_key, signer_slot
):
    windows = [Window(WEEKDAYS, 18, 36).as_tuple()]
    request = _request(
        forwarder,
        signer_key,
        system.slots,
        system.slots.setWindows.encode_input(signer_slot, windows),
    )
    data, _ = _signed(forwarder, signer_key, request)
    tx = forwarder.execute(data, {"from": relayer})
    assert tx.events["WindowsSet"]["slotId"] == signer_slot
    assert [tuple(w) for w in system.slots.windowsOf(signer_slot)] == windows


def test_claim_through_forwarder_pays_signer(
    forwarder, system, relayer, signer_key, signer, signer_slot, resident, day
):
    lease = system.market.book(
        signer_slot, day + 10 * HOUR, day + 12 * HOUR, 10**9, {"from": resident}
    ).return_value
    mine_at(day + 10 * HOUR)
    system.market.checkIn(lease, {"from": resident})
    system.market.checkOut(lease, {"from": resident})
    assert system.split.claimable(signer) == 1440
    signer_before = system.credit.balanceOf(signer)
    relayer_before = system.credit.balanceOf(relayer)
    request = _request(forwarder, signer_key, system.split, system.split.claim.encode_input())
    data, _ = _signed(forwarder, signer_key, request)
    tx = forwarder.execute(data, {"from": relayer})
    claimed = tx.events["Claimed"]
    assert claimed["payee"] == signer
    assert claimed["amount"] == 1440
    assert system.credit.balanceOf(signer) == signer_before + 1440
    assert system.credit.balanceOf(relayer) == relayer_before
    assert system.split.claimable(signer) == 0


def test_execute_batch_runs_requests_in_order(
    forwarder, system, relayer, signer_key, signer, slot_id, day
):
    first = _request(
        forwarder, signer_key, system.market, _book_data(system, slot_id, day, 10), nonce=0
    )
    second = _request(
        forwarder, signer_key, system.market, _book_data(system, slot_id, day, 13), nonce=1
    )
    batch = [_signed(forwarder, signer_key, r)[0] for r in (first, second)]
    tx = forwarder.executeBatch(batch, ZERO, {"from": relayer})
    assert [e["nonce"] for e in tx.events["ExecutedForwardRequest"]] == [0, 1]
    assert [e["lessee"] for e in tx.events["LeaseBooked"]] == [signer, signer]
    assert forwarder.nonces(signer) == 2


def test_execute_batch_with_refund_receiver_skips_invalid_request(
    forwarder, system, relayer, signer_key, signer, slot_id, day
):
    valid = _request(
        forwarder, signer_key, system.market, _book_data(system, slot_id, day, 10), nonce=0
    )
    expired = _request(
        forwarder,
        signer_key,
        system.market,
        _book_data(system, slot_id, day, 13),
        nonce=1,
        deadline=head_time() - 1,
    )
    batch = [_signed(forwarder, signer_key, r)[0] for r in (valid, expired)]
    tx = forwarder.executeBatch(batch, relayer, {"from": relayer})
    assert len(tx.events["ExecutedForwardRequest"]) == 1
    assert len(tx.events["LeaseBooked"]) == 1
    assert forwarder.nonces(signer) == 1


# ---------------------------------------------------------------------------- bad requests


def test_execute_reverts_when_request_expired(
    forwarder, system, relayer, signer_key, signer, slot_id, day
):
    deadline = head_time() - 1
    request = _request(
        forwarder, signer_key, system.market, _book_data(system, slot_id, day), deadline=deadline
    )
    data, _ = _signed(forwarder, signer_key, request)
    assert not forwarder.verify(data)
    with reverts_with("ERC2771ForwarderExpiredRequest", deadline):
        forwarder.execute(data, {"from": relayer})
    assert forwarder.nonces(signer) == 0


def test_execute_reverts_when_signed_by_another_key(
    forwarder, system, relayer, signer_key, signer, slot_id, day
):
    forger = Account.create()
    # the forger claims to be the signer, to book (and pay) with the signer's credits
    request = _request(
        forwarder, forger, system.market, _book_data(system, slot_id, day), sender=signer.address
    )
    data, _ = _signed(forwarder, forger, request)
    assert not forwarder.verify(data)
    with reverts_with("ERC2771ForwarderInvalidSigner", forger.address, signer):
        forwarder.execute(data, {"from": relayer})
    assert forwarder.nonces(signer) == 0


def test_execute_reverts_when_data_tampered(
    forwarder, system, relayer, signer_key, signer, slot_id, day
):
    request = _request(forwarder, signer_key, system.market, _book_data(system, slot_id, day))
    _, signature = _signed(forwarder, signer_key, request)
    tampered = {**request, "data": bytes.fromhex(_book_data(system, slot_id, day, 14)[2:])}
    recovered = _recovered(forwarder, tampered, signature, 0)
    assert recovered != signer.address
    with reverts_with("ERC2771ForwarderInvalidSigner", recovered, signer):
        forwarder.execute(request_data_tuple(tampered, signature.signature), {"from": relayer})


def test_execute_reverts_on_replay(forwarder, system, relayer, signer_key, signer, slot_id, day):
    request = _request(forwarder, signer_key, system.market, _book_data(system, slot_id, day))
    data, signature = _signed(forwarder, signer_key, request)
    forwarder.execute(data, {"from": relayer})
    # the nonce is now 1, so the same signature recovers to some other address
    recovered = _recovered(forwarder, request, signature, 1)
    assert recovered != signer.address
    with reverts_with("ERC2771ForwarderInvalidSigner", recovered, signer):
        forwarder.execute(data, {"from": relayer})
    assert forwarder.nonces(signer) == 1


def test_execute_reverts_for_non_trusting_target(
    forwarder, system, relayer, signer_key, signer, resident
):
    data_in = system.credit.transfer.encode_input(resident, 1_000)
    request = _request(forwarder, signer_key, system.credit, data_in)
    data, _ = _signed(forwarder, signer_key, request)
    assert not forwarder.verify(data)
    with reverts_with("ERC2771UntrustfulTarget", system.credit, forwarder):
        forwarder.execute(data, {"from": relayer})
    assert system.credit.balanceOf(signer) == 100_000


def test_execute_reverts_on_mismatched_value(forwarder, system, relayer, signer_key, slot_id, day):
    request = _request(
        forwarder, signer_key, system.market, _book_data(system, slot_id, day), value=1
    )
    data, _ = _signed(forwarder, signer_key, request)
    with reverts_with("ERC2771ForwarderMismatchedValue", 1, 0):
        forwarder.execute(data, {"from": relayer})


def test_forwarded_booking_by_suspended_signer_fails(
    forwarder, system, people, relayer, signer_key, signer, slot_id, day
):
    system.access.suspend(signer, b"\x02" * 32, {"from": people.operator})
    request = _request(forwarder, signer_key, system.market, _book_data(system, slot_id, day))
    data, _ = _signed(forwarder, signer_key, request)
    # the request itself is valid; the market refuses the signer, and the forwarder reverts
    assert forwarder.verify(data)
    with reverts_with("FailedCall"):
        forwarder.execute(data, {"from": relayer})
    assert forwarder.nonces(signer) == 0
    assert system.market.isFree(slot_id, day + 10 * HOUR, day + 12 * HOUR)


def test_forwarded_booking_by_stranger_fails(forwarder, system, relayer, slot_id, day):
    outsider = Account.create()
    request = _request(forwarder, outsider, system.market, _book_data(system, slot_id, day))
    data, _ = _signed(forwarder, outsider, request)
    with reverts_with("FailedCall"):
        forwarder.execute(data, {"from": relayer})
    assert forwarder.nonces(outsider.address) == 0


def test_forwarded_claim_with_nothing_to_claim_fails(
    forwarder, system, relayer, signer_key, signer
):
    request = _request(forwarder, signer_key, system.split, system.split.claim.encode_input())
    data, _ = _signed(forwarder, signer_key, request)
    with reverts_with("FailedCall"):
        forwarder.execute(data, {"from": relayer})
    assert forwarder.nonces(signer) == 0
