"""TripSettlement: start (allowance, permit, forwarder, the rider's deposit balance), the
operator's signed end report that settles the trip at once (fare from the plan in force at the
start, booked on the operator's day; the unused deposit to the rider's balance), force-close
after the timeout, disputes resolved by an INSPECTOR, the day's release after its dispute
window, withdrawals, and every named revert."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, chain
from eth_account import Account

from citypass.protocol.roles import ROLES
from citypass.protocol.signing import (
    sign_permit,
)
from tests.contract_helpers import (
    deploy_refused,
    head_time,
    mine_at,
    pin_next_block,
    relay_call,
    reverts_with,
)
from tests.mobility_fixtures import (
    BUS_PLAN,
    CAR_PLAN,
    DISPUTE_WINDOW,
    FEE_BPS,
    HOUR,
    MINUTE,
    SCOOTER_PLAN,
    T_DISPUTED,
    T_ENDED,
    T_OPEN,
    T_SETTLED,
    TRIP_TIMEOUT,
    VILLAGE_BPS,
    after_window,
    end_signature,
    end_trip,
    fare_of,
    kst_day,
    new_signer,
    ride,
    split_of,
    start_trip,
)

# ------------------------------------------------------------------------------ fare maths


@pytest.mark.parametrize(
    "terms, duration, distance",
    [
        (SCOOTER_PLAN, 0, 0),
        (SCOOTER_PLAN, 61, 99),
        (SCOOTER_PLAN, 12 * MINUTE, 2_400),
        (SCOOTER_PLAN, 5 * HOUR, 30_000),  # capped
        (CAR_PLAN, 90 * MINUTE, 35_050),
        (BUS_PLAN, 40 * MINUTE, 12_000),
    ],
)
def test_end_trip_charges_the_fare_of_the_plan(mob, rider, terms, duration, distance):
    operator = {SCOOTER_PLAN: mob.scooter, CAR_PLAN: mob.car, BUS_PLAN: mob.bus}[terms]
    trip_id, tx = start_trip(mob, rider, operator)
    ended = tx.timestamp + duration
    mine_at(max(ended, head_time()))
    before = mob.system.credit.balanceOf(rider)
    tx = end_trip(mob, operator, trip_id, ended, distance)
    fare = fare_of(terms, duration, distance)
    event = tx.events["TripEnded"]
    assert (event["tripId"], event["rider"], event["operator"]) == (
        trip_id,
        rider,
        operator.account,
    )
    assert (event["endedAt"], event["distanceMeters"], event["fare"], event["forced"]) == (
        ended,
        distance,
        fare,
        False,
    )
    assert event["riderRefund"] == terms[3] - fare
    # the unused deposit goes to the rider's deposit balance, not back to the wallet
    assert mob.system.credit.balanceOf(rider) == before
    trip = mob.system.trips.tripOf(trip_id)
    assert trip["status"] == T_ENDED and trip["fare"] == fare and trip["duration"] == duration


# ------------------------------------------------------------------------------------ start


def test_start_trip_escrows_the_deposit_and_locks_the_vehicle(mob, rider):
    system = mob.system
    vault_before = system.credit.balanceOf(system.split)
    balance_before = system.trips.depositBalanceOf(rider)
    trip_id, tx = start_trip(mob, rider, mob.scooter, deposit=25_000)
    event = tx.events["TripStarted"]
    assert dict(event) == {
        "tripId": trip_id,
        "rider": rider,
        "operator": mob.scooter.account,
        "assetId": mob.scooter.village_asset,
        "planId": mob.scooter.plan,
        "deposit": 25_000,
    }
    # the rider's deposit balance funds what it can, the wallet the rest
    from_balance = min(balance_before, 25_000)
    assert system.trips.depositBalanceOf(rider) == balance_before - from_balance
    assert system.credit.balanceOf(system.split) - vault_before == 25_000 - from_balance
    assert system.trips.openTripOf(mob.scooter.village_asset) == trip_id
    trip = system.trips.tripOf(trip_id)
    assert trip["status"] == T_OPEN and trip["villageZone"] and trip["deposit"] == 25_000
    assert (trip["unlockFee"], trip["perMinute"], trip["per100m"], trip["dailyCap"]) == SCOOTER_PLAN


def test_start_trip_with_permit(mob, accounts, people):
    system = mob.system
    member, key = new_signer(accounts)
    system.access.onboard(member, {"from": people.admin})
    system.credit.mint(member, 50_000, b"\x00" * 32, {"from": people.treasury})
    deadline = head_time() + HOUR
    sig = sign_permit(
        key,
        token_name="CityPass Credit",
        token_address=system.credit.address,
        chain_id=chain.id,
        owner=member.address,
        spender=system.trips.address,
        value=20_000,
        nonce=system.credit.nonces(member),
        deadline=deadline,
    )
    tx = system.trips.startTripWithPermit(
        mob.scooter.town_asset,
        mob.scooter.plan,
        20_000,
        deadline,
        sig.v,
        sig.r,
        sig.s,
        {"from": member},
    )
    assert tx.events["TripStarted"]["rider"] == member
    assert system.credit.balanceOf(member) == 30_000


def test_start_trip_with_permit_reverts_when_permit_fails(mob, accounts, people):
    system = mob.system
    member, _ = new_signer(accounts)
    system.access.onboard(member, {"from": people.admin})
    with reverts_with("TripSettlementPermitFailed"):
        system.trips.startTripWithPermit(
            mob.scooter.town_asset,
            mob.scooter.plan,
            20_000,
            head_time() + HOUR,
            27,
            b"\x01" * 32,
            b"\x02" * 32,
            {"from": member},
        )


def test_start_trip_via_forwarder_starts_for_the_signer(mob, accounts, people):
    system = mob.system
    member, key = new_signer(accounts)
    system.access.onboard(member, {"from": people.admin})
    system.credit.mint(member, 50_000, b"\x00" * 32, {"from": people.treasury})
    system.credit.approve(system.trips, 20_000, {"from": member})
    data = system.trips.startTrip.encode_input(mob.scooter.town_asset, mob.scooter.plan, 20_000)
    tx = relay_call(system.forwarder, key, member.address, system.trips, data, people.operator)
    assert tx.events["TripStarted"]["rider"] == member


def test_start_trip_reverts_when_vehicle_unknown(mob, rider):
    with reverts_with("MobilityOperatorsUnknownAsset", 999):
        mob.system.trips.startTrip(999, mob.scooter.plan, 20_000, {"from": rider})


def test_start_trip_reverts_when_vehicle_inactive(mob, rider):
    asset = mob.scooter.town_asset
    mob.system.operators.setAsset(asset, False, False, {"from": mob.scooter.account})
    with reverts_with("MobilityOperatorsAssetInactive", asset):
        mob.system.trips.startTrip(asset, mob.scooter.plan, 20_000, {"from": rider})


def test_start_trip_reverts_when_operator_inactive(mob, rider, people):
    mob.system.operators.setOperatorActive(mob.scooter.account, False, {"from": people.admin})
    with reverts_with("MobilityOperatorsOperatorInactive", mob.scooter.account):
        start_trip(mob, rider, mob.scooter)


def test_start_trip_reverts_when_plan_is_another_operators(mob, rider):
    with reverts_with(
        "MobilityOperatorsPlanOperatorMismatch",
        mob.car.plan,
        mob.car.account,
        mob.scooter.account,
    ):
        mob.system.trips.startTrip(mob.scooter.village_asset, mob.car.plan, 60_000, {"from": rider})


def test_start_trip_reverts_when_plan_unknown(mob, rider):
    with reverts_with("MobilityOperatorsUnknownPlan", 77):
        mob.system.trips.startTrip(mob.scooter.village_asset, 77, 60_000, {"from": rider})


def test_start_trip_reverts_when_plan_superseded(mob, rider):
    new_plan = mob.system.operators.publishPlan(
        1200, 180, 0, 25_000, {"from": mob.scooter.account}
    ).return_value
    with reverts_with("MobilityOperatorsPlanNotCurrent", mob.scooter.plan, new_plan):
        start_trip(mob, rider, mob.scooter)


def test_start_trip_reverts_when_not_member(mob, stranger):
    with reverts_with("TripSettlementNotMember", stranger):
        start_trip(mob, stranger, mob.scooter)


def test_start_trip_reverts_when_deposit_below_cap(mob, rider):
    with reverts_with("TripSettlementDepositTooLow", 19_999, SCOOTER_PLAN[3]):
        start_trip(mob, rider, mob.scooter, deposit=19_999)


def test_start_trip_reverts_when_deposit_too_large(mob, rider):
    with reverts_with("TripSettlementDepositTooLarge", 2**48):
        start_trip(mob, rider, mob.scooter, deposit=2**48)


def test_start_trip_reverts_when_vehicle_in_use(mob, rider, other_rider):
    trip_id, _ = start_trip(mob, rider, mob.scooter)
    with reverts_with("TripSettlementAssetInUse", mob.scooter.village_asset, trip_id):
        start_trip(mob, other_rider, mob.scooter)


# --------------------------------------------------------------------------------- the end


def test_end_trip_frees_the_vehicle_and_settles_at_once(mob, rider, other_rider):
    system = mob.system
    balance_before = system.trips.depositBalanceOf(rider)
    wallet_before = system.credit.balanceOf(rider)
    claimable_before = system.split.claimable(mob.scooter.account)
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 10, 1_500)
    fare = tx.events["TripEnded"]["fare"]
    assert fare == fare_of(SCOOTER_PLAN, 600, 1_500)
    assert system.trips.openTripOf(mob.scooter.village_asset) == 0
    # the unused deposit is the rider's again at once; the fare is held until its day is released
    assert tx.events["TripEnded"]["riderRefund"] == SCOOTER_PLAN[3] - fare
    assert system.trips.depositBalanceOf(rider) == (
        balance_before - min(balance_before, SCOOTER_PLAN[3]) + SCOOTER_PLAN[3] - fare
    )
    assert "FareAllocated" not in tx.events and "Transfer" not in tx.events
    assert system.split.claimable(mob.scooter.account) == claimable_before
    assert system.credit.balanceOf(rider) >= wallet_before - SCOOTER_PLAN[3]
    start_trip(mob, other_rider, mob.scooter)  # the vehicle is free again


def test_end_trip_submitted_by_anyone(mob, rider, stranger):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    mine_at(tx.timestamp + 300)
    tx = end_trip(mob, mob.scooter, trip_id, tx.timestamp + 300, 800, sender=stranger)
    assert tx.events["TripEnded"]["tripId"] == trip_id


def test_end_trip_reverts_when_signed_by_someone_else(mob, rider, accounts):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    ended = tx.timestamp + 60
    mine_at(ended)
    impostor = Account.create()
    signature = end_signature(mob, impostor.key, trip_id, ended, 100)
    with reverts_with(
        "TripSettlementInvalidSigner", trip_id, impostor.address, mob.scooter.account
    ):
        mob.system.trips.endTrip(trip_id, ended, 100, signature, {"from": rider})


def test_end_trip_reverts_when_report_altered(mob, rider):
    """A signature over another distance recovers to another address."""
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    ended = tx.timestamp + 60
    mine_at(ended)
    signature = end_signature(mob, mob.scooter.key, trip_id, ended, 100)
    with reverts_with("TripSettlementInvalidSigner"):
        mob.system.trips.endTrip(trip_id, ended, 50, signature, {"from": rider})


def test_end_trip_reverts_when_signature_malformed(mob, rider):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    mine_at(tx.timestamp + 60)
    with reverts_with("TripSettlementInvalidSigner", trip_id, ZERO_ADDRESS, mob.scooter.account):
        mob.system.trips.endTrip(trip_id, tx.timestamp + 60, 10, b"\x01" * 7, {"from": rider})


def test_end_trip_reverts_when_signed_by_another_operator(mob, rider):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    ended = tx.timestamp + 60
    mine_at(ended)
    signature = end_signature(mob, mob.car.key, trip_id, ended, 100)
    with reverts_with("TripSettlementInvalidSigner", trip_id, mob.car.account, mob.scooter.account):
        mob.system.trips.endTrip(trip_id, ended, 100, signature, {"from": rider})


def test_end_trip_reverts_when_end_before_start(mob, rider):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    with reverts_with("TripSettlementEndBeforeStart", trip_id, tx.timestamp, tx.timestamp - 1):
        end_trip(mob, mob.scooter, trip_id, tx.timestamp - 1, 100)


def test_end_trip_reverts_when_end_in_future(mob, rider):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    now = tx.timestamp + 100
    pin_next_block(now)
    with reverts_with("TripSettlementEndInFuture", trip_id, now + 60, now):
        end_trip(mob, mob.scooter, trip_id, now + 60, 100)


def test_end_trip_reverts_when_distance_negative(mob, rider):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    mine_at(tx.timestamp + 60)
    with reverts_with("TripSettlementNegativeDistance", trip_id, -5):
        end_trip(mob, mob.scooter, trip_id, tx.timestamp + 60, -5)


@pytest.mark.parametrize("distance", [1_000_001, 2**63 - 1])
def test_end_trip_reverts_when_distance_overflows_the_bound(mob, rider, distance):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    mine_at(tx.timestamp + 60)
    with reverts_with("TripSettlementDistanceTooLarge", trip_id, distance, 1_000_000):
        end_trip(mob, mob.scooter, trip_id, tx.timestamp + 60, distance)


def test_end_trip_reverts_when_trip_not_open(mob, rider):
    trip_id, _, ended, _ = ride(mob, rider, mob.scooter, 5, 100)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_ENDED):
        end_trip(mob, mob.scooter, trip_id, ended, 100)


def test_end_trip_reverts_when_trip_unknown(mob):
    with reverts_with("TripSettlementUnknownTrip", 4242):
        end_trip(mob, mob.scooter, 4242, head_time() - 10, 100)


def test_long_trip_costs_the_cap(mob, rider):
    trip_id, tx = start_trip(mob, rider, mob.car)
    ended = tx.timestamp + TRIP_TIMEOUT
    mine_at(ended)
    tx = end_trip(mob, mob.car, trip_id, ended, 1000)
    assert tx.events["TripEnded"]["fare"] == CAR_PLAN[3]


# ----------------------------------------------------------------------------- force-close


def test_force_close_after_timeout_charges_the_cap(mob, rider, stranger):
    trip_id, tx = start_trip(mob, rider, mob.scooter, deposit=30_000)
    mine_at(tx.timestamp + TRIP_TIMEOUT)
    before = mob.system.trips.depositBalanceOf(rider)
    tx = mob.system.trips.forceClose(trip_id, {"from": stranger})
    event = tx.events["TripEnded"]
    assert event["forced"] and event["fare"] == SCOOTER_PLAN[3]
    assert event["riderRefund"] == 30_000 - SCOOTER_PLAN[3]
    assert mob.system.trips.depositBalanceOf(rider) - before == 30_000 - SCOOTER_PLAN[3]
    assert mob.system.trips.tripOf(trip_id)["status"] == T_ENDED
    after_window(tx.timestamp)
    assert mob.system.trips.tripOf(trip_id)["status"] == T_SETTLED


def test_force_close_reverts_before_timeout(mob, rider):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    with reverts_with("TripSettlementNotTimedOut", trip_id, tx.timestamp + TRIP_TIMEOUT):
        mob.system.trips.forceClose(trip_id, {"from": rider})


def test_force_close_reverts_when_trip_ended(mob, rider):
    trip_id, *_ = ride(mob, rider, mob.scooter, 5, 100)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_ENDED):
        mob.system.trips.forceClose(trip_id, {"from": rider})


# ------------------------------------------------------------------------------ settlement


def book_of(mob, operator, day) -> tuple[int, int, int, int, bool]:
    return tuple(mob.system.trips.operatorDay(operator.account, day))


def test_end_books_the_fare_split_on_the_operators_day(mob, rider):
    day = kst_day(head_time())
    before = book_of(mob, mob.car, day)
    trip_id, _, _, tx = ride(mob, rider, mob.car, 95, 41_230)
    fare = tx.events["TripEnded"]["fare"]
    assert kst_day(tx.timestamp) == day
    operator_share, village, fee = split_of(fare, True)
    assert operator_share + village + fee == fare
    after = book_of(mob, mob.car, day)
    assert (after[0] - before[0], after[1] - before[1], after[2] - before[2]) == (1, fare, fee)
    assert after[3] - before[3] == village and not after[4]
    assert mob.system.trips.tripOf(trip_id)["status"] == T_ENDED
    after_window(tx.timestamp)  # the fare is final without another transaction
    assert mob.system.trips.tripOf(trip_id)["status"] == T_SETTLED


def test_end_outside_village_zone_books_no_village_share(mob, rider):
    day = kst_day(head_time())
    before = book_of(mob, mob.scooter, day)
    _, _, _, tx = ride(mob, rider, mob.scooter, 7, 900, village=False)
    fare = tx.events["TripEnded"]["fare"]
    after = book_of(mob, mob.scooter, day)
    assert after[1] - before[1] == fare
    assert after[2] - before[2] == fare * FEE_BPS // 10_000
    assert after[3] == before[3]


def test_end_trip_reverts_when_settled(mob, rider):
    """Never settled twice: the end report (which settles) works once, also after the window."""
    trip_id, _, ended, tx = ride(mob, rider, mob.scooter, 5, 100)
    after_window(tx.timestamp)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_SETTLED):
        end_trip(mob, mob.scooter, trip_id, ended, 100)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_SETTLED):
        mob.system.trips.forceClose(trip_id, {"from": rider})


def test_start_funds_the_deposit_from_the_balance(mob, rider):
    system = mob.system
    # a car trip's unused deposit leaves more than a bus deposit on the balance
    ride(mob, rider, mob.car, 5, 100)
    balance = system.trips.depositBalanceOf(rider)
    assert balance >= BUS_PLAN[3]
    wallet = system.credit.balanceOf(rider)
    _, tx = start_trip(mob, rider, mob.bus)
    assert "Transfer" not in tx.events
    assert system.credit.balanceOf(rider) == wallet
    assert system.trips.depositBalanceOf(rider) == balance - BUS_PLAN[3]


def test_withdraw_deposit_pays_the_balance_out(mob, rider):
    system = mob.system
    ride(mob, rider, mob.scooter, 5, 100)
    balance = system.trips.depositBalanceOf(rider)
    assert balance > 0
    wallet = system.credit.balanceOf(rider)
    tx = system.trips.withdrawDeposit(balance - 1, {"from": rider})
    assert dict(tx.events["DepositWithdrawn"]) == {"rider": rider, "amount": balance - 1}
    assert tx.events["EscrowRefunded"]["amount"] == balance - 1
    assert system.credit.balanceOf(rider) - wallet == balance - 1
    assert system.trips.depositBalanceOf(rider) == 1


def test_withdraw_deposit_reverts_above_balance(mob, rider, stranger):
    balance = mob.system.trips.depositBalanceOf(rider)
    with reverts_with("TripSettlementBalanceTooLow", rider, balance, balance + 1):
        mob.system.trips.withdrawDeposit(balance + 1, {"from": rider})
    with reverts_with("TripSettlementBalanceTooLow", stranger, 0, 0):
        mob.system.trips.withdrawDeposit(0, {"from": stranger})


def test_old_plan_stays_readable_and_prices_trips_started_under_it(mob, rider):
    system = mob.system
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    system.operators.publishPlan(5000, 500, 50, 50_000, {"from": mob.scooter.account})
    assert tuple(system.operators.planOf(mob.scooter.plan)[1]) == SCOOTER_PLAN
    mine_at(tx.timestamp + 600)
    tx = end_trip(mob, mob.scooter, trip_id, tx.timestamp + 600, 2_000)
    assert tx.events["TripEnded"]["fare"] == fare_of(SCOOTER_PLAN, 600, 2_000)


# --------------------------------------------------------------------------------- disputes


def test_dispute_then_partial_refund(mob, rider):
    system = mob.system
    trip_id, _, _, tx = ride(mob, rider, mob.car, 60, 20_000)
    fare = tx.events["TripEnded"]["fare"]
    day = kst_day(tx.timestamp)
    booked = book_of(mob, mob.car, day)
    tx = system.trips.dispute(trip_id, {"from": rider})
    assert dict(tx.events["TripDisputed"]) == {"tripId": trip_id, "rider": rider, "day": day}
    assert system.trips.tripOf(trip_id)["status"] == T_DISPUTED
    # the disputed fare left its day
    operator_share, village, fee = split_of(fare, True)
    unbooked = book_of(mob, mob.car, day)
    assert tuple(b - u for b, u in zip(booked[:4], unbooked[:4], strict=True)) == (
        1,
        fare,
        fee,
        village,
    )
    balance = system.trips.depositBalanceOf(rider)
    refund = fare // 3
    today_before = book_of(mob, mob.car, kst_day(head_time()))
    tx = system.trips.resolveDispute(trip_id, refund, {"from": mob.inspector})
    paid = fare - refund
    operator_share, village, fee = split_of(paid, True)
    today = kst_day(tx.timestamp)
    assert dict(tx.events["DisputeResolved"]) == {
        "tripId": trip_id,
        "inspector": mob.inspector,
        "day": today,
        "refund": refund,
        "fare": paid,
        "operatorShare": operator_share,
        "villageShare": village,
        "platformFee": fee,
    }
    assert system.trips.depositBalanceOf(rider) - balance == refund
    trip = system.trips.tripOf(trip_id)
    assert trip["status"] == T_SETTLED and trip["fare"] == paid
    assert book_of(mob, mob.car, today)[1] - today_before[1] == paid


def test_dispute_full_refund_pays_nobody(mob, rider):
    system = mob.system
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 20, 3_000)
    fare = tx.events["TripEnded"]["fare"]
    system.trips.dispute(trip_id, {"from": rider})
    gross = book_of(mob, mob.scooter, kst_day(tx.timestamp))[1]
    before = system.trips.depositBalanceOf(rider)
    tx = system.trips.resolveDispute(trip_id, fare, {"from": mob.inspector})
    assert tx.events["DisputeResolved"]["fare"] == 0
    assert book_of(mob, mob.scooter, kst_day(tx.timestamp))[1] == gross
    assert system.trips.depositBalanceOf(rider) - before == fare  # the whole deposit is back
    with reverts_with("TripSettlementWrongStatus", trip_id, T_SETTLED):
        system.trips.dispute(trip_id, {"from": rider})


def test_resolve_dispute_reverts_when_refund_above_fare(mob, rider):
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 20, 3_000)
    fare = tx.events["TripEnded"]["fare"]
    mob.system.trips.dispute(trip_id, {"from": rider})
    with reverts_with("TripSettlementRefundAboveFare", trip_id, fare + 1, fare):
        mob.system.trips.resolveDispute(trip_id, fare + 1, {"from": mob.inspector})


def test_resolve_dispute_reverts_without_inspector_role(mob, rider):
    trip_id, *_ = ride(mob, rider, mob.scooter, 20, 3_000)
    mob.system.trips.dispute(trip_id, {"from": rider})
    with reverts_with("CityAccessMissingRole", rider, ROLES["INSPECTOR"]):
        mob.system.trips.resolveDispute(trip_id, 1, {"from": rider})


def test_resolve_dispute_reverts_when_not_disputed(mob, rider):
    trip_id, *_ = ride(mob, rider, mob.scooter, 20, 3_000)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_ENDED):
        mob.system.trips.resolveDispute(trip_id, 1, {"from": mob.inspector})


def test_dispute_reverts_after_window(mob, rider):
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 5, 100)
    after_window(tx.timestamp)
    with reverts_with("TripSettlementDisputeWindowClosed", trip_id, tx.timestamp + DISPUTE_WINDOW):
        mob.system.trips.dispute(trip_id, {"from": rider})


def test_dispute_reverts_when_not_rider(mob, rider, other_rider):
    trip_id, *_ = ride(mob, rider, mob.scooter, 5, 100)
    with reverts_with("TripSettlementNotRider", trip_id, other_rider):
        mob.system.trips.dispute(trip_id, {"from": other_rider})


def test_dispute_reverts_when_trip_open(mob, rider):
    trip_id, _ = start_trip(mob, rider, mob.scooter)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_OPEN):
        mob.system.trips.dispute(trip_id, {"from": rider})


# ----------------------------------------------------------------------------- day release


def test_release_day_reverts_before_its_dispute_window_passed(mob):
    day = kst_day(head_time())
    final_at = (day + 1) * 86_400 - 9 * HOUR + DISPUTE_WINDOW
    assert mob.system.trips.dayFinalAt(day) == final_at
    with reverts_with("TripSettlementDayNotFinal", mob.scooter.account, day, final_at):
        mob.system.trips.releaseDay(mob.scooter.account, day)


def test_release_day_pays_the_day_out_except_an_open_dispute(mob, rider, stranger):
    system = mob.system
    ride(mob, rider, mob.car, 20, 3_000)
    trip_id, _, _, tx = ride(mob, rider, mob.car, 30, 5_000)
    disputed_fare = tx.events["TripEnded"]["fare"]
    system.trips.dispute(trip_id, {"from": rider})
    day = kst_day(tx.timestamp)
    legs, gross, fees, village, released = book_of(mob, mob.car, day)
    assert gross > 0 and not released
    mine_at(system.trips.dayFinalAt(day) + 1)
    house_before = system.split.houseBalances()
    claimable_before = system.split.claimable(mob.car.account)
    tx = system.trips.releaseDay(mob.car.account, day, {"from": stranger})
    net = gross - fees - village
    assert dict(tx.events["DayReleased"]) == {
        "operator": mob.car.account,
        "day": day,
        "legs": legs,
        "gross": gross,
        "operatorShare": net,
        "villageShare": village,
        "platformFee": fees,
    }
    allocated = tx.events["FareAllocated"]
    assert (allocated["payee"], allocated["amount"], allocated["payeeShare"]) == (
        mob.car.account,
        gross,
        net,
    )
    house_after = system.split.houseBalances()
    assert house_after[1] - house_before[1] == village
    assert house_after[3] - house_before[3] == fees
    assert system.split.claimable(mob.car.account) - claimable_before == net
    assert book_of(mob, mob.car, day)[4]
    with reverts_with("TripSettlementDayAlreadyReleased", mob.car.account, day):
        system.trips.releaseDay(mob.car.account, day)
    # the disputed trip, resolved later, is booked on the day of its resolution
    tx = system.trips.resolveDispute(trip_id, 0, {"from": mob.inspector})
    assert kst_day(tx.timestamp) == day + 1
    assert book_of(mob, mob.car, day + 1)[:2] == (1, disputed_fare)
    assert book_of(mob, mob.car, day)[1] == gross


def test_release_day_reverts_when_nothing_to_release(mob):
    day = kst_day(head_time()) - 3
    with reverts_with("TripSettlementNothingToRelease", mob.bus.account, day):
        mob.system.trips.releaseDay(mob.bus.account, day)


# ------------------------------------------------------------------------------ deployment


def test_deployment_parameters(mob):
    trips = mob.system.trips
    assert trips.disputeWindow() == DISPUTE_WINDOW
    assert trips.tripTimeout() == TRIP_TIMEOUT
    assert (trips.platformFeeBps(), trips.villageBps()) == (FEE_BPS, VILLAGE_BPS)
    assert mob.system.split.isSource(trips)


@pytest.mark.parametrize(
    "config, zero_at, error",
    [
        ((8 * 86400, HOUR, 0, 0), None, ("TripSettlementInvalidConfig", "disputeWindow")),
        ((HOUR, 0, 0, 0), None, ("TripSettlementInvalidConfig", "tripTimeout")),
        ((HOUR, 86401, 0, 0), None, ("TripSettlementInvalidConfig", "tripTimeout")),
        ((HOUR, HOUR, 6000, 5000), None, ("TripSettlementInvalidConfig", "shares")),
        ((1, 1, 0, 0), 1, ("TripSettlementZeroAddress",)),
    ],
    ids=["long-window", "no-timeout", "timeout-over-a-day", "shares-over-100%", "zero-credit"],
)
def test_constructor_rejects_bad_parameters(mob, people, config, zero_at, error):
    s = mob.system
    wiring = [s.access, s.credit, s.split, s.operators, s.forwarder]
    deploy_refused("TripSettlement", people.admin, wiring, config, zero_at, error)
