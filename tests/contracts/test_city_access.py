"""CityAccess: membership, suspension, role bits, and the permission views the ledger node asks."""

from __future__ import annotations

import pytest

from citypass.protocol.roles import ROLE_NAMES, ROLES
from tests.contract_helpers import reverts_with

ZERO = "0x0000000000000000000000000000000000000000"
NONE, ACTIVE, SUSPENDED = 0, 1, 2
REASON = b"fraud-case-0042".ljust(32, b"\x00")
BIT = {name: 1 << i for i, name in enumerate(ROLE_NAMES)}


@pytest.fixture(scope="module")
def newcomer(accounts):
    """Never onboarded and holding no role (unlike `stranger`, not shared with the credit tests)."""
    return accounts[11]


@pytest.fixture(scope="module")
def role_holder(accounts, system, people):
    """An account with only a role (INSPECTOR), never onboarded."""
    account = accounts[12]
    system.access.grantRole(ROLES["INSPECTOR"], account, {"from": people.admin})
    return account


# ------------------------------------------------------------------------------ constructor


def test_constructor_reverts_on_zero_admin(CityAccess, people):
    with reverts_with("CityAccessZeroAddress"):
        CityAccess.deploy(ZERO, {"from": people.admin})


def test_constructor_makes_city_admin_the_admin_of_every_role(CityAccess, people, accounts):
    fresh = CityAccess.deploy(accounts[13], {"from": people.admin})
    assert fresh.hasRole(ROLES["CITY_ADMIN"], accounts[13])
    assert not fresh.hasRole(ROLES["CITY_ADMIN"], people.admin)
    assert fresh.roleBitsOf(accounts[13]) == BIT["CITY_ADMIN"]
    assert fresh.memberStatus(accounts[13]) == NONE
    for name in ROLE_NAMES:
        assert fresh.getRoleAdmin(ROLES[name]) == "0x" + ROLES["CITY_ADMIN"].hex()


# ---------------------------------------------------------------------------------- onboard


def test_onboard_by_admin_emits_member_onboarded(access, people, newcomer):
    tx = access.onboard(newcomer, {"from": people.admin})
    event = tx.events["MemberOnboarded"]
    assert event["account"] == newcomer
    assert event["by"] == people.admin
    assert access.memberStatus(newcomer) == ACTIVE
    assert access.isActiveMember(newcomer)
    assert access.memberSince(newcomer) == tx.timestamp
    assert access.roleBitsOf(newcomer) == 0


def test_onboard_by_operator_records_operator_as_by(access, people, newcomer):
    tx = access.onboard(newcomer, {"from": people.operator})
    assert tx.events["MemberOnboarded"]["by"] == people.operator
    assert access.isActiveMember(newcomer)


def test_onboard_of_role_holder_makes_it_a_member(access, people, role_holder):
    tx = access.onboard(role_holder, {"from": people.operator})
    assert tx.events["MemberOnboarded"]["account"] == role_holder
    assert access.memberStatus(role_holder) == ACTIVE
    assert access.roleBitsOf(role_holder) == BIT["INSPECTOR"]


def test_onboard_reverts_on_zero_address(access, people):
    with reverts_with("CityAccessZeroAddress"):
        access.onboard(ZERO, {"from": people.admin})


def test_onboard_reverts_when_already_member(access, people, resident):
    with reverts_with("CityAccessAlreadyMember", resident):
        access.onboard(resident, {"from": people.operator})


def test_onboard_reverts_when_suspended_member(access, people, resident):
    access.suspend(resident, REASON, {"from": people.operator})
    with reverts_with("CityAccessAlreadyMember", resident):
        access.onboard(resident, {"from": people.operator})


@pytest.mark.parametrize(
    "who", ["treasury", "oracle", "village_enterprise", "resident", "newcomer"]
)
def test_onboard_reverts_for_non_operator(access, people, resident, newcomer, accounts, who):
    caller = {"resident": resident, "newcomer": newcomer}.get(who) or getattr(people, who)
    with reverts_with("CityAccessMissingRole", caller, ROLES["OPERATOR"]):
        access.onboard(accounts[14], {"from": caller})


# ---------------------------------------------------------------------------------- suspend


