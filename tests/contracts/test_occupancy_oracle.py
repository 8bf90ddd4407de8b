"""OccupancyOracle: reports, signatures and quorum, freshness, and driving the lease market."""

from __future__ import annotations

import brownie
import pytest
from brownie import web3
from eth_utils import keccak

from citypass.chain.deploy_sensors import HEARTBEAT_SECONDS, MARGIN_SECONDS, MAX_CLOCK_SKEW_SECONDS
from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.occupancy_report import (
    MAX_REPORT_WORDS,
    MAX_SLOT_ID,
    OccupancyReport,
    ReportDomain,
    build_report,
    report_args,
    report_digest,
    sign_report,
    sign_report_quorum,
    signer_address,
)
from citypass.protocol.roles import ROLES
from tests.contract_helpers import deploy_refused, head_time, mine_at, reverts_with

# Throwaway test keys (never used outside tests).
KEYS = [bytes([n]) * 32 for n in (0x31, 0x32, 0x33)]
FOREIGN_KEY = bytes([0x44]) * 32
FREE, OCCUPIED, UNKNOWN = 0, 1, 2
MAX_REPORT_AGE = 24 * 3600
HOUR = 3600
BOOKED, CHECKED_IN, SETTLED = 1, 2, 3


@pytest.fixture(scope="module")
def domain(oracle):
    return ReportDomain(web3.eth.chain_id, oracle.address)


@pytest.fixture(scope="module")
def signer(oracle, people):
    """KEYS[0] replaces the deployment's signer (whose key the tests do not hold)."""
    oracle.setSigner(signer_address(KEYS[0]), True, {"from": people.admin})
    oracle.setSigner(people.oracle, False, {"from": people.admin})
    return KEYS[0]


@pytest.fixture
def submit(oracle, domain, people, signer):
    """Submit the next report of `observed` (slot → occupied) signed by `keys`."""

    def _submit(observed, at=None, keys=None, sequence=None):
        report = build_report(sequence or oracle.lastSequence() + 1, at or head_time(), observed)
        signatures = sign_report_quorum(report, keys or [signer], domain)
        return oracle.submitReport(report_args(report), signatures, {"from": people.oracle}), report

    return _submit


def _raw(oracle, domain, signer, people, report: OccupancyReport):
    return oracle.submitReport(
        report_args(report), [sign_report(report, signer, domain)], {"from": people.oracle}
    )


# ------------------------------------------------------------------------------- deployment


def test_deployment_wires_signer_quorum_and_roles(system, people):
    oracle = system.occupancy
    assert oracle.signers() == [people.oracle]
    assert oracle.quorum() == 1
    assert (oracle.heartbeat(), oracle.margin()) == (HEARTBEAT_SECONDS, MARGIN_SECONDS)
    assert system.access.hasRole(ROLES["ORACLE"], oracle)
    assert system.incidents.occupancyOracle() == oracle
    assert (oracle.market(), oracle.slots(), oracle.incidents()) == (
        system.market,
        system.slots,
        system.incidents,
    )


@pytest.mark.parametrize(
    "config, zero_at, error",
    [
        ((HOUR, 59, HOUR, 10), None, ("OccupancyOracleInvalidConfig",)),  # margin below a minute
        # heartbeat beyond the freshness ring
        ((7 * 1800, 1800, HOUR, 60), None, ("OccupancyOracleInvalidConfig",)),
        # heartbeat not a multiple of the margin
        ((HOUR + 1, 1800, HOUR, 60), None, ("OccupancyOracleInvalidConfig",)),
        ((HOUR, 1800, 0, 60), None, ("OccupancyOracleInvalidConfig",)),  # no report age
        ((HOUR, 1800, HOUR, 1801), None, ("OccupancyOracleInvalidConfig",)),  # skew over a bucket
        ((HOUR, 1800, HOUR, 60), 4, ("OccupancyOracleZeroAddress",)),  # no oracle account
    ],
)
def test_constructor_rejects_bad_parameters(system, people, config, zero_at, error):
    wiring = [system.access, system.incidents, system.market, system.slots, people.oracle]
    deploy_refused("OccupancyOracle", people.admin, wiring, config, zero_at, error)


# ---------------------------------------------------------------------------------- reports


