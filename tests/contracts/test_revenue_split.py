"""RevenueSplit: the escrow vault. Split table and dust, sources, pull payments for the owner and
the three house payees, monthly statements, and the vault invariant
balanceOf(split) == escrow of open leases + sum of claimables."""

from __future__ import annotations

import pytest
from brownie.exceptions import VirtualMachineError

from citypass.core.timeunits import epoch_of
from citypass.protocol.roles import ROLES
from tests.contract_helpers import member, mine_at, next_month_start, reverts_with, shared_slot

ZERO = "0x0000000000000000000000000000000000000000"
HOUR = 3600
BPS = 10_000
PUBLIC_LOT, PRIVATE_LOT, RESIDENT_PRIORITY, PERSONAL = range(4)
OWNER_KIND, VILLAGE_KIND, CITY_KIND, PLATFORM_KIND = range(4)
BOOKED, CHECKED_IN = 1, 2
DEFAULTS = {
    PUBLIC_LOT: (0, 3000, 6000, 1000),
    PRIVATE_LOT: (5000, 3000, 0, 2000),
    RESIDENT_PRIORITY: (0, 7000, 3000, 0),
    PERSONAL: (6000, 2500, 0, 1500),
}
AMOUNTS = [1, 2, 3, 7, 99, 599, 600, 601, 2400, 9_999, 10_001, 10**12, 2**64 - 1]
PRICE_2H = 4 * 600  # a 2-hour lease at the default ₩600 per 30 minutes


