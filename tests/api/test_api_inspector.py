"""The inspector's queue and review over a real ledger node and a real citypass-api (api_helpers'
shared world): the review says why with a reason code and, where needed, the CID of sealed
details (no free text on chain, issue 15); every bad code, missing or malformed CID gets a 422
naming the field and what fits; only the inspector's own review call is submitted."""

from __future__ import annotations

import base64
import secrets

import pytest
from eth_account import Account
from web3.logs import DISCARD

from citypass.protocol.review_reasons import REASONS_FOR, REVIEW_REASONS
from citypass.protocol.roles import ROLES
from tests.api_helpers import World, error_of, world  # noqa: F401
from tests.oracle_helpers import wait_until
from tests.siwe_helpers import bearer

CID = bytes.fromhex("01551220") + bytes(range(32))  # CIDv1 raw sha2-256 of something
# The same CID as people see it (multibase base32), standing for a review's sealed details.
DETAILS_CID = "b" + base64.b32encode(CID).decode().lower().rstrip("=")
EVIDENCE_CLEAR, FALSE_DETECTION, OTHER = (
    REVIEW_REASONS.index(name) for name in ("EVIDENCE_CLEAR", "FALSE_DETECTION", "OTHER")
)


def _indexed(world: World, block: int) -> None:
    wait_until(lambda: world.api.get("/health").json()["indexedBlock"] >= block, timeout=30)


@pytest.fixture(scope="module")
def staff(world: World) -> dict:
    """An inspector signed in, and three open incidents filed by the oracle."""
    chain, system, people = world.chain, world.chain.system, world.chain.people
    inspector = Account.create()
    system.access.grantRole(ROLES["INSPECTOR"], inspector.address, {"from": people.admin})
    incident_ids = []
    for _ in range(3):
        system.incidents.reportIncident(
            (0, 0, 37_503_000, 126_787_000, chain.head_time() - 60, 9_000,
             secrets.token_bytes(32), secrets.token_bytes(32), CID),
            {"from": people.oracle},
        )  # fmt: skip
        incident_ids.append(chain.contract("incidents").functions.incidentCount().call())
    _indexed(world, chain.w3.eth.block_number)
    headers = bearer(world.api.url, chain.chain_id, inspector)
    return {"inspector": inspector, "incidents": incident_ids, "headers": headers}


def _review(world: World, staff: dict, incident: int, params: dict) -> tuple[dict, str]:
    """Fetch the unsigned review, sign it with the inspector's key, submit it: the reply and the
    signed transaction."""
    template = world.api.get(
        f"/v1/inspector/incidents/{incident}/transaction", headers=staff["headers"], params=params
    )
    assert template.status_code == 200, template.text
    tx = template.json()
    assert tx["from"] == staff["inspector"].address
    assert tx["to"] == world.chain.system.incidents.address
    unsigned = {k: v for k, v in tx.items() if k != "from"}
    signed = Account.sign_transaction(unsigned, staff["inspector"].key)
    raw = "0x" + signed.raw_transaction.hex()
    reply = world.api.post(
        f"/v1/inspector/incidents/{incident}/review", headers=staff["headers"], json={"raw": raw}
    )
    assert reply.status_code == 200, reply.text
    return reply.json(), raw


def _row(world: World, staff: dict, incident: int, status: str) -> dict:
    listed = world.api.get(
        "/v1/inspector/incidents", headers=staff["headers"], params={"status": status}
    ).json()["incidents"]
    return next(i for i in listed if i["incidentId"] == incident)


def test_queue_lists_open_incidents_with_evidence_cid(world: World, staff: dict):
    headers = staff["headers"]
    reply = world.api.get(
        "/v1/inspector/incidents", headers=headers, params={"kind": "ILLEGAL_PARKING"}
    )
    assert reply.status_code == 200, reply.text
    listed = {i["incidentId"]: i for i in reply.json()["incidents"]}
    assert set(staff["incidents"]) <= set(listed)
    first = listed[staff["incidents"][0]]
    assert first["status"] == "OPEN" and first["evidenceCid"].startswith("bafkrei")
    assert first["reviewReason"] is None and first["reviewDetailsCid"] is None
    other_kind = world.api.get(
        "/v1/inspector/incidents", headers=headers, params={"kind": "JAYWALKING"}
    )
    assert not set(staff["incidents"]) & {i["incidentId"] for i in other_kind.json()["incidents"]}
    bad = world.api.get("/v1/inspector/incidents", headers=headers, params={"kind": "SPEEDING"})
    assert error_of(bad, 422)["code"] == "validation"


def test_confirm_with_a_reason_code_lands_on_chain_and_leaves_the_queue(
    world: World,
    staff: dict,
):
    inspector, incident = staff["inspector"], staff["incidents"][0]
    body, raw = _review(world, staff, incident, {"action": "confirm", "reason": "EVIDENCE_CLEAR"})
    assert body["status"] == "CONFIRMED"
    incidents = world.chain.contract("incidents")
    assert incidents.functions.incidentOf(incident).call()[1] == 2  # IncidentStatus.CONFIRMED
    receipt = world.chain.w3.eth.get_transaction_receipt(body["txHash"])
    [log] = incidents.events.IncidentReviewed().process_receipt(receipt, errors=DISCARD)
    assert log["args"]["reasonCode"] == EVIDENCE_CLEAR and log["args"]["detailsCid"] == b""
    _indexed(world, body["blockNumber"])
    open_ids = {
        i["incidentId"]
        for i in world.api.get("/v1/inspector/incidents", headers=staff["headers"]).json()[
            "incidents"
        ]
    }
    assert incident not in open_ids and staff["incidents"][1] in open_ids
    row = _row(world, staff, incident, "CONFIRMED")
    assert row["reviewedBy"] == inspector.address and row["reviewReason"] == "EVIDENCE_CLEAR"
    assert row["reviewDetailsCid"] is None
    again = world.api.post(
        f"/v1/inspector/incidents/{incident}/review", headers=staff["headers"], json={"raw": raw}
    )
    assert error_of(again, 409)["code"] == "already_reviewed"


