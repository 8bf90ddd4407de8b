"""CityCredit: 0-decimal KRW credits, treasury top-ups and cash-outs, the closed loop of allowed
parties, platform contracts, and EIP-2612 permits."""

from __future__ import annotations

import pytest
from brownie import chain
from eth_account import Account
from eth_account.messages import encode_typed_data

from citypass.protocol.roles import ROLES
from citypass.protocol.signing import PERMIT_TYPES, domain, permit_message, sign_permit
from tests.contract_helpers import head_time, key_member, reverts_with

ZERO = "0x0000000000000000000000000000000000000000"
RECEIPT = b"topup-2019-06-01-000123".ljust(32, b"\x00")
REASON = b"suspended".ljust(32, b"\x00")
STARTING_CREDIT = 1_000_000


@pytest.fixture(scope="module")
def holder_key(accounts, system, people):
    """A throwaway key for permits: onboarded, with credits."""
    return key_member(accounts, system, people, 50_000)


@pytest.fixture(scope="module")
def holder(accounts, holder_key):
    return accounts.at(holder_key.address)


def _permit(credit, key, spender, value, deadline, nonce=None, owner=None):
    owner = owner or key.address
    return sign_permit(
        key.key,
        token_name="CityPass Credit",
        token_address=credit.address,
        chain_id=chain.id,
        owner=owner,
        spender=str(spender),
        value=value,
        nonce=credit.nonces(owner) if nonce is None else nonce,
        deadline=deadline,
    )


def _recovered(credit, signature, owner, spender, value, nonce, deadline):
    """The address ECDSA recovers from `signature` over the permit the contract would hash."""
    signable = encode_typed_data(
        domain_data=domain("CityPass Credit", "1", chain.id, credit.address),
        message_types=PERMIT_TYPES,
        message_data=permit_message(str(owner), str(spender), value, nonce, deadline),
    )
    return Account.recover_message(signable, signature=signature.signature)


# ------------------------------------------------------------------------------- metadata


def test_metadata(credit, system):
    assert credit.name() == "CityPass Credit"
    assert credit.symbol() == "KRWC"
    assert credit.decimals() == 0
    assert credit.escrowVault() == system.split
    assert credit.access() == system.access


def test_eip712_domain(credit):
    domain = credit.eip712Domain()
    assert domain[1] == "CityPass Credit"
    assert domain[2] == "1"
    assert domain[3] == chain.id
    assert domain[4] == credit.address


def test_constructor_reverts_on_zero_escrow_vault(CityCredit, system, people):
    with reverts_with("CityCreditZeroAddress"):
        CityCredit.deploy(system.access, ZERO, {"from": people.admin})


def test_constructor_reverts_on_zero_access(CityCredit, system, people):
    with reverts_with("CityAccessZeroAddress"):
        CityCredit.deploy(ZERO, system.split, {"from": people.admin})


# ------------------------------------------------------------------------------------ mint


def test_mint_by_treasury_emits_top_up(credit, people, owner):
    supply = credit.totalSupply()
    tx = credit.mint(owner, 25_000, RECEIPT, {"from": people.treasury})
    receipt = "0x" + RECEIPT.hex()
    assert dict(tx.events["TopUp"]) == {"account": owner, "amount": 25_000, "receipt": receipt}
    assert dict(tx.events["Transfer"]) == {"from": ZERO, "to": owner, "value": 25_000}
    assert credit.balanceOf(owner) == 25_000
    assert credit.totalSupply() == supply + 25_000


def test_mint_by_city_admin_is_accepted(credit, people, owner):
    tx = credit.mint(owner, 1, RECEIPT, {"from": people.admin})
    assert tx.events["TopUp"]["amount"] == 1
    assert credit.balanceOf(owner) == 1


def test_mint_to_role_only_holder(credit, people):
    tx = credit.mint(people.oracle, 10, RECEIPT, {"from": people.treasury})
    assert tx.events["TopUp"]["account"] == people.oracle
    assert credit.balanceOf(people.oracle) == 10


@pytest.mark.parametrize("who", ["operator", "oracle", "village_enterprise", "resident"])
def test_mint_reverts_for_non_treasury(credit, people, resident, owner, who):
    caller = resident if who == "resident" else getattr(people, who)
    with reverts_with("CityAccessMissingRole", caller, ROLES["TREASURY"]):
        credit.mint(owner, 100, RECEIPT, {"from": caller})


