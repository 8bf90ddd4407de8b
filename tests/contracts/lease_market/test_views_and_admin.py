"""LeaseMarket views while a lease runs, the CITY_ADMIN's policy and its bounds, and the
constructor's limits."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS

from citypass.protocol.contracts import MAX_ADVANCE_SECONDS, MAX_LEASE_UNITS
from citypass.protocol.roles import ROLES
from tests.contract_helpers import (
    mine_at,
    plain,
    reverts_with,
)
from tests.contracts.lease_market.helpers import (
    DAY,
    DEFAULT_POLICY,
    HOUR,
    MAX_PRICE,
    MINUTE,
    UNIT,
)

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