def test_suspend_emits_member_suspended_with_reason(access, people, resident):
    tx = access.suspend(resident, REASON, {"from": people.operator})
    event = tx.events["MemberSuspended"]
    assert event["account"] == resident
    assert event["by"] == people.operator
    assert event["reason"] == "0x" + REASON.hex()
    assert access.memberStatus(resident) == SUSPENDED
    assert not access.isActiveMember(resident)


def test_suspend_by_admin_records_admin_as_by(access, people, resident):
    tx = access.suspend(resident, REASON, {"from": people.admin})
    assert tx.events["MemberSuspended"]["by"] == people.admin


def test_suspend_of_role_only_holder(access, people, role_holder):
    tx = access.suspend(role_holder, REASON, {"from": people.admin})
    assert tx.events["MemberSuspended"]["account"] == role_holder
    assert access.memberStatus(role_holder) == SUSPENDED
    assert access.roleBitsOf(role_holder) == BIT["INSPECTOR"]


def test_suspend_reverts_on_zero_address(access, people):
    with reverts_with("CityAccessZeroAddress"):
        access.suspend(ZERO, REASON, {"from": people.admin})


def test_suspend_reverts_when_already_suspended(access, people, resident):
    access.suspend(resident, REASON, {"from": people.operator})
    with reverts_with("CityAccessAlreadySuspended", resident):
        access.suspend(resident, REASON, {"from": people.admin})


def test_suspend_reverts_for_non_member(access, people, newcomer):
    with reverts_with("CityAccessNotMember", newcomer):
        access.suspend(newcomer, REASON, {"from": people.operator})


def test_suspend_reverts_for_account_whose_roles_were_revoked(access, people, role_holder):
    access.revokeRole(ROLES["INSPECTOR"], role_holder, {"from": people.admin})
    with reverts_with("CityAccessNotMember", role_holder):
        access.suspend(role_holder, REASON, {"from": people.operator})


@pytest.mark.parametrize("who", ["treasury", "oracle", "resident"])
def test_suspend_reverts_for_non_operator(access, people, resident, owner, who):
    caller = resident if who == "resident" else getattr(people, who)
    with reverts_with("CityAccessMissingRole", caller, ROLES["OPERATOR"]):
        access.suspend(owner, REASON, {"from": caller})


# -------------------------------------------------------------------------------- reinstate


def test_reinstate_member_emits_and_restores_active(access, people, resident):
    access.suspend(resident, REASON, {"from": people.operator})
    tx = access.reinstate(resident, {"from": people.admin})
    event = tx.events["MemberReinstated"]
    assert event["account"] == resident
    assert event["by"] == people.admin
    assert access.memberStatus(resident) == ACTIVE


def test_reinstate_role_only_holder_restores_none(access, people, role_holder):
    access.suspend(role_holder, REASON, {"from": people.operator})
    tx = access.reinstate(role_holder, {"from": people.operator})
    assert tx.events["MemberReinstated"]["by"] == people.operator
    assert access.memberStatus(role_holder) == NONE
    assert access.isAllowed(role_holder)


def test_reinstate_reverts_for_active_member(access, people, resident):
    with reverts_with("CityAccessNotSuspended", resident):
        access.reinstate(resident, {"from": people.operator})


def test_reinstate_reverts_for_non_member(access, people, newcomer):
    with reverts_with("CityAccessNotSuspended", newcomer):
        access.reinstate(newcomer, {"from": people.operator})


def test_reinstate_reverts_for_zero_address(access, people):
    with reverts_with("CityAccessNotSuspended", ZERO):
        access.reinstate(ZERO, {"from": people.operator})


def test_reinstate_reverts_for_non_operator(access, people, resident, owner):
    access.suspend(owner, REASON, {"from": people.operator})
    with reverts_with("CityAccessMissingRole", resident, ROLES["OPERATOR"]):
        access.reinstate(owner, {"from": resident})
    with reverts_with("CityAccessMissingRole", people.treasury, ROLES["OPERATOR"]):
        access.reinstate(owner, {"from": people.treasury})


def test_suspended_operator_cannot_reinstate_itself(access, people):
    access.suspend(people.operator, REASON, {"from": people.admin})
    with reverts_with("CityAccessMissingRole", people.operator, ROLES["OPERATOR"]):
        access.reinstate(people.operator, {"from": people.operator})


# ------------------------------------------------------------------------------------ roles