@pytest.mark.parametrize("method", ["mint", "cashOut"])
@pytest.mark.parametrize("zero", ["amount", "address"])
def test_mint_and_cash_out_revert_on_zero_amount_or_address(credit, people, resident, method, zero):
    account, amount, error = {
        "amount": (resident, 0, "CityCreditZeroAmount"),
        "address": (ZERO, 100, "CityCreditZeroAddress"),
    }[zero]
    with reverts_with(error):
        getattr(credit, method)(account, amount, RECEIPT, {"from": people.treasury})


def test_mint_reverts_for_stranger(credit, people, stranger):
    with reverts_with("CityCreditPartyNotAllowed", stranger):
        credit.mint(stranger, 100, RECEIPT, {"from": people.treasury})


def test_mint_reverts_for_suspended_member(credit, system, people, owner):
    system.access.suspend(owner, REASON, {"from": people.operator})
    with reverts_with("CityCreditPartyNotAllowed", owner):
        credit.mint(owner, 100, RECEIPT, {"from": people.treasury})


# -------------------------------------------------------------------------------- cash-out


def test_cash_out_with_allowance_burns_and_emits(credit, people, resident):
    credit.approve(people.treasury, 300_000, {"from": resident})
    supply = credit.totalSupply()
    tx = credit.cashOut(resident, 250_000, RECEIPT, {"from": people.treasury})
    receipt = "0x" + RECEIPT.hex()
    assert dict(tx.events["CashOut"]) == {
        "account": resident,
        "amount": 250_000,
        "receipt": receipt,
    }
    assert tx.events["Transfer"]["to"] == ZERO
    assert credit.balanceOf(resident) == STARTING_CREDIT - 250_000
    assert credit.totalSupply() == supply - 250_000
    assert credit.allowance(resident, people.treasury) == 50_000


def test_cash_out_reverts_without_allowance(credit, people, resident):
    with reverts_with("ERC20InsufficientAllowance", people.treasury, 0, 1_000):
        credit.cashOut(resident, 1_000, RECEIPT, {"from": people.treasury})


def test_cash_out_reverts_above_allowance(credit, people, resident):
    credit.approve(people.treasury, 999, {"from": resident})
    with reverts_with("ERC20InsufficientAllowance", people.treasury, 999, 1_000):
        credit.cashOut(resident, 1_000, RECEIPT, {"from": people.treasury})


def test_cash_out_reverts_above_balance(credit, people, resident):
    credit.approve(people.treasury, 2**256 - 1, {"from": resident})
    with reverts_with("ERC20InsufficientBalance", resident, STARTING_CREDIT, STARTING_CREDIT + 1):
        credit.cashOut(resident, STARTING_CREDIT + 1, RECEIPT, {"from": people.treasury})


def test_cash_out_reverts_for_non_treasury(credit, people, resident, owner):
    credit.approve(owner, 1_000, {"from": resident})
    with reverts_with("CityAccessMissingRole", owner, ROLES["TREASURY"]):
        credit.cashOut(resident, 1_000, RECEIPT, {"from": owner})


def test_cash_out_reverts_for_suspended_member(credit, system, people, resident):
    credit.approve(people.treasury, 1_000, {"from": resident})
    system.access.suspend(resident, REASON, {"from": people.operator})
    with reverts_with("CityCreditPartyNotAllowed", resident):
        credit.cashOut(resident, 1_000, RECEIPT, {"from": people.treasury})


# ------------------------------------------------------------------------------- transfers


def test_transfer_between_members(credit, residents):
    first, second = residents
    tx = credit.transfer(second, 7_000, {"from": first})
    event = tx.events["Transfer"]
    assert (event["from"], event["to"], event["value"]) == (first, second, 7_000)
    assert credit.balanceOf(first) == STARTING_CREDIT - 7_000
    assert credit.balanceOf(second) == STARTING_CREDIT + 7_000


def test_transfer_from_member_to_role_only_holder(credit, people, resident):
    credit.transfer(people.village_enterprise, 5, {"from": resident})
    assert credit.balanceOf(people.village_enterprise) == 5


