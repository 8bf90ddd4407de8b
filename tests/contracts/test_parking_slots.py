"""ParkingSlots: registration, sharing windows, versioned terms, blackouts, activity, the
ERC-721 token and the ERC-4907 views answered live from the lease market."""

from __future__ import annotations

import pytest
from brownie import ZERO_ADDRESS

from citypass.core.timeunits import local_day
from citypass.core.windows import EVERY_DAY, WEEKDAYS, WEEKEND, Window
from citypass.protocol.coarse_location import GRID_E6
from citypass.protocol.roles import ROLES
from tests.contract_helpers import head_time, member, mine_at, plain, reverts_with, selector

PUBLIC_LOT, PRIVATE_LOT, RESIDENT_PRIORITY, PERSONAL = range(4)
HOUR = 3600
MINUTE = 60
MAX_PRICE = 10**9
LAT, LON = 37_503_000, 126_787_000

ERC721_ID = "0x80ac58cd"
ERC4907_ID = "0xad092b5c"


# ---------------------------------------------------------------------------- helpers


def pack_windows(windows: list[Window]) -> int:
    """SharingWindows.pack: 19 bits per window, daysMask | startUnit << 7 | endUnit << 13."""
    packed = 0
    for i, w in enumerate(windows):
        packed |= (w.days_mask | w.start_unit << 7 | w.end_unit << 13) << (19 * i)
    return packed


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def new_owner(accounts, system, people):
    """An onboarded member who may buy a slot token."""
    return member(system, people, accounts[11])


@pytest.fixture(scope="module")
def fresh_slot(slots, operator, owner):
    """A slot with no windows set yet."""
    return slots.registerSlot(owner, PERSONAL, 7, LAT, LON, {"from": operator}).return_value


# ------------------------------------------------------------------------ registerSlot


def test_register_slot_mints_token_and_emits_events(slots, operator, owner):
    count = slots.slotCount()
    tx = slots.registerSlot(owner, PRIVATE_LOT, 42, -33_868_800, 151_209_300, {"from": operator})
    slot = tx.return_value
    assert slot == count + 1
    assert slots.slotCount() == count + 1
    registered = tx.events["SlotRegistered"]
    assert registered["slotId"] == slot
    assert registered["owner"] == owner
    assert registered["lotId"] == 42
    assert registered["category"] == PRIVATE_LOT
    assert registered["latE6"] == -33_868_800
    assert registered["lonE6"] == 151_209_300
    terms = tx.events["TermsSet"]
    assert (terms["slotId"], terms["version"]) == (slot, 0)
    assert (terms["pricePerUnit"], terms["overagePer10Min"]) == (600, 200)
    minted = tx.events["Transfer"]
    assert (minted["from"], minted["to"], minted["tokenId"]) == (ZERO_ADDRESS, owner, slot)
    assert slots.ownerOf(slot) == owner
    assert plain(slots.placeOf(slot)) == (42, -33_868_800, 151_209_300)
    # exists, active, no blackouts, category, version 0, the defaults, no windows
    assert plain(slots.bookingTerms(slot)) == (True, True, False, PRIVATE_LOT, 0, 600, 200, 0)
    assert plain(slots.settlementTerms(slot, 0)) == (owner, PRIVATE_LOT, (600, 200))
    assert plain(slots.windowsOf(slot)) == ()


def test_register_slot_defaults_are_design_prices(slots):
    assert slots.DEFAULT_PRICE_PER_UNIT() == 600
    assert slots.DEFAULT_OVERAGE_PER_10_MIN() == 200
    assert slots.name() == "CityPass Parking Slot"
    assert slots.symbol() == "CPSLOT"


@pytest.mark.parametrize("category", [PUBLIC_LOT, PRIVATE_LOT, RESIDENT_PRIORITY, PERSONAL])
def test_register_slot_accepts_every_category(slots, operator, owner, category):
    tx = slots.registerSlot(owner, category, 1, LAT, LON, {"from": operator})
    assert tx.events["SlotRegistered"]["category"] == category
    assert slots.bookingTerms(tx.return_value)[3] == category


