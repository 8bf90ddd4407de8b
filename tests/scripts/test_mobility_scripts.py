"""The mobility operator scripts, run in-process as `brownie run` runs them (see
tests/scripts/test_scripts.py): scripts/mobility_operator.py, scripts/subsidy_pool.py and
scripts/epoch_statements.py."""

from __future__ import annotations

import pytest
from brownie import chain
from eth_account import Account

from citypass.protocol.roles import ROLES
from tests.contract_helpers import head_time, mine_at
from tests.mobility_fixtures import signed_trip_end
from tests.scripts.helpers import fails, funded_member, script

HOUR = 3600
MAX_UINT = 2**256 - 1


@pytest.fixture(scope="module")
def operator(accounts, system):
    """A key of its own (it signs end reports), registered through the script."""
    key = Account.create()
    account = accounts.add(key.key)
    script("mobility_operator", "register", account.address, "kind=kick-scooter")
    return account, key.key


@pytest.fixture(scope="module")
def rider(accounts, system):
    return funded_member(accounts, system, accounts[8], system.trips)


# ------------------------------------------------------------------------ mobility_operator


def test_register_grants_the_role_and_registers(capsys, system, operator):
    account, _ = operator
    assert system.access.hasRole(ROLES["OPERATOR"], account)
    assert tuple(system.operators.operatorOf(account)) == (2, True, 0)
    result = script("mobility_operator", "show", account.address)
    assert result == {
        "operator": account.address,
        "kind": "KICK_SCOOTER",
        "active": True,
        "plan": 0,
    }
    assert "KICK_SCOOTER" in capsys.readouterr().out


def test_assets_and_plan(capsys, system, operator):
    account, _ = operator
    result = script(
        "mobility_operator", "assets", "count=3", "village=yes", f"as={account.address}"
    )
    assert len(result["assets"]) == 3
    for asset in result["assets"]:
        assert tuple(system.operators.assetOf(asset)) == (account, 2, True, True)
    assert "registered 3 asset(s)" in capsys.readouterr().out
    result = script(
        "mobility_operator",
        "plan",
        "unlock=1,000",
        "per-minute=150",
        "per-100m=10",
        "cap=20,000",
        f"as={account.address}",
    )
    plan = system.operators.planOf(result["plan"])
    assert plan[0] == account and [int(v) for v in plan[1]] == [1000, 150, 10, 20_000]
    assert system.operators.operatorOf(account)["currentPlan"] == result["plan"]


def test_plan_refused_by_the_ledger_is_one_line(capsys, system, operator):
    account, _ = operator
    code, line = fails(
        capsys, "mobility_operator", "plan", "unlock=5000", "cap=4000", f"as={account.address}"
    )
    assert code == 1 and "MobilityOperatorsInvalidPlan" in line


def test_register_by_non_admin_is_refused(capsys, system, accounts):
    code, line = fails(
        capsys, "mobility_operator", "register", accounts[12].address, "kind=bus", "as=operator"
    )
    assert code == 1 and "does not hold CITY_ADMIN" in line


@pytest.mark.parametrize(
    "argv, words",
    [
        (("register", "0x" + "11" * 20), "kind="),
        (("register", "0x" + "11" * 20, "kind=rocket"), "unknown operator kind"),
        (("assets", "as=operator"), "count=N"),
        (("assets", "count=501", "as=operator"), "count=N"),
        (("plan", "unlock=100", "as=operator"), "cap=KRW"),
        (("plan", "0x" + "11" * 20, "cap=100", "as=operator"), "acts for the signer"),
        (("show",), "ACCOUNT"),
        (("assets", "count=2"), "as WHO"),
    ],
)
def test_mobility_operator_bad_arguments(capsys, system, argv, words):
    code, line = fails(capsys, "mobility_operator", *argv)
    assert code == 2 and words in line, line


# ---------------------------------------------------------------------------- subsidy_pool


