"""Gas used per LeaseMarket and mobility operation, as one JSON object.

Deploys on a fresh development chain (anvil), runs a fixed scenario and prints the gas of:
book_warm_word (a booking whose calendar word another lease of the slot already wrote, as on
any working day), book_fresh_word (the first booking of the slot in a 64-hour calendar word: one
more fresh storage word), book (the larger of the two: the goal holds in both cases), all three
paid from the lessee's prepaid balance (LeaseMarket.deposit; no token moves), book_with_permit
(paid by a credit transfer under an EIP-2612 permit), book_via_forwarder (a resident's first
ERC-2771 request through the CityForwarder, so its forwarder nonce word is fresh; warm calendar
word; prepaid; no access list), cancel, check_in,
check_out_settle (on-time check-out and settlement) and claim; then, after a warm-up of each,
trip_start, trip_end (the operator's signed end report, which also settles: the fare is fixed,
split onto the operator's day book, the unused deposit credited to the rider's deposit balance),
trip_release_day (once per operator and KST day, after the day's dispute window: the day's
fares paid out to the revenue split, where the operator claims them),
trip_end_settle (the goal applies to it: everything a trip costs after its start until the
operator's money is claimable, i.e. the average over one operator-day of TRIPS_PER_DAY trips of
(every end report of the day + the day's one release) / TRIPS_PER_DAY; the first trip of the day
pays the day book's fresh word and is included), trip_end_settle_trips (that TRIPS_PER_DAY),
journey_leg_with_discount, valet_request (finds a free slot, books its lease) and
valet_complete (the return: check-out and the fee split).

    python -m bench.gas
"""

from __future__ import annotations

from eth_account import Account

from bench._gas import run_gas_bench
from citypass.chain.deploy_mobility import DISPUTE_WINDOW_SECONDS
from citypass.chain.deployment import Stakeholders, deploy_system
from citypass.chain.session import head_time, mine_at
from citypass.core.timeunits import next_local_midnight
from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.roles import ROLES
from citypass.protocol.signing import (
    forward_request,
    request_data_tuple,
    sign_forward_request,
    sign_permit,
)
from citypass.protocol.trip_reports import sign_trip_end

GOALS = {
    "book": 80_000,
    "book_warm_word": 80_000,
    "book_fresh_word": 80_000,
    "book_via_forwarder": 100_000,
    "check_out_settle": 70_000,
    "trip_end_settle": 70_000,
}
# A kick-scooter operator's trips in one KST day in the bench; a real operator's day has far
# more, which only lowers each trip's share of the day's release.
TRIPS_PER_DAY = 10
PERSONAL = 3
MAX_UINT = 2**256 - 1
HOUR = 3600
HALF_HOUR = 1800
UNITS_PER_CALENDAR_WORD = 128  # BookingCalendar: one storage word per 64 hours of a slot
PREPAID = 100_000


def main() -> int:
    return run_gas_bench(run_scenario, GOALS)


