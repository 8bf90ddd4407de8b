"""Cash-outs over a real ledger node and the real citypass-api (tests/payments_helpers.py): a
resident's request is seen by that resident and the staff only; settlement burns the credits
on chain exactly once after the resident's approval; rejection burns nothing; the treasury
keystore command and the demo provider's command refuse bad input with one line."""

from __future__ import annotations

import os
import subprocess
import sys

from eth_account import Account

from api.payments.treasury import receipt_hash
from tests.api_helpers import API_PASSWORD, cli, error_of, start_api_server
from tests.oracle_helpers import ROOT
from tests.payments_helpers import (
    TOPUP_MAX,
    PaymentsWorld,
    payments_world,
    staff_session,
)  # fmt: skip

world = payments_world
MAX_UINT = 2**256 - 1


def _request(world: PaymentsWorld, headers: dict, amount: int) -> dict:
    reply = world.api.post("/v1/cashouts", json={"amount": amount}, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()


def test_a_cash_out_is_seen_by_its_resident_and_staff_and_burned_once(world: PaymentsWorld) -> None:
    chain = world.chain
    resident = chain.resident(credit=50_000)
    headers = world.resident_session(resident)
    request = _request(world, headers, 20_000)
    assert request["status"] == "requested" and request["amount"] == 20_000
    assert request["treasury"] == chain.people.treasury.address

    # The resident sees their own; another resident sees none and may not list everyone's.
    mine = world.api.get("/v1/cashouts", headers=headers).json()["cashOuts"]
    assert [c["id"] for c in mine] == [request["id"]]
    neighbour = world.resident_session(chain.new_member())
    assert world.api.get("/v1/cashouts", headers=neighbour).json()["cashOuts"] == []
    error_of(world.api.get("/v1/staff/cashouts", headers=neighbour), 403, "missing_role")
    error_of(world.api.post(f"/v1/staff/cashouts/{request['id']}/settle", headers=neighbour), 403)
    error_of(world.api.get("/v1/staff/cashouts"), 401, "session_missing")

    # The village enterprise's staff (a real SIWE sign-in) see it among the open requests.
    staff = staff_session(world, chain.people.village_enterprise)
    listed = world.api.get("/v1/staff/cashouts?status=requested", headers=staff).json()
    assert request["id"] in [c["id"] for c in listed["cashOuts"]]
    error_of(world.api.get("/v1/staff/cashouts?status=paid", headers=staff), 422)

    # Not approved yet: nothing burned, the request stays open.
    settle = f"/v1/staff/cashouts/{request['id']}/settle"
    error_of(world.api.post(settle, headers=staff), 409, "cashout_not_approved")
    assert world.balance(resident.address) == 50_000
    credit = chain.contract("credit")
    chain.transact(credit.functions.approve(request["treasury"], 20_000), resident)
    settled = world.api.post(settle, headers=staff)
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "settled" and settled.json()["txHash"].startswith("0x")
    assert settled.json()["decidedBy"] == chain.people.village_enterprise.address
    assert world.balance(resident.address) == 30_000
    # Settling again (a double click) answers the same and burns nothing more.
    chain.transact(credit.functions.approve(request["treasury"], MAX_UINT), resident)
    again = world.api.post(settle, headers=staff)
    assert again.status_code == 200 and again.json()["txHash"] == settled.json()["txHash"]
    assert world.balance(resident.address) == 30_000
    assert len(world.events("CashOut", receipt_hash(f"cashout:{request['id']}"))) == 1
    reject = f"/v1/staff/cashouts/{request['id']}/reject"
    error_of(
        world.api.post(reject, json={"reason": "too late"}, headers=staff), 409, "cashout_closed"
    )
    mine = world.api.get("/v1/cashouts", headers=headers).json()["cashOuts"]
    assert mine[0]["status"] == "settled"


def test_a_rejected_cash_out_burns_nothing_and_tells_why(world: PaymentsWorld) -> None:
    resident = world.chain.resident(credit=10_000)
    headers = world.resident_session(resident)
    request = _request(world, headers, 10_000)
    # Open requests count against the balance.
    error_of(world.api.post("/v1/cashouts", json={"amount": 1_000}, headers=headers), 409,
             "insufficient_credits")  # fmt: skip
    staff = staff_session(world, world.chain.people.village_enterprise)
    reject = f"/v1/staff/cashouts/{request['id']}/reject"
    for body in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "ok", "extra": 1}):
        error_of(world.api.post(reject, json=body, headers=staff), 422, "validation")
    rejected = world.api.post(reject, json={"reason": "bank account not verified"}, headers=staff)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    mine = world.api.get("/v1/cashouts", headers=headers).json()["cashOuts"]
    assert mine[0]["reason"] == "bank account not verified"
    error_of(world.api.post(f"/v1/staff/cashouts/{request['id']}/settle", headers=staff), 409,
             "cashout_closed")  # fmt: skip
    error_of(world.api.post("/v1/staff/cashouts/co_nope/settle", headers=staff), 404,
             "unknown_cashout")  # fmt: skip
    assert world.balance(resident.address) == 10_000
    # The rejected amount is free again.
    assert _request(world, headers, 10_000)["status"] == "requested"


