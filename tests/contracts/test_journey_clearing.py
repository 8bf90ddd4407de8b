"""JourneyClearing: journeys of settled legs across operators, the integrated transfer discount
(window, per-rider daily cap, the subsidy pool), the pool's top-ups, and the operators' daily
epoch statements."""

from __future__ import annotations

import pytest

from citypass.protocol.roles import ROLES
from tests.contract_helpers import deploy_refused, mine_at, reverts_with
from tests.mobility_fixtures import (
    DAILY_CAP,
    DISCOUNT_BPS,
    DISPUTE_WINDOW,
    T_ENDED,
    TRANSFER_WINDOW,
    fund_pool,
    kst_day,
    ride,
    settled_trips,
    split_of,
)


@pytest.fixture
def pool(mob):
    """A pool of ₩50,000 for this test only (module fixtures outlive a test's isolation)."""
    fund_pool(mob, 50_000)
    return 50_000


def open_journey(mob, rider) -> int:
    return mob.system.journeys.openJourney({"from": rider}).return_value


# ------------------------------------------------------------------------------- journeys


def test_open_journey_records_the_rider(mob, rider):
    tx = mob.system.journeys.openJourney({"from": rider})
    journey_id = tx.return_value
    assert dict(tx.events["JourneyOpened"]) == {"journeyId": journey_id, "rider": rider}
    assert tuple(mob.system.journeys.journeyOf(journey_id)) == (rider, 0, 0)


def test_open_journey_reverts_when_not_member(mob, stranger):
    with reverts_with("JourneyClearingNotMember", stranger):
        mob.system.journeys.openJourney({"from": stranger})


def test_journey_of_reverts_when_unknown(mob):
    with reverts_with("JourneyClearingUnknownJourney", 99):
        mob.system.journeys.journeyOf(99)


# ------------------------------------------------------------------------------ discounts


def test_transfer_within_window_earns_the_discount(mob, rider, pool):
    system = mob.system
    journey = open_journey(mob, rider)
    (scooter_trip, _, _, scooter_end), (bus_trip, bus_fare, bus_start, bus_end) = settled_trips(
        mob, rider, [(mob.scooter, 12, 2_400, 0), (mob.bus, 25, 8_000, 10)]
    )
    first = system.journeys.addLeg(journey, scooter_trip, {"from": rider})
    assert first.events["LegAdded"]["discount"] == 0 and first.return_value == 0
    before = system.credit.balanceOf(rider)
    tx = system.journeys.addLeg(journey, bus_trip, {"from": rider})
    discount = bus_fare * DISCOUNT_BPS // 10_000
    assert dict(tx.events["LegAdded"]) == {
        "journeyId": journey,
        "tripId": bus_trip,
        "operator": mob.bus.account,
        "legIndex": 1,
        "eligible": discount,
        "discount": discount,
    }
    assert tx.return_value == discount
    assert system.credit.balanceOf(rider) - before == discount
    assert system.journeys.pool() == pool - discount
    assert system.journeys.discountUsed(rider, kst_day(bus_start)) == discount
    assert system.journeys.discountsOf(mob.bus.account, kst_day(tx.timestamp)) == discount
    assert tuple(system.journeys.journeyOf(journey)) == (rider, 2, bus_end)
    assert system.journeys.journeyOfTrip(bus_trip) == journey
    assert scooter_end <= bus_start <= scooter_end + TRANSFER_WINDOW


def test_transfer_after_window_earns_nothing(mob, rider, pool):
    journey = open_journey(mob, rider)
    legs = settled_trips(mob, rider, [(mob.scooter, 5, 900, 0), (mob.bus, 20, 5_000, 31)])
    for trip_id, *_ in legs:
        tx = mob.system.journeys.addLeg(journey, trip_id, {"from": rider})
    assert tx.events["LegAdded"]["eligible"] == 0 and tx.events["LegAdded"]["discount"] == 0
    assert mob.system.journeys.pool() == pool


def test_discount_is_capped_per_rider_per_day(mob, rider, pool):
    # car legs of about ₩4,000-₩5,000: the first transfer hits the ₩3,000 cap, the next gets nothing
    journey = open_journey(mob, rider)
    legs = settled_trips(
        mob, rider, [(mob.car, 20, 5_000, 0), (mob.car, 20, 5_000, 5), (mob.car, 20, 5_000, 5)]
    )
    granted = [
        mob.system.journeys.addLeg(journey, trip_id, {"from": rider}).events["LegAdded"]
        for trip_id, *_ in legs
    ]
    fare = legs[1][1]
    assert granted[1]["eligible"] == fare * DISCOUNT_BPS // 10_000
    assert granted[1]["discount"] == min(granted[1]["eligible"], DAILY_CAP)
    assert granted[1]["discount"] + granted[2]["discount"] == DAILY_CAP
    assert granted[2]["eligible"] > granted[2]["discount"]
    assert mob.system.journeys.discountUsed(rider, kst_day(legs[0][2])) == DAILY_CAP