def test_dismiss_with_other_carries_the_details_cid(world: World, staff: dict):
    incident = staff["incidents"][1]
    params = {"action": "dismiss", "reason": "OTHER", "detailsCid": DETAILS_CID}
    body, _raw = _review(world, staff, incident, params)
    assert body["status"] == "DISMISSED"
    receipt = world.chain.w3.eth.get_transaction_receipt(body["txHash"])
    [log] = (
        world.chain.contract("incidents")
        .events.IncidentReviewed()
        .process_receipt(receipt, errors=DISCARD)
    )
    assert log["args"]["reasonCode"] == OTHER and log["args"]["detailsCid"] == CID
    _indexed(world, body["blockNumber"])
    row = _row(world, staff, incident, "DISMISSED")
    assert row["reviewReason"] == "OTHER" and row["reviewDetailsCid"] == DETAILS_CID


@pytest.mark.parametrize(
    ("params", "field", "code", "names"),
    [
        ({"action": "confirm", "reason": "double-parked"}, "reason", "validation", REVIEW_REASONS),
        ({"action": "confirm"}, "reason", "validation", ()),
        ({"action": "confirm", "reason": "DUPLICATE"}, "reason", "reason_not_for_action",
         REASONS_FOR["confirm"]),
        ({"action": "dismiss", "reason": "VERIFIED_ON_SITE"}, "reason", "reason_not_for_action",
         REASONS_FOR["dismiss"]),
        ({"action": "dismiss", "reason": "OTHER"}, "detailsCid", "details_required", ()),
        ({"action": "confirm", "reason": "EVIDENCE_CLEAR", "detailsCid": "not-a-cid"},
         "detailsCid", "bad_details_cid", ()),
        ({"action": "confirm", "reason": "EVIDENCE_CLEAR", "detailsCid": "bafkré"},
         "detailsCid", "bad_details_cid", ()),
        ({"action": "dismiss", "reason": "DUPLICATE", "detailsCid": "b" + "a" * 58},
         "detailsCid", "bad_details_cid", ()),
        ({"action": "confirm", "reason": "EVIDENCE_CLEAR", "detailsCid": "x" * 129},
         "detailsCid", "validation", ()),
        ({"action": "uphold", "reason": "EVIDENCE_CLEAR"}, "action", "validation", ()),
    ],
)  # fmt: skip
def test_bad_review_inputs_get_a_422_naming_the_field(
    world: World,
    staff: dict,
    params: dict,
    field: str,
    code: str,
    names: tuple[str, ...],
):
    incident = staff["incidents"][2]
    reply = world.api.get(
        f"/v1/inspector/incidents/{incident}/transaction", headers=staff["headers"], params=params
    )
    error = error_of(reply, 422)
    assert error["code"] == code and error["message"].startswith(f"{field}:"), error
    for name in names:  # the codes that fit are listed, so the inspector can pick one
        assert name in error["message"], error
    assert world.chain.contract("incidents").functions.incidentOf(incident).call()[1] == 1


def test_review_accepts_only_the_inspectors_own_review_call(world: World, staff: dict):
    inspector, incident, headers = staff["inspector"], staff["incidents"][2], staff["headers"]
    base = {"to": world.chain.system.incidents.address, "nonce": 0, "gas": 200_000,
            "gasPrice": 0, "chainId": world.chain.chain_id, "value": 0}  # fmt: skip
    incidents = world.chain.contract("incidents")
    other = Account.create()

    def dismiss(incident_id: int) -> str:
        return incidents.encode_abi("dismiss", args=[incident_id, FALSE_DETECTION, b""])

    cases = [
        (other, {**base, "data": dismiss(incident)}, 403, "wrong_signer"),
        (inspector, {**base, "data": dismiss(incident + 99)}, 403, "not_allowlisted"),
        (inspector, {**base, "to": world.chain.system.market.address, "data": "0x"}, 403,
         "not_allowlisted"),
    ]  # fmt: skip
    for signer, tx, status, code in cases:
        raw = "0x" + Account.sign_transaction(tx, signer.key).raw_transaction.hex()
        reply = world.api.post(
            f"/v1/inspector/incidents/{incident}/review", headers=headers, json={"raw": raw}
        )
        assert error_of(reply, status)["code"] == code
    garbage = world.api.post(
        f"/v1/inspector/incidents/{incident}/review", headers=headers, json={"raw": "0x1234"}
    )
    assert error_of(garbage, 422)["code"] == "bad_raw_transaction"
    unknown = world.api.get(
        "/v1/inspector/incidents/999999/transaction", headers=headers,
        params={"action": "dismiss", "reason": "FALSE_DETECTION"},
    )  # fmt: skip
    assert error_of(unknown, 404)["code"] == "unknown_incident"
    assert incidents.functions.incidentOf(incident).call()[1] == 1