def test_grant_role_reverts_for_non_admin(access, people, newcomer):
    with reverts_with("AccessControlUnauthorizedAccount", people.operator, ROLES["CITY_ADMIN"]):
        access.grantRole(ROLES["AUDITOR"], newcomer, {"from": people.operator})
    with reverts_with("AccessControlUnauthorizedAccount", newcomer, ROLES["CITY_ADMIN"]):
        access.grantRole(ROLES["AUDITOR"], newcomer, {"from": newcomer})


def test_revoke_role_reverts_for_non_admin(access, people):
    with reverts_with("AccessControlUnauthorizedAccount", people.treasury, ROLES["CITY_ADMIN"]):
        access.revokeRole(ROLES["ORACLE"], people.oracle, {"from": people.treasury})


def test_grant_role_reverts_on_zero_address(access, people):
    with reverts_with("CityAccessZeroAddress"):
        access.grantRole(ROLES["AUDITOR"], ZERO, {"from": people.admin})


def test_stakeholder_role_bits(access, people):
    assert access.roleBitsOf(people.admin) == BIT["CITY_ADMIN"]
    assert access.roleBitsOf(people.treasury) == BIT["TREASURY"]
    assert access.roleBitsOf(people.village_enterprise) == BIT["VILLAGE_ENTERPRISE"]
    assert access.roleBitsOf(people.operator) == BIT["OPERATOR"]
    assert access.roleBitsOf(people.oracle) == BIT["ORACLE"]
    assert access.roleBitsOf(people.city_fund) == 0
    assert access.roleBitsOf(people.platform) == 0


def test_grant_roles_set_role_bits_and_emit(access, people, newcomer):
    tx = access.grantRole(ROLES["AUDITOR"], newcomer, {"from": people.admin})
    event = tx.events["RoleGranted"]
    assert event["account"] == newcomer
    assert event["role"] == "0x" + ROLES["AUDITOR"].hex()
    assert event["sender"] == people.admin
    access.grantRole(ROLES["MEMBER"], newcomer, {"from": people.admin})
    assert access.roleBitsOf(newcomer) == BIT["AUDITOR"] | BIT["MEMBER"]
    assert access.memberStatus(newcomer) == NONE
    assert access.memberSince(newcomer) == 0


def test_grant_role_twice_changes_nothing(access, people, role_holder):
    tx = access.grantRole(ROLES["INSPECTOR"], role_holder, {"from": people.admin})
    assert "RoleGranted" not in tx.events
    assert access.roleBitsOf(role_holder) == BIT["INSPECTOR"]


def test_revoke_role_clears_its_bit(access, people, role_holder):
    access.grantRole(ROLES["ORACLE"], role_holder, {"from": people.admin})
    tx = access.revokeRole(ROLES["INSPECTOR"], role_holder, {"from": people.admin})
    assert tx.events["RoleRevoked"]["account"] == role_holder
    assert access.roleBitsOf(role_holder) == BIT["ORACLE"]
    assert not access.hasRole(ROLES["INSPECTOR"], role_holder)


def test_renounce_role_clears_its_bit(access, people, role_holder):
    access.renounceRole(ROLES["INSPECTOR"], role_holder, {"from": role_holder})
    assert access.roleBitsOf(role_holder) == 0
    assert not access.isAllowed(role_holder)


def test_renounce_role_for_another_account_reverts(access, people, role_holder):
    with reverts_with("AccessControlBadConfirmation"):
        access.renounceRole(ROLES["INSPECTOR"], role_holder, {"from": people.admin})


def test_every_role_maps_to_its_bit(access, people, newcomer):
    expected = 0
    for name in ROLE_NAMES:
        access.grantRole(ROLES[name], newcomer, {"from": people.admin})
        expected |= BIT[name]
        assert access.roleBitsOf(newcomer) == expected
    assert expected == (1 << len(ROLE_NAMES)) - 1 == 0x1FF


def test_granted_admin_can_grant_roles(access, people, newcomer, accounts):
    access.grantRole(ROLES["CITY_ADMIN"], newcomer, {"from": people.admin})
    access.grantRole(ROLES["AUDITOR"], accounts[14], {"from": newcomer})
    assert access.hasRole(ROLES["AUDITOR"], accounts[14])


def test_granted_operator_can_onboard(access, people, newcomer, accounts):
    access.grantRole(ROLES["OPERATOR"], newcomer, {"from": people.admin})
    tx = access.onboard(accounts[14], {"from": newcomer})
    assert tx.events["MemberOnboarded"]["by"] == newcomer