def test_top_up_with_a_receipt_mints_then_fills_the_pool(capsys, system, accounts):
    result = script("subsidy_pool", "top-up", "250,000", "receipt=BUDGET-2025-07")
    assert result == {"amount": 250_000, "pool": 250_000}
    assert system.journeys.pool() == 250_000
    assert system.credit.balanceOf(system.journeys) == 250_000
    assert system.credit.balanceOf(accounts[1]) == 0
    out = capsys.readouterr().out
    assert "the subsidy pool holds 250,000 KRW" in out
    assert script("subsidy_pool", "status") == {"pool": 250_000}
    assert "30 min" in capsys.readouterr().out


def test_top_up_from_own_credits(system, accounts):
    system.credit.mint(accounts[1], 1_000, b"\x00" * 32, {"from": accounts[1]})
    assert script("subsidy_pool", "top-up", "1000")["pool"] == 1_000


def test_top_up_without_credits_is_refused(capsys, system):
    code, line = fails(capsys, "subsidy_pool", "top-up", "1000")
    assert code == 1 and "mint first" in line


def test_top_up_without_role_is_refused(capsys, system, rider):
    code, line = fails(capsys, "subsidy_pool", "top-up", "1000", "as=8")
    assert code == 1 and "CityAccessMissingRole" in line


@pytest.mark.parametrize(
    "argv, words",
    [(("top-up",), "AMOUNT"), (("top-up", "-5"), "negative"), (("status", "100"), "no AMOUNT")],
)
def test_subsidy_pool_bad_arguments(capsys, system, argv, words):
    code, line = fails(capsys, "subsidy_pool", *argv)
    assert code == 2 and words in line, line


# ------------------------------------------------------------------------ epoch_statements


def test_epoch_statements_close_yesterday_once(capsys, system, operator, rider, accounts):
    account, key = operator
    assets = script("mobility_operator", "assets", "count=1", f"as={account.address}")["assets"]
    plan = script(
        "mobility_operator",
        "plan",
        "unlock=1000",
        "per-minute=150",
        "cap=20000",
        f"as={account.address}",
    )
    midnight = (head_time() + 9 * HOUR) // 86400 * 86400 - 9 * HOUR + 86400
    mine_at(midnight + 8 * HOUR)
    started = system.trips.startTrip(assets[0], plan["plan"], 20_000, {"from": rider})
    trip_id, ended = started.return_value, started.timestamp + 600
    mine_at(ended)
    signature = signed_trip_end(system.trips, key, trip_id, ended, 1_500)
    fare = system.trips.endTrip(trip_id, ended, 1_500, signature, {"from": rider}).events[
        "TripEnded"
    ]["fare"]
    day = (ended + 9 * HOUR) // 86400
    legs, gross, fees, village, released = system.trips.operatorDay(account, day)
    assert (legs, gross, released) == (1, fare, False)
    mine_at(midnight + 86400 + 3 * HOUR)  # the next KST day, after the day's dispute window
    statements = script("epoch_statements")
    mine = [s for s in statements if s["operator"] == account.address]
    assert mine == [
        {
            "operator": account.address,
            "closed": "now",
            "legs": 1,
            "gross": fare,
            "discounts": 0,
            "fees": fees,
            "villageShare": village,
            "net": fare - fees - village,
        }
    ]
    assert system.journeys.isClosed(account, day)
    assert system.trips.operatorDay(account, day)["released"]
    assert "Epoch statements for" in capsys.readouterr().out
    again = script("epoch_statements", f"operator={account.address}")
    assert again == [{**mine[0], "closed": "earlier"}]


def test_epoch_statements_refuse_an_open_day(capsys, system, operator):
    tomorrow = (head_time() + 9 * HOUR) // 86400 + 1
    import datetime as dt

    label = (dt.date(1970, 1, 1) + dt.timedelta(days=tomorrow)).isoformat()
    code, line = fails(capsys, "epoch_statements", f"day={label}")
    assert code == 2 and "not over yet" in line


def test_epoch_statements_bad_day(capsys, system):
    code, line = fails(capsys, "epoch_statements", "day=yesterday")
    assert code == 2 and "YYYY-MM-DD" in line


@pytest.mark.parametrize("name", ["mobility_operator", "subsidy_pool", "epoch_statements"])
def test_help_prints_usage(capsys, system, name):
    block = chain.height
    assert script(name, "help") is None
    out = capsys.readouterr().out
    assert f"scripts/{name}.py" in out and "examples:" in out
    assert chain.height == block
