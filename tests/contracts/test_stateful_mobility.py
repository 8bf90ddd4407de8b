"""A brownie state machine over trips, journeys and the subsidy pool.

Two riders take kick-scooter, car-share and bus trips (in and out of the village zone); trips
are ended (and so settled onto the operator's day book) by the operator's signed report or
force-closed, disputed and resolved by the INSPECTOR; a keeper releases operator-days once
their dispute window has passed; riders withdraw from their deposit balances, group settled
trips into journeys and get transfer discounts from the pool, which the treasury tops up. A
Python model predicts every outcome (including the exact custom error of a call that must
fail). After every step:

- rider payments plus subsidies equal operator receivables plus platform fees plus the village
  share (read from the chain: balances, deposit balances, claimables, house balances, the day
  books not yet released, the pool), and the vault holds exactly the open deposits, disputed
  fares and deposit balances plus those receivables;
- no trip is settled twice (statuses match the model; every trip's fare is booked on exactly
  one day book at a time, each book matches the model and is released at most once);
- discounts never exceed a rider's daily cap, and the pool (never negative) matches the model;
- a dispute refund never exceeds the fare.

Every transaction is pinned to the model's clock, so fares and windows are predicted exactly.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from dataclasses import dataclass

from brownie.test import strategy
from hypothesis import event
from hypothesis import strategies as st

from tests.contract_helpers import head_time, pin_next_block, reverts_with
from tests.mobility_fixtures import (
    DAILY_CAP,
    DISCOUNT_BPS,
    DISPUTE_WINDOW,
    MAX_UINT,
    MINUTE,
    T_DISPUTED,
    T_ENDED,
    T_OPEN,
    T_SETTLED,
    TRANSFER_WINDOW,
    TRIP_TIMEOUT,
    ZERO_RECEIPT,
    end_signature,
    fare_of,
    kst_day,
    split_of,
)

OUTCOMES: Counter = Counter()


def note(outcome: str) -> None:
    """A Hypothesis event, also counted so the test can check the machine reached it."""
    OUTCOMES[outcome] += 1
    event(outcome)


def reverts_exactly(error, *args):
    note(f"reverts {error}")
    return reverts_with(error, *args)


@dataclass
class ModelTrip:
    trip_id: int
    rider: object
    op: object
    asset: int
    village: bool
    started: int
    deposit: int
    status: int = T_OPEN
    fare: int = 0
    end: int = 0
    closed: int = 0
    refund: int = 0
    books: int = 0  # how many day books hold the trip's fare (0 or 1)
    leg_of: int = 0


@dataclass
class ModelJourney:
    journey_id: int
    rider: object
    legs: int = 0
    last_end: int = 0


class MobilityMachine:
    st_rider = strategy("uint8", max_value=1)
    st_op = strategy("uint8", max_value=2)
    st_bool = st.booleans()
    st_often = st.sampled_from([False, True, True])
    st_index = strategy("uint16")
    st_minutes = strategy("uint16", min_value=1, max_value=45)
    st_metres = strategy("uint16", max_value=20_000)
    st_percent = st.sampled_from([0, 25, 50, 100, 101])
    st_gap = st.sampled_from([1, 5, 20, 29, 31, 45, 125, 13 * 60])
    st_amount = st.sampled_from([50, 500, 2_000, 10_000])
    st_day_back = st.sampled_from([0, 0, 1, 4])

    def __init__(cls, mob, riders):
        cls.mob = mob
        cls.riders = riders
        cls.ops = [mob.scooter, mob.car, mob.bus]

    def setup(self):
        # brownie's revert before each run makes a full gc.collect(): freeze what exists now,
        # so it sees only what one run makes (as tests/conftest.py does per test).
        gc.freeze()
        system = self.mob.system
        self.now = head_time()
        self.trips: list[ModelTrip] = []
        self.journeys: list[ModelJourney] = []
        self.busy: dict[int, int] = {}
        self.pool = system.journeys.pool()
        self.topped_up = 0
        self.discounts = 0
        self.used: dict[tuple[str, int], int] = defaultdict(int)
        self.base_riders = sum(system.credit.balanceOf(r) for r in self.riders)
        self.base_vault = system.credit.balanceOf(system.split)
        self.base_journeys = system.credit.balanceOf(system.journeys)
        self.base_claimable = sum(system.split.claimable(op.account) for op in self.ops)
        _, village, _, platform = system.split.houseBalances()
        self.base_house = (village, platform)
        self.base_balances = {r.address: system.trips.depositBalanceOf(r) for r in self.riders}
        self.balances = dict(self.base_balances)
        # (operator, day) -> [legs, gross, fees, village, released]
        self.days: dict[tuple[str, int], list] = {}

    # ---------------------------------------------------------------------------- helpers

    def _send(self, method, *args, sender):
        pin_next_block(self.now)
        tx = method(*args, {"from": sender})
        assert tx.timestamp == self.now
        note(f"ok {method._name}")
        return tx

    def _reverts(self, error, *args):
        """Expect exactly `error(args)`. A reverted transaction is still mined on the test
        chain, so it is pinned to the model's clock like every other."""
        pin_next_block(self.now)
        return reverts_exactly(error, *args)

    def _advance(self, seconds):
        self.now += seconds

    def _pick(self, index, wanted=None):
        pool = [t for t in self.trips if wanted is None or self._status(t) in wanted]
        return pool[index % len(pool)] if pool else None

    def _status(self, trip):
        """As tripOf reports it: an ended trip is SETTLED once its dispute window passed."""
        if trip.status == T_ENDED and self.now > trip.closed + DISPUTE_WINDOW:
            return T_SETTLED
        return trip.status

    def _day(self, operator, day):
        # every run starts from the fixture's chain, where no operator has booked a trip yet
        return self.days.setdefault((operator.address, day), [0, 0, 0, 0, False])

    def _book(self, trip, amount, sign=1):
        """Book (or, with sign -1, unbook) `amount` of the trip's fare on a day."""
        day = kst_day(trip.closed if sign < 0 else self.now)
        book = self._day(trip.op.account, day)
        _, village, fee = split_of(amount, trip.village)
        for i, value in enumerate((1, amount, fee, village)):
            book[i] += sign * value
        trip.books += sign

    # ----------------------------------------------------------------------------- trips

    def initialize_commute(self):
        """A scooter leg, then a bus leg five minutes later, both settled, and a journey: so that
        transfers (and their discounts) are within a few steps of every run."""
        rider = self.riders[0]
        self.rule_start(0, 0, True)
        self.rule_end(len(self.trips) - 1, 10, 2_000, False)
        self._advance(5 * MINUTE)
        self.rule_start(0, 2, True)
        self.rule_end(len(self.trips) - 1, 20, 6_000, False)
        # and a car trip the rider disputes at once, resolved with half the fare back, so every
        # run books, unbooks and re-books a fare
        self.rule_start(0, 1, True)
        self.rule_end(len(self.trips) - 1, 15, 3_000, True)
        self.rule_resolve(len(self.trips) - 1, 50)
        self._advance(DISPUTE_WINDOW + 1)
        assert all(self._status(t) == T_SETTLED for t in self.trips[-3:])
        self.rule_open_journey(0)
        assert self.journeys[-1].rider == rider
        self.rule_top_up(2_000)

    def rule_start(self, rider="st_rider", op="st_op", village="st_bool"):
        rider, op = self.riders[rider], self.ops[op]
        asset = op.village_asset if village else op.town_asset
        trips = self.mob.system.trips
        if asset in self.busy:
            with self._reverts("TripSettlementAssetInUse", asset, self.busy[asset]):
                trips.startTrip(asset, op.plan, op.terms[3], {"from": rider})
            return
        tx = self._send(trips.startTrip, asset, op.plan, op.terms[3], sender=rider)
        from_balance = min(self.balances[rider.address], op.terms[3])
        self.balances[rider.address] -= from_balance
        assert ("Transfer" in tx.events) == (from_balance < op.terms[3])
        trip = ModelTrip(tx.return_value, rider, op, asset, village, self.now, op.terms[3])
        assert trip.trip_id == len(self.trips) + 1
        self.trips.append(trip)
        self.busy[asset] = trip.trip_id

    def rule_end(
        self, index="st_index", minutes="st_minutes", metres="st_metres", dispute="st_often"
    ):
        trip = self._pick(index, (T_OPEN,))
        if trip is None:
            return
        self._advance(minutes * MINUTE)
        signature = end_signature(self.mob, trip.op.key, trip.trip_id, self.now, metres)
        tx = self._send(
            self.mob.system.trips.endTrip,
            trip.trip_id,
            self.now,
            metres,
            signature,
            sender=self.mob.people.operator,
        )
        duration = self.now - trip.started
        fare = (
            trip.op.terms[3]
            if duration >= TRIP_TIMEOUT
            else fare_of(trip.op.terms, duration, metres)
        )
        assert tx.events["TripEnded"]["fare"] == fare
        self._ended(trip, fare, tx)
        if dispute:  # the rider checks the receipt at once and disputes it
            self._send(self.mob.system.trips.dispute, trip.trip_id, sender=trip.rider)
            self._disputed(trip)

    def rule_end_with_bad_report(self, index="st_index", metres="st_metres", negative="st_bool"):
        trip = self._pick(index, (T_OPEN, T_ENDED, T_SETTLED))
        if trip is None:
            return
        distance = -1 - metres if negative else metres
        signature = end_signature(self.mob, trip.op.key, trip.trip_id, self.now, distance)
        if trip.status != T_OPEN:
            error = ("TripSettlementWrongStatus", trip.trip_id, self._status(trip))
        elif negative:
            error = ("TripSettlementNegativeDistance", trip.trip_id, distance)
        else:  # someone else's key
            other = next(op for op in self.ops if op is not trip.op)
            signature = end_signature(self.mob, other.key, trip.trip_id, self.now, distance)
            error = ("TripSettlementInvalidSigner", trip.trip_id, other.account, trip.op.account)
        with self._reverts(*error):
            self.mob.system.trips.endTrip(
                trip.trip_id, self.now, distance, signature, {"from": self.riders[0]}
            )

    def rule_force_close(self, index="st_index", wait="st_bool"):
        trip = self._pick(index, (T_OPEN,))
        if trip is None:
            return
        timeout_at = trip.started + TRIP_TIMEOUT
        if wait:  # the keeper comes back once the trip has timed out
            self._advance(max(0, timeout_at - self.now))
        if self.now < timeout_at:
            with self._reverts("TripSettlementNotTimedOut", trip.trip_id, timeout_at):
                self.mob.system.trips.forceClose(trip.trip_id, {"from": self.riders[1]})
            return
        tx = self._send(self.mob.system.trips.forceClose, trip.trip_id, sender=self.riders[1])
        assert tx.events["TripEnded"]["fare"] == trip.op.terms[3]
        self._ended(trip, trip.op.terms[3], tx)

    def _ended(self, trip, fare, tx):
        """The end report settles: the fare is booked, the rest of the deposit is the rider's."""
        trip.status, trip.fare, trip.end, trip.closed = T_ENDED, fare, self.now, self.now
        del self.busy[trip.asset]
        assert tx.events["TripEnded"]["riderRefund"] == trip.deposit - fare
        self.balances[trip.rider.address] += trip.deposit - fare
        self._book(trip, fare)

    def _disputed(self, trip):
        trip.status = T_DISPUTED
        self._book(trip, trip.fare, -1)

    def rule_dispute(self, index="st_index"):
        trip = self._pick(index, (T_ENDED,) if index % 3 else None)
        if trip is None:
            return
        deadline = trip.closed + DISPUTE_WINDOW
        trips = self.mob.system.trips
        if trip.status != T_ENDED:
            with self._reverts("TripSettlementWrongStatus", trip.trip_id, trip.status):
                trips.dispute(trip.trip_id, {"from": trip.rider})
        elif self.now > deadline:
            with self._reverts("TripSettlementDisputeWindowClosed", trip.trip_id, deadline):
                trips.dispute(trip.trip_id, {"from": trip.rider})
        else:
            self._send(trips.dispute, trip.trip_id, sender=trip.rider)
            self._disputed(trip)

    def rule_resolve(self, index="st_index", percent="st_percent"):
        trip = self._pick(index, (T_DISPUTED,))
        if trip is None:
            return
        refund = trip.fare * percent // 100 + (1 if percent > 100 else 0)
        trips = self.mob.system.trips
        if refund > trip.fare:
            with self._reverts("TripSettlementRefundAboveFare", trip.trip_id, refund, trip.fare):
                trips.resolveDispute(trip.trip_id, refund, {"from": self.mob.inspector})
            return
        tx = self._send(trips.resolveDispute, trip.trip_id, refund, sender=self.mob.inspector)
        resolved = tx.events["DisputeResolved"]
        paid = trip.fare - refund
        assert resolved["refund"] == refund <= trip.fare
        assert (resolved["fare"], resolved["day"]) == (paid, kst_day(self.now))
        parts = (resolved["operatorShare"], resolved["villageShare"], resolved["platformFee"])
        assert parts == split_of(paid, trip.village) and sum(parts) == paid
        trip.refund, trip.fare, trip.status = refund, paid, T_SETTLED
        self.balances[trip.rider.address] += refund
        self._book(trip, paid)

    def rule_release(self, op="st_op", back="st_day_back", wait="st_bool"):
        """A keeper releases an operator-day: one the model has booked on (now and then an idle
        one), waiting for it to become final when `wait`."""
        operator = self.ops[op].account
        booked = sorted(day for (account, day) in self.days if account == operator.address)
        day = booked[-1 - back % len(booked)] if booked and back < 3 else kst_day(self.now) - back
        trips = self.mob.system.trips
        final_at = (day + 1) * 86_400 - 9 * 3600 + DISPUTE_WINDOW
        if wait:
            self._advance(max(0, final_at + 1 - self.now))
        book = self._day(operator, day)
        if self.now <= final_at:
            error = ("TripSettlementDayNotFinal", operator, day, final_at)
        elif book[4]:
            error = ("TripSettlementDayAlreadyReleased", operator, day)
        elif book[1] == 0:
            error = ("TripSettlementNothingToRelease", operator, day)
        else:
            error = None
        if error:
            with self._reverts(*error):
                trips.releaseDay(operator, day, {"from": self.riders[1]})
            return
        tx = self._send(trips.releaseDay, operator, day, sender=self.riders[1])
        released = tx.events["DayReleased"]
        legs, gross, fees, village, _ = book
        assert (released["legs"], released["gross"], released["platformFee"]) == (legs, gross, fees)
        assert released["villageShare"] == village
        assert released["operatorShare"] == gross - fees - village
        book[4] = True

    def rule_withdraw(self, rider="st_rider", amount="st_amount"):
        rider = self.riders[rider]
        balance = self.balances[rider.address]
        trips = self.mob.system.trips
        if amount > balance:
            with self._reverts("TripSettlementBalanceTooLow", rider, balance, amount):
                trips.withdrawDeposit(amount, {"from": rider})
            return
        tx = self._send(trips.withdrawDeposit, amount, sender=rider)
        assert tx.events["EscrowRefunded"]["amount"] == amount
        self.balances[rider.address] -= amount

    # --------------------------------------------------------------------------- journeys

    def rule_open_journey(self, rider="st_rider"):
        if len(self.journeys) >= 4:  # a few journeys with several legs each, not many empty ones
            return
        rider = self.riders[rider]
        tx = self._send(self.mob.system.journeys.openJourney, sender=rider)
        self.journeys.append(ModelJourney(tx.return_value, rider))
        assert tx.return_value == len(self.journeys)

    def rule_add_leg(self, journey="st_index", index="st_index"):
        if not self.journeys:
            return
        journey = self.journeys[journey % len(self.journeys)]
        # mostly the rider's next settled trip in time order; now and then any trip at all
        fitting = [
            t
            for t in self.trips
            if t.rider == journey.rider
            and self._status(t) == T_SETTLED
            and not t.leg_of
            and t.started >= journey.last_end
        ]
        trip = min(fitting, key=lambda t: t.started) if fitting and index % 4 else self._pick(index)
        if trip is None:
            return
        journeys = self.mob.system.journeys
        error = None
        if trip.leg_of:
            error = ("JourneyClearingDiscountAlreadyClaimed", trip.trip_id, trip.leg_of)
        elif trip.rider != journey.rider:
            error = ("JourneyClearingNotRidersTrip", journey.journey_id, trip.trip_id)
        elif self._status(trip) != T_SETTLED:
            error = ("JourneyClearingTripNotSettled", trip.trip_id, self._status(trip))
        elif journey.legs and trip.started < journey.last_end:
            error = (
                "JourneyClearingLegOutOfOrder",
                journey.journey_id,
                trip.trip_id,
                trip.started,
                journey.last_end,
            )
        if error:
            with self._reverts(*error):
                journeys.addLeg(journey.journey_id, trip.trip_id, {"from": journey.rider})
            return
        eligible = discount = 0
        key = (journey.rider.address, kst_day(trip.started))
        if journey.legs and trip.started <= journey.last_end + TRANSFER_WINDOW:
            eligible = trip.fare * DISCOUNT_BPS // 10_000
            discount = min(eligible, DAILY_CAP - self.used[key], self.pool)
        tx = self._send(journeys.addLeg, journey.journey_id, trip.trip_id, sender=journey.rider)
        added = tx.events["LegAdded"]
        assert (added["legIndex"], added["eligible"], added["discount"]) == (
            journey.legs,
            eligible,
            discount,
        )
        journey.legs += 1
        journey.last_end = trip.end
        trip.leg_of = journey.journey_id
        self.used[key] += discount
        self.pool -= discount
        self.discounts += discount
        if discount:
            note("discount granted")
        if eligible > discount:
            note("discount reduced (cap or pool)")

    def rule_top_up(self, amount="st_amount"):
        treasury = self.mob.people.treasury
        tx = self._send(self.mob.system.journeys.topUp, amount, sender=treasury)
        self.pool += amount
        self.topped_up += amount
        assert tx.events["SubsidyToppedUp"]["pool"] == self.pool

    def rule_wait(self, gap="st_gap"):
        self._advance(gap * MINUTE)

    # --------------------------------------------------------------------------- invariants

    def invariant_payments_plus_subsidies_equal_payouts(self):
        system = self.mob.system
        # still the rider's: open deposits and disputed fares (in escrow), deposit balances
        escrow = sum(t.deposit for t in self.trips if t.status == T_OPEN)
        escrow += sum(t.fare for t in self.trips if t.status == T_DISPUTED)
        balances = sum(system.trips.depositBalanceOf(r) for r in self.riders)
        assert balances - sum(self.base_balances.values()) == sum(
            self.balances[r.address] - self.base_balances[r.address] for r in self.riders
        )
        balances -= sum(self.base_balances.values())
        rider_out = self.base_riders - sum(system.credit.balanceOf(r) for r in self.riders)
        pool = system.journeys.pool()
        subsidies = self.topped_up - pool
        # booked on a day that is not released yet: escrowed, owed to its three parties
        held = [0, 0, 0]
        for operator, day in self.days:
            chain_book = list(system.trips.operatorDay(operator, day))
            if not chain_book[4]:
                held[0] += chain_book[1] - chain_book[2] - chain_book[3]
                held[1] += chain_book[3]
                held[2] += chain_book[2]
        receivables = (
            sum(system.split.claimable(op.account) for op in self.ops) - self.base_claimable
        ) + held[0]
        _, village, _, platform = system.split.houseBalances()
        fees = platform - self.base_house[1] + held[2]
        village_share = village - self.base_house[0] + held[1]
        assert subsidies == self.discounts
        assert (rider_out - escrow - balances) + subsidies == receivables + fees + village_share
        vault = system.credit.balanceOf(system.split) - self.base_vault
        assert vault == escrow + balances + receivables + fees + village_share

    def invariant_no_trip_settled_twice(self):
        trips = self.mob.system.trips
        assert trips.tripCount() == len(self.trips)
        for trip in self.trips:
            assert trip.books == (1 if trip.status in (T_ENDED, T_SETTLED) else 0)
            assert trips.tripOf(trip.trip_id)["status"] == self._status(trip)
        for (operator, day), book in self.days.items():
            assert list(trips.operatorDay(operator, day)) == book

    def invariant_discounts_within_cap_and_pool(self):
        system = self.mob.system
        pool = system.journeys.pool()
        assert pool == self.pool >= 0
        assert system.credit.balanceOf(system.journeys) - self.base_journeys == pool - (
            self.pool - self.topped_up + self.discounts
        )
        for (rider, day), used in self.used.items():
            assert system.journeys.discountUsed(rider, day) == used <= DAILY_CAP

    def invariant_refunds_within_fare(self):
        for trip in self.trips:
            assert 0 <= trip.refund <= trip.fare + trip.refund <= trip.deposit


def test_mobility_state_machine(state_machine, mob, residents, people):
    treasury = people.treasury
    mob.system.credit.mint(treasury, 10_000_000, ZERO_RECEIPT, {"from": treasury})
    mob.system.credit.approve(mob.system.journeys, MAX_UINT, {"from": treasury})
    OUTCOMES.clear()
    state_machine(
        MobilityMachine,
        mob,
        list(residents),
        settings={
            "max_examples": 15,
            "stateful_step_count": 35,
            "database": None,
            "derandomize": True,
        },
    )
    # the runs reached the paths the invariants are about
    for outcome in (
        "ok TripSettlement.releaseDay",
        "ok TripSettlement.withdrawDeposit",
        "ok TripSettlement.resolveDispute",
        "ok TripSettlement.forceClose",
        "discount granted",
        "reverts JourneyClearingDiscountAlreadyClaimed",
        "reverts TripSettlementWrongStatus",
    ):
        assert OUTCOMES[outcome] > 0, (outcome, str(sorted(OUTCOMES.items())))