def test_revoked_operator_cannot_onboard(access, people, accounts):
    access.revokeRole(ROLES["OPERATOR"], people.operator, {"from": people.admin})
    with reverts_with("CityAccessMissingRole", people.operator, ROLES["OPERATOR"]):
        access.onboard(accounts[14], {"from": people.operator})


# ------------------------------------------------------------------ permission truth table


def _prepare(case, access, people, account):
    admin = {"from": people.admin}
    if case in ("active member", "suspended member", "reinstated member"):
        access.onboard(account, admin)
    if case in ("role-only holder", "suspended role holder", "reinstated role-only holder"):
        access.grantRole(ROLES["AUDITOR"], account, admin)
    if case.startswith("suspended") or case.startswith("reinstated"):
        access.suspend(account, REASON, admin)
    if case.startswith("reinstated"):
        access.reinstate(account, admin)


# case: (memberStatus, isAllowed, isActiveMember)
TRUTH_TABLE = {
    "active member": (ACTIVE, True, True),
    "suspended member": (SUSPENDED, False, False),
    "role-only holder": (NONE, True, False),
    "suspended role holder": (SUSPENDED, False, False),
    "stranger": (NONE, False, False),
    "reinstated member": (ACTIVE, True, True),
    "reinstated role-only holder": (NONE, True, False),
}


@pytest.mark.parametrize("case", list(TRUTH_TABLE))
def test_permission_views_truth_table(access, people, accounts, system, case):
    account = accounts[15]
    _prepare(case, access, people, account)
    status, allowed, active = TRUTH_TABLE[case]
    assert access.memberStatus(account) == status
    assert access.isAllowed(account) is allowed
    assert access.isActiveMember(account) is active
    assert access.transactionAllowed(account, system.market, 0, 0, 30_000_000, b"") is allowed
    assert access.transactionAllowed(account, ZERO, 10**18, 1, 21_000, b"\x12\x34") is allowed


def test_transaction_allowed_for_every_stakeholder(access, people, system):
    for account in (
        people.admin,
        people.treasury,
        people.village_enterprise,
        people.city_fund,
        people.platform,
        people.operator,
        people.oracle,
    ):
        assert access.transactionAllowed(account, system.credit, 0, 0, 0, b"")


def test_has_active_role_false_when_suspended(access, people):
    role = ROLES["TREASURY"]
    assert access.hasActiveRole(role, people.treasury)
    access.suspend(people.treasury, REASON, {"from": people.operator})
    assert not access.hasActiveRole(role, people.treasury)
    assert access.hasRole(role, people.treasury)
    access.reinstate(people.treasury, {"from": people.operator})
    assert access.hasActiveRole(role, people.treasury)


def test_has_active_role_false_without_role(access, people, resident):
    assert not access.hasActiveRole(ROLES["TREASURY"], resident)
    assert not access.hasActiveRole(ROLES["CITY_ADMIN"], people.operator)


def test_has_active_role_for_member_with_role_suspended(access, people, role_holder):
    access.onboard(role_holder, {"from": people.admin})
    assert access.hasActiveRole(ROLES["INSPECTOR"], role_holder)
    access.suspend(role_holder, REASON, {"from": people.admin})
    assert not access.hasActiveRole(ROLES["INSPECTOR"], role_holder)
    assert not access.isAllowed(role_holder)


# -------------------------------------------------------- suspension across other contracts


def test_suspended_city_admin_cannot_set_platform_contract(system, people, accounts):
    system.access.suspend(people.admin, REASON, {"from": people.operator})
    with reverts_with("CityAccessMissingRole", people.admin, ROLES["CITY_ADMIN"]):
        system.credit.setPlatformContract(accounts[16], True, {"from": people.admin})


def test_suspended_city_admin_cannot_set_split_or_mint(system, people, resident):
    system.access.suspend(people.admin, REASON, {"from": people.operator})
    with reverts_with("CityAccessMissingRole", people.admin, ROLES["CITY_ADMIN"]):
        system.split.setSplit(3, 5000, 2500, 1000, 1500, 1, {"from": people.admin})
    # CITY_ADMIN no longer stands in for the treasury either.
    with reverts_with("CityAccessMissingRole", people.admin, ROLES["TREASURY"]):
        system.credit.mint(resident, 1, b"\x00" * 32, {"from": people.admin})


