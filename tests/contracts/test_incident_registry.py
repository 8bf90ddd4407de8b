"""IncidentRegistry: filing (single and idempotent batches), validation, review, daily counts."""

from __future__ import annotations

import hashlib

import brownie
import pytest

from citypass.protocol.review_reasons import REASONS_FOR, REVIEW_REASONS, reason_code
from citypass.protocol.roles import ROLES
from tests.contract_helpers import head_time, reverts_with, role_holder

ILLEGAL_PARKING, UNAUTHORISED_OCCUPANCY, ILLEGAL_DUMPING, JAYWALKING = 0, 1, 2, 3
NONE, OPEN, CONFIRMED, DISMISSED = 0, 1, 2, 3
SKEW = 300
IMAGE = b"a generated test image"
CONTENT_HASH = hashlib.sha256(IMAGE).digest()
# Binary CIDv1: version 1, codec raw (0x55) or dag-pb (0x70), multihash sha2-256 (0x12, 32 bytes).
RAW_CID = bytes([0x01, 0x55, 0x12, 0x20]) + CONTENT_HASH
DAG_PB_CID = bytes([0x01, 0x70, 0x12, 0x20]) + CONTENT_HASH
EVIDENCE_CLEAR, AUTHORISED_USE, OTHER = (
    reason_code(n) for n in ("EVIDENCE_CLEAR", "AUTHORISED_USE", "OTHER")
)
NO_DETAILS = b""


@pytest.fixture(scope="module")
def inspector(accounts, system, people):
    return role_holder(system, people, accounts[12], "INSPECTOR")


def incident(n: int = 1, **changes):
    """An IncidentInput tuple: a camera's illegal-parking detection with evidence."""
    fields = {
        "kind": ILLEGAL_PARKING,
        "slotId": 12,
        "latE6": 37_503_000,
        "lonE6": 126_787_000,
        "observedAt": head_time() - 60,
        "confidenceBps": 9_100,
        "sourceEventId": n.to_bytes(32, "big"),
        "contentHash": CONTENT_HASH,
        "evidenceCid": RAW_CID,
    }
    fields.update(changes)
    return tuple(fields.values())


def counts(incidents, kind: int, day: int) -> tuple[int, int, int]:
    return tuple(int(n) for n in incidents.dailyCounts(kind, day))


def kst_day(timestamp: int) -> int:
    return (timestamp + 9 * 3600) // 86400


def test_report_incident_stores_and_emits(incidents, people):
    at = head_time() - 60
    tx = incidents.reportIncident(incident(observedAt=at), {"from": people.oracle})
    assert tx.return_value == 1
    event = dict(tx.events["IncidentReported"])
    assert event == {
        "incidentId": 1,
        "kind": ILLEGAL_PARKING,
        "slotId": 12,
        "latE6": 37_503_000,
        "lonE6": 126_787_000,
        "observedAt": at,
        "confidenceBps": 9_100,
        "sourceEventId": "0x" + (1).to_bytes(32, "big").hex(),
        "contentHash": "0x" + CONTENT_HASH.hex(),
        "evidenceCid": "0x" + RAW_CID.hex(),
        "reporter": people.oracle,
    }
    stored = incidents.incidentOf(1)
    assert tuple(stored) == (
        ILLEGAL_PARKING,
        OPEN,
        9_100,
        at,
        0,
        people.oracle,
        12,
        "0x" + CONTENT_HASH.hex(),
    )
    assert incidents.incidentCount() == 1
    assert incidents.incidentBySource((1).to_bytes(32, "big")) == 1
    assert counts(incidents, ILLEGAL_PARKING, kst_day(at)) == (1, 0, 0)
    assert incidents.kstDayOf(at) == kst_day(at)


def test_report_incident_accepts_dag_pb_cid_and_every_type(incidents, people):
    for n, kind in enumerate(
        (ILLEGAL_PARKING, UNAUTHORISED_OCCUPANCY, ILLEGAL_DUMPING, JAYWALKING)
    ):
        tx = incidents.reportIncident(
            incident(n + 1, kind=kind, evidenceCid=DAG_PB_CID, slotId=0), {"from": people.oracle}
        )
        assert tx.events["IncidentReported"]["kind"] == kind
    assert incidents.incidentCount() == 4


def test_report_incident_reverts_on_duplicate_source(incidents, people):
    incidents.reportIncident(incident(5), {"from": people.oracle})
    with reverts_with("IncidentRegistryDuplicate", (5).to_bytes(32, "big"), 1):
        incidents.reportIncident(incident(5, kind=JAYWALKING), {"from": people.oracle})


