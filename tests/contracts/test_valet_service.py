"""ValetService: valet requests at a lot (a LeaseMarket lease on a free slot of the lot), the
worker's accept / park / return, the rider's call and cancellation, and the fee split between
the worker and the village enterprise."""

from __future__ import annotations

import pytest

from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.roles import ROLES
from tests.contract_helpers import deploy_refused, head_time, mine_at, reverts_with
from tests.mobility_fixtures import (
    HOUR,
    V_ACCEPTED,
    V_CANCELLED,
    V_PARKED,
    V_REQUESTED,
    V_RETURN_REQUESTED,
    V_RETURNED,
    VALET_FEE,
    WORKER_BPS,
)

LOT = 9
PERSONAL = 3
# LeaseStatus
BOOKED, CHECKED_IN, SETTLED, CANCELLED = 1, 2, 3, 4
PRICE_2H = 4 * 600


@pytest.fixture(scope="module")
def lot_slots(mob, owner, people):
    slots = []
    for _ in range(2):
        tx = mob.system.slots.registerSlot(
            owner, PERSONAL, LOT, 37_503_000, 126_787_000, {"from": people.operator}
        )
        slot = tx.return_value
        mob.system.slots.setWindows(slot, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
        slots.append(slot)
    mob.system.valet.setLotSlots(LOT, slots, {"from": people.operator})
    return slots


@pytest.fixture(scope="module")
def window(mob, lot_slots):
    """10:00-12:00 KST, two hours after the chain's 08:00."""
    now = head_time()
    start = now - now % 1800 + 4 * 1800
    return start, start + 2 * HOUR


@pytest.fixture
def worker(mob):
    return mob.workers[0]


def request(mob, rider, window, max_total=10**9):
    tx = mob.system.valet.requestValet(LOT, *window, max_total, {"from": rider})
    return tx.return_value, tx


def parked(mob, rider, window, worker):
    request_id, _ = request(mob, rider, window)
    mob.system.valet.accept(request_id, {"from": worker})
    mine_at(window[0])
    mob.system.valet.park(request_id, {"from": worker})
    return request_id


# ------------------------------------------------------------------------------- the lot


def test_set_lot_slots_emits_and_lists(mob, people, lot_slots):
    tx = mob.system.valet.setLotSlots(7, lot_slots[:1], {"from": people.operator})
    assert tx.events["ValetLotSet"]["lotId"] == 7
    assert list(tx.events["ValetLotSet"]["slotIds"]) == lot_slots[:1]
    assert list(mob.system.valet.lotSlots(LOT)) == lot_slots


def test_set_lot_slots_emits_only_on_change(mob, people, lot_slots):
    tx = mob.system.valet.setLotSlots(LOT, lot_slots, {"from": people.operator})
    assert "ValetLotSet" not in tx.events
    tx = mob.system.valet.setLotSlots(LOT, lot_slots[::-1], {"from": people.operator})
    assert list(tx.events["ValetLotSet"]["slotIds"]) == lot_slots[::-1]


def test_set_lot_slots_reverts_without_role(mob, stranger):
    with reverts_with("CityAccessMissingRole", stranger, ROLES["OPERATOR"]):
        mob.system.valet.setLotSlots(7, [1], {"from": stranger})


@pytest.mark.parametrize("count", [0, 33])
def test_set_lot_slots_reverts_when_list_invalid(mob, people, count):
    with reverts_with("ValetServiceInvalidSlotList", count):
        mob.system.valet.setLotSlots(7, list(range(1, count + 1)), {"from": people.operator})


# ------------------------------------------------------------------------------- request


def test_request_books_a_lease_on_a_free_slot(mob, rider, window, lot_slots):
    system = mob.system
    balance = system.credit.balanceOf(rider)
    vault = system.credit.balanceOf(system.split)
    request_id, tx = request(mob, rider, window)
    event = tx.events["ValetRequested"]
    lease_id = event["leaseId"]
    assert dict(event) == {
        "requestId": request_id,
        "rider": rider,
        "lotId": LOT,
        "leaseId": lease_id,
        "start": window[0],
        "end": window[1],
        "parkingPrice": PRICE_2H,
        "fee": VALET_FEE,
    }
    assert lease_id >> 48 == lot_slots[0]
    lease = system.market.leaseOf(lease_id)
    assert lease["lessee"] == system.valet and lease["status"] == BOOKED
    assert balance - system.credit.balanceOf(rider) == PRICE_2H + VALET_FEE
    assert system.credit.balanceOf(system.split) - vault == PRICE_2H + VALET_FEE
    assert system.credit.balanceOf(system.valet) == 0
    record = system.valet.requestOf(request_id)
    assert (record["rider"], record["lotId"], record["status"], record["fee"]) == (
        rider,
        LOT,
        V_REQUESTED,
        VALET_FEE,
    )


def test_request_takes_the_next_slot_then_reverts_when_lot_full(mob, residents, window, lot_slots):
    first, second = residents
    _, tx = request(mob, first, window)
    assert tx.events["ValetRequested"]["leaseId"] >> 48 == lot_slots[0]
    _, tx = request(mob, second, window)
    assert tx.events["ValetRequested"]["leaseId"] >> 48 == lot_slots[1]
    with reverts_with("ValetServiceNoFreeSlot", LOT, *window):
        request(mob, first, window)


def test_request_reverts_when_slot_closed(mob, owner, rider, window, lot_slots):
    for slot in lot_slots:
        mob.system.slots.setActive(slot, False, {"from": owner})
    with reverts_with("ValetServiceNoFreeSlot", LOT, *window):
        request(mob, rider, window)


def test_request_reverts_for_unknown_lot(mob, rider, window):
    with reverts_with("ValetServiceUnknownLot", 42):
        mob.system.valet.requestValet(42, *window, 10**9, {"from": rider})


@pytest.mark.parametrize("shift", [(0, -2 * HOUR), (1, 0), (0, 7)])
def test_request_reverts_when_window_invalid(mob, rider, window, shift):
    start, end = window[0] + shift[0], window[1] + shift[1]
    with reverts_with("ValetServiceInvalidWindow", start, end):
        mob.system.valet.requestValet(LOT, start, end, 10**9, {"from": rider})


def test_request_reverts_above_max(mob, rider, window):
    with reverts_with("ValetServiceAboveMax", PRICE_2H + VALET_FEE, PRICE_2H + VALET_FEE - 1):
        request(mob, rider, window, PRICE_2H + VALET_FEE - 1)


def test_request_reverts_for_non_member(mob, stranger, window):
    with reverts_with("ValetServiceNotMember", stranger):
        request(mob, stranger, window)


def test_request_of_reverts_when_unknown(mob):
    with reverts_with("ValetServiceUnknownRequest", 5):
        mob.system.valet.requestOf(5)


# ------------------------------------------------------------------------- the valet's job


def test_full_job_pays_worker_and_village(mob, rider, window, worker, people, owner):
    system = mob.system
    request_id, tx = request(mob, rider, window)
    lease_id = tx.events["ValetRequested"]["leaseId"]
    tx = system.valet.accept(request_id, {"from": worker})
    assert dict(tx.events["ValetAccepted"]) == {"requestId": request_id, "worker": worker}
    mine_at(window[0])
    tx = system.valet.park(request_id, {"from": worker})
    assert dict(tx.events["ValetParked"]) == {
        "requestId": request_id,
        "worker": worker,
        "leaseId": lease_id,
    }
    assert system.market.leaseOf(lease_id)["status"] == CHECKED_IN
    assert system.valet.requestOf(request_id)["status"] == V_PARKED
    mine_at(window[0] + 90 * 60)
    tx = system.valet.requestReturn(request_id, {"from": rider})
    assert dict(tx.events["ValetReturnRequested"]) == {"requestId": request_id, "rider": rider}
    assert system.valet.requestOf(request_id)["status"] == V_RETURN_REQUESTED
    village_before = system.split.houseBalances()[1]
    tx = system.valet.returnCar(request_id, {"from": worker})
    worker_share = VALET_FEE * WORKER_BPS // 10_000
    assert dict(tx.events["ValetReturned"]) == {
        "requestId": request_id,
        "worker": worker,
        "fee": VALET_FEE,
        "workerShare": worker_share,
        "villageShare": VALET_FEE - worker_share,
    }
    assert tx.events["LeaseSettled"]["leaseId"] == lease_id
    assert tx.events["FareAllocated"]["payee"] == worker
    assert system.market.leaseOf(lease_id)["status"] == SETTLED
    assert system.valet.requestOf(request_id)["status"] == V_RETURNED
    assert system.split.claimable(worker) == worker_share
    # the parking price went to the slot's split as any lease's (village share included)
    assert system.split.houseBalances()[1] - village_before >= VALET_FEE - worker_share
    assert system.split.accountOf(owner)[3] > 0


def test_accept_reverts_without_valet_role(mob, rider, window):
    request_id, _ = request(mob, rider, window)
    with reverts_with("CityAccessMissingRole", rider, ROLES["VALET"]):
        mob.system.valet.accept(request_id, {"from": rider})


def test_accept_reverts_when_taken(mob, rider, window):
    request_id, _ = request(mob, rider, window)
    mob.system.valet.accept(request_id, {"from": mob.workers[0]})
    with reverts_with("ValetServiceWrongStatus", request_id, V_ACCEPTED):
        mob.system.valet.accept(request_id, {"from": mob.workers[1]})


def test_accept_reverts_when_unknown(mob, worker):
    with reverts_with("ValetServiceUnknownRequest", 31):
        mob.system.valet.accept(31, {"from": worker})


def test_park_reverts_for_another_worker(mob, rider, window, worker):
    request_id, _ = request(mob, rider, window)
    mob.system.valet.accept(request_id, {"from": worker})
    mine_at(window[0])
    with reverts_with("ValetServiceNotWorker", request_id, mob.workers[1]):
        mob.system.valet.park(request_id, {"from": mob.workers[1]})


def test_park_reverts_before_accepted(mob, rider, window, worker):
    request_id, _ = request(mob, rider, window)
    with reverts_with("ValetServiceWrongStatus", request_id, V_REQUESTED):
        mob.system.valet.park(request_id, {"from": worker})


def test_park_reverts_long_before_the_window(mob, rider, window, worker):
    request_id, tx = request(mob, rider, window)
    mob.system.valet.accept(request_id, {"from": worker})
    with reverts_with("LeaseMarketOutsideLeaseTime"):
        mob.system.valet.park(request_id, {"from": worker})


def test_request_return_reverts_for_someone_else(mob, rider, window, worker, residents):
    request_id = parked(mob, rider, window, worker)
    with reverts_with("ValetServiceNotRider", request_id, residents[1]):
        mob.system.valet.requestReturn(request_id, {"from": residents[1]})


def test_request_return_reverts_before_parked(mob, rider, window):
    request_id, _ = request(mob, rider, window)
    with reverts_with("ValetServiceWrongStatus", request_id, V_REQUESTED):
        mob.system.valet.requestReturn(request_id, {"from": rider})


def test_return_car_reverts_before_called(mob, rider, window, worker):
    request_id = parked(mob, rider, window, worker)
    with reverts_with("ValetServiceWrongStatus", request_id, V_PARKED):
        mob.system.valet.returnCar(request_id, {"from": worker})


def test_return_car_reverts_for_another_worker(mob, rider, window, worker):
    request_id = parked(mob, rider, window, worker)
    mob.system.valet.requestReturn(request_id, {"from": rider})
    with reverts_with("ValetServiceNotWorker", request_id, mob.workers[1]):
        mob.system.valet.returnCar(request_id, {"from": mob.workers[1]})


# -------------------------------------------------------------------------------- cancel


@pytest.mark.parametrize("accepted", [False, True])
def test_cancel_before_parking_refunds_everything(mob, rider, window, worker, accepted):
    system = mob.system
    balance = system.credit.balanceOf(rider)
    request_id, tx = request(mob, rider, window)
    lease_id = tx.events["ValetRequested"]["leaseId"]
    if accepted:
        system.valet.accept(request_id, {"from": worker})
    tx = system.valet.cancel(request_id, {"from": rider})
    assert dict(tx.events["ValetCancelled"]) == {
        "requestId": request_id,
        "rider": rider,
        "refund": PRICE_2H + VALET_FEE,
    }
    assert system.credit.balanceOf(rider) == balance
    assert system.credit.balanceOf(system.valet) == 0
    assert system.market.leaseOf(lease_id)["status"] == CANCELLED
    assert system.valet.requestOf(request_id)["status"] == V_CANCELLED


def test_late_cancel_keeps_part_of_the_parking_price(mob, rider, window):
    system = mob.system
    balance = system.credit.balanceOf(rider)
    request_id, _ = request(mob, rider, window)
    mine_at(window[0] - 30 * 60)  # after the 1 h cut-off and the 10 min grace
    tx = system.valet.cancel(request_id, {"from": rider})
    refund = tx.events["ValetCancelled"]["refund"]
    assert refund == PRICE_2H // 2 + VALET_FEE
    assert balance - system.credit.balanceOf(rider) == PRICE_2H // 2


def test_cancel_reverts_once_parked(mob, rider, window, worker):
    request_id = parked(mob, rider, window, worker)
    with reverts_with("ValetServiceWrongStatus", request_id, V_PARKED):
        mob.system.valet.cancel(request_id, {"from": rider})


def test_cancel_reverts_for_someone_else(mob, rider, window, residents):
    request_id, _ = request(mob, rider, window)
    with reverts_with("ValetServiceNotRider", request_id, residents[1]):
        mob.system.valet.cancel(request_id, {"from": residents[1]})


def test_cancel_reverts_when_unknown(mob, rider):
    with reverts_with("ValetServiceUnknownRequest", 8):
        mob.system.valet.cancel(8, {"from": rider})


# ---------------------------------------------------------------------------- deployment


def test_deployment_wires_the_service(mob):
    system = mob.system
    assert system.access.isActiveMember(system.valet)
    assert system.split.isSource(system.valet)
    assert system.valet.valetFee() == VALET_FEE and system.valet.workerBps() == WORKER_BPS


@pytest.mark.parametrize(
    "config, zero_at, error",
    [
        ((2**48, 0), None, ("ValetServiceInvalidConfig", "valetFee")),
        ((0, 10_001), None, ("ValetServiceInvalidConfig", "workerBps")),
        ((1, 1), 2, ("ValetServiceZeroAddress",)),
    ],
    ids=["fee-too-large", "bps-over-100%", "zero-market"],
)
def test_constructor_rejects_bad_parameters(mob, people, config, zero_at, error):
    s = mob.system
    wiring = [s.access, s.credit, s.market, s.split, s.forwarder]
    deploy_refused("ValetService", people.admin, wiring, config, zero_at, error)