def test_submit_report_sets_bits_and_emits(oracle, domain, submit):
    at = head_time()
    tx, report = submit({1: True, 2: False, 300: True}, at=at)
    assert oracle.occupancyWord(0) == 1 << 1
    assert oracle.occupancyWord(1) == 1 << 44
    digest = report_digest(report, domain)
    assert oracle.reportDigest(report_args(report)) == "0x" + digest.hex()
    event = tx.events["OccupancyReported"]
    assert dict(event) == {
        "sequence": 1,
        "observedAt": at,
        "words": 2,
        "observed": 3,
        "changed": 2,
        "digest": "0x" + digest.hex(),
    }
    assert "SlotOccupancyChanged" not in tx.events  # no market slots
    assert (oracle.lastSequence(), oracle.lastObservedAt()) == (1, at)
    assert [oracle.occupancyOf(s) for s in (1, 2, 3, 300)] == [OCCUPIED, FREE, UNKNOWN, OCCUPIED]
    assert oracle.lastSeenOf(1) == at // MARGIN_SECONDS * MARGIN_SECONDS
    assert oracle.lastSeenOf(3) == 0


def test_report_masks_leave_other_bits_alone(oracle, submit):
    submit({5: True, 6: True, 7: True})
    tx, _ = submit({6: False, 8: True})
    assert oracle.occupancyWord(0) == (1 << 5) | (1 << 7) | (1 << 8)
    assert tx.events["OccupancyReported"]["changed"] == 2
    assert tx.events["OccupancyReported"]["observed"] == 2


def test_submit_reverts_on_duplicate_and_out_of_order(submit):
    submit({1: True})
    with reverts_with("OccupancyOracleDuplicateReport", 1, 1):
        submit({1: False}, sequence=1)
    with reverts_with("OccupancyOracleOutOfOrder", 3, 2):
        submit({1: False}, sequence=3)


def test_submit_reverts_when_older_than_last_report(submit):
    at = head_time()
    submit({1: True}, at=at)
    with reverts_with("OccupancyOracleStaleReport", at - 1, at):
        submit({1: False}, at=at - 1)


def test_submit_reverts_when_older_than_max_report_age(submit):
    now = head_time() + 1000
    mine_at(now)
    web3.provider.make_request("evm_setNextBlockTimestamp", [now + 10])
    with reverts_with(
        "OccupancyOracleStaleReport", now - MAX_REPORT_AGE, now + 10 - MAX_REPORT_AGE
    ):
        submit({1: True}, at=now - MAX_REPORT_AGE)


def test_submit_reverts_in_the_future(submit):
    now = head_time() + 1000
    mine_at(now)
    web3.provider.make_request("evm_setNextBlockTimestamp", [now + 10])
    limit = now + 10 + MAX_CLOCK_SKEW_SECONDS
    with reverts_with("OccupancyOracleFutureReport", limit + 1, limit):
        submit({1: True}, at=limit + 1)


@pytest.mark.parametrize(
    "words, masks, values, error, args",
    [
        ((), (), (), "OccupancyOracleMalformedReport", (0, 0, 0)),
        ((0,), (2, 4), (0,), "OccupancyOracleMalformedReport", (1, 2, 1)),
        ((0,), (2,), (), "OccupancyOracleMalformedReport", (1, 1, 0)),
        (tuple(range(65)), (2,) * 65, (0,) * 65, "OccupancyOracleMalformedReport", (65, 65, 65)),
        ((1, 0), (2, 2), (0, 0), "OccupancyOracleInvalidWord", (0,)),
        ((1, 1), (2, 2), (0, 0), "OccupancyOracleInvalidWord", (1,)),
        ((256,), (2,), (0,), "OccupancyOracleInvalidWord", (256,)),
        ((3,), (2,), (6,), "OccupancyOracleValueOutsideMask", (3,)),
        ((0,), (3,), (0,), "OccupancyOracleInvalidSlot", (0,)),
    ],
)
def test_submit_reverts_on_malformed_report(
    oracle, domain, signer, people, words, masks, values, error, args
):
    report = OccupancyReport(1, head_time(), words, masks, values)
    with reverts_with(error, *args):
        _raw(oracle, domain, signer, people, report)


def test_submit_reverts_for_non_oracle(oracle, domain, signer, stranger, owner):
    report = build_report(1, head_time(), {1: True})
    signature = sign_report(report, signer, domain)
    for caller in (stranger, owner):
        with reverts_with("CityAccessMissingRole", caller, ROLES["ORACLE"]):
            oracle.submitReport(report_args(report), [signature], {"from": caller})