def test_register_slot_numbers_slots_consecutively(slots, operator, owner, slot_id):
    count, held = slots.slotCount(), slots.balanceOf(owner)
    first = slots.registerSlot(owner, PERSONAL, 1, LAT, LON, {"from": operator}).return_value
    second = slots.registerSlot(owner, PERSONAL, 1, LAT, LON, {"from": operator}).return_value
    assert (first, second) == (count + 1, count + 2)
    assert slots.balanceOf(owner) == held + 2


def test_register_slot_by_city_admin_is_allowed(slots, admin, owner):
    tx = slots.registerSlot(owner, PUBLIC_LOT, 3, LAT, LON, {"from": admin})
    assert slots.ownerOf(tx.return_value) == owner


@pytest.mark.parametrize("who", ["stranger", "owner", "oracle"])
def test_register_slot_reverts_without_operator_role(slots, owner, stranger, people, who):
    caller = {"stranger": stranger, "owner": owner, "oracle": people.oracle}[who]
    with reverts_with("CityAccessMissingRole", caller, ROLES["OPERATOR"]):
        slots.registerSlot(owner, PERSONAL, 1, LAT, LON, {"from": caller})


def test_register_slot_reverts_for_suspended_operator(slots, system, people, owner):
    system.access.suspend(people.operator, b"\x01" * 32, {"from": people.admin})
    with reverts_with("CityAccessMissingRole", people.operator, ROLES["OPERATOR"]):
        slots.registerSlot(owner, PERSONAL, 1, LAT, LON, {"from": people.operator})


def test_register_slot_reverts_for_zero_owner(slots, operator):
    with reverts_with("ParkingSlotsZeroAddress"):
        slots.registerSlot(ZERO_ADDRESS, PERSONAL, 1, LAT, LON, {"from": operator})


@pytest.mark.parametrize("category", [4, 255])
def test_register_slot_reverts_for_invalid_category(slots, operator, owner, category):
    with reverts_with("ParkingSlotsInvalidCategory", category):
        slots.registerSlot(owner, category, 1, LAT, LON, {"from": operator})


@pytest.mark.parametrize(
    "lat, lon",
    [(90_000_001, 0), (-90_000_001, 0), (0, 180_000_001), (0, -180_000_001)],
)
def test_register_slot_reverts_for_invalid_location(slots, operator, owner, lat, lon):
    with reverts_with("ParkingSlotsInvalidLocation", lat, lon):
        slots.registerSlot(owner, PERSONAL, 1, lat, lon, {"from": operator})


@pytest.mark.parametrize(
    "lat, lon", [(90_000_000, 180_000_000), (-90_000_000, -180_000_000), (0, 0)]
)
def test_register_slot_accepts_boundary_locations(slots, operator, owner, lat, lon):
    slot = slots.registerSlot(owner, PERSONAL, 9, lat, lon, {"from": operator}).return_value
    assert plain(slots.placeOf(slot)) == (9, lat, lon)


# A home's exact spot never reaches the chain, not even in call data: the caller snaps it to
# its 0.001° cell first (citypass/protocol/coarse_location.py) and the contract refuses any other.
@pytest.mark.parametrize(
    "lat, lon",
    [(37_503_120, 126_787_000), (37_503_000, 126_787_450), (-33_868_800, 151_209_300),
     (37_503_001, 126_787_000), (37_503_000, -126_786_999)],
)  # fmt: skip
def test_register_personal_slot_refuses_a_location_off_the_cell_grid(
    slots, operator, owner, lat, lon
):
    count = slots.slotCount()
    with reverts_with("ParkingSlotsLocationTooPrecise", lat, lon):
        slots.registerSlot(owner, PERSONAL, 1, lat, lon, {"from": operator})
    assert slots.slotCount() == count


@pytest.mark.parametrize("lat, lon", [(-33_869_000, 151_209_000), (37_504_000, -126_787_000)])
def test_register_personal_slot_on_the_cell_grid_keeps_the_cell(slots, operator, owner, lat, lon):
    tx = slots.registerSlot(owner, PERSONAL, 1, lat, lon, {"from": operator})
    assert (tx.events["SlotRegistered"]["latE6"], tx.events["SlotRegistered"]["lonE6"]) == (
        lat,
        lon,
    )
    assert plain(slots.placeOf(tx.return_value)) == (1, lat, lon)