def test_transfer_from_by_approved_member(credit, residents, owner):
    first, second = residents
    credit.approve(owner, 500, {"from": first})
    tx = credit.transferFrom(first, second, 500, {"from": owner})
    assert tx.events["Transfer"]["value"] == 500
    assert credit.allowance(first, owner) == 0
    assert credit.balanceOf(second) == STARTING_CREDIT + 500


def test_transfer_to_stranger_reverts(credit, resident, stranger):
    with reverts_with("CityCreditPartyNotAllowed", stranger):
        credit.transfer(stranger, 1, {"from": resident})


def test_transfer_from_stranger_reverts(credit, resident, stranger):
    with reverts_with("CityCreditPartyNotAllowed", stranger):
        credit.transfer(resident, 0, {"from": stranger})


def test_transfer_to_suspended_member_reverts(credit, system, people, residents):
    first, second = residents
    system.access.suspend(second, REASON, {"from": people.operator})
    with reverts_with("CityCreditPartyNotAllowed", second):
        credit.transfer(second, 1, {"from": first})


def test_transfer_from_suspended_member_reverts(credit, system, people, residents):
    first, second = residents
    system.access.suspend(first, REASON, {"from": people.operator})
    with reverts_with("CityCreditPartyNotAllowed", first):
        credit.transfer(second, 1, {"from": first})


def test_transfer_from_by_third_party_of_suspended_member_reverts(
    credit, system, people, residents
):
    first, second = residents
    credit.approve(second, 100, {"from": first})
    system.access.suspend(first, REASON, {"from": people.operator})
    with reverts_with("CityCreditPartyNotAllowed", first):
        credit.transferFrom(first, second, 100, {"from": second})


def test_transfer_to_suspended_role_holder_reverts(credit, system, people, resident):
    system.access.suspend(people.oracle, REASON, {"from": people.operator})
    with reverts_with("CityCreditPartyNotAllowed", people.oracle):
        credit.transfer(people.oracle, 1, {"from": resident})


def test_transfer_to_reinstated_member_is_accepted(credit, system, people, residents):
    first, second = residents
    system.access.suspend(second, REASON, {"from": people.operator})
    system.access.reinstate(second, {"from": people.operator})
    credit.transfer(second, 1, {"from": first})
    assert credit.balanceOf(second) == STARTING_CREDIT + 1


def test_transfer_to_zero_address_reverts(credit, resident):
    with reverts_with("ERC20InvalidReceiver", ZERO):
        credit.transfer(ZERO, 1, {"from": resident})


def test_transfer_above_balance_reverts(credit, residents):
    first, second = residents
    with reverts_with("ERC20InsufficientBalance", first, STARTING_CREDIT, STARTING_CREDIT + 1):
        credit.transfer(second, STARTING_CREDIT + 1, {"from": first})


def test_transfer_into_escrow_vault_is_accepted(credit, system, resident):
    before = credit.balanceOf(system.split)
    credit.transfer(system.split, 3, {"from": resident})
    assert credit.balanceOf(system.split) == before + 3


# ---------------------------------------------------------------------- platform contracts


def test_set_platform_contract_emits_and_lets_it_hold_credits(credit, people, resident, stranger):
    tx = credit.setPlatformContract(stranger, True, {"from": people.admin})
    event = tx.events["PlatformContractSet"]
    assert event["platformContract"] == stranger
    assert event["allowed"] is True
    assert credit.isPlatformContract(stranger)
    credit.transfer(stranger, 40, {"from": resident})
    credit.transfer(resident, 15, {"from": stranger})
    assert credit.balanceOf(stranger) == 25


def test_set_platform_contract_is_idempotent(credit, people, system):
    assert credit.isPlatformContract(system.market)
    tx = credit.setPlatformContract(system.market, True, {"from": people.admin})
    assert len(tx.events) == 0
    assert credit.isPlatformContract(system.market)


def test_set_platform_contract_unset_is_idempotent(credit, people, stranger):
    tx = credit.setPlatformContract(stranger, False, {"from": people.admin})
    assert len(tx.events) == 0
    assert not credit.isPlatformContract(stranger)


