"""Residents' membership applications over a real ledger node and real citypass-api processes:
a wallet signs in (SIWE, resident scope) and applies with its personal data; village-enterprise
staff list, approve (the API onboards the address on CityAccess with its onboarding key) and
reject; an API set to auto-approve approves at once; an address onboarded another way reads
approved. Every bad input answers its 4xx, and nothing is onboarded twice.

A chain and two APIs of the module's own (one reviewed by staff, one auto-approving), each with
an onboarding key made by `citypass-api init-onboarder` and granted OPERATOR."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from citypass.protocol.roles import ROLES
from scripts._cli.api_client import StaffApi, sign_text
from tests.api_helpers import (
    API_PASSWORD,
    ApiServer,
    cli,
    error_of,
    init_onboarder,
    start_api_server,
)
from tests.oracle_helpers import Chain, start_chain, wait_until

GOOD = {
    "name": "Kim Minji", "phone": "010-1234-5678", "homeAddress": "12 Maeul-gil, Sinchon-ri",
    "privacyConsent": True,
}  # fmt: skip


@dataclass
class Join:
    chain: Chain
    reviewed: ApiServer
    auto: ApiServer
    onboarders: dict[str, str]
    staff: Any  # VILLAGE_ENTERPRISE


def _api(chain: Chain, base: Path, **settings: str) -> tuple[ApiServer, str]:
    onboarder = init_onboarder(base / "api")
    chain.system.access.grantRole(ROLES["OPERATOR"], onboarder, {"from": chain.people.admin})
    _deployment, api = start_api_server(chain, base, CITYPASS_API_POLL_INTERVAL="0.1", **settings)
    return api, onboarder


@pytest.fixture(scope="module")
def join(tmp_path_factory):
    base = tmp_path_factory.mktemp("join")
    chain = start_chain(base / "chain")
    reviewed, first = _api(chain, base / "reviewed")
    auto, second = _api(chain, base / "auto", CITYPASS_API_AUTO_APPROVE="true")
    staff = Account.create()
    chain.system.access.grantRole(
        ROLES["VILLAGE_ENTERPRISE"], staff.address, {"from": chain.people.admin}
    )
    yield Join(chain, reviewed, auto, {"reviewed": first, "auto": second}, staff)
    reviewed.stop()
    auto.stop()
    chain.node.stop()


def _auth(api: ApiServer, account: Any, scope: str = "resident") -> dict[str, str]:
    signed_in = StaffApi.sign_in(api.url, account.address, sign_text(account), scope=scope)
    return {"Authorization": f"Bearer {signed_in.token}"}


def _apply(api: ApiServer, headers: dict[str, str], **changes: Any):
    return api.post("/v1/applications", json={**GOOD, **changes}, headers=headers)


def _status(join: Join, address: str) -> int:
    return join.chain.contract("access").functions.memberStatus(address).call()


def _onboardings(join: Join, address: str) -> int:
    access = join.chain.contract("access")
    return len(access.events.MemberOnboarded().get_logs(
        from_block=0, argument_filters={"account": address}
    ))  # fmt: skip


# ----------------------------------------------------------------------------- applying


def test_a_resident_signs_in_with_the_resident_scope_only(join):
    resident = Account.create()
    headers = _auth(join.reviewed, resident)
    session = join.reviewed.get("/v1/auth/session", headers=headers).json()
    assert session["address"] == resident.address and session["roles"] == []
    # Staff sign-in (the default scope) still refuses a wallet without a staff role.
    with pytest.raises(Exception, match="holds none of the staff roles"):
        _auth(join.reviewed, resident, scope="staff")


def test_applying_needs_a_session(join):
    assert error_of(_apply(join.reviewed, {}), 401)["code"] == "session_missing"
    assert "resident" in error_of(_apply(join.reviewed, {}), 401)["message"]
    bad = {"Authorization": "Bearer not-a-token"}
    assert error_of(_apply(join.reviewed, bad), 401)["code"] == "session_unknown"


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"name": ""}, "name", "at least 1 character"),
        ({"name": "Kim\x07Minji"}, "name", "control characters"),
        ({"name": "..."}, "name", "letters or digits"),
        ({"name": "x" * 101}, "name", "at most 100"),
        ({"phone": "12345"}, "phone", "at least 9"),
        ({"phone": "555-123-4567"}, "phone", "Korean phone number"),
        ({"homeAddress": "ab"}, "homeAddress", "at least 5"),
        ({"privacyConsent": False}, "privacyConsent", "must be true"),
        ({"privacyConsent": "yes"}, "privacyConsent", "valid boolean"),
        ({"plate": "12가3456"}, "plate", "Extra inputs are not permitted"),
    ],
)
def test_every_field_is_validated(join, changes, field, words):
    headers = _auth(join.reviewed, Account.create())
    error = error_of(_apply(join.reviewed, headers, **changes), 422)
    assert error["code"] == "validation"
    assert error["message"].startswith(field + ":") and words in error["message"], error


def test_a_missing_field_is_named(join):
    headers = _auth(join.reviewed, Account.create())
    body = {k: v for k, v in GOOD.items() if k != "phone"}
    error = error_of(join.reviewed.post("/v1/applications", json=body, headers=headers), 422)
    assert error["message"].startswith("phone: Field required")


def test_apply_then_read_it_back_and_only_once(join):
    resident = Account.create()
    headers = _auth(join.reviewed, resident)
    reply = _apply(join.reviewed, headers, phone="+82 10-9876-5432")
    assert reply.status_code == 201, reply.text
    application = reply.json()
    assert application["status"] == "PENDING" and application["address"] == resident.address
    assert application["phone"] == "+821098765432" and not application["automatic"]
    assert application["notice"] is None
    mine = join.reviewed.get("/v1/applications/mine", headers=headers).json()["applications"]
    assert [a["applicationId"] for a in mine] == [application["applicationId"]]
    one = join.reviewed.get(f"/v1/applications/{application['applicationId']}", headers=headers)
    assert one.json()["name"] == GOOD["name"]
    # One open application per address.
    assert error_of(_apply(join.reviewed, headers), 409)["code"] == "application_open"
    # Another wallet may not read it (personal data).
    stranger = _auth(join.reviewed, Account.create())
    path = f"/v1/applications/{application['applicationId']}"
    assert (
        error_of(join.reviewed.get(path, headers=stranger), 403)["code"] == "not_your_application"
    )
    assert _status(join, resident.address) == 0  # nothing on chain yet


def test_a_member_cannot_apply(join):
    member = join.chain.new_member()
    error = error_of(_apply(join.reviewed, _auth(join.reviewed, member)), 409)
    assert error["code"] == "already_member" and "already a CityPass member" in error["message"]
    suspended = join.chain.new_member()
    join.chain.system.access.suspend(suspended.address, b"T".ljust(32, b"\0"),
                                     {"from": join.chain.people.admin})  # fmt: skip
    error = error_of(_apply(join.reviewed, _auth(join.reviewed, suspended)), 409)
    assert error["code"] == "member_suspended"


# ------------------------------------------------------------------------------ review


def _pending(join: Join, api: ApiServer | None = None) -> tuple[Any, int]:
    api = api or join.reviewed
    resident = Account.create()
    reply = _apply(api, _auth(api, resident))
    assert reply.status_code == 201, reply.text
    return resident, reply.json()["applicationId"]


def test_staff_endpoints_need_a_reviewer_role(join):
    _resident, application_id = _pending(join)
    resident_headers = _auth(join.reviewed, Account.create())
    for method, path in (
        ("GET", "/v1/staff/applications"),
        ("POST", f"/v1/staff/applications/{application_id}/approve"),
    ):
        assert error_of(join.reviewed.request(method, path), 401)["code"] == "session_missing"
        reply = join.reviewed.request(method, path, headers=resident_headers)
        assert error_of(reply, 403)["code"] == "missing_role"
    inspector = Account.create()
    join.chain.system.access.grantRole(
        ROLES["INSPECTOR"], inspector.address, {"from": join.chain.people.admin}
    )
    reply = join.reviewed.get("/v1/staff/applications", headers=_auth(join.reviewed, inspector))
    assert error_of(reply, 403)["code"] == "missing_role"
    # and an inspector reads no applicant's personal data
    reply = join.reviewed.get(
        f"/v1/applications/{application_id}", headers=_auth(join.reviewed, inspector)
    )
    assert error_of(reply, 403)["code"] == "not_your_application"


def test_staff_list_validates_its_parameters(join):
    headers = _auth(join.reviewed, join.staff, scope="staff")
    for params, field in (({"status": "BOGUS"}, "status"), ({"limit": 0}, "limit")):
        reply = join.reviewed.get("/v1/staff/applications", params=params, headers=headers)
        assert error_of(reply, 422)["message"].startswith(field + ":")


def test_staff_approve_onboards_once(join):
    resident, application_id = _pending(join)
    headers = _auth(join.reviewed, join.staff, scope="staff")
    listed = join.reviewed.get("/v1/staff/applications", headers=headers).json()["applications"]
    assert application_id in [a["applicationId"] for a in listed]
    path = f"/v1/staff/applications/{application_id}/approve"
    reply = join.reviewed.post(path, headers=headers)
    assert reply.status_code == 200, reply.text
    approved = reply.json()
    assert approved["status"] == "APPROVED" and approved["decidedVia"] == "staff"
    assert approved["decidedBy"] == join.staff.address and not approved["automatic"]
    assert _status(join, resident.address) == 1
    # Sent by the API's onboarding key, carrying the address only: nothing personal on chain.
    tx = join.chain.w3.eth.get_transaction(approved["onboardTxHash"])
    assert tx["from"] == join.onboarders["reviewed"]
    access = join.chain.contract("access")
    assert "0x" + bytes(tx["input"]).hex() == access.encode_abi("onboard", [resident.address])
    # Approving again onboards nothing.
    assert error_of(join.reviewed.post(path, headers=headers), 409)["code"] == "application_decided"
    assert _onboardings(join, resident.address) == 1
    # The member now hears so when applying again.
    error = error_of(_apply(join.reviewed, _auth(join.reviewed, resident)), 409)
    assert error["code"] == "already_member"


def test_two_concurrent_approvals_onboard_once(join):
    resident, application_id = _pending(join)
    headers = _auth(join.reviewed, join.staff, scope="staff")
    path = f"/v1/staff/applications/{application_id}/approve"
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: join.reviewed.post(path, headers=headers), range(4)))
    assert sorted(r.status_code for r in replies) == [200, 409, 409, 409], [r.text for r in replies]
    assert _onboardings(join, resident.address) == 1


def test_reject_with_a_reason_code(join):
    resident, application_id = _pending(join)
    headers = _auth(join.reviewed, join.staff, scope="staff")
    path = f"/v1/staff/applications/{application_id}/reject"
    for body, words in (({}, "reasonCode: Field required"), ({"reasonCode": "MEH"}, "reasonCode:"),
                        ({"reasonCode": "OTHER", "note": "x"}, "note:")):  # fmt: skip
        error = error_of(join.reviewed.post(path, json=body, headers=headers), 422)
        assert error["message"].startswith(words), error
    reply = join.reviewed.post(path, json={"reasonCode": "NOT_RESIDENT"}, headers=headers)
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "REJECTED" and reply.json()["reasonCode"] == "NOT_RESIDENT"
    again = join.reviewed.post(path, json={"reasonCode": "OTHER"}, headers=headers)
    assert error_of(again, 409)["code"] == "application_decided"
    approve = join.reviewed.post(
        f"/v1/staff/applications/{application_id}/approve", headers=headers
    )
    assert error_of(approve, 409)["code"] == "application_decided"
    assert _status(join, resident.address) == 0
    # After a rejection the resident may apply anew.
    assert _apply(join.reviewed, _auth(join.reviewed, resident)).status_code == 201


def test_unknown_and_malformed_application_ids(join):
    headers = _auth(join.reviewed, join.staff, scope="staff")
    for method, path in (
        ("POST", "/v1/staff/applications/999999/approve"),
        ("GET", "/v1/applications/999999"),
    ):
        reply = join.reviewed.request(method, path, headers=headers)
        assert error_of(reply, 404)["code"] == "unknown_application"
    reply = join.reviewed.post(
        "/v1/staff/applications/999999/reject", json={"reasonCode": "OTHER"}, headers=headers
    )
    assert error_of(reply, 404)["code"] == "unknown_application"
    for bad in ("0", "abc"):
        reply = join.reviewed.post(f"/v1/staff/applications/{bad}/approve", headers=headers)
        assert error_of(reply, 422)["message"].startswith("application_id:")


def test_onboarded_another_way_reads_approved(join):
    resident, application_id = _pending(join)
    join.chain.system.access.onboard(resident.address, {"from": join.chain.people.admin})
    headers = _auth(join.reviewed, resident)
    path = f"/v1/applications/{application_id}"

    def approved() -> dict | None:
        body = join.reviewed.get(path, headers=headers).json()
        return body if body["status"] == "APPROVED" else None

    body = wait_until(approved, timeout=30, interval=0.2)
    assert body["decidedVia"] == "onChain" and body["onboardBlock"] > 0
    staff = _auth(join.reviewed, join.staff, scope="staff")
    reply = join.reviewed.post(f"/v1/staff/applications/{application_id}/approve", headers=staff)
    assert error_of(reply, 409)["code"] == "application_decided"
    assert _onboardings(join, resident.address) == 1


def test_approving_a_suspended_member_is_refused(join):
    resident, application_id = _pending(join)
    admin = {"from": join.chain.people.admin}
    join.chain.system.access.onboard(resident.address, admin)
    join.chain.system.access.suspend(resident.address, b"T".ljust(32, b"\0"), admin)
    staff = _auth(join.reviewed, join.staff, scope="staff")
    reply = join.reviewed.post(f"/v1/staff/applications/{application_id}/approve", headers=staff)
    # Refused as a suspended member, or (once the read model saw the onboarding) as decided.
    assert error_of(reply, 409)["code"] in ("member_suspended", "application_decided")
    assert _onboardings(join, resident.address) == 1
    assert _status(join, resident.address) == 2


# ----------------------------------------------------------------------------- automatic


def test_auto_approval_onboards_at_once_and_says_so(join):
    resident = Account.create()
    reply = _apply(join.auto, _auth(join.auto, resident))
    assert reply.status_code == 201, reply.text
    body = reply.json()
    assert body["status"] == "APPROVED" and body["automatic"] and body["decidedVia"] == "auto"
    assert "approved automatically" in body["notice"]
    assert _status(join, resident.address) == 1
    tx = join.chain.w3.eth.get_transaction(body["onboardTxHash"])
    assert tx["from"] == join.onboarders["auto"]


def test_auto_approval_without_the_key_refuses_to_start(tmp_path):
    env = {"CITYPASS_API_PASSWORD": API_PASSWORD, "CITYPASS_API_AUTO_APPROVE": "true"}
    done = cli("serve", "--data-dir", str(tmp_path), "--port", "1", env=env)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: CITYPASS_API_AUTO_APPROVE needs the onboarding key "
        f"{tmp_path / 'keystore' / 'onboarder.json'}: create it with `citypass-api "
        "init-onboarder` and grant it OPERATOR"
    ]


def test_init_onboarder_refuses_to_overwrite(join):
    env = {"CITYPASS_API_PASSWORD": API_PASSWORD}
    done = cli("init-onboarder", "--data-dir", str(join.reviewed.data_dir), env=env)
    assert done.returncode == 1 and "already exists" in done.stderr
    keystore = json.loads((join.reviewed.data_dir / "keystore" / "onboarder.json").read_text())
    assert Account.decrypt(keystore, API_PASSWORD)  # still the same, readable key
    assert "0x" + keystore["address"].lower() == join.onboarders["reviewed"].lower()
