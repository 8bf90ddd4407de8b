"""TripSettlement: start (allowance, permit, forwarder), the operator's signed end report, the
fare from the plan in force at the start, force-close after the timeout, disputes resolved by
an INSPECTOR, the payout after the dispute window, and every named revert."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS, chain, web3
from eth_account import Account
from mobility_fixtures import (
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
    mob,  # noqa: F401 - fixture
    new_signer,
    ride,
    split_of,
    start_trip,
)

from citypass.roles import ROLES
from citypass.signing import forward_request, request_data_tuple, sign_forward_request, sign_permit
from citypass.testing import head_time, mine_at, reverts_with


def pin_next_block(timestamp: int) -> None:
    response = web3.provider.make_request("evm_setNextBlockTimestamp", [int(timestamp)])
    assert "error" not in response, response


@pytest.fixture(scope="module")
def rider(residents):
    return residents[0]


@pytest.fixture(scope="module")
def other_rider(residents):
    return residents[1]


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
    # the deposit stays in escrow until the settlement
    assert mob.system.credit.balanceOf(rider) == before
    trip = mob.system.trips.tripOf(trip_id)
    assert trip["status"] == T_ENDED and trip["fare"] == fare and trip["duration"] == duration


# ------------------------------------------------------------------------------------ start


def test_start_trip_escrows_the_deposit_and_locks_the_vehicle(mob, rider):
    system = mob.system
    vault_before = system.credit.balanceOf(system.split)
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
    assert system.credit.balanceOf(system.split) - vault_before == 25_000
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
    request = forward_request(
        member.address,
        system.trips.address,
        bytes.fromhex(data[2:]),
        nonce=system.forwarder.nonces(member),
        deadline=head_time() + HOUR,
    )
    signature = sign_forward_request(
        key, forwarder_address=system.forwarder.address, chain_id=chain.id, request=request
    )
    tx = system.forwarder.execute(
        request_data_tuple(request, signature.signature), {"from": people.operator}
    )
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


def test_end_trip_frees_the_vehicle_and_holds_the_fare(mob, rider, other_rider):
    system = mob.system
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 10, 1_500)
    fare = tx.events["TripEnded"]["fare"]
    assert fare == fare_of(SCOOTER_PLAN, 600, 1_500)
    assert system.trips.openTripOf(mob.scooter.village_asset) == 0
    # the fare stays in the vault's escrow until the payout; nobody was credited yet
    assert "FareAllocated" not in tx.events
    assert system.split.claimable(mob.scooter.account) == 0
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
    tx = mob.system.trips.forceClose(trip_id, {"from": stranger})
    event = tx.events["TripEnded"]
    assert event["forced"] and event["fare"] == SCOOTER_PLAN[3]
    assert mob.system.trips.tripOf(trip_id)["status"] == T_ENDED
    after_window(tx.timestamp)
    before = mob.system.credit.balanceOf(rider)
    tx = mob.system.trips.settle(trip_id, {"from": stranger})
    assert tx.events["TripSettled"]["riderRefund"] == 30_000 - SCOOTER_PLAN[3]
    assert mob.system.credit.balanceOf(rider) - before == 30_000 - SCOOTER_PLAN[3]


def test_force_close_reverts_before_timeout(mob, rider):
    trip_id, tx = start_trip(mob, rider, mob.scooter)
    with reverts_with("TripSettlementNotTimedOut", trip_id, tx.timestamp + TRIP_TIMEOUT):
        mob.system.trips.forceClose(trip_id, {"from": rider})


def test_force_close_reverts_when_trip_ended(mob, rider):
    trip_id, *_ = ride(mob, rider, mob.scooter, 5, 100)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_ENDED):
        mob.system.trips.forceClose(trip_id, {"from": rider})


# ------------------------------------------------------------------------------ settlement


def test_settle_after_window_pays_operator_village_and_platform(mob, rider, people, stranger):
    system = mob.system
    trip_id, _, _, tx = ride(mob, rider, mob.car, 95, 41_230)
    fare = tx.events["TripEnded"]["fare"]
    after_window(tx.timestamp)
    house_before = system.split.houseBalances()
    rider_before = system.credit.balanceOf(rider)
    tx = system.trips.settle(trip_id, {"from": stranger})
    operator_share, village, fee = split_of(fare, True)
    assert operator_share + village + fee == fare
    event = tx.events["TripSettled"]
    assert (
        event["fare"],
        event["operatorShare"],
        event["villageShare"],
        event["platformFee"],
        event["riderRefund"],
    ) == (fare, operator_share, village, fee, CAR_PLAN[3] - fare)
    assert system.credit.balanceOf(rider) - rider_before == CAR_PLAN[3] - fare
    assert tx.events["EscrowRefunded"]["amount"] == CAR_PLAN[3] - fare
    allocated = tx.events["FareAllocated"]
    assert (allocated["payee"], allocated["amount"], allocated["payeeShare"]) == (
        mob.car.account,
        fare,
        operator_share,
    )
    house_after = system.split.houseBalances()
    assert house_after[1] - house_before[1] == village
    assert house_after[3] - house_before[3] == fee
    assert system.split.claimable(mob.car.account) == operator_share
    claimed = system.split.claim({"from": mob.car.account})
    assert claimed.events["Claimed"]["amount"] == operator_share
    day = event["day"]
    book = system.trips.operatorDay(mob.car.account, day)
    assert tuple(book) == (1, fare, fee, village)


def test_settle_outside_village_zone_pays_no_village_share(mob, rider):
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 7, 900, village=False)
    fare = tx.events["TripEnded"]["fare"]
    after_window(tx.timestamp)
    tx = mob.system.trips.settle(trip_id, {"from": rider})
    assert tx.events["TripSettled"]["villageShare"] == 0
    assert tx.events["TripSettled"]["platformFee"] == fare * FEE_BPS // 10_000


def test_settle_reverts_while_dispute_window_open(mob, rider):
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 5, 100)
    with reverts_with("TripSettlementDisputeWindowOpen", trip_id, tx.timestamp + DISPUTE_WINDOW):
        mob.system.trips.settle(trip_id, {"from": rider})


def test_settle_reverts_when_settled_twice(mob, rider):
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 5, 100)
    after_window(tx.timestamp)
    mob.system.trips.settle(trip_id, {"from": rider})
    with reverts_with("TripSettlementWrongStatus", trip_id, T_SETTLED):
        mob.system.trips.settle(trip_id, {"from": rider})


def test_settle_reverts_when_trip_open(mob, rider):
    trip_id, _ = start_trip(mob, rider, mob.scooter)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_OPEN):
        mob.system.trips.settle(trip_id, {"from": rider})


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
    tx = system.trips.dispute(trip_id, {"from": rider})
    assert dict(tx.events["TripDisputed"]) == {"tripId": trip_id, "rider": rider}
    assert system.trips.tripOf(trip_id)["status"] == T_DISPUTED
    before = system.credit.balanceOf(rider)
    refund = fare // 3
    tx = system.trips.resolveDispute(trip_id, refund, {"from": mob.inspector})
    assert dict(tx.events["DisputeResolved"]) == {
        "tripId": trip_id,
        "inspector": mob.inspector,
        "refund": refund,
    }
    assert tx.events["TripSettled"]["fare"] == fare - refund
    assert system.credit.balanceOf(rider) - before == CAR_PLAN[3] - fare + refund
    trip = system.trips.tripOf(trip_id)
    assert trip["status"] == T_SETTLED and trip["fare"] == fare - refund


def test_dispute_full_refund_pays_nobody(mob, rider):
    system = mob.system
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 20, 3_000)
    fare = tx.events["TripEnded"]["fare"]
    system.trips.dispute(trip_id, {"from": rider})
    before = system.credit.balanceOf(rider)
    tx = system.trips.resolveDispute(trip_id, fare, {"from": mob.inspector})
    assert "FareAllocated" not in tx.events
    assert system.credit.balanceOf(rider) - before == SCOOTER_PLAN[3]
    with reverts_with("TripSettlementWrongStatus", trip_id, T_SETTLED):
        system.trips.settle(trip_id, {"from": rider})


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


def test_disputed_trip_cannot_be_settled_by_keeper(mob, rider):
    trip_id, _, _, tx = ride(mob, rider, mob.scooter, 5, 100)
    mob.system.trips.dispute(trip_id, {"from": rider})
    after_window(tx.timestamp)
    with reverts_with("TripSettlementWrongStatus", trip_id, T_DISPUTED):
        mob.system.trips.settle(trip_id, {"from": rider})


# ------------------------------------------------------------------------------ deployment


def test_deployment_parameters(mob):
    trips = mob.system.trips
    assert trips.disputeWindow() == DISPUTE_WINDOW
    assert trips.tripTimeout() == TRIP_TIMEOUT
    assert (trips.platformFeeBps(), trips.villageBps()) == (FEE_BPS, VILLAGE_BPS)
    assert mob.system.split.isSource(trips)


@pytest.mark.parametrize(
    "window, timeout, fee, village, field",
    [
        (8 * 86400, HOUR, 0, 0, "disputeWindow"),
        (HOUR, 0, 0, 0, "tripTimeout"),
        (HOUR, 86401, 0, 0, "tripTimeout"),
        (HOUR, HOUR, 6000, 5000, "shares"),
    ],
)
def test_constructor_rejects_bad_parameters(mob, people, window, timeout, fee, village, field):
    from brownie import TripSettlement

    s = mob.system
    with reverts_with("TripSettlementInvalidConfig", field):
        TripSettlement.deploy(
            s.access,
            s.credit,
            s.split,
            s.operators,
            s.forwarder,
            window,
            timeout,
            fee,
            village,
            {"from": people.admin},
        )


def test_constructor_rejects_zero_address(mob, people):
    from brownie import TripSettlement

    s = mob.system
    with reverts_with("TripSettlementZeroAddress"):
        TripSettlement.deploy(
            s.access,
            ZERO_ADDRESS,
            s.split,
            s.operators,
            s.forwarder,
            1,
            1,
            0,
            0,
            {"from": people.admin},
        )