def test_removed_platform_contract_can_no_longer_receive(credit, people, resident, stranger):
    credit.setPlatformContract(stranger, True, {"from": people.admin})
    tx = credit.setPlatformContract(stranger, False, {"from": people.admin})
    assert tx.events["PlatformContractSet"]["allowed"] is False
    assert not credit.isPlatformContract(stranger)
    with reverts_with("CityCreditPartyNotAllowed", stranger):
        credit.transfer(stranger, 1, {"from": resident})


def test_set_platform_contract_reverts_on_zero_address(credit, people):
    with reverts_with("CityCreditZeroAddress"):
        credit.setPlatformContract(ZERO, True, {"from": people.admin})


@pytest.mark.parametrize("who", ["operator", "treasury"])
def test_set_platform_contract_reverts_for_non_admin(credit, people, stranger, who):
    caller = getattr(people, who)
    with reverts_with("CityAccessMissingRole", caller, ROLES["CITY_ADMIN"]):
        credit.setPlatformContract(stranger, True, {"from": caller})


# ---------------------------------------------------------------------------------- permit


def test_permit_sets_allowance_and_bumps_nonce(credit, people, holder_key, holder, system):
    deadline = head_time() + 3600
    sig = _permit(credit, holder_key, system.market, 12_345, deadline)
    # Anyone may submit the permit: here the operator relays it.
    tx = credit.permit(
        holder, system.market, 12_345, deadline, sig.v, sig.r, sig.s, {"from": people.operator}
    )
    approval = tx.events["Approval"]
    assert approval["owner"] == holder
    assert approval["spender"] == system.market
    assert approval["value"] == 12_345
    assert credit.allowance(holder, system.market) == 12_345
    assert credit.nonces(holder) == 1


def test_permitted_spender_moves_credits(credit, people, holder_key, holder, owner):
    deadline = head_time() + 3600
    sig = _permit(credit, holder_key, people.treasury, 2_000, deadline)
    credit.permit(holder, people.treasury, 2_000, deadline, sig.v, sig.r, sig.s, {"from": owner})
    tx = credit.cashOut(holder, 2_000, RECEIPT, {"from": people.treasury})
    assert tx.events["CashOut"]["amount"] == 2_000
    assert credit.balanceOf(holder) == 48_000


def test_permit_reverts_when_expired(credit, people, holder_key, holder, system):
    deadline = head_time() - 1
    sig = _permit(credit, holder_key, system.market, 100, deadline)
    with reverts_with("ERC2612ExpiredSignature", deadline):
        credit.permit(holder, system.market, 100, deadline, sig.v, sig.r, sig.s, {"from": holder})
    assert credit.nonces(holder) == 0


def test_permit_reverts_when_signed_by_another_key(credit, people, holder, system):
    forger = Account.create()
    deadline = head_time() + 3600
    sig = _permit(credit, forger, system.market, 100, deadline, owner=holder.address)
    with reverts_with("ERC2612InvalidSigner", forger.address, holder):
        credit.permit(holder, system.market, 100, deadline, sig.v, sig.r, sig.s, {"from": holder})
    assert credit.allowance(holder, system.market) == 0


def test_permit_reverts_when_value_differs_from_signed(credit, people, holder_key, holder, system):
    deadline = head_time() + 3600
    sig = _permit(credit, holder_key, system.market, 100, deadline)
    recovered = _recovered(credit, sig, holder, system.market, 101, 0, deadline)
    assert recovered != holder.address
    with reverts_with("ERC2612InvalidSigner", recovered, holder):
        credit.permit(holder, system.market, 101, deadline, sig.v, sig.r, sig.s, {"from": holder})


def test_permit_cannot_be_replayed(credit, people, holder_key, holder, system):
    deadline = head_time() + 3600
    sig = _permit(credit, holder_key, system.market, 100, deadline)
    credit.permit(holder, system.market, 100, deadline, sig.v, sig.r, sig.s, {"from": holder})
    # The nonce moved on, so the same signature now recovers to some other address.
    recovered = _recovered(credit, sig, holder, system.market, 100, 1, deadline)
    assert recovered != holder.address
    with reverts_with("ERC2612InvalidSigner", recovered, holder):
        credit.permit(holder, system.market, 100, deadline, sig.v, sig.r, sig.s, {"from": holder})
    assert credit.nonces(holder) == 1