def test_submit_reverts_on_foreign_or_malformed_signature(oracle, domain, people, signer):
    report = build_report(1, head_time(), {1: True})
    good = sign_report(report, signer, domain)
    high_s = good[:32] + (2**256 - 1).to_bytes(32, "big") + good[64:]
    for bad in (sign_report(report, FOREIGN_KEY, domain), good[:64], high_s, b""):
        with reverts_with("OccupancyOracleInvalidSignature", 0):
            oracle.submitReport(report_args(report), [bad], {"from": people.oracle})
    # Signed for another deployment (domain) is foreign too.
    other = sign_report(report, signer, ReportDomain(domain.chain_id, "0x" + "00" * 19 + "01"))
    with reverts_with("OccupancyOracleInvalidSignature", 0):
        oracle.submitReport(report_args(report), [other], {"from": people.oracle})
    with reverts_with("OccupancyOracleQuorumNotMet", 0, 1):
        oracle.submitReport(report_args(report), [], {"from": people.oracle})


# ---------------------------------------------------------------------------- signers/quorum


@pytest.fixture
def two_of_three(oracle, people, signer):
    for key in KEYS[1:]:
        oracle.setSigner(signer_address(key), True, {"from": people.admin})
    tx = oracle.setQuorum(2, {"from": people.admin})
    assert tx.events["QuorumSet"]["quorum"] == 2
    return KEYS


def _sorted_keys(keys):
    return sorted(keys, key=lambda k: int(signer_address(k), 16))


def test_quorum_two_of_three_accepts_any_two_distinct(oracle, submit, two_of_three):
    ordered = _sorted_keys(two_of_three)
    submit({1: True}, keys=ordered[:2])
    submit({1: False}, keys=[ordered[0], ordered[2]])
    submit({1: True}, keys=ordered)
    assert oracle.lastSequence() == 3 and oracle.occupancyWord(0) == 2


def test_quorum_two_of_three_rejects_one_duplicate_unsorted_or_foreign(
    oracle, domain, people, two_of_three
):
    report = build_report(1, head_time(), {1: True})
    ordered = _sorted_keys(two_of_three)
    sig = {k: sign_report(report, k, domain) for k in ordered + [FOREIGN_KEY]}
    args = report_args(report)
    sender = {"from": people.oracle}
    with reverts_with("OccupancyOracleQuorumNotMet", 1, 2):
        oracle.submitReport(args, [sig[ordered[0]]], sender)
    with reverts_with("OccupancyOracleInvalidSignature", 1):
        oracle.submitReport(args, [sig[ordered[0]], sig[ordered[0]]], sender)
    with reverts_with("OccupancyOracleInvalidSignature", 1):
        oracle.submitReport(args, [sig[ordered[1]], sig[ordered[0]]], sender)
    with_foreign = sorted([ordered[0], FOREIGN_KEY], key=lambda k: int(signer_address(k), 16))
    with reverts_with("OccupancyOracleInvalidSignature", with_foreign.index(FOREIGN_KEY)):
        oracle.submitReport(args, [sig[k] for k in with_foreign], sender)


def test_set_signer_emits_and_lists(oracle, people, signer):
    address = signer_address(KEYS[1])
    tx = oracle.setSigner(address, True, {"from": people.admin})
    assert dict(tx.events["SignerSet"]) == {"signer": address, "registered": True}
    assert set(oracle.signers()) == {signer_address(signer), address}
    tx = oracle.setSigner(address, False, {"from": people.admin})
    assert dict(tx.events["SignerSet"]) == {"signer": address, "registered": False}
    assert oracle.signers() == [signer_address(signer)]


def test_set_signer_reverts(oracle, people, signer, stranger):
    address = signer_address(signer)
    with reverts_with("OccupancyOracleSignerUnchanged", address, True):
        oracle.setSigner(address, True, {"from": people.admin})
    with reverts_with("OccupancyOracleSignerUnchanged", people.oracle, False):
        oracle.setSigner(people.oracle, False, {"from": people.admin})
    with reverts_with("OccupancyOracleZeroAddress"):
        oracle.setSigner(brownie.ZERO_ADDRESS, True, {"from": people.admin})
    # Removing the only signer would leave quorum 1 > 0 signers.
    with reverts_with("OccupancyOracleInvalidQuorum", 1, 0):
        oracle.setSigner(address, False, {"from": people.admin})
    with reverts_with("CityAccessMissingRole", stranger, ROLES["CITY_ADMIN"]):
        oracle.setSigner(stranger, True, {"from": stranger})