def test_report_incident_validates_input(incidents, people):
    oracle = {"from": people.oracle}
    with reverts_with("IncidentRegistryInvalidType", 4):
        incidents.reportIncident(incident(kind=4), oracle)
    with reverts_with("IncidentRegistryInvalidConfidence", 10_001):
        incidents.reportIncident(incident(confidenceBps=10_001), oracle)
    with reverts_with("IncidentRegistryInvalidTime", 0):
        incidents.reportIncident(incident(observedAt=0), oracle)
    far = head_time() + SKEW + 3600
    with reverts_with("IncidentRegistryInvalidTime", far):
        incidents.reportIncident(incident(observedAt=far), oracle)
    for lat, lon in ((90_000_001, 0), (0, -180_000_001)):
        with reverts_with("IncidentRegistryInvalidLocation", lat, lon):
            incidents.reportIncident(incident(latE6=lat, lonE6=lon), oracle)
    with reverts_with("IncidentRegistryZeroSource"):
        incidents.reportIncident(incident(0), oracle)
    assert incidents.incidentCount() == 0


@pytest.mark.parametrize(
    "cid",
    [
        b"",  # no evidence for a camera incident
        RAW_CID[:-1],  # truncated digest
        RAW_CID + b"\x00",
        bytes([0x00]) + RAW_CID[1:],  # CIDv0-like version byte
        bytes([0x01, 0x71]) + RAW_CID[2:],  # dag-cbor codec
        bytes([0x01, 0x55, 0x13, 0x20]) + CONTENT_HASH,  # sha2-512 code
        bytes([0x01, 0x55, 0x12, 0x1F]) + CONTENT_HASH,  # wrong digest length
        b"bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",  # text, not binary
    ],
)
def test_report_incident_rejects_invalid_cid(incidents, people, cid):
    with reverts_with("IncidentRegistryInvalidCid"):
        incidents.reportIncident(incident(evidenceCid=cid), {"from": people.oracle})


def test_empty_cid_only_for_the_occupancy_oracle_unauthorised_occupancy(incidents, people):
    # An ORACLE account cannot file a sensor-style incident without evidence.
    with reverts_with("IncidentRegistryInvalidCid"):
        incidents.reportIncident(
            incident(kind=UNAUTHORISED_OCCUPANCY, evidenceCid=b""), {"from": people.oracle}
        )


def test_report_incident_needs_oracle_role(incidents, stranger, owner):
    for caller in (stranger, owner):
        with reverts_with("CityAccessMissingRole", caller, ROLES["ORACLE"]):
            incidents.reportIncident(incident(), {"from": caller})
        with reverts_with("CityAccessMissingRole", caller, ROLES["ORACLE"]):
            incidents.reportIncidents([incident()], {"from": caller})


def test_report_incidents_skips_filed_sources_and_returns_first_new_id(incidents, people):
    oracle = {"from": people.oracle}
    tx = incidents.reportIncidents([incident(1), incident(2)], oracle)
    assert tx.return_value == 1 and len(tx.events["IncidentReported"]) == 2
    # Re-sent after a crash with one new incident: only the new one is filed.
    tx = incidents.reportIncidents([incident(1), incident(2), incident(3)], oracle)
    assert tx.return_value == 3
    assert [e["incidentId"] for e in tx.events["IncidentReported"]] == [3]
    tx = incidents.reportIncidents([incident(2), incident(3)], oracle)
    assert tx.return_value == 0 and "IncidentReported" not in tx.events
    assert incidents.incidentCount() == 3


def test_report_incidents_reverts_whole_batch_on_invalid_input(incidents, people):
    with reverts_with("IncidentRegistryInvalidConfidence", 20_000):
        incidents.reportIncidents(
            [incident(1), incident(2, confidenceBps=20_000)], {"from": people.oracle}
        )
    assert incidents.incidentCount() == 0


def test_confirm_and_dismiss_update_status_and_daily_counts(incidents, people, inspector):
    at = head_time() - 60
    for n in (1, 2, 3):
        incidents.reportIncident(incident(n, observedAt=at), {"from": people.oracle})
    tx = incidents.confirm(1, EVIDENCE_CLEAR, NO_DETAILS, {"from": inspector})
    confirmed_at = tx.timestamp
    assert dict(tx.events["IncidentReviewed"]) == {
        "incidentId": 1,
        "status": CONFIRMED,
        "inspector": inspector,
        "reasonCode": EVIDENCE_CLEAR,
        "detailsCid": "0x",
    }
    tx = incidents.dismiss(2, OTHER, DAG_PB_CID, {"from": inspector})
    event = tx.events["IncidentReviewed"]
    assert event["status"] == DISMISSED and event["reasonCode"] == OTHER
    assert bytes(event["detailsCid"]) == DAG_PB_CID
    record = incidents.incidentOf(1)
    assert record[1] == CONFIRMED and record[4] == confirmed_at
    assert incidents.incidentOf(2)[1] == DISMISSED and incidents.incidentOf(3)[1] == OPEN
    assert counts(incidents, ILLEGAL_PARKING, kst_day(at)) == (3, 1, 1)
    assert counts(incidents, JAYWALKING, kst_day(at)) == (0, 0, 0)
    assert counts(incidents, ILLEGAL_PARKING, kst_day(at) + 1) == (0, 0, 0)