def test_reinstated_city_admin_can_act_again(system, people, accounts):
    system.access.suspend(people.admin, REASON, {"from": people.operator})
    system.access.reinstate(people.admin, {"from": people.operator})
    tx = system.credit.setPlatformContract(accounts[16], True, {"from": people.admin})
    assert tx.events["PlatformContractSet"]["platformContract"] == accounts[16]


def test_suspended_treasury_cannot_mint(system, people, resident):
    system.access.suspend(people.treasury, REASON, {"from": people.operator})
    with reverts_with("CityAccessMissingRole", people.treasury, ROLES["TREASURY"]):
        system.credit.mint(resident, 100, b"\x00" * 32, {"from": people.treasury})


def test_grant_role_reverts_for_suspended_city_admin(access, people, newcomer, accounts):
    second_admin = accounts[13]
    access.grantRole(ROLES["CITY_ADMIN"], second_admin, {"from": people.admin})
    access.suspend(second_admin, REASON, {"from": people.admin})
    with reverts_with("AccessControlUnauthorizedAccount", second_admin, ROLES["CITY_ADMIN"]):
        access.grantRole(ROLES["AUDITOR"], newcomer, {"from": second_admin})
    access.reinstate(second_admin, {"from": people.admin})
    tx = access.grantRole(ROLES["AUDITOR"], newcomer, {"from": second_admin})
    assert "RoleGranted" in tx.events


# -------------------------------------------------------------------------------- witnesses


def _label(text: str) -> bytes:
    return text.encode().ljust(32, b"\x00")


def test_witness_set_names_members_in_joining_order_and_grants_no_role(
    CityAccess, people, accounts
):
    fresh = CityAccess.deploy(people.admin, {"from": people.admin})
    tx = fresh.setWitness(accounts[14], _label("audit-office"), {"from": people.admin})
    assert tx.events["WitnessSet"]["witness"] == accounts[14]
    assert tx.events["WitnessSet"]["name"] == "0x" + _label("audit-office").hex()
    fresh.setWitness(accounts[15], _label("village-enterprise"), {"from": people.admin})
    accounts_, names = fresh.witnesses()
    assert list(accounts_) == [accounts[14], accounts[15]]
    assert [bytes(n) for n in names] == [_label("audit-office"), _label("village-enterprise")]
    assert fresh.isWitness(accounts[14]) and not fresh.isWitness(accounts[16])
    # A witness co-signs; it gains no right to transact by being one.
    assert not fresh.isAllowed(accounts[14])
    assert fresh.roleBitsOf(accounts[14]) == 0
    # Renaming keeps its place; removing drops the name.
    fresh.setWitness(accounts[14], _label("city-audit"), {"from": people.admin})
    assert list(fresh.witnesses()[0]) == [accounts[14], accounts[15]]
    assert bytes(fresh.witnessName(accounts[14])) == _label("city-audit")
    tx = fresh.removeWitness(accounts[14], {"from": people.admin})
    assert tx.events["WitnessRemoved"]["witness"] == accounts[14]
    assert list(fresh.witnesses()[0]) == [accounts[15]]
    assert fresh.witnessName(accounts[14]) == "0x" + "00" * 32


def test_witness_set_refuses_bad_input_by_name(CityAccess, people, accounts):
    fresh = CityAccess.deploy(people.admin, {"from": people.admin})
    with reverts_with("CityAccessZeroAddress"):
        fresh.setWitness(ZERO, _label("x"), {"from": people.admin})
    with reverts_with("CityAccessWitnessNameRequired"):
        fresh.setWitness(accounts[14], b"\x00" * 32, {"from": people.admin})
    with reverts_with("CityAccessNotWitness"):
        fresh.removeWitness(accounts[14], {"from": people.admin})
    with reverts_with("AccessControlUnauthorizedAccount"):
        fresh.setWitness(accounts[14], _label("x"), {"from": accounts[14]})
    for i in range(16):
        fresh.setWitness(f"0x{i + 1:040x}", _label(f"w{i}"), {"from": people.admin})
    with reverts_with("CityAccessTooManyWitnesses"):
        fresh.setWitness(accounts[14], _label("one-too-many"), {"from": people.admin})
    assert len(fresh.witnesses()[0]) == 16