def test_discount_is_reduced_to_what_the_pool_holds(mob, rider):
    fund_pool(mob, 100)
    journey = open_journey(mob, rider)
    legs = settled_trips(mob, rider, [(mob.scooter, 5, 900, 0), (mob.scooter, 10, 900, 5)])
    mob.system.journeys.addLeg(journey, legs[0][0], {"from": rider})
    tx = mob.system.journeys.addLeg(journey, legs[1][0], {"from": rider})
    assert tx.events["LegAdded"]["eligible"] > 100
    assert tx.events["LegAdded"]["discount"] == 100
    assert mob.system.journeys.pool() == 0


def test_empty_pool_grants_no_discount(mob, rider):
    journey = open_journey(mob, rider)
    legs = settled_trips(mob, rider, [(mob.scooter, 5, 900, 0), (mob.scooter, 10, 900, 5)])
    mob.system.journeys.addLeg(journey, legs[0][0], {"from": rider})
    tx = mob.system.journeys.addLeg(journey, legs[1][0], {"from": rider})
    assert tx.events["LegAdded"]["discount"] == 0 and "Transfer" not in tx.events


def test_add_leg_reverts_when_discount_claimed_twice(mob, rider, pool):
    journey = open_journey(mob, rider)
    legs = settled_trips(mob, rider, [(mob.scooter, 5, 900, 0), (mob.bus, 10, 900, 5)])
    for trip_id, *_ in legs:
        mob.system.journeys.addLeg(journey, trip_id, {"from": rider})
    with reverts_with("JourneyClearingDiscountAlreadyClaimed", legs[1][0], journey):
        mob.system.journeys.addLeg(journey, legs[1][0], {"from": rider})
    other = open_journey(mob, rider)
    with reverts_with("JourneyClearingDiscountAlreadyClaimed", legs[1][0], journey):
        mob.system.journeys.addLeg(other, legs[1][0], {"from": rider})


def test_add_leg_reverts_when_trip_not_settled(mob, rider):
    journey = open_journey(mob, rider)
    trip_id, *_ = ride(mob, rider, mob.scooter, 5, 500)
    with reverts_with("JourneyClearingTripNotSettled", trip_id, T_ENDED):
        mob.system.journeys.addLeg(journey, trip_id, {"from": rider})


def test_add_leg_reverts_when_trip_unknown(mob, rider):
    journey = open_journey(mob, rider)
    with reverts_with("TripSettlementUnknownTrip", 555):
        mob.system.journeys.addLeg(journey, 555, {"from": rider})


def test_add_leg_reverts_when_trip_is_another_riders(mob, rider, other_rider):
    journey = open_journey(mob, rider)
    ((trip_id, *_),) = settled_trips(mob, other_rider, [(mob.scooter, 5, 900, 0)])
    with reverts_with("JourneyClearingNotRidersTrip", journey, trip_id):
        mob.system.journeys.addLeg(journey, trip_id, {"from": rider})


def test_add_leg_reverts_when_out_of_order(mob, rider):
    journey = open_journey(mob, rider)
    legs = settled_trips(mob, rider, [(mob.scooter, 5, 900, 0), (mob.bus, 10, 900, 5)])
    mob.system.journeys.addLeg(journey, legs[1][0], {"from": rider})
    with reverts_with("JourneyClearingLegOutOfOrder", journey, legs[0][0], legs[0][2], legs[1][3]):
        mob.system.journeys.addLeg(journey, legs[0][0], {"from": rider})


def test_add_leg_reverts_when_journey_unknown(mob, rider):
    with reverts_with("JourneyClearingUnknownJourney", 77):
        mob.system.journeys.addLeg(77, 1, {"from": rider})


def test_add_leg_by_stranger_reverts_but_operator_may(mob, rider, stranger, people):
    journey = open_journey(mob, rider)
    ((trip_id, *_),) = settled_trips(mob, rider, [(mob.scooter, 5, 900, 0)])
    with reverts_with("JourneyClearingNotAuthorized", journey, stranger):
        mob.system.journeys.addLeg(journey, trip_id, {"from": stranger})
    tx = mob.system.journeys.addLeg(journey, trip_id, {"from": people.operator})
    assert tx.events["LegAdded"]["tripId"] == trip_id


# ----------------------------------------------------------------------------- the pool


def test_top_up_moves_credits_into_the_pool(mob, people):
    system = mob.system
    before = system.credit.balanceOf(system.journeys)
    tx = fund_pool(mob, 12_345)
    assert dict(tx.events["SubsidyToppedUp"]) == {
        "by": people.treasury,
        "amount": 12_345,
        "pool": 12_345,
    }
    assert system.journeys.pool() == 12_345
    assert system.credit.balanceOf(system.journeys) - before == 12_345


