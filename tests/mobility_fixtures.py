"""Constants and helpers shared by the mobility tests (the `mob` fixture is tests/contracts/conftest.py's).

On top of tests/conftest.py's accounts (0..6 stakeholders, 7 slot owner, 8 and 9 residents,
10 stranger), the mobility world adds three operators with keys of their own (a kick-scooter,
a car-share and a bus operator; their keys sign end reports), an INSPECTOR (11) and two valet
workers (12, 13) of the village enterprise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brownie import chain
from eth_account import Account

from citypass.protocol.roles import ROLES
from citypass.protocol.trip_reports import sign_trip_end
from tests.contract_helpers import head_time, mine_at

MAX_UINT = 2**256 - 1
HOUR = 3600
MINUTE = 60
ZERO_RECEIPT = b"\x00" * 32

# OperatorKind
NONE_KIND, CAR_SHARE, KICK_SCOOTER, VALET, TRANSIT = range(5)
# TripStatus
T_NONE, T_OPEN, T_ENDED, T_DISPUTED, T_SETTLED = range(5)
# ValetStatus
V_NONE, V_REQUESTED, V_ACCEPTED, V_PARKED, V_RETURN_REQUESTED, V_RETURNED, V_CANCELLED = range(7)

# (unlock, per minute, per 100 m, daily cap)
SCOOTER_PLAN = (1000, 150, 0, 20_000)
CAR_PLAN = (0, 200, 20, 60_000)
BUS_PLAN = (1500, 0, 0, 3_000)

DISPUTE_WINDOW = 2 * HOUR
TRIP_TIMEOUT = 12 * HOUR
FEE_BPS = 1000
VILLAGE_BPS = 500
TRANSFER_WINDOW = 30 * MINUTE
DISCOUNT_BPS = 5000
DAILY_CAP = 3000
VALET_FEE = 5000
WORKER_BPS = 7000


@dataclass
class Operator:
    account: Any
    key: bytes
    kind: int
    plan: int
    terms: tuple[int, int, int, int]
    village_asset: int
    town_asset: int


@dataclass
class Mobility:
    system: Any
    people: Any
    scooter: Operator
    car: Operator
    bus: Operator
    inspector: Any
    workers: list


def fare_of(terms, duration: int, distance: int) -> int:
    """FareMath.fare in Python: unlock + per started minute + per started 100 m, capped."""
    unlock, per_minute, per_100m, cap = terms
    amount = unlock + -(-duration // 60) * per_minute + -(-distance // 100) * per_100m
    return min(amount, cap)


def split_of(amount: int, village_zone: bool) -> tuple[int, int, int]:
    """(operator share, village share, platform fee); the operator takes the dust."""
    fee = amount * FEE_BPS // 10_000
    village = amount * VILLAGE_BPS // 10_000 if village_zone else 0
    return amount - fee - village, village, fee


def new_signer(accounts):
    key = Account.create()
    return accounts.add(key.key), key.key


def make_operator(system, people, accounts, kind, terms) -> Operator:
    account, key = new_signer(accounts)
    admin = {"from": people.admin}
    system.access.grantRole(ROLES["OPERATOR"], account, admin)
    system.operators.registerOperator(account, kind, admin)
    plan = system.operators.publishPlan(*terms, {"from": account}).return_value
    village_asset = system.operators.registerAsset(True, {"from": account}).return_value
    town_asset = system.operators.registerAsset(False, {"from": account}).return_value
    return Operator(account, key, kind, plan, terms, village_asset, town_asset)


def start_trip(mob, rider, operator, *, village=True, deposit=None):
    asset = operator.village_asset if village else operator.town_asset
    amount = operator.terms[3] if deposit is None else deposit
    tx = mob.system.trips.startTrip(asset, operator.plan, amount, {"from": rider})
    return tx.return_value, tx


def signed_trip_end(trips, operator_key, trip_id, ended_at, distance) -> bytes:
    """The operator's signature over a trip's end report for the TripSettlement `trips`."""
    return sign_trip_end(
        operator_key,
        settlement_address=trips.address,
        chain_id=chain.id,
        trip_id=trip_id,
        ended_at=ended_at,
        distance_meters=distance,
    ).signature


def end_signature(mob, operator_key, trip_id, ended_at, distance) -> bytes:
    return signed_trip_end(mob.system.trips, operator_key, trip_id, ended_at, distance)


def end_trip(mob, operator, trip_id, ended_at, distance, sender=None):
    signature = end_signature(mob, operator.key, trip_id, ended_at, distance)
    sender = sender or mob.people.operator  # any relayer
    return mob.system.trips.endTrip(trip_id, ended_at, distance, signature, {"from": sender})


def ride(mob, rider, operator, minutes, distance, *, village=True):
    """Start now, move the clock `minutes` on, end with the operator's report. Returns
    (trip id, start, end, end transaction)."""
    trip_id, tx = start_trip(mob, rider, operator, village=village)
    started = tx.timestamp
    ended = started + minutes * MINUTE
    mine_at(ended)
    return trip_id, started, ended, end_trip(mob, operator, trip_id, ended, distance)


def after_window(closed_at: int) -> None:
    mine_at(closed_at + DISPUTE_WINDOW + 1)


def kst_day(timestamp: int) -> int:
    return (timestamp + 9 * HOUR) // 86400


def fund_pool(mob, amount: int):
    treasury = mob.people.treasury
    mob.system.credit.mint(treasury, amount, ZERO_RECEIPT, {"from": treasury})
    mob.system.credit.approve(mob.system.journeys, amount, {"from": treasury})
    return mob.system.journeys.topUp(amount, {"from": treasury})


def settled_trips(mob, rider, legs):
    """Ride `legs` = [(operator, minutes, metres, gap minutes before the leg)] one after the
    other from now (each end report settles its trip), then wait out the dispute window, after
    which the trips are SETTLED. Returns [(trip id, fare, start, end)]."""
    done = []
    now = head_time()
    for operator, minutes, metres, gap in legs:
        now += gap * MINUTE
        mine_at(now)
        trip_id, tx = start_trip(mob, rider, operator)
        started = tx.timestamp
        now = started + minutes * MINUTE
        mine_at(now)
        fare = end_trip(mob, operator, trip_id, now, metres).events["TripEnded"]["fare"]
        done.append((trip_id, fare, started, now))
    after_window(head_time())
    return done
