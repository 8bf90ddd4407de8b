"""MobilityOperators: registering operators (CITY_ADMIN, accounts holding OPERATOR), their
assets and versioned fare plans, and the checked trip terms TripSettlement reads."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS

from citypass.protocol.roles import ROLES
from tests.contract_helpers import reverts_with
from tests.mobility_fixtures import (
    CAR_SHARE,
    KICK_SCOOTER,
    SCOOTER_PLAN,
    TRANSIT,
    VALET,
    new_signer,
)


def plain(value):
    """A brownie return value as plain tuples, strs, bools and ints (ReturnValue compares
    its Wei fields only with Wei)."""
    if isinstance(value, list | tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, bool | str):
        return value
    return int(value)


@pytest.fixture
def candidate(mob, accounts, people):
    """An account holding OPERATOR, not yet registered."""
    account, _ = new_signer(accounts)
    mob.system.access.grantRole(ROLES["OPERATOR"], account, {"from": people.admin})
    return account


@pytest.mark.parametrize("kind", [CAR_SHARE, KICK_SCOOTER, VALET, TRANSIT])
def test_register_operator_records_kind(mob, people, candidate, kind):
    tx = mob.system.operators.registerOperator(candidate, kind, {"from": people.admin})
    assert dict(tx.events["OperatorRegistered"]) == {"operator": candidate, "kind": kind}
    assert tuple(mob.system.operators.operatorOf(candidate)) == (kind, True, 0)


def test_register_operator_reverts_without_city_admin(mob, people, candidate):
    with reverts_with("CityAccessMissingRole", people.operator, ROLES["CITY_ADMIN"]):
        mob.system.operators.registerOperator(candidate, CAR_SHARE, {"from": people.operator})


def test_register_operator_reverts_when_zero_address(mob, people):
    with reverts_with("MobilityOperatorsZeroAddress"):
        mob.system.operators.registerOperator(ZERO_ADDRESS, CAR_SHARE, {"from": people.admin})


@pytest.mark.parametrize("kind", [0, 5, 255])
def test_register_operator_reverts_when_kind_invalid(mob, people, candidate, kind):
    with reverts_with("MobilityOperatorsInvalidKind", kind):
        mob.system.operators.registerOperator(candidate, kind, {"from": people.admin})


def test_register_operator_reverts_without_operator_role(mob, people, residents):
    with reverts_with("MobilityOperatorsNotOperatorRole", residents[0]):
        mob.system.operators.registerOperator(residents[0], CAR_SHARE, {"from": people.admin})


def test_register_operator_reverts_when_role_holder_suspended(mob, people, candidate):
    mob.system.access.suspend(candidate, b"\x01" * 32, {"from": people.admin})
    with reverts_with("MobilityOperatorsNotOperatorRole", candidate):
        mob.system.operators.registerOperator(candidate, CAR_SHARE, {"from": people.admin})


def test_register_operator_reverts_when_registered(mob, people):
    with reverts_with("MobilityOperatorsAlreadyRegistered", mob.car.account):
        mob.system.operators.registerOperator(mob.car.account, CAR_SHARE, {"from": people.admin})


def test_set_operator_active_emits_only_on_change(mob, people):
    operators = mob.system.operators
    tx = operators.setOperatorActive(mob.car.account, False, {"from": people.admin})
    assert dict(tx.events["OperatorActiveSet"]) == {"operator": mob.car.account, "active": False}
    assert not operators.operatorOf(mob.car.account)["active"]
    tx = operators.setOperatorActive(mob.car.account, False, {"from": people.admin})
    assert "OperatorActiveSet" not in tx.events


def test_set_operator_active_reverts_for_unknown(mob, people, stranger):
    with reverts_with("MobilityOperatorsUnknownOperator", stranger):
        mob.system.operators.setOperatorActive(stranger, True, {"from": people.admin})


def test_set_operator_active_reverts_without_city_admin(mob):
    with reverts_with("CityAccessMissingRole", mob.car.account, ROLES["CITY_ADMIN"]):
        mob.system.operators.setOperatorActive(mob.car.account, False, {"from": mob.car.account})


# --------------------------------------------------------------------------------- assets


def test_register_asset_numbers_assets_in_order(mob):
    operators = mob.system.operators
    count = operators.assetCount()
    tx = operators.registerAsset(True, {"from": mob.bus.account})
    assert tx.return_value == count + 1
    assert dict(tx.events["AssetRegistered"]) == {
        "assetId": count + 1,
        "operator": mob.bus.account,
        "kind": TRANSIT,
        "villageZone": True,
    }
    assert tuple(operators.assetOf(count + 1)) == (mob.bus.account, TRANSIT, True, True)


def test_register_asset_reverts_for_unregistered(mob, stranger):
    with reverts_with("MobilityOperatorsUnknownOperator", stranger):
        mob.system.operators.registerAsset(False, {"from": stranger})


def test_register_asset_reverts_for_inactive_operator(mob, people):
    mob.system.operators.setOperatorActive(mob.bus.account, False, {"from": people.admin})
    with reverts_with("MobilityOperatorsOperatorInactive", mob.bus.account):
        mob.system.operators.registerAsset(False, {"from": mob.bus.account})


def test_set_asset_emits_only_on_change(mob):
    operators, asset = mob.system.operators, mob.scooter.town_asset
    tx = operators.setAsset(asset, False, True, {"from": mob.scooter.account})
    assert dict(tx.events["AssetUpdated"]) == {
        "assetId": asset,
        "operator": mob.scooter.account,
        "active": False,
        "villageZone": True,
    }
    assert tuple(operators.assetOf(asset)) == (mob.scooter.account, KICK_SCOOTER, False, True)
    tx = operators.setAsset(asset, False, True, {"from": mob.scooter.account})
    assert "AssetUpdated" not in tx.events


def test_set_asset_reverts_for_another_operator(mob):
    asset = mob.scooter.town_asset
    with reverts_with("MobilityOperatorsNotAssetOperator", asset, mob.car.account):
        mob.system.operators.setAsset(asset, False, False, {"from": mob.car.account})


def test_set_asset_reverts_when_unknown(mob):
    with reverts_with("MobilityOperatorsUnknownAsset", 12345):
        mob.system.operators.setAsset(12345, False, False, {"from": mob.car.account})


def test_asset_of_reverts_when_unknown(mob):
    with reverts_with("MobilityOperatorsUnknownAsset", 0):
        mob.system.operators.assetOf(0)


# ---------------------------------------------------------------------------------- plans


def test_publish_plan_supersedes_and_keeps_the_old_one(mob):
    operators = mob.system.operators
    old = mob.scooter.plan
    tx = operators.publishPlan(1100, 160, 5, 22_000, {"from": mob.scooter.account})
    new = tx.return_value
    assert new == operators.planCount() and new > old
    assert dict(tx.events["FarePlanPublished"]) == {
        "planId": new,
        "operator": mob.scooter.account,
        "unlockFee": 1100,
        "perMinute": 160,
        "per100m": 5,
        "dailyCap": 22_000,
    }
    assert operators.operatorOf(mob.scooter.account)["currentPlan"] == new
    assert plain(operators.planOf(old)) == (mob.scooter.account, SCOOTER_PLAN)
    assert plain(operators.planOf(new)) == (mob.scooter.account, (1100, 160, 5, 22_000))


@pytest.mark.parametrize(
    "plan",
    [
        (0, 100, 0, 0),  # no cap
        (5000, 100, 0, 4999),  # cap below the unlock fee
        (0, 1_000_001, 0, 10_000),  # price above the ceiling
        (0, 0, 1_000_001, 10_000),
        (0, 0, 0, 1_000_001),
    ],
)
def test_publish_plan_reverts_when_invalid(mob, plan):
    with reverts_with("MobilityOperatorsInvalidPlan", plan[0], plan[3]):
        mob.system.operators.publishPlan(*plan, {"from": mob.car.account})


def test_publish_plan_reverts_for_unregistered(mob, stranger):
    with reverts_with("MobilityOperatorsUnknownOperator", stranger):
        mob.system.operators.publishPlan(0, 1, 1, 100, {"from": stranger})


def test_plan_of_reverts_when_unknown(mob):
    with reverts_with("MobilityOperatorsUnknownPlan", 999):
        mob.system.operators.planOf(999)


def test_trip_terms_returns_operator_zone_and_prices(mob):
    terms = mob.system.operators.tripTerms(mob.scooter.village_asset, mob.scooter.plan)
    assert plain(terms) == (mob.scooter.account, True, SCOOTER_PLAN)
    terms = mob.system.operators.tripTerms(mob.scooter.town_asset, mob.scooter.plan)
    assert terms[1] is False