@pytest.mark.parametrize("category", [PUBLIC_LOT, PRIVATE_LOT, RESIDENT_PRIORITY])
def test_register_other_categories_keep_exact_coordinates(slots, operator, owner, category):
    tx = slots.registerSlot(owner, category, 2, 37_503_123, -126_787_457, {"from": operator})
    assert plain(slots.placeOf(tx.return_value)) == (2, 37_503_123, -126_787_457)


def test_personal_grid_is_the_one_the_snapping_uses(slots):
    assert slots.PERSONAL_GRID_E6() == GRID_E6


def test_place_of_reverts_for_unknown_slot(slots):
    with reverts_with("ERC721NonexistentToken", 999):
        slots.placeOf(999)


# -------------------------------------------------------------------------- setWindows


def test_set_windows_emits_packed_windows_and_round_trips(slots, owner, fresh_slot):
    windows = [Window.hours(WEEKDAYS, "09:00", "18:00"), Window.hours(WEEKEND, "19:00", "08:00")]
    tx = slots.setWindows(fresh_slot, [w.as_tuple() for w in windows], {"from": owner})
    event = tx.events["WindowsSet"]
    assert event["slotId"] == fresh_slot
    assert event["windows"] == pack_windows(windows)
    assert plain(slots.windowsOf(fresh_slot)) == ((WEEKDAYS, 18, 36), (WEEKEND, 38, 16))
    assert slots.bookingTerms(fresh_slot)[7] == pack_windows(windows)