def test_set_quorum_reverts_and_is_silent_when_unchanged(oracle, people, two_of_three, stranger):
    with reverts_with("OccupancyOracleInvalidQuorum", 0, 3):
        oracle.setQuorum(0, {"from": people.admin})
    with reverts_with("OccupancyOracleInvalidQuorum", 4, 3):
        oracle.setQuorum(4, {"from": people.admin})
    with reverts_with("CityAccessMissingRole", stranger, ROLES["CITY_ADMIN"]):
        oracle.setQuorum(1, {"from": stranger})
    assert "QuorumSet" not in oracle.setQuorum(2, {"from": people.admin}).events
    with reverts_with("OccupancyOracleInvalidQuorum", 2, 1):
        oracle.setSigner(signer_address(KEYS[1]), False, {"from": people.admin})
        oracle.setSigner(signer_address(KEYS[2]), False, {"from": people.admin})
    assert oracle.quorum() == 2


# -------------------------------------------------------------------------------- freshness


def test_slot_turns_unknown_after_heartbeat_and_margin(oracle, submit):
    at = head_time() + 100
    mine_at(at)
    submit({1: True, 2: False}, at=at)
    bucket_start = at // MARGIN_SECONDS * MARGIN_SECONDS
    assert oracle.lastSeenOf(1) == bucket_start
    # Never sooner than heartbeat + margin after the observation ...
    mine_at(at + HEARTBEAT_SECONDS + MARGIN_SECONDS)
    assert (oracle.occupancyOf(1), oracle.occupancyOf(2)) == (OCCUPIED, FREE)
    # ... and at the latest heartbeat + 2 margins after its bucket's start.
    mine_at(bucket_start + HEARTBEAT_SECONDS + 2 * MARGIN_SECONDS)
    assert (oracle.occupancyOf(1), oracle.occupancyOf(2)) == (UNKNOWN, UNKNOWN)
    assert oracle.occupancyWord(0) == 2  # the bit is kept; only its freshness lapsed


def test_heartbeat_keeps_slot_fresh_across_many_buckets(oracle, submit):
    at = head_time() + 100
    for step in range(12):  # 12 reports, one per 50 min: the ring wraps around
        mine_at(at + step * 3000)
        submit({1: step % 2 == 0, 2: True} if step % 3 else {1: step % 2 == 0}, at=at + step * 3000)
        assert oracle.occupancyOf(1) == (OCCUPIED if step % 2 == 0 else FREE)
        assert oracle.lastSeenOf(1) == (at + step * 3000) // MARGIN_SECONDS * MARGIN_SECONDS
    assert oracle.occupancyOf(2) == OCCUPIED  # last seen at step 10, 100 min ago


def test_views_revert_on_invalid_slot(oracle):
    for slot in (0, 65536):
        with reverts_with("OccupancyOracleInvalidSlot", slot):
            oracle.occupancyOf(slot)
        with reverts_with("OccupancyOracleInvalidSlot", slot):
            oracle.lastSeenOf(slot)


# ----------------------------------------------------------------------------- market slots


def _flag(oracle, people, *slot_ids):
    masks: dict[int, int] = {}
    for slot in slot_ids:
        masks[slot >> 8] = masks.get(slot >> 8, 0) | (1 << (slot & 255))
    for word, mask in masks.items():
        oracle.setMarketSlots(word, oracle.marketSlots(word) | mask, {"from": people.operator})


def test_set_market_slots_emits_only_on_change(oracle, people, stranger):
    tx = oracle.setMarketSlots(2, 0b1010, {"from": people.operator})
    assert dict(tx.events["MarketSlotsSet"]) == {"wordIndex": 2, "mask": 0b1010}
    assert oracle.marketSlots(2) == 0b1010
    assert "MarketSlotsSet" not in oracle.setMarketSlots(2, 0b1010, {"from": people.admin}).events
    with reverts_with("OccupancyOracleInvalidWord", 256):
        oracle.setMarketSlots(256, 2, {"from": people.operator})
    with reverts_with("OccupancyOracleInvalidSlot", 0):
        oracle.setMarketSlots(0, 1, {"from": people.operator})
    with reverts_with("CityAccessMissingRole", stranger, ROLES["OPERATOR"]):
        oracle.setMarketSlots(2, 0, {"from": stranger})