def test_review_reverts(incidents, people, inspector, stranger):
    incidents.reportIncident(incident(1), {"from": people.oracle})
    with reverts_with("IncidentRegistryUnknownIncident", 9):
        incidents.dismiss(9, AUTHORISED_USE, NO_DETAILS, {"from": inspector})
    with reverts_with("CityAccessMissingRole", stranger, ROLES["INSPECTOR"]):
        incidents.confirm(1, EVIDENCE_CLEAR, NO_DETAILS, {"from": stranger})
    incidents.confirm(1, EVIDENCE_CLEAR, NO_DETAILS, {"from": inspector})
    with reverts_with("IncidentRegistryAlreadyReviewed", 1, CONFIRMED):
        incidents.dismiss(1, AUTHORISED_USE, NO_DETAILS, {"from": inspector})
    with reverts_with("IncidentRegistryUnknownIncident", 2):
        incidents.incidentOf(2)


def test_review_reason_codes_are_checked(incidents, people, inspector):
    incidents.reportIncident(incident(1), {"from": people.oracle})
    past_the_end = len(REVIEW_REASONS)
    with reverts_with("IncidentRegistryUnknownReason", past_the_end):
        incidents.confirm(1, past_the_end, NO_DETAILS, {"from": inspector})
    with reverts_with("IncidentRegistryUnknownReason", 255):
        incidents.dismiss(1, 255, NO_DETAILS, {"from": inspector})
    with reverts_with("IncidentRegistryReasonNotForOutcome", AUTHORISED_USE, CONFIRMED):
        incidents.confirm(1, AUTHORISED_USE, NO_DETAILS, {"from": inspector})
    with reverts_with("IncidentRegistryReasonNotForOutcome", EVIDENCE_CLEAR, DISMISSED):
        incidents.dismiss(1, EVIDENCE_CLEAR, NO_DETAILS, {"from": inspector})
    with reverts_with("IncidentRegistryDetailsRequired", OTHER):
        incidents.confirm(1, OTHER, NO_DETAILS, {"from": inspector})
    for bad in (b"\x01", RAW_CID[:-1], bytes([0x00]) + RAW_CID[1:], RAW_CID + b"\x00"):
        with reverts_with("IncidentRegistryInvalidCid"):
            incidents.confirm(1, EVIDENCE_CLEAR, bad, {"from": inspector})
    assert incidents.incidentOf(1)[1] == OPEN


@pytest.mark.parametrize("action", ["confirm", "dismiss"])
def test_the_protocol_table_of_reasons_is_the_contracts(incidents, people, inspector, action):
    """citypass.protocol.review_reasons (which the API checks first) says exactly what the
    contract accepts: every code in the table passes, every other code reverts."""
    outcome = CONFIRMED if action == "confirm" else DISMISSED
    for code, name in enumerate(REVIEW_REASONS):
        incidents.reportIncident(incident(100 + code), {"from": people.oracle})
        incident_id = incidents.incidentCount()
        review = getattr(incidents, action)
        details = RAW_CID if name == "OTHER" else NO_DETAILS
        if name in REASONS_FOR[action]:
            review(incident_id, code, details, {"from": inspector})
            assert incidents.incidentOf(incident_id)[1] == outcome
        else:
            with reverts_with("IncidentRegistryReasonNotForOutcome", code, outcome):
                review(incident_id, code, details, {"from": inspector})


def test_kst_day_boundary(incidents, people):
    # 14:59:59 UTC is 23:59:59 KST; 15:00:00 UTC starts the next KST day.
    now = head_time()
    midnight_utc = now - now % 86400
    before, after = midnight_utc - 9 * 3600 - 1, midnight_utc - 9 * 3600
    incidents.reportIncident(incident(1, observedAt=before), {"from": people.oracle})
    incidents.reportIncident(incident(2, observedAt=after), {"from": people.oracle})
    assert incidents.dailyCounts(ILLEGAL_PARKING, kst_day(before))[0] == 1
    assert incidents.dailyCounts(ILLEGAL_PARKING, kst_day(after))[0] == 1
    assert kst_day(after) == kst_day(before) + 1


def test_set_occupancy_oracle_once(incidents, people, stranger, system):
    with reverts_with("IncidentRegistryOccupancyOracleAlreadySet"):
        incidents.setOccupancyOracle(stranger, {"from": people.admin})
    with reverts_with("CityAccessMissingRole", stranger, ROLES["CITY_ADMIN"]):
        incidents.setOccupancyOracle(stranger, {"from": stranger})
    fresh = brownie.IncidentRegistry.deploy(system.access, SKEW, {"from": people.admin})
    with reverts_with("IncidentRegistryZeroAddress"):
        fresh.setOccupancyOracle(brownie.ZERO_ADDRESS, {"from": people.admin})
    tx = fresh.setOccupancyOracle(system.occupancy, {"from": people.admin})
    assert tx.events["OccupancyOracleSet"]["occupancyOracle"] == system.occupancy
    assert fresh.maxClockSkew() == SKEW
