"""scripts/member.py's application actions (applications, approve, reject), run in-process as
`brownie run` runs them, against a real citypass-api serving the development chain the scripts
deployed to: residents apply through the API, the operator (accounts[5], OPERATOR) signs in to
the API with the same key that signs the onboarding, and every bad argument is one `error:`."""

from __future__ import annotations

import brownie
import pytest
from eth_account import Account

from citypass.protocol.deployment_record import CONTRACTS, Deployment
from scripts._cli.api_client import StaffApi, sign_text
from tests.api_helpers import serve_api
from tests.scripts.helpers import fails, script

APPLICANT = {
    "name": "Park Jiho", "phone": "010-2222-3333", "homeAddress": "7 Eupnae-ro, Sinchon-ri",
    "privacyConsent": True,
}  # fmt: skip


@pytest.fixture(autouse=True)
def isolation():
    """No per-test rollback here (it overrides tests/conftest.py's): the API's read model
    follows this chain, and our ledger never rewrites history, so a rolled-back block would
    stop its follower. The module's changes stay on its own deployment."""


@pytest.fixture(scope="module")
def api(system, tmp_path_factory):
    base = tmp_path_factory.mktemp("member-api")
    addresses = {key: getattr(system, key).address for key in CONTRACTS}
    record = Deployment(brownie.chain.id, addresses).write(base / "deployment.json")
    admin = {"from": brownie.accounts[0]}
    server = serve_api(
        brownie.web3.provider.endpoint_uri, record, base,
        lambda relayer: system.access.onboard(relayer, admin), CITYPASS_API_POLL_INTERVAL="0.1",
    )  # fmt: skip
    yield server
    server.stop()


def _apply(api) -> tuple[str, int]:
    resident = Account.create()
    client = StaffApi.sign_in(api.url, resident.address, sign_text(resident), scope="resident")
    body = client.call("POST", "/v1/applications", json=APPLICANT, what="apply")
    return resident.address, body["applicationId"]


def test_list_then_approve_onboards_with_the_operators_key(capsys, system, api):
    address, application_id = _apply(api)
    listed = script("member", "applications", f"api={api.url}")
    assert application_id in [a["applicationId"] for a in listed]
    out = capsys.readouterr().out
    assert "pending application(s)" in out and "Park Jiho" in out and address in out
    result = script("member", "approve", application_id, f"api={api.url}")
    assert result["status"] == "APPROVED" and result["decidedVia"] == "onChain"
    assert system.access.memberStatus(address) == 1
    [event] = [e for e in system.access.events.get_sequence(0, event_type="MemberOnboarded")
               if e.args.account == address]  # fmt: skip
    assert event.args.by == brownie.accounts[5].address  # the operator signed it
    assert f"approved application {application_id}: onboarded {address}" in capsys.readouterr().out
    # Nothing is onboarded twice.
    code, line = fails(capsys, "member", "approve", application_id, f"api={api.url}")
    assert code == 1 and "is approved, not pending" in line
    listed = script("member", "applications", "status=approved", f"api={api.url}")
    assert application_id in [a["applicationId"] for a in listed]


def test_reject_with_a_reason_code(capsys, system, api):
    address, application_id = _apply(api)
    result = script("member", "reject", application_id, "reason=not_resident", f"api={api.url}")
    assert result["status"] == "REJECTED" and result["reasonCode"] == "NOT_RESIDENT"
    assert f"rejected application {application_id} of {address}" in capsys.readouterr().out
    assert system.access.memberStatus(address) == 0
    code, line = fails(capsys, "member", "approve", application_id, f"api={api.url}")
    assert code == 1 and "is rejected, not pending" in line


def test_approving_a_suspended_member_sends_nothing(capsys, system, api):
    address, application_id = _apply(api)
    operator = {"from": brownie.accounts[5]}
    system.access.onboard(address, operator)
    system.access.suspend(address, b"T-1".ljust(32, b"\0"), operator)
    height = brownie.web3.eth.block_number
    code, line = fails(capsys, "member", "approve", application_id, f"api={api.url}")
    # Refused as suspended, or (once the API read the onboarding) as no longer pending.
    assert code == 1
    assert "is already suspended on CityAccess: nothing was sent" in line or "not pending" in line
    assert brownie.web3.eth.block_number == height
    assert system.access.memberStatus(address) == 2


def test_an_unknown_application_is_one_error_line(capsys, api):
    height = brownie.web3.eth.block_number
    code, line = fails(capsys, "member", "approve", 999_999, f"api={api.url}")
    assert code == 1 and "404" in line and "no application 999999" in line
    assert brownie.web3.eth.block_number == height


@pytest.mark.parametrize(
    "argv, code, words",
    [
        (("approve",), 2, "approve takes one application id"),
        (("approve", "1", "2"), 2, "approve takes one application id"),
        (("approve", "abc"), 2, "application id 'abc'"),
        (("approve", "0"), 2, "application id '0'"),
        (("reject", "1"), 2, "reject needs reason=CODE"),
        (("reject", "1", "reason=MEH"), 2, "a rejection's reason is one of NOT_RESIDENT"),
        (("approve", "1", "reason=NOT_RESIDENT"), 2, "--reason goes with suspend and reject"),
        (("applications", "0x" + "1" * 40), 2, "applications takes no ACCOUNT or ID"),
        (("applications", "status=bogus"), 2, "invalid choice: 'BOGUS'"),
        (("applications", "api=ftp://example"), 2, "is not the API's base URL"),
        (("applications", "api=http://127.0.0.1:1"), 1, "did not answer"),
        (("onboard",), 2, "onboard needs at least one ACCOUNT"),
    ],
)
def test_bad_arguments_are_one_error_line(capsys, api, argv, code, words):
    if not any(str(a).startswith("api=") for a in argv):
        argv += (f"api={api.url}",)
    got, line = fails(capsys, "member", *argv)
    assert got == code and words in line, line


def test_a_signer_without_a_reviewer_role_is_refused(capsys, api):
    # accounts[10] holds no role: the API refuses its staff sign-in.
    code, line = fails(capsys, "member", "applications", "as=10", f"api={api.url}")
    assert code == 1 and "403" in line and "holds none of the staff roles" in line


def test_help_names_the_application_actions(capsys):
    assert script("member", "help") is None
    out = capsys.readouterr().out
    assert "applications" in out and "reject 8 reason=NOT_RESIDENT" in out
