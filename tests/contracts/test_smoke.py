"""A first end-to-end lease cycle, and a check that custom errors decode exactly."""

from tests.contract_helpers import mine_at, reverts_with

HOUR = 3600


def test_book_check_in_out_and_claim_pays_owner(system, slot_id, resident, owner, day):
    tx = system.market.book(slot_id, day + 10 * HOUR, day + 12 * HOUR, 10_000, {"from": resident})
    lease_id = tx.return_value
    assert tx.events["LeaseBooked"]["price"] == 2400
    mine_at(day + 10 * HOUR)
    system.market.checkIn(lease_id, {"from": resident})
    mine_at(day + 11 * HOUR)
    tx = system.market.checkOut(lease_id, {"from": resident})
    allocated = tx.events["RevenueAllocated"]
    assert allocated["ownerShare"] == 1440
    assert (
        allocated["ownerShare"]
        + allocated["villageShare"]
        + allocated["cityShare"]
        + allocated["platformShare"]
        == 2400
    )
    before = system.credit.balanceOf(owner)
    system.split.claim({"from": owner})
    assert system.credit.balanceOf(owner) - before == 1440


def test_book_reverts_when_overlapping(system, slot_id, residents, day):
    first, second = residents
    system.market.book(slot_id, day + 10 * HOUR, day + 12 * HOUR, 10_000, {"from": first})
    with reverts_with("LeaseMarketOverlap", slot_id, day + 11 * HOUR, day + 13 * HOUR):
        system.market.book(slot_id, day + 11 * HOUR, day + 13 * HOUR, 10_000, {"from": second})