@pytest.fixture
def lease(market, resident, slot_id, day):
    """A lease of slot_id from 10:00 to 12:00 KST on `day`; the chain is at 02:00 the day before."""
    start = day + 10 * HOUR
    return market.book(slot_id, start, start + 2 * HOUR, 10**9, {"from": resident}).return_value


def test_arrival_inside_lease_checks_in(oracle, market, people, submit, slot_id, lease, day):
    _flag(oracle, people, slot_id)
    mine_at(day + 10 * HOUR + 300)
    tx, _ = submit({slot_id: True})
    assert market.leaseOf(lease)["status"] == CHECKED_IN
    assert dict(tx.events["LeaseDriven"]) == {
        "slotId": slot_id,
        "leaseId": lease,
        "checkedIn": True,
    }
    assert tx.events["LeaseCheckedIn"]["by"] == oracle
    assert dict(tx.events["SlotOccupancyChanged"])["occupied"] is True
    assert oracle.parkedLeaseOf(slot_id) == lease


def test_departure_after_end_settles_with_overstay(
    oracle, market, people, submit, slot_id, lease, day, resident, credit
):
    _flag(oracle, people, slot_id)
    mine_at(day + 10 * HOUR + 300)
    submit({slot_id: True})
    balance = credit.balanceOf(resident)
    mine_at(day + 12 * HOUR + 25 * 60)  # 25 minutes over: three started 10-minute steps
    tx, _ = submit({slot_id: False})
    settled = tx.events["LeaseSettled"]
    assert settled["leaseId"] == lease and settled["by"] == oracle
    assert settled["overstayCharge"] == 3 * 200 + 2000 and settled["overstayPaid"] is True
    assert credit.balanceOf(resident) == balance - settled["overstayCharge"]
    assert market.leaseOf(lease)["status"] == SETTLED
    assert dict(tx.events["LeaseDriven"]) == {
        "slotId": slot_id,
        "leaseId": lease,
        "checkedIn": False,
    }
    assert oracle.parkedLeaseOf(slot_id) == 0


def test_departure_checks_out_a_lease_checked_in_by_hand(
    oracle, market, people, submit, slot_id, lease, day, resident
):
    _flag(oracle, people, slot_id)
    mine_at(day + 9 * HOUR)
    submit({slot_id: True})  # an hour before the lease: no lease yet
    mine_at(day + 10 * HOUR)
    market.checkIn(lease, {"from": resident})
    mine_at(day + 11 * HOUR)
    tx, _ = submit({slot_id: False})
    assert market.leaseOf(lease)["status"] == SETTLED
    assert tx.events["LeaseDriven"]["checkedIn"] is False


def test_arrival_without_lease_in_window_files_incident(
    oracle, incidents, people, submit, slot_id, day, domain
):
    _flag(oracle, people, slot_id)
    mine_at(day + 14 * HOUR)
    tx, report = submit({slot_id: True})
    digest = report_digest(report, domain)
    source = keccak(digest + slot_id.to_bytes(32, "big"))
    incident_id = incidents.incidentBySource(source)
    assert incident_id == 1
    event = tx.events["IncidentReported"]
    assert (event["kind"], event["slotId"], event["reporter"]) == (1, slot_id, oracle)
    assert (event["latE6"], event["lonE6"]) == (37_503_000, 126_787_000)
    assert event["contentHash"] == "0x" + digest.hex() and event["evidenceCid"] == "0x"
    assert "LeaseDriven" not in tx.events
    assert incidents.incidentOf(incident_id)["status"] == 1


def test_arrival_outside_sharing_windows_is_not_an_incident(
    oracle, incidents, slots, people, owner, submit, slot_id, day
):
    slots.setWindows(slot_id, [Window(EVERY_DAY, 18, 36).as_tuple()], {"from": owner})  # 9–18 h
    _flag(oracle, people, slot_id)
    mine_at(day + 20 * HOUR)
    tx, _ = submit({slot_id: True})
    assert incidents.incidentCount() == 0
    assert "IncidentReported" not in tx.events
    assert tx.events["SlotOccupancyChanged"]["slotId"] == slot_id


def test_arrival_on_blacked_out_or_inactive_slot_is_not_an_incident(
    oracle, incidents, slots, people, owner, submit, slot_id, day
):
    _flag(oracle, people, slot_id)
    slots.setActive(slot_id, False, {"from": owner})
    mine_at(day + 14 * HOUR)
    submit({slot_id: True})
    assert incidents.incidentCount() == 0