def run_scenario(project, network) -> dict:
    from brownie import accounts, chain

    people = Stakeholders(*accounts[:7])
    system = deploy_system(project, people)
    owner, resident = accounts[7], accounts[8]
    signer = Account.create()  # throwaway key for the permit and the forward request
    signer_account = accounts.add(signer.key)
    operator = {"from": people.operator}
    for member in (owner, resident, signer_account):
        system.access.onboard(member, {"from": people.admin})
        system.credit.mint(member, 1_000_000, b"\x00" * 32, {"from": people.treasury})
    slot_id = system.slots.registerSlot(
        owner, PERSONAL, 1, 37_500_000, 126_780_000, operator
    ).return_value
    system.slots.setWindows(slot_id, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
    system.credit.approve(system.market, MAX_UINT, {"from": resident})
    system.market.deposit(PREPAID, {"from": resident})

    day = calendar_aligned_day(head_time())
    mine_at(day - 2 * HOUR)
    gas: dict[str, int] = {}

    def book(start_hour: int, hours: int, who=resident) -> tuple[int, object]:
        start = day + start_hour * HOUR
        tx = system.market.book(slot_id, start, start + hours * HOUR, 10**9, {"from": who})
        return tx.return_value, tx

    # Warm-up: one full lease cycle, so the calendar word, the payees' revenue accounts and the
    # balances exist, as they do on any working day. The figures below are the warm ones.
    warmup, _ = book(0, 1)
    mine_at(day)
    system.market.checkIn(warmup, {"from": resident})
    system.market.checkOut(warmup, {"from": resident})
    lease, tx = book(3, 4)
    assert "Transfer" not in tx.events, "the measured booking must be paid from the prepaid balance"
    gas["book_warm_word"] = tx.gas_used
    # Two calendar words on from the day's: no lease of the slot has touched that word.
    fresh_unit = (day // HALF_HOUR // UNITS_PER_CALENDAR_WORD + 2) * UNITS_PER_CALENDAR_WORD + 16
    fresh_start = fresh_unit * HALF_HOUR
    tx = system.market.book(slot_id, fresh_start, fresh_start + 4 * HOUR, 10**9, {"from": resident})
    assert "Transfer" not in tx.events, "the measured booking must be paid from the prepaid balance"
    gas["book_fresh_word"] = tx.gas_used
    gas["book"] = max(gas["book_warm_word"], gas["book_fresh_word"])

    deadline = head_time() + HOUR
    price = 4 * 2 * 600
    sig = sign_permit(
        signer.key,
        token_name="CityPass Credit",
        token_address=system.credit.address,
        chain_id=chain.id,
        owner=signer.address,
        spender=system.market.address,
        value=price,
        nonce=system.credit.nonces(signer.address),
        deadline=deadline,
    )
    start = day + 8 * HOUR
    tx = system.market.bookWithPermit(
        slot_id,
        start,
        start + 4 * HOUR,
        price,
        deadline,
        sig.v,
        sig.r,
        sig.s,
        {"from": signer_account},
    )
    gas["book_with_permit"] = tx.gas_used

    start = day + 13 * HOUR
    data = system.market.book.encode_input(slot_id, start, start + 2 * HOUR, 10**9)
    system.credit.approve(system.market, MAX_UINT, {"from": signer_account})
    system.market.deposit(PREPAID, {"from": signer_account})
    request = forward_request(
        signer.address,
        system.market.address,
        bytes.fromhex(data[2:]),
        nonce=system.forwarder.nonces(signer.address),
        deadline=head_time() + HOUR,
    )
    signature = sign_forward_request(
        signer.key, forwarder_address=system.forwarder.address, chain_id=chain.id, request=request
    )
    tx = system.forwarder.execute(
        request_data_tuple(request, signature.signature), {"from": people.operator}
    )
    gas["book_via_forwarder"] = tx.gas_used

    cancel_lease, _ = book(16, 2)
    gas["cancel"] = system.market.cancel(cancel_lease, {"from": resident}).gas_used

    mine_at(day + 3 * HOUR)
    gas["check_in"] = system.market.checkIn(lease, {"from": resident}).gas_used
    mine_at(day + 6 * HOUR)
    gas["check_out_settle"] = system.market.checkOut(lease, {"from": resident}).gas_used
    gas["claim"] = system.split.claim({"from": owner}).gas_used
    gas.update(run_mobility(system, people, accounts, chain, day, owner, resident))
    return gas


def run_mobility(system, people, accounts, chain, day, owner, rider) -> dict[str, int]:
    """A kick-scooter operator in the village zone, a bus operator, a journey of a scooter
    leg then a bus leg, and valet jobs at a two-slot lot. Each measured step follows a warm-up:
    trips and a release on `day`, valet jobs later that day, then the measured trips on the
    next day, whose release comes after the day's dispute window."""
    gas: dict[str, int] = {}
    admin = {"from": people.admin}
    ops = {}
    for name, plan in (("scooter", (1000, 150, 0, 20_000)), ("bus", (1500, 0, 0, 3_000))):
        key = Account.create()
        account = accounts.add(key.key)
        system.access.grantRole(ROLES["OPERATOR"], account, admin)
        system.operators.registerOperator(account, 2 if name == "scooter" else 4, admin)
        plan_id = system.operators.publishPlan(*plan, {"from": account}).return_value
        asset = system.operators.registerAsset(True, {"from": account}).return_value
        ops[name] = (account, key.key, plan_id, asset, plan[3])
    system.credit.approve(system.trips, MAX_UINT, {"from": rider})
    system.credit.approve(system.valet, MAX_UINT, {"from": rider})
    system.credit.mint(people.treasury, 100_000, b"\x00" * 32, {"from": people.treasury})
    system.credit.approve(system.journeys, MAX_UINT, {"from": people.treasury})
    system.journeys.topUp(100_000, {"from": people.treasury})

    def trip(name: str, at: int, minutes: int, metres: int) -> tuple[int, object, object]:
        account, key, plan_id, asset, cap = ops[name]
        mine_at(at)
        started = system.trips.startTrip(asset, plan_id, cap, {"from": rider})
        trip_id = started.return_value
        ended = at + minutes * 60
        mine_at(ended)
        signature = sign_trip_end(
            key,
            settlement_address=system.trips.address,
            chain_id=chain.id,
            trip_id=trip_id,
            ended_at=ended,
            distance_meters=metres,
        ).signature
        end = system.trips.endTrip(trip_id, ended, metres, signature, {"from": people.operator})
        return trip_id, started, end

    # Warm-up: a scooter then a bus leg in one journey, discounted once their window passed.
    base = day + 7 * HOUR
    warm_journey = system.journeys.openJourney({"from": rider}).return_value
    warm = [trip("scooter", base, 12, 2_400), trip("bus", base + 15 * 60, 20, 6_000)]
    mine_at(base + 40 * 60 + DISPUTE_WINDOW_SECONDS + 1)
    for trip_id, _, _ in warm:
        system.journeys.addLeg(warm_journey, trip_id, {"from": rider})

    gas.update(run_valet(system, people, accounts, day, owner, rider))

    # The next day: the warm-up day is released (the operator's revenue account and the house
    # word exist, as on any working day) and claimed; then the measured day.
    next_day = day + 24 * HOUR
    mine_at(next_day + 3 * HOUR)
    for name in ("scooter", "bus"):
        system.trips.releaseDay(ops[name][0], kst_day(base), {"from": people.operator})
    system.split.claim({"from": ops["scooter"][0]})

    base = next_day + 7 * HOUR
    scooter_ends = []
    legs = []
    for offset in (0, 60):  # a warm-up journey (the day's discount words), then the measured one
        journey = system.journeys.openJourney({"from": rider}).return_value
        first, started, ended = trip("scooter", base + offset * 60, 10, 2_000)
        second, _, _ = trip("bus", base + (offset + 20) * 60, 25, 7_000)
        scooter_ends.append(ended.gas_used)
        legs.append((journey, first, second))
    # the measured journey's scooter trip: the day book is warm, as for most trips of a day
    gas["trip_start"] = started.gas_used
    gas["trip_end"] = ended.gas_used
    at = base + 120 * 60
    for _ in range(TRIPS_PER_DAY - 2):  # the rest of the scooter operator's day
        _, _, end = trip("scooter", at, 15, 3_000)
        scooter_ends.append(end.gas_used)
        at += 30 * 60
    mine_at(at + DISPUTE_WINDOW_SECONDS + 1)
    for journey, first, second in legs:
        system.journeys.addLeg(journey, first, {"from": rider})
        leg = system.journeys.addLeg(journey, second, {"from": rider})
        assert leg.events["LegAdded"]["discount"] > 0
    gas["journey_leg_with_discount"] = leg.gas_used

    mine_at(next_day + 24 * HOUR + 3 * HOUR)  # after the measured day's dispute window
    scooter = ops["scooter"][0]
    release = system.trips.releaseDay(scooter, kst_day(base), {"from": people.operator})
    assert release.events["DayReleased"]["legs"] == TRIPS_PER_DAY
    assert system.split.claimable(scooter) > 0
    gas["trip_release_day"] = release.gas_used
    gas["trip_end_settle"] = -(-(sum(scooter_ends) + release.gas_used) // TRIPS_PER_DAY)
    gas["trip_end_settle_trips"] = TRIPS_PER_DAY
    return gas


def run_valet(system, people, accounts, day, owner, rider) -> dict[str, int]:
    """Valet: a two-slot lot shared all day; a warm-up job, then the measured one."""
    gas: dict[str, int] = {}
    admin = {"from": people.admin}
    slot_ids = []
    for _ in range(2):
        slot_id = system.slots.registerSlot(
            owner, PERSONAL, 9, 37_500_000, 126_780_000, {"from": people.operator}
        ).return_value
        system.slots.setWindows(slot_id, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
        slot_ids.append(slot_id)
    system.valet.setLotSlots(9, slot_ids, {"from": people.operator})
    worker = accounts[12]
    system.access.grantRole(ROLES["VALET"], worker, admin)

    def valet_job(start: int) -> tuple[object, object]:
        requested = system.valet.requestValet(9, start, start + HOUR, 10**9, {"from": rider})
        request_id = requested.return_value
        system.valet.accept(request_id, {"from": worker})
        mine_at(start)
        system.valet.park(request_id, {"from": worker})
        mine_at(start + 40 * 60)
        system.valet.requestReturn(request_id, {"from": rider})
        completed = system.valet.returnCar(request_id, {"from": worker})
        return requested, completed

    valet_job(day + 14 * HOUR)
    mine_at(day + 16 * HOUR)
    requested, completed = valet_job(day + 17 * HOUR)
    gas["valet_request"] = requested.gas_used
    gas["valet_complete"] = completed.gas_used
    return gas


def calendar_aligned_day(now: int) -> int:
    """The first local midnight after `now` whose first 48 half-hours share one calendar word, so
    that the day's bookings (warm-up, book_warm_word, the forwarder's) write the same word."""
    day = next_local_midnight(now)
    while (day // HALF_HOUR) % UNITS_PER_CALENDAR_WORD > UNITS_PER_CALENDAR_WORD - 48:
        day += 24 * HOUR
    return day


def kst_day(timestamp: int) -> int:
    return (timestamp + 9 * HOUR) // 86400


if __name__ == "__main__":
    raise SystemExit(main())