def test_top_up_by_city_admin(mob, people):
    admin = people.admin
    mob.system.credit.mint(admin, 1_000, b"\x00" * 32, {"from": people.treasury})
    mob.system.credit.approve(mob.system.journeys, 1_000, {"from": admin})
    mob.system.journeys.topUp(1_000, {"from": admin})
    assert mob.system.journeys.pool() == 1_000


def test_top_up_reverts_without_role(mob, rider):
    with reverts_with("CityAccessMissingRole", rider, ROLES["TREASURY"]):
        mob.system.journeys.topUp(1, {"from": rider})


def test_top_up_reverts_when_zero(mob, people):
    with reverts_with("JourneyClearingZeroAmount"):
        mob.system.journeys.topUp(0, {"from": people.treasury})


def test_stray_transfer_does_not_count_as_subsidy(mob, rider):
    mob.system.credit.transfer(mob.system.journeys, 500, {"from": rider})
    assert mob.system.journeys.pool() == 0


# ------------------------------------------------------------------------------ statements


def test_close_epoch_emits_the_operators_statement(mob, rider, other_rider, pool, stranger):
    system = mob.system
    journey = open_journey(mob, rider)
    legs = settled_trips(mob, rider, [(mob.scooter, 10, 2_000, 0), (mob.bus, 30, 9_000, 3)])
    ((lone, lone_fare, *_),) = settled_trips(mob, other_rider, [(mob.bus, 15, 4_000, 0)])
    discount = 0
    for trip_id, *_ in legs:
        discount += system.journeys.addLeg(journey, trip_id, {"from": rider}).return_value
    today = system.journeys.currentEpoch()
    with reverts_with("JourneyClearingEpochNotOver", today, today):
        system.journeys.closeEpoch(mob.bus.account, today)
    final_at = (today + 1) * 86400 - 9 * 3600 + DISPUTE_WINDOW
    mine_at(final_at - 60)  # the day is over, but its last trips may still be disputed
    with reverts_with("JourneyClearingEpochNotFinal", today, final_at):
        system.journeys.closeEpoch(mob.bus.account, today, {"from": stranger})
    mine_at(final_at + 1)
    tx = system.journeys.closeEpoch(mob.bus.account, today, {"from": stranger})
    fares = [legs[1][1], lone_fare]
    parts = [split_of(f, True) for f in fares]
    gross, village, fees = sum(fares), sum(p[1] for p in parts), sum(p[2] for p in parts)
    assert dict(tx.events["EpochStatement"]) == {
        "operator": mob.bus.account,
        "epoch": today,
        "legs": 2,
        "gross": gross,
        "discounts": discount,
        "fees": fees,
        "villageShare": village,
        "net": gross - fees - village,
    }
    # the close released the day: the statement's net is what the operator can now claim
    released = tx.events["DayReleased"]
    assert (released["operator"], released["gross"], released["operatorShare"]) == (
        mob.bus.account,
        gross,
        gross - fees - village,
    )
    assert tx.events["FareAllocated"]["payeeShare"] == gross - fees - village
    assert system.trips.operatorDay(mob.bus.account, today)["released"]
    assert system.journeys.isClosed(mob.bus.account, today)
    assert not system.journeys.isClosed(mob.scooter.account, today)
    with reverts_with("JourneyClearingEpochAlreadyClosed", mob.bus.account, today):
        system.journeys.closeEpoch(mob.bus.account, today, {"from": stranger})


def test_close_epoch_of_an_idle_day_emits_zeros(mob):
    today = mob.system.journeys.currentEpoch()
    tx = mob.system.journeys.closeEpoch(mob.car.account, today - 3)
    statement = tx.events["EpochStatement"]
    assert (statement["legs"], statement["gross"], statement["net"]) == (0, 0, 0)


def test_close_epoch_reverts_for_unknown_operator(mob, stranger):
    with reverts_with("JourneyClearingUnknownOperator", stranger):
        mob.system.journeys.closeEpoch(stranger, 1)


# ------------------------------------------------------------------------------ deployment


@pytest.mark.parametrize(
    "config, zero_at, error",
    [
        ((0, 5000, 1), None, ("JourneyClearingInvalidConfig", "transferWindow")),
        ((86401, 5000, 1), None, ("JourneyClearingInvalidConfig", "transferWindow")),
        ((60, 10_001, 1), None, ("JourneyClearingInvalidConfig", "discountBps")),
        ((60, 1, 1), 2, ("JourneyClearingZeroAddress",)),
    ],
    ids=["no-window", "window-over-a-day", "bps-over-100%", "zero-trips"],
)
def test_constructor_rejects_bad_parameters(mob, people, config, zero_at, error):
    s = mob.system
    wiring = [s.access, s.credit, s.trips, s.operators, s.forwarder]
    deploy_refused("JourneyClearing", people.admin, wiring, config, zero_at, error)