def expected_split(bps, amount, dust_party=VILLAGE_KIND):
    """The Python model of RevenueSplit._split: floor each share, the dust to one party."""
    shares = [amount * b // BPS for b in bps]
    shares[dust_party] += amount - sum(shares)
    return tuple(shares)


def fresh_split(container, system, people, access=None, credit=None, houses=None):
    """A RevenueSplit deployed anew (with the deployment's access control, credit token and
    houses unless given)."""
    houses = houses or (people.village_enterprise, people.city_fund, people.platform)
    tx = {"from": people.admin}
    return container.deploy(
        access or system.access, credit or system.credit, system.forwarder, *houses, tx
    )


# -------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def public_slot(system, people, owner):
    """A public lot (owner share 0: village 30%, city 60%, platform 10%), shared all day."""
    return shared_slot(
        system, people, owner, category=PUBLIC_LOT, lot=2, at=(37_503_100, 126_787_100)
    )


@pytest.fixture(scope="module")
def platform_slot(system, people):
    """A personal slot owned by the platform account, so one payee is owner and house payee."""
    return shared_slot(system, people, people.platform, lot=3, at=(37_503_200, 126_787_200))


@pytest.fixture(scope="module")
def direct_source(accounts, system, people):
    """An EOA registered as a source, to drive allocate/refund directly."""
    source = member(system, people, accounts[12])
    system.split.setSource(source, True, {"from": people.admin})
    return source


def book(system, slot, lessee, start, end):
    tx = system.market.book(slot, start, end, 10**9, {"from": lessee})
    return tx.return_value


def settle(system, slot, lessee, start, end):
    """book → checkIn at the start → checkOut right after: one on-time settlement."""
    lease = book(system, slot, lessee, start, end)
    mine_at(start)
    system.market.checkIn(lease, {"from": lessee})
    return system.market.checkOut(lease, {"from": lessee})


def statements(tx):
    """MonthlyStatement events of a transaction, keyed by kind."""
    if "MonthlyStatement" not in tx.events:
        return {}
    return {int(e["kind"]): e for e in tx.events["MonthlyStatement"]}


# ----------------------------------------------------------------------------- deployment


def test_constructor_wires_the_payees(split, system, people):
    assert split.villageEnterprise() == people.village_enterprise
    assert split.cityFund() == people.city_fund
    assert split.platform() == people.platform
    assert split.credit() == system.credit
    assert split.access() == system.access
    assert split.isSource(system.market)
    assert split.isTrustedForwarder(system.forwarder)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_constructor_reverts_on_zero_payee(RevenueSplit, system, people, position):
    payees = [people.village_enterprise, people.city_fund, people.platform]
    payees[position] = ZERO
    with reverts_with("RevenueSplitZeroAddress"):
        fresh_split(RevenueSplit, system, people, houses=payees)


def test_constructor_reverts_on_zero_credit(RevenueSplit, system, people):
    with reverts_with("RevenueSplitZeroAddress"):
        fresh_split(RevenueSplit, system, people, credit=ZERO)


def test_constructor_reverts_on_zero_access(RevenueSplit, system, people):
    with reverts_with("CityAccessZeroAddress"):
        fresh_split(RevenueSplit, system, people, access=ZERO)


def test_constructor_emits_the_default_splits(RevenueSplit, system, people):
    fresh = fresh_split(RevenueSplit, system, people)
    events = fresh.tx.events["SplitSet"]
    assert len(events) == 4
    for event in events:
        bps = DEFAULTS[event["category"]]
        assert (
            event["ownerBps"],
            event["villageBps"],
            event["cityBps"],
            event["platformBps"],
        ) == bps
        assert event["dustParty"] == VILLAGE_KIND
    assert fresh.credit() == system.credit


# -------------------------------------------------------------------------- split table


@pytest.mark.parametrize("category", list(DEFAULTS))
def test_split_of_defaults(split, category):
    assert tuple(split.splitOf(category)) == (*DEFAULTS[category], VILLAGE_KIND)


@pytest.mark.parametrize("category", list(DEFAULTS))
def test_preview_split_defaults_send_dust_to_village(split, category):
    for amount in AMOUNTS:
        parts = tuple(split.previewSplit(category, amount))
        assert parts == expected_split(DEFAULTS[category], amount), (category, amount)
        assert sum(parts) == amount


def test_preview_split_dust_examples(split):
    # 1 credit of a personal slot: every floor is 0, the whole credit is dust for the village.
    assert tuple(split.previewSplit(PERSONAL, 1)) == (0, 1, 0, 0)
    # 7: owner 4 (4.2), village 1 (1.75) + dust 1, platform 1 (1.05).
    assert tuple(split.previewSplit(PERSONAL, 7)) == (4, 2, 0, 1)
    # 599 public: village 179 (179.7) + dust 2, city 359 (359.4), platform 59 (59.9).
    assert tuple(split.previewSplit(PUBLIC_LOT, 599)) == (0, 181, 359, 59)
    assert tuple(split.previewSplit(RESIDENT_PRIORITY, 601)) == (0, 421, 180, 0)
    assert tuple(split.previewSplit(PRIVATE_LOT, 10**12)) == (5 * 10**11, 3 * 10**11, 0, 2 * 10**11)
    assert tuple(split.previewSplit(PERSONAL, 0)) == (0, 0, 0, 0)


def test_preview_split_reverts_on_invalid_category(split):
    with pytest.raises(VirtualMachineError):
        split.previewSplit(4, 100)


def test_set_split_emits_and_changes_preview(split, people):
    tx = split.setSplit(PERSONAL, 5000, 2000, 1000, 2000, OWNER_KIND, {"from": people.admin})
    event = tx.events["SplitSet"]
    assert event["category"] == PERSONAL
    assert (event["ownerBps"], event["villageBps"], event["cityBps"], event["platformBps"]) == (
        5000,
        2000,
        1000,
        2000,
    )
    assert event["dustParty"] == OWNER_KIND
    assert tuple(split.splitOf(PERSONAL)) == (5000, 2000, 1000, 2000, OWNER_KIND)
    # 7 → 3, 1, 0, 1 floored, dust 2 to the owner
    assert tuple(split.previewSplit(PERSONAL, 7)) == (5, 1, 0, 1)
    # other categories are untouched
    for category in (PUBLIC_LOT, PRIVATE_LOT, RESIDENT_PRIORITY):
        assert tuple(split.splitOf(category)) == (*DEFAULTS[category], VILLAGE_KIND)


def test_set_split_emits_nothing_when_unchanged(split, people):
    before = split.splitOf(PERSONAL)
    tx = split.setSplit(PERSONAL, 6000, 2500, 0, 1500, 1, {"from": people.admin})
    assert "SplitSet" not in tx.events
    assert split.splitOf(PERSONAL) == before


@pytest.mark.parametrize("dust_party", [OWNER_KIND, VILLAGE_KIND, CITY_KIND, PLATFORM_KIND])
def test_set_split_dust_goes_to_named_party(split, people, dust_party):
    bps = (2500, 2500, 2500, 2500)
    split.setSplit(PRIVATE_LOT, *bps, dust_party, {"from": people.admin})
    for amount in (1, 3, 7, 601, 10**12 + 3):
        parts = tuple(split.previewSplit(PRIVATE_LOT, amount))
        assert parts == expected_split(bps, amount, dust_party)
        assert sum(parts) == amount


def test_set_split_all_to_one_party(split, people):
    split.setSplit(PUBLIC_LOT, 0, 0, 10_000, 0, CITY_KIND, {"from": people.admin})
    assert tuple(split.previewSplit(PUBLIC_LOT, 601)) == (0, 0, 601, 0)
    split.setSplit(PUBLIC_LOT, 0, 0, 0, 10_000, VILLAGE_KIND, {"from": people.admin})
    assert tuple(split.previewSplit(PUBLIC_LOT, 601)) == (0, 0, 0, 601)


@pytest.mark.parametrize(
    "bps, total",
    [
        ((6000, 2500, 0, 1000), 9500),
        ((6000, 2500, 0, 1501), 10_001),
        ((0, 0, 0, 0), 0),
        ((65_535, 65_535, 65_535, 65_535), 262_140),
    ],
)
def test_set_split_reverts_when_shares_do_not_sum_to_10000(split, people, bps, total):
    with reverts_with("RevenueSplitInvalidShares", total):
        split.setSplit(PERSONAL, *bps, VILLAGE_KIND, {"from": people.admin})


@pytest.mark.parametrize("category", [4, 255])
def test_set_split_reverts_on_invalid_category(split, people, category):
    with reverts_with("RevenueSplitInvalidCategory", category):
        split.setSplit(category, 6000, 2500, 0, 1500, VILLAGE_KIND, {"from": people.admin})


@pytest.mark.parametrize("dust_party", [4, 255])
def test_set_split_reverts_on_invalid_dust_party(split, people, dust_party):
    with reverts_with("RevenueSplitInvalidDustParty", dust_party):
        split.setSplit(PERSONAL, 6000, 2500, 0, 1500, dust_party, {"from": people.admin})


def test_set_split_checks_category_before_dust_party_and_shares(split, people):
    with reverts_with("RevenueSplitInvalidCategory", 9):
        split.setSplit(9, 1, 1, 1, 1, 9, {"from": people.admin})
    with reverts_with("RevenueSplitInvalidDustParty", 9):
        split.setSplit(PERSONAL, 1, 1, 1, 1, 9, {"from": people.admin})


@pytest.mark.parametrize("who", ["operator", "village_enterprise", "treasury"])
def test_set_split_reverts_for_non_admin(split, people, who):
    caller = getattr(people, who)
    with reverts_with("CityAccessMissingRole", caller, ROLES["CITY_ADMIN"]):
        split.setSplit(PERSONAL, 6000, 2500, 0, 1500, VILLAGE_KIND, {"from": caller})


# --------------------------------------------------------------------------------- sources


def test_allocate_reverts_for_non_source(split, people, owner, resident):
    for caller in (resident, people.admin, people.operator):
        with reverts_with("RevenueSplitNotSource", caller):
            split.allocate(PERSONAL, owner, 100, {"from": caller})


def test_refund_reverts_for_non_source(split, people, resident):
    for caller in (resident, people.admin):
        with reverts_with("RevenueSplitNotSource", caller):
            split.refund(resident, 100, {"from": caller})


def test_set_source_emits_and_registers(split, people, accounts):
    tx = split.setSource(accounts[13], True, {"from": people.admin})
    event = tx.events["SourceSet"]
    assert event["source"] == accounts[13]
    assert event["allowed"] is True
    assert split.isSource(accounts[13])
    tx = split.setSource(accounts[13], False, {"from": people.admin})
    assert tx.events["SourceSet"]["allowed"] is False
    assert not split.isSource(accounts[13])


def test_set_source_is_idempotent(split, system, people, accounts):
    assert len(split.setSource(system.market, True, {"from": people.admin}).events) == 0
    assert len(split.setSource(accounts[13], False, {"from": people.admin}).events) == 0


def test_set_source_reverts_on_zero_address(split, people):
    with reverts_with("RevenueSplitZeroAddress"):
        split.setSource(ZERO, True, {"from": people.admin})


def test_set_source_reverts_for_non_admin(split, people, accounts):
    with reverts_with("CityAccessMissingRole", people.operator, ROLES["CITY_ADMIN"]):
        split.setSource(accounts[13], True, {"from": people.operator})


def test_removed_source_cannot_allocate(split, system, people, slot_id, resident, day):
    lease = book(system, slot_id, resident, day + 10 * HOUR, day + 12 * HOUR)
    split.setSource(system.market, False, {"from": people.admin})
    mine_at(day + 10 * HOUR)
    system.market.checkIn(lease, {"from": resident})
    with reverts_with("RevenueSplitNotSource", system.market):
        system.market.checkOut(lease, {"from": resident})


def test_direct_source_allocate_emits_and_credits(
    split, system, people, owner, resident, direct_source
):
    system.credit.transfer(split, 601, {"from": resident})  # the escrow a market would hold
    tx = split.allocate(PERSONAL, owner, 601, {"from": direct_source})
    event = tx.events["RevenueAllocated"]
    assert event["source"] == direct_source
    assert event["owner"] == owner
    assert event["category"] == PERSONAL
    assert event["amount"] == 601
    parts = (event["ownerShare"], event["villageShare"], event["cityShare"], event["platformShare"])
    assert parts == expected_split(DEFAULTS[PERSONAL], 601) == (360, 151, 0, 90)
    assert split.claimable(owner) == 360
    assert split.claimable(people.village_enterprise) == 151
    assert split.claimable(people.platform) == 90
    assert split.claimable(people.city_fund) == 0


def test_direct_source_refund_emits_and_pays(split, system, people, residents, direct_source):
    first, second = residents
    system.credit.transfer(split, 500, {"from": first})
    tx = split.refund(second, 500, {"from": direct_source})
    event = tx.events["EscrowRefunded"]
    assert event["source"] == direct_source
    assert event["to"] == second
    assert event["amount"] == 500
    assert system.credit.balanceOf(second) == 1_000_500


def test_refund_to_stranger_is_deferred_and_not_payable(
    split, system, resident, stranger, direct_source
):
    system.credit.transfer(split, 500, {"from": resident})
    tx = split.refund(stranger, 500, {"from": direct_source})
    assert tx.events["RefundDeferred"]["amount"] == 500
    assert "EscrowRefunded" not in tx.events
    assert split.deferredRefundOf(stranger) == 500
    # A non-member can never receive credits, so claiming it still fails by name.
    with reverts_with("CityCreditPartyNotAllowed", stranger):
        split.claim({"from": stranger})


def test_allocate_of_resident_priority_pays_no_owner(split, system, people, owner, direct_source):
    tx = split.allocate(RESIDENT_PRIORITY, owner, 30_000, {"from": direct_source})
    event = tx.events["RevenueAllocated"]
    assert (event["ownerShare"], event["villageShare"], event["cityShare"]) == (0, 21_000, 9_000)
    assert split.claimable(owner) == 0
    assert split.accountOf(owner)[0] == 0  # no owner account opened for a zero share
    assert split.claimable(people.village_enterprise) == 21_000


def test_allocate_reverts_when_owner_balance_overflows(split, owner, direct_source):
    # half of 2**65 is 2**64, one more than an owner's uint64 balance holds
    with reverts_with("RevenueSplitAmountTooLarge", 2**64):
        split.allocate(PRIVATE_LOT, owner, 2**65, {"from": direct_source})


def test_allocate_reverts_when_house_balance_overflows(split, direct_source, owner):
    # 70% of 2**80 to the village does not fit its 72-bit house field
    with reverts_with("RevenueSplitAmountTooLarge", 2**80):
        split.allocate(RESIDENT_PRIORITY, owner, 2**80, {"from": direct_source})


# ---------------------------------------------------------------------------------- credit


def test_credit_is_fixed_at_deployment(split, system):
    # An immutable of the constructor: there is no setter to call, or to call twice.
    assert split.credit() == system.credit
    assert system.credit.escrowVault() == split
    assert not any(e.get("name") == "setCredit" for e in split.abi)


# ----------------------------------------------------------------------------------- claim


def test_claim_pays_owner_after_settlement(split, system, owner, resident, slot_id, day):
    tx = settle(system, slot_id, resident, day + 10 * HOUR, day + 12 * HOUR)
    allocated = tx.events["RevenueAllocated"]
    assert allocated["source"] == system.market
    assert allocated["amount"] == PRICE_2H
    assert split.claimable(owner) == 1440
    epoch, earned, claimed, balance = split.accountOf(owner)
    assert (epoch, earned, claimed, balance) == (epoch_of(day + 10 * HOUR), 1440, 0, 1440)
    before = system.credit.balanceOf(owner)
    tx = split.claim({"from": owner})
    assert tx.return_value == 1440
    assert tx.events["Claimed"]["payee"] == owner
    assert tx.events["Claimed"]["amount"] == 1440
    transfer = tx.events["Transfer"]
    assert (transfer["from"], transfer["to"], transfer["value"]) == (split, owner, 1440)
    assert system.credit.balanceOf(owner) == before + 1440
    assert split.claimable(owner) == 0
    assert tuple(split.accountOf(owner))[1:] == (1440, 1440, 0)


def test_claim_pays_house_payees(split, system, people, resident, slot_id, public_slot, day):
    settle(system, slot_id, resident, day + 10 * HOUR, day + 12 * HOUR)  # personal
    settle(system, public_slot, resident, day + 13 * HOUR, day + 15 * HOUR)  # public lot
    village = 600 + 720
    city = 1440
    platform = 360 + 240
    epoch, v, c, p = split.houseBalances()
    assert (epoch, v, c, p) == (epoch_of(day + 13 * HOUR), village, city, platform)
    for payee, amount in (
        (people.village_enterprise, village),
        (people.city_fund, city),
        (people.platform, platform),
    ):
        assert split.claimable(payee) == amount
        before = system.credit.balanceOf(payee)
        tx = split.claim({"from": payee})
        assert tx.events["Claimed"]["payee"] == payee
        assert tx.events["Claimed"]["amount"] == amount
        assert system.credit.balanceOf(payee) == before + amount
        assert split.claimable(payee) == 0
    assert tuple(split.houseBalances())[1:] == (0, 0, 0)


def test_claim_by_one_house_payee_leaves_the_others(
    split, system, people, resident, public_slot, day
):
    settle(system, public_slot, resident, day + 13 * HOUR, day + 15 * HOUR)
    split.claim({"from": people.city_fund})
    assert tuple(split.houseBalances())[1:] == (720, 0, 240)
    assert split.claimable(people.village_enterprise) == 720
    assert split.claimable(people.platform) == 240


def test_claim_pays_owner_and_house_share_together(
    split, system, people, resident, platform_slot, day
):
    settle(system, platform_slot, resident, day + 10 * HOUR, day + 12 * HOUR)
    assert split.claimable(people.platform) == 1440 + 360
    tx = split.claim({"from": people.platform})
    assert tx.events["Claimed"]["amount"] == 1800
    assert split.claimable(people.platform) == 0


def test_claim_reverts_when_nothing_to_claim(split, people, owner, stranger):
    for payee in (owner, stranger, people.village_enterprise, people.city_fund, people.platform):
        with reverts_with("RevenueSplitNothingToClaim", payee):
            split.claim({"from": payee})


def test_claim_reverts_on_second_claim(split, system, owner, resident, slot_id, day):
    settle(system, slot_id, resident, day + 10 * HOUR, day + 12 * HOUR)
    split.claim({"from": owner})
    with reverts_with("RevenueSplitNothingToClaim", owner):
        split.claim({"from": owner})


def test_claim_by_suspended_owner_reverts_and_keeps_balance(
    split, system, people, owner, resident, slot_id, day
):
    settle(system, slot_id, resident, day + 10 * HOUR, day + 12 * HOUR)
    system.access.suspend(owner, b"\x01" * 32, {"from": people.operator})
    with reverts_with("CityCreditPartyNotAllowed", owner):
        split.claim({"from": owner})
    assert split.claimable(owner) == 1440


def test_settlement_with_overstay_allocates_price_and_charge(
    split, system, owner, resident, slot_id, day
):
    lease = book(system, slot_id, resident, day + 10 * HOUR, day + 12 * HOUR)
    mine_at(day + 10 * HOUR)
    system.market.checkIn(lease, {"from": resident})
    mine_at(day + 12 * HOUR + 25 * 60)  # 3 started 10-minute steps late
    tx = system.market.checkOut(lease, {"from": resident})
    amount = PRICE_2H + 3 * 200 + 2000
    assert tx.events["RevenueAllocated"]["amount"] == amount
    assert split.claimable(owner) == expected_split(DEFAULTS[PERSONAL], amount)[0]


# ------------------------------------------------------------------------ monthly statements


def _month_with_claims(system, split, people, owner, resident, slot_id, public_slot, day):
    """Month M: two personal and one public settlement; owner and village claim in between.

    Returns (M, expected statements by kind as (earned, claimed, closing))."""
    settle(system, slot_id, resident, day + 8 * HOUR, day + 10 * HOUR)
    split.claim({"from": owner})  # 1440
    settle(system, public_slot, resident, day + 11 * HOUR, day + 13 * HOUR)
    settle(system, slot_id, resident, day + 14 * HOUR, day + 16 * HOUR)
    split.claim({"from": people.village_enterprise})  # 600 + 720 + 600
    month = epoch_of(day + 14 * HOUR)
    assert epoch_of(day + 8 * HOUR) == month
    return month, {
        OWNER_KIND: (2880, 1440, 1440),
        VILLAGE_KIND: (1920, 1920, 0),
        CITY_KIND: (1440, 0, 1440),
        PLATFORM_KIND: (960, 0, 960),
    }


def _check_statements(tx, month, expected, people, owner):
    found = statements(tx)
    assert set(found) == set(expected)
    payees = {
        OWNER_KIND: owner,
        VILLAGE_KIND: people.village_enterprise,
        CITY_KIND: people.city_fund,
        PLATFORM_KIND: people.platform,
    }
    for kind, (earned, claimed, closing) in expected.items():
        event = found[kind]
        assert event["payee"] == payees[kind]
        assert event["epoch"] == month
        assert (event["earned"], event["claimed"], event["closingBalance"]) == (
            earned,
            claimed,
            closing,
        )


def test_close_statements_after_month_end(
    split, system, people, owner, resident, slot_id, public_slot, day
):
    month, expected = _month_with_claims(
        system, split, people, owner, resident, slot_id, public_slot, day
    )
    # closing in the same month emits nothing
    assert (
        "MonthlyStatement" not in split.closeStatements([owner], {"from": people.operator}).events
    )
    next_month = next_month_start(day)
    mine_at(next_month + HOUR)
    tx = split.closeStatements([owner], {"from": people.operator})
    assert len(tx.events["MonthlyStatement"]) == 4
    _check_statements(tx, month, expected, people, owner)
    # the open statements now belong to the next month, carrying the balances over
    assert tuple(split.accountOf(owner)) == (month + 1, 0, 0, 1440)
    assert tuple(split.houseBalances()) == (month + 1, 0, 1440, 960)
    assert split.currentEpoch() == month + 1
    # a second close in the same month emits nothing
    again = split.closeStatements([owner], {"from": people.operator})
    assert "MonthlyStatement" not in again.events
    assert len(again.events) == 0


def test_close_statements_by_anyone_and_for_unknown_payees(
    split, system, people, owner, resident, slot_id, stranger, day
):
    settle(system, slot_id, resident, day + 8 * HOUR, day + 10 * HOUR)
    mine_at(next_month_start(day) + HOUR)
    tx = split.closeStatements([stranger, people.city_fund], {"from": resident})
    # no owner accounts among the list: only the house statements
    assert set(statements(tx)) == {VILLAGE_KIND, CITY_KIND, PLATFORM_KIND}
    tx = split.closeStatements([owner, owner], {"from": resident})
    assert len(tx.events["MonthlyStatement"]) == 1
    assert statements(tx)[OWNER_KIND]["earned"] == 1440


def test_next_month_statement_uses_opening_balance(
    split, system, people, owner, resident, slot_id, public_slot, day
):
    month, _ = _month_with_claims(system, split, people, owner, resident, slot_id, public_slot, day)
    second = next_month_start(day)
    mine_at(second + HOUR)
    split.closeStatements([owner], {"from": people.operator})
    # month M+1: one more personal settlement, then everyone claims everything
    start = second + 10 * HOUR
    settle(system, slot_id, resident, start, start + 2 * HOUR)
    for payee in (owner, people.village_enterprise, people.city_fund, people.platform):
        split.claim({"from": payee})
    mine_at(next_month_start(second) + HOUR)
    tx = split.closeStatements([owner], {"from": people.operator})
    expected = {
        OWNER_KIND: (1440, 2880, 0),
        VILLAGE_KIND: (600, 600, 0),
        CITY_KIND: (0, 1440, 0),
        PLATFORM_KIND: (360, 1320, 0),
    }
    _check_statements(tx, month + 1, expected, people, owner)


def test_first_allocation_of_a_month_rolls_statements(
    split, system, people, owner, resident, slot_id, public_slot, day
):
    month, expected = _month_with_claims(
        system, split, people, owner, resident, slot_id, public_slot, day
    )
    second = next_month_start(day)
    mine_at(second + HOUR)
    start = second + 10 * HOUR
    tx = settle(system, slot_id, resident, start, start + 2 * HOUR)
    assert len(tx.events["MonthlyStatement"]) == 4
    _check_statements(tx, month, expected, people, owner)
    assert tuple(split.accountOf(owner)) == (month + 1, 1440, 0, 2880)
    assert tuple(split.houseBalances()) == (month + 1, 600, 1440, 960 + 360)
    assert len(split.closeStatements([owner], {"from": people.operator}).events) == 0


def test_first_claim_of_a_month_rolls_statements(
    split, system, people, owner, resident, slot_id, public_slot, day
):
    month, expected = _month_with_claims(
        system, split, people, owner, resident, slot_id, public_slot, day
    )
    mine_at(next_month_start(day) + HOUR)
    tx = split.claim({"from": owner})
    assert tx.events["Claimed"]["amount"] == 1440
    _check_statements(tx, month, {OWNER_KIND: expected[OWNER_KIND]}, people, owner)
    tx = split.claim({"from": people.city_fund})
    house = {k: v for k, v in expected.items() if k != OWNER_KIND}
    _check_statements(tx, month, house, people, owner)
    tx = split.closeStatements([owner], {"from": people.operator})
    assert "MonthlyStatement" not in tx.events


def test_owner_statement_is_emitted_once_for_a_house_payee_owner(
    split, system, people, resident, platform_slot, public_slot, day
):
    settle(system, platform_slot, resident, day + 10 * HOUR, day + 12 * HOUR)
    split.claim({"from": people.platform})  # owner share 1440 and house share 360
    month = epoch_of(day + 10 * HOUR)
    second = next_month_start(day)
    mine_at(second + HOUR)
    start = second + 10 * HOUR
    settle(system, public_slot, resident, start, start + 2 * HOUR)  # house share only
    tx = split.claim({"from": people.platform})
    owner_statements = [e for e in tx.events["MonthlyStatement"] if e["kind"] == OWNER_KIND]
    assert len(owner_statements) == 1
    assert owner_statements[0]["epoch"] == month
    tx = split.closeStatements([people.platform], {"from": people.operator})
    assert "MonthlyStatement" not in tx.events


# ----------------------------------------------------------------------------- invariant


def test_vault_balance_equals_open_escrow_plus_claimables(
    split, system, people, owner, residents, slot_id, public_slot, day
):
    first, second = residents
    payees = [owner, people.village_enterprise, people.city_fund, people.platform]
    prices = {}

    def booked(slot, lessee, start_hour, end_hour):
        tx = system.market.book(
            slot, day + start_hour * HOUR, day + end_hour * HOUR, 10**9, {"from": lessee}
        )
        prices[tx.return_value] = tx.events["LeaseBooked"]["price"]
        return tx.return_value

    def check():
        escrow = sum(
            price
            for lease, price in prices.items()
            if system.market.leaseOf(lease)[2] in (BOOKED, CHECKED_IN)
        )
        claimables = sum(split.claimable(p) for p in payees)
        assert system.credit.balanceOf(split) == escrow + claimables

    check()
    a = booked(slot_id, first, 10, 12)
    b = booked(slot_id, first, 13, 15)
    c = booked(public_slot, second, 10, 12)
    d = booked(slot_id, second, 16, 18)
    e = booked(public_slot, first, 14, 16)
    check()
    system.market.cancel(d, {"from": second})  # within the grace period: full refund
    check()
    mine_at(day + 10 * HOUR)
    system.market.checkIn(a, {"from": first})
    system.market.checkIn(c, {"from": people.oracle})
    check()
    mine_at(day + 12 * HOUR + 25 * 60)
    system.market.checkOut(a, {"from": first})  # with overstay, paid
    system.market.checkOut(c, {"from": people.oracle})
    check()
    split.claim({"from": owner})
    split.claim({"from": people.city_fund})
    check()
    system.market.cancel(b, {"from": first})  # after the cut-off: half back, half allocated
    check()
    mine_at(day + 16 * HOUR)
    system.market.settleNoShow(e, {"from": people.operator})
    check()
    split.claim({"from": people.village_enterprise})
    split.claim({"from": people.platform})
    check()
    assert system.credit.balanceOf(split) == sum(split.claimable(p) for p in payees)


def test_refund_to_suspended_lessee_is_deferred_until_claimed(
    system, people, resident, owner, slot_id, day
):
    """An owner can still withdraw a slot booked by a member who was suspended since: the
    refund waits in the vault and is paid with the member's next claim once reinstated."""
    lease = system.market.book(
        slot_id, day + 10 * HOUR, day + 12 * HOUR, 10_000, {"from": resident}
    ).return_value
    system.access.suspend(resident, b"\x00" * 32, {"from": people.admin})
    tx = system.market.ownerCancel(lease, {"from": owner})
    assert tx.events["RefundDeferred"]["to"] == resident
    assert tx.events["RefundDeferred"]["amount"] == 2400
    assert system.split.deferredRefundOf(resident) == 2400
    assert system.split.claimable(resident) == 2400
    system.access.reinstate(resident, {"from": people.admin})
    before = system.credit.balanceOf(resident)
    tx = system.split.claim({"from": resident})
    assert tx.events["Claimed"]["amount"] == 2400
    assert system.credit.balanceOf(resident) - before == 2400
    assert system.split.deferredRefundOf(resident) == 0