def test_too_early_arrival_fails_to_drive_and_report_applies(
    oracle, market, people, submit, slot_id, lease, day
):
    _flag(oracle, people, slot_id)
    mine_at(day + 10 * HOUR - 20 * 60)  # 20 minutes early; the market accepts 15
    tx, _ = submit({slot_id: True})
    failed = tx.events["LeaseDriveFailed"]
    selector = keccak(b"LeaseMarketOutsideLeaseTime(uint256,uint256)")[:4]
    assert (failed["slotId"], failed["leaseId"]) == (slot_id, lease)
    assert failed["errorSelector"] == "0x" + selector.hex()
    assert market.leaseOf(lease)["status"] == BOOKED
    assert oracle.occupancyOf(slot_id) == OCCUPIED
    assert "IncidentReported" not in tx.events  # the lessee is early, not unauthorised


def test_early_arrival_within_check_in_window_checks_in(
    oracle, market, people, submit, slot_id, lease, day
):
    _flag(oracle, people, slot_id)
    mine_at(day + 10 * HOUR - 10 * 60)
    tx, _ = submit({slot_id: True})
    assert market.leaseOf(lease)["status"] == CHECKED_IN
    assert tx.events["LeaseDriven"]["checkedIn"] is True


def test_non_market_slot_does_not_drive_the_market(oracle, market, submit, slot_id, lease, day):
    mine_at(day + 10 * HOUR + 300)
    tx, _ = submit({slot_id: True})
    assert market.leaseOf(lease)["status"] == BOOKED
    assert "SlotOccupancyChanged" not in tx.events and "LeaseDriven" not in tx.events


def test_incident_filing_failure_does_not_fail_the_report(
    oracle, incidents, system, people, submit, slot_id, day
):
    system.access.revokeRole(ROLES["ORACLE"], oracle, {"from": people.admin})
    _flag(oracle, people, slot_id)
    mine_at(day + 14 * HOUR)
    tx, _ = submit({slot_id: True})
    failed = tx.events["IncidentFilingFailed"]
    assert failed["slotId"] == slot_id
    assert (
        failed["errorSelector"]
        == "0x" + keccak(b"CityAccessMissingRole(address,bytes32)")[:4].hex()
    )
    assert incidents.incidentCount() == 0
    assert oracle.occupancyOf(slot_id) == OCCUPIED


def test_departure_after_manual_check_out_reports_drive_failure(
    oracle, market, people, submit, slot_id, lease, day, resident
):
    _flag(oracle, people, slot_id)
    mine_at(day + 10 * HOUR + 300)
    submit({slot_id: True})
    market.checkOut(lease, {"from": resident})
    tx, _ = submit({slot_id: False})
    failed = tx.events["LeaseDriveFailed"]
    assert (failed["slotId"], failed["leaseId"]) == (slot_id, lease)
    assert (
        failed["errorSelector"] == "0x" + keccak(b"LeaseMarketWrongStatus(uint256,uint8)")[:4].hex()
    )
    assert oracle.parkedLeaseOf(slot_id) == 0 and oracle.occupancyOf(slot_id) == FREE


def test_constants_and_domain_separator(oracle, domain):
    # The Python builder and the contract agree on the slot range and report size.
    assert (oracle.MAX_SLOT_ID(), oracle.MAX_REPORT_WORDS()) == (MAX_SLOT_ID, MAX_REPORT_WORDS)
    assert oracle.domainSeparator() == "0x" + domain.separator.hex()
    assert oracle.maxReportAge() == MAX_REPORT_AGE
    assert oracle.maxClockSkew() == MAX_CLOCK_SKEW_SECONDS


def test_is_open_at_follows_windows_blackouts_and_active_flag(slots, owner, slot_id, day):
    local_day = (day + 9 * HOUR) // 86400
    noon = day + 12 * HOUR
    assert slots.isOpenAt(slot_id, noon) and not slots.isOpenAt(slot_id + 1, noon)
    slots.setBlackout(slot_id, local_day, True, {"from": owner})
    assert not slots.isOpenAt(slot_id, noon) and slots.isOpenAt(slot_id, noon + 86400)
    slots.setBlackout(slot_id, local_day, False, {"from": owner})
    slots.setWindows(slot_id, [Window(EVERY_DAY, 18, 36).as_tuple()], {"from": owner})
    assert slots.isOpenAt(slot_id, noon) and not slots.isOpenAt(slot_id, day + 18 * HOUR)
    slots.setActive(slot_id, False, {"from": owner})
    assert not slots.isOpenAt(slot_id, noon)