def test_set_windows_with_same_windows_emits_nothing(slots, owner, slot_id):
    tx = slots.setWindows(slot_id, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
    assert "WindowsSet" not in tx.events
    assert plain(slots.windowsOf(slot_id)) == ((EVERY_DAY, 0, 48),)


def test_set_windows_empty_list_clears_windows(slots, owner, slot_id):
    tx = slots.setWindows(slot_id, [], {"from": owner})
    assert tx.events["WindowsSet"]["windows"] == 0
    assert plain(slots.windowsOf(slot_id)) == ()


def test_set_windows_accepts_five_windows(slots, owner, fresh_slot):
    windows = [Window(1 << i, 2 * i, 2 * i + 10) for i in range(5)]
    tx = slots.setWindows(fresh_slot, [w.as_tuple() for w in windows], {"from": owner})
    assert tx.events["WindowsSet"]["windows"] == pack_windows(windows)
    assert plain(slots.windowsOf(fresh_slot)) == tuple(w.as_tuple() for w in windows)


def test_set_windows_reverts_for_six_windows(slots, owner, fresh_slot):
    windows = [Window(1 << i, 0, 48).as_tuple() for i in range(6)]
    with reverts_with("ParkingSlotsInvalidWindow", 6):
        slots.setWindows(fresh_slot, windows, {"from": owner})


@pytest.mark.parametrize(
    "bad",
    [
        (0, 0, 48),  # no day
        (128, 0, 48),  # day bit beyond Sunday
        (EVERY_DAY, 48, 10),  # start past the last unit
        (EVERY_DAY, 0, 0),  # end zero
        (EVERY_DAY, 0, 49),  # end past midnight
    ],
)
def test_set_windows_reverts_for_malformed_window_at_its_index(slots, owner, fresh_slot, bad):
    good = Window.hours(WEEKDAYS, "09:00", "18:00").as_tuple()
    with reverts_with("ParkingSlotsInvalidWindow", 1):
        slots.setWindows(fresh_slot, [good, bad], {"from": owner})
    with reverts_with("ParkingSlotsInvalidWindow", 0):
        slots.setWindows(fresh_slot, [bad], {"from": owner})


@pytest.mark.parametrize("who", ["stranger", "operator", "resident"])
def test_set_windows_reverts_when_not_slot_owner(slots, slot_id, stranger, operator, resident, who):
    caller = {"stranger": stranger, "operator": operator, "resident": resident}[who]
    with reverts_with("ParkingSlotsNotSlotOwner", slot_id, caller):
        slots.setWindows(slot_id, [], {"from": caller})


def test_set_windows_reverts_for_unknown_slot(slots, owner):
    with reverts_with("ParkingSlotsUnknownSlot", 999):
        slots.setWindows(999, [], {"from": owner})


def test_set_windows_by_approved_operator_of_the_token(slots, owner, slot_id, accounts):
    agent = accounts[12]
    slots.setApprovalForAll(agent, True, {"from": owner})
    tx = slots.setWindows(slot_id, [Window(WEEKDAYS, 0, 48).as_tuple()], {"from": agent})
    assert tx.events["WindowsSet"]["windows"] == pack_windows([Window(WEEKDAYS, 0, 48)])
    slots.setApprovalForAll(agent, False, {"from": owner})
    with reverts_with("ParkingSlotsNotSlotOwner", slot_id, agent):
        slots.setWindows(slot_id, [], {"from": agent})


def test_set_windows_by_address_approved_for_the_token(slots, owner, slot_id, accounts):
    agent = accounts[12]
    slots.approve(agent, slot_id, {"from": owner})
    tx = slots.setWindows(slot_id, [], {"from": agent})
    assert tx.events["WindowsSet"]["slotId"] == slot_id


# ---------------------------------------------------------------------------- setTerms


def test_set_terms_publishes_new_versions(slots, owner, slot_id):
    tx = slots.setTerms(slot_id, 1000, 300, {"from": owner})
    event = tx.events["TermsSet"]
    assert (event["slotId"], event["version"]) == (slot_id, 1)
    assert (event["pricePerUnit"], event["overagePer10Min"]) == (1000, 300)
    tx = slots.setTerms(slot_id, 800, 0, {"from": owner})
    assert tx.events["TermsSet"]["version"] == 2
    terms = slots.bookingTerms(slot_id)
    assert (terms[4], terms[5], terms[6]) == (2, 800, 0)
    assert plain(slots.settlementTerms(slot_id, 0)) == (owner, PERSONAL, (600, 200))
    assert plain(slots.settlementTerms(slot_id, 1)) == (owner, PERSONAL, (1000, 300))
    assert plain(slots.settlementTerms(slot_id, 2)) == (owner, PERSONAL, (800, 0))


def test_set_terms_with_unchanged_terms_emits_nothing(slots, owner, slot_id):
    tx = slots.setTerms(slot_id, 600, 200, {"from": owner})
    assert "TermsSet" not in tx.events
    assert slots.bookingTerms(slot_id)[4] == 0


def test_set_terms_accepts_the_ceilings(slots, owner, slot_id):
    tx = slots.setTerms(slot_id, 1_000_000, 1_000_000, {"from": owner})
    assert tx.events["TermsSet"]["pricePerUnit"] == 1_000_000
    assert slots.MAX_PRICE_PER_UNIT() == 1_000_000


@pytest.mark.parametrize("price, overage", [(0, 200), (1_000_001, 200), (600, 1_000_001)])
def test_set_terms_reverts_for_invalid_price(slots, owner, slot_id, price, overage):
    with reverts_with("ParkingSlotsInvalidPrice", price, overage):
        slots.setTerms(slot_id, price, overage, {"from": owner})


def test_set_terms_reverts_when_not_slot_owner(slots, slot_id, operator):
    with reverts_with("ParkingSlotsNotSlotOwner", slot_id, operator):
        slots.setTerms(slot_id, 700, 200, {"from": operator})


def test_set_terms_reverts_for_unknown_slot(slots, owner):
    with reverts_with("ParkingSlotsUnknownSlot", 999):
        slots.setTerms(999, 700, 200, {"from": owner})


def test_settlement_terms_keeps_old_version_after_price_change(slots, owner, slot_id):
    slots.setTerms(slot_id, 900, 250, {"from": owner})
    assert plain(slots.settlementTerms(slot_id, 0)[2]) == (600, 200)
    assert plain(slots.settlementTerms(slot_id, 1)[2]) == (900, 250)


def test_settlement_terms_reverts_for_future_version(slots, owner, slot_id):
    with reverts_with("ParkingSlotsUnknownTermsVersion", slot_id, 1):
        slots.settlementTerms(slot_id, 1)
    slots.setTerms(slot_id, 900, 250, {"from": owner})
    with reverts_with("ParkingSlotsUnknownTermsVersion", slot_id, 2):
        slots.settlementTerms(slot_id, 2)


def test_settlement_terms_reverts_for_unknown_slot(slots):
    with reverts_with("ParkingSlotsUnknownSlot", 999):
        slots.settlementTerms(999, 0)


# ------------------------------------------------------------------------- setBlackout


def test_set_blackout_marks_and_reopens_a_day(slots, owner, slot_id, day):
    target = local_day(day) + 3
    assert slots.isAvailable(slot_id, target, target)
    tx = slots.setBlackout(slot_id, target, True, {"from": owner})
    event = tx.events["BlackoutSet"]
    assert (event["slotId"], event["localDay"], event["blackedOut"]) == (slot_id, target, True)
    assert slots.isBlackedOut(slot_id, target, target)
    assert slots.isBlackedOut(slot_id, target - 2, target + 2)
    assert not slots.isBlackedOut(slot_id, target - 2, target - 1)
    assert not slots.isBlackedOut(slot_id, target + 1, target + 5)
    assert not slots.isAvailable(slot_id, target, target + 1)
    assert slots.isAvailable(slot_id, target + 1, target + 1)
    assert slots.bookingTerms(slot_id)[2]  # hasBlackouts
    tx = slots.setBlackout(slot_id, target, False, {"from": owner})
    assert tx.events["BlackoutSet"]["blackedOut"] is False
    assert not slots.isBlackedOut(slot_id, target, target)
    assert slots.isAvailable(slot_id, target, target)


def test_set_blackout_unchanged_emits_nothing(slots, owner, slot_id, day):
    target = local_day(day)
    tx = slots.setBlackout(slot_id, target, False, {"from": owner})
    assert "BlackoutSet" not in tx.events
    slots.setBlackout(slot_id, target, True, {"from": owner})
    tx = slots.setBlackout(slot_id, target, True, {"from": owner})
    assert "BlackoutSet" not in tx.events
    assert slots.isBlackedOut(slot_id, target, target)


def test_set_blackout_accepts_today_and_two_years_ahead(slots, owner, slot_id, day):
    today = local_day(head_time())
    for target in (today, today + 731):
        tx = slots.setBlackout(slot_id, target, True, {"from": owner})
        assert tx.events["BlackoutSet"]["localDay"] == target
        assert slots.isBlackedOut(slot_id, target, target)


@pytest.mark.parametrize("offset", [-1, 732])
def test_set_blackout_reverts_for_day_out_of_range(slots, owner, slot_id, day, offset):
    target = local_day(head_time()) + offset
    with reverts_with("ParkingSlotsInvalidDay", target):
        slots.setBlackout(slot_id, target, True, {"from": owner})


def test_set_blackout_reverts_when_not_slot_owner(slots, slot_id, stranger, day):
    with reverts_with("ParkingSlotsNotSlotOwner", slot_id, stranger):
        slots.setBlackout(slot_id, local_day(day), True, {"from": stranger})


def test_set_blackout_reverts_for_unknown_slot(slots, owner, day):
    with reverts_with("ParkingSlotsUnknownSlot", 999):
        slots.setBlackout(999, local_day(day), True, {"from": owner})


def test_is_available_false_for_unknown_slot(slots, day):
    assert not slots.isAvailable(999, local_day(day), local_day(day))


# --------------------------------------------------------------------------- setActive


def test_set_active_by_owner_emits_and_blocks_availability(slots, owner, slot_id, day):
    tx = slots.setActive(slot_id, False, {"from": owner})
    event = tx.events["SlotActiveSet"]
    assert (event["slotId"], event["active"], event["by"]) == (slot_id, False, owner)
    assert slots.bookingTerms(slot_id)[1] is False
    assert not slots.isAvailable(slot_id, local_day(day), local_day(day))
    tx = slots.setActive(slot_id, True, {"from": owner})
    assert tx.events["SlotActiveSet"]["active"] is True
    assert slots.isAvailable(slot_id, local_day(day), local_day(day))


def test_set_active_by_operator(slots, operator, slot_id):
    tx = slots.setActive(slot_id, False, {"from": operator})
    assert tx.events["SlotActiveSet"]["by"] == operator
    assert slots.bookingTerms(slot_id)[1] is False


def test_set_active_unchanged_emits_nothing(slots, owner, slot_id):
    tx = slots.setActive(slot_id, True, {"from": owner})
    assert "SlotActiveSet" not in tx.events


@pytest.mark.parametrize("who", ["stranger", "resident", "oracle"])
def test_set_active_reverts_for_stranger(slots, slot_id, stranger, resident, people, who):
    caller = {"stranger": stranger, "resident": resident, "oracle": people.oracle}[who]
    with reverts_with("CityAccessMissingRole", caller, ROLES["OPERATOR"]):
        slots.setActive(slot_id, False, {"from": caller})


def test_set_active_reverts_for_unknown_slot(slots, operator):
    with reverts_with("ERC721NonexistentToken", 999):
        slots.setActive(999, False, {"from": operator})


# ----------------------------------------------------------------------------- ERC-4907


@pytest.mark.parametrize("who", ["owner", "stranger"])
def test_set_user_reverts_user_managed_by_market(slots, slot_id, owner, stranger, who):
    caller = owner if who == "owner" else stranger
    with reverts_with("ParkingSlotsUserManagedByMarket", slot_id):
        slots.setUser(slot_id, stranger, 2**40, {"from": caller})


def test_user_of_follows_the_lease_without_transactions(slots, market, slot_id, resident, day):
    start, end = day + 10 * HOUR, day + 12 * HOUR
    lease = market.book(slot_id, start, end, MAX_PRICE, {"from": resident}).return_value
    # before the lease window
    assert slots.userOf(slot_id) == ZERO_ADDRESS
    assert slots.userExpires(slot_id) == 0
    mine_at(start + 10 * MINUTE)
    assert slots.userOf(slot_id) == resident
    assert slots.userExpires(slot_id) == end
    assert market.currentLeaseId(slot_id) == lease
    # after the window ends nobody sends a transaction: the view answers from the clock
    mine_at(end + 10 * MINUTE)
    assert slots.userOf(slot_id) == ZERO_ADDRESS
    assert slots.userExpires(slot_id) == 0
    assert market.currentLeaseId(slot_id) == 0


def test_user_of_while_checked_in_and_for_the_next_lease(slots, market, slot_id, residents, day):
    first, second = residents
    start = day + 10 * HOUR
    lease = market.book(slot_id, start, start + HOUR, MAX_PRICE, {"from": first}).return_value
    market.book(slot_id, start + HOUR, start + 3 * HOUR, MAX_PRICE, {"from": second})
    mine_at(start)
    market.checkIn(lease, {"from": first})
    assert slots.userOf(slot_id) == first
    assert slots.userExpires(slot_id) == start + HOUR
    mine_at(start + HOUR + 10 * MINUTE)
    assert slots.userOf(slot_id) == second
    assert slots.userExpires(slot_id) == start + 3 * HOUR


def test_user_of_cleared_by_cancel(slots, market, slot_id, resident, day):
    start = day + 10 * HOUR
    lease = market.book(slot_id, start, start + 4 * HOUR, MAX_PRICE, {"from": resident})
    mine_at(start - 30 * MINUTE)
    market.ownerCancel(lease.return_value, {"from": slots.ownerOf(slot_id)})
    mine_at(start + 10 * MINUTE)
    assert slots.userOf(slot_id) == ZERO_ADDRESS
    assert slots.userExpires(slot_id) == 0


def test_user_of_cleared_by_early_check_out(slots, market, slot_id, resident, day):
    start = day + 10 * HOUR
    lease = market.book(slot_id, start, start + 2 * HOUR, MAX_PRICE, {"from": resident})
    mine_at(start)
    market.checkIn(lease.return_value, {"from": resident})
    market.checkOut(lease.return_value, {"from": resident})
    assert slots.userOf(slot_id) == ZERO_ADDRESS
    assert slots.userExpires(slot_id) == 0


def test_user_of_reverts_for_unknown_slot(slots):
    with reverts_with("ERC721NonexistentToken", 999):
        slots.userOf(999)
    with reverts_with("ERC721NonexistentToken", 999):
        slots.userExpires(999)


def test_no_slot_before_the_lease_market_that_keeps_its_terms(ParkingSlots, system, people, owner):
    standalone = ParkingSlots.deploy(system.access, system.forwarder, {"from": people.admin})
    with reverts_with("ParkingSlotsLeaseMarketNotSet"):
        standalone.registerSlot(owner, PERSONAL, 1, LAT, LON, {"from": people.operator})
    assert standalone.slotCount() == 0


def test_only_the_slots_contract_writes_terms_into_the_market(market, slot_id, owner, people):
    terms = market.slotTerms(slot_id)
    for caller in (owner, people.operator, people.admin):
        with reverts_with("LeaseMarketNotAuthorized", 0, caller):
            market.setSlotTerms(slot_id, terms, {"from": caller})


@pytest.mark.parametrize(
    "interface_id, supported",
    [
        (ERC721_ID, True),
        (ERC4907_ID, True),
        ("0x01ffc9a7", True),  # ERC-165
        ("0x5b5e139f", True),  # ERC-721 metadata
        ("0xffffffff", False),
        ("0x12345678", False),
    ],
)
def test_supports_interface(slots, interface_id, supported):
    assert slots.supportsInterface(interface_id) is supported


def test_erc4907_interface_id_matches_the_standard():
    computed = bytes(
        a ^ b ^ c
        for a, b, c in zip(
            selector("setUser(uint256,address,uint64)"),
            selector("userOf(uint256)"),
            selector("userExpires(uint256)"),
            strict=True,
        )
    )
    assert "0x" + computed.hex() == ERC4907_ID


# ---------------------------------------------------------------------- setLeaseMarket


def test_set_lease_market_only_once(slots, market, admin):
    assert slots.leaseMarket() == market
    with reverts_with("ParkingSlotsLeaseMarketAlreadySet"):
        slots.setLeaseMarket(market, {"from": admin})


def test_set_lease_market_on_fresh_slots(ParkingSlots, system, people):
    standalone = ParkingSlots.deploy(system.access, system.forwarder, {"from": people.admin})
    with reverts_with("ParkingSlotsZeroAddress"):
        standalone.setLeaseMarket(ZERO_ADDRESS, {"from": people.admin})
    with reverts_with("CityAccessMissingRole", people.operator, ROLES["CITY_ADMIN"]):
        standalone.setLeaseMarket(system.market, {"from": people.operator})
    tx = standalone.setLeaseMarket(system.market, {"from": people.admin})
    assert tx.events["LeaseMarketSet"]["leaseMarket"] == system.market
    assert standalone.leaseMarket() == system.market
    with reverts_with("ParkingSlotsLeaseMarketAlreadySet"):
        standalone.setLeaseMarket(system.market, {"from": people.admin})


def test_constructor_reverts_for_zero_access(ParkingSlots, system, people):
    with reverts_with("CityAccessZeroAddress"):
        ParkingSlots.deploy(ZERO_ADDRESS, system.forwarder, {"from": people.admin})


# ------------------------------------------------------------------------ token transfer


def test_transfer_moves_revenue_to_new_owner_at_next_settlement(
    slots, market, system, slot_id, owner, new_owner, resident, day
):
    start = day + 10 * HOUR
    lease = market.book(slot_id, start, start + 2 * HOUR, MAX_PRICE, {"from": resident})
    tx = slots.transferFrom(owner, new_owner, slot_id, {"from": owner})
    assert tx.events["Transfer"]["to"] == new_owner
    mine_at(start)
    market.checkIn(lease.return_value, {"from": resident})
    mine_at(start + HOUR)
    tx = market.checkOut(lease.return_value, {"from": resident})
    allocated = tx.events["RevenueAllocated"]
    assert allocated["owner"] == new_owner
    assert allocated["ownerShare"] == 1440
    assert system.split.claimable(new_owner) == 1440
    assert system.split.claimable(owner) == 0
    tx = system.split.claim({"from": new_owner})
    assert tx.events["Claimed"]["amount"] == 1440


def test_transfer_moves_slot_management_to_new_owner(slots, slot_id, owner, new_owner):
    slots.safeTransferFrom(owner, new_owner, slot_id, {"from": owner})
    tx = slots.setTerms(slot_id, 700, 200, {"from": new_owner})
    assert tx.events["TermsSet"]["version"] == 1
    assert slots.settlementTerms(slot_id, 1)[0] == new_owner
    with reverts_with("ParkingSlotsNotSlotOwner", slot_id, owner):
        slots.setTerms(slot_id, 800, 200, {"from": owner})