def test_cash_out_requests_refuse_bad_input(world: PaymentsWorld) -> None:
    resident = world.chain.resident(credit=5_000)
    headers = world.resident_session(resident)
    error_of(world.api.post("/v1/cashouts", json={"amount": 1_000}), 401, "session_missing")
    error_of(world.api.get("/v1/cashouts"), 401, "session_missing")
    for body in ({}, {"amount": "1000"}, {"amount": 0}, {"amount": 1_000, "to": "x"}):
        message = error_of(world.api.post("/v1/cashouts", json=body, headers=headers), 422)[
            "message"
        ]
        assert "amount" in message or "to" in message, message
    reply = world.api.post("/v1/cashouts", json={"amount": TOPUP_MAX + 1}, headers=headers)
    assert error_of(reply, 422, "amount_out_of_range")["message"].startswith("amount:")
    reply = world.api.post("/v1/cashouts", json={"amount": 6_000}, headers=headers)
    assert "5000" in error_of(reply, 409, "insufficient_credits")["message"]
    stranger = world.resident_session(Account.create())
    error_of(world.api.post("/v1/cashouts", json={"amount": 1_000}, headers=stranger), 403,
             "not_member")  # fmt: skip


def test_init_treasury_refuses_bad_input(tmp_path) -> None:
    env = {"CITYPASS_API_TREASURY_PASSWORD": "long-enough-password"}
    made = cli("init-treasury", "--data-dir", str(tmp_path), env=env)
    assert made.returncode == 0 and made.stdout.strip().startswith("0x"), made.stderr
    again = cli("init-treasury", "--data-dir", str(tmp_path), env=env)
    assert again.returncode == 1 and "already exists" in again.stderr
    short = cli("init-treasury", "--data-dir", str(tmp_path / "b"),
                env={"CITYPASS_API_TREASURY_PASSWORD": "short"})  # fmt: skip
    assert short.returncode == 1 and "CITYPASS_API_TREASURY_PASSWORD" in short.stderr
    keystore = tmp_path / "keystore" / "treasury.json"
    (tmp_path / "wrong.txt").write_text("not-the-password\n")
    wrong = cli("init-treasury", "--data-dir", str(tmp_path / "c"), "--import-keystore",
                str(keystore), "--import-password-file", str(tmp_path / "wrong.txt"), env=env)  # fmt: skip
    assert wrong.returncode == 1 and "wrong --import-password-file" in wrong.stderr, wrong.stderr
    alone = cli("init-treasury", "--data-dir", str(tmp_path / "d"), "--import-password-file",
                str(tmp_path / "wrong.txt"), env=env)  # fmt: skip
    assert alone.returncode == 1 and "needs --import-keystore" in alone.stderr
    for result in (again, short, wrong, alone):
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "c" / "keystore" / "treasury.json").exists()


def test_the_demo_provider_command_refuses_bad_input(tmp_path) -> None:
    def run(
        *args: str, secret: str | None = "a-secret-of-sixteen-chars"
    ) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "CITYPASS_DEMO_PAY_SECRET"}
        if secret is not None:
            env["CITYPASS_DEMO_PAY_SECRET"] = secret
        return subprocess.run([sys.executable, "-m", "api.payments.demo_provider", *args],
                              capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)  # fmt: skip

    assert run("--help").returncode == 0
    url = ("--webhook-url", "http://127.0.0.1:1/v1/payments/webhook")
    missing = run("--port", "1", *url, secret=None)
    assert missing.returncode == 1 and "CITYPASS_DEMO_PAY_SECRET" in missing.stderr
    short = run("--port", "1", *url, secret="short")
    assert short.returncode == 1 and "at least 16" in short.stderr
    assert "--port" in run("--port", "0", *url).stderr
    assert "--webhook-url" in run("--port", "1", "--webhook-url", "ftp://x").stderr


def test_an_api_without_the_treasury_key_serves_no_payments(world: PaymentsWorld, tmp_path) -> None:
    """No keystore: the endpoints are absent (404, not in OpenAPI). A keystore without its
    password stops `serve` with one line."""
    _deployment, bare = start_api_server(world.chain, tmp_path, CITYPASS_API_FOLLOW_MODE="thread")
    try:
        paths = bare.get("/openapi.json").json()["paths"]
        assert not [
            path for path in paths if "topups" in path or "cashouts" in path or "payments" in path
        ]
        assert bare.post("/v1/topups", json={"amount": 5_000}).status_code == 404
        assert bare.post("/v1/payments/webhook", data=b"{}").status_code == 404
    finally:
        bare.stop()
    paths = world.api.get("/openapi.json").json()["paths"]
    assert {"/v1/topups", "/v1/payments/webhook", "/v1/cashouts", "/v1/staff/cashouts"} <= set(
        paths
    )
    command = world.api.command
    options = {
        name: command[command.index(name) + 1]
        for name in ("--rpc-url", "--deployment", "--data-dir")
    }
    serve = cli("serve", *[part for pair in options.items() for part in pair], "--db",
                f"sqlite:///{tmp_path / 'other.db'}", "--port", "1",
                env={"CITYPASS_API_PASSWORD": API_PASSWORD, "CITYPASS_API_TREASURY_PASSWORD": ""})  # fmt: skip
    assert serve.returncode == 1 and serve.stderr.count("\n") == 1, serve.stderr
    assert "CITYPASS_API_TREASURY_PASSWORD" in serve.stderr
