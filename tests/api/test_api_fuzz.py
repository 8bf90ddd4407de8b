"""schemathesis against citypass-api's own OpenAPI document, bounded in time: every operation is
fed generated valid and invalid input (examples, boundary coverage, then fuzzing until the time
budget is spent) and no answer may be a server error.

A second `citypass-api serve` over the API tests' chain, so the fuzzer's flood of relay calls
spends that process's rate-limit buckets, not the ones the relay tests count on. schemathesis
runs from its own venv (.tools/fuzz-venv, requirements-fuzz.lock): it needs a newer hypothesis
than brownie pins.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from eth_account import Account
from eth_account.messages import encode_defunct

from citypass.protocol.roles import ROLES
from citypass.protocol.siwe_message import SiweMessage, render_message
from oracles.evidence import EvidenceConfig, open_store
from tests.api_helpers import World, init_onboarder, sqlite_world, start_api_server
from tests.oracle_helpers import ROOT

# SQLite only: a minute of fuzzing per database is too slow to pay twice, and the fuzzer's
# target is the HTTP layer; the PostgreSQL queries are covered by the API suites.
world = sqlite_world

SCHEMATHESIS = ROOT / ".tools" / "fuzz-venv" / "bin" / "schemathesis"
BUDGET_S = 60
LOGOUT = "/v1/auth/logout"
STAFF_ROLES = ("INSPECTOR", "OPERATOR", "CITY_ADMIN")


def staff_token(world: World, url: str) -> str:
    """Sign in with SIWE (EIP-4361) as a fresh account granted every staff role."""
    staff = Account.create()
    for role in STAFF_ROLES:
        world.chain.system.access.grantRole(
            ROLES[role], staff.address, {"from": world.chain.people.admin}
        )
    now = datetime.now(UTC).replace(microsecond=0)
    text = render_message(
        SiweMessage(
            domain=url.removeprefix("http://"), address=staff.address, uri=f"{url}/v1/auth/siwe",
            version="1", chain_id=world.chain.chain_id, issued_at=now,
            nonce=requests.post(url + "/v1/auth/nonce", timeout=10).json()["nonce"],
            statement="Fuzz the staff endpoints.", expiration_time=now + timedelta(minutes=30),
        )
    )  # fmt: skip
    signature = Account.sign_message(encode_defunct(text=text), staff.key).signature.hex()
    reply = requests.post(
        url + "/v1/auth/siwe",
        json={"message": text, "signature": "0x" + signature.removeprefix("0x")},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


def test_no_generated_request_gets_a_server_error(world: World, tmp_path: Path):
    assert SCHEMATHESIS.exists(), "schemathesis is missing: run `make setup` (.tools/fuzz-venv)"
    # With an onboarding key holding OPERATOR, so approving an application is fuzzed through to
    # the chain rather than stopping at "no onboarding key".
    onboarder = init_onboarder(tmp_path / "api")
    world.chain.system.access.grantRole(
        ROLES["OPERATOR"], onboarder, {"from": world.chain.people.admin}
    )
    # The oracle daemon's evidence store beside it (the holds, deletion records and evidence
    # endpoints read it; without one they answer 503 evidence_store_unavailable, by design).
    open_store(EvidenceConfig(tmp_path / "oracle")).close()
    _, api = start_api_server(
        world.chain, tmp_path, CITYPASS_API_POLL_INTERVAL="0.5",
        CITYPASS_API_EVIDENCE_DIR=str(tmp_path / "oracle"),
    )  # fmt: skip
    # A staff session holding every staff role, so the protected endpoints are fuzzed past their
    # session check. Logout is left out: it would end that session half-way through the run.
    token = staff_token(world, api.url)
    report = tmp_path / "schemathesis.json"
    schema = requests.get(api.url + "/openapi.json", timeout=10).json()
    documented = {
        (method.upper(), path) for path, methods in schema["paths"].items() for method in methods
    }
    try:
        run = subprocess.run(
            [
                str(SCHEMATHESIS), "run", api.url + "/openapi.json",
                "--checks", "not_a_server_error,content_type_conformance",
                "--header", f"Authorization: Bearer {token}", "--exclude-path", LOGOUT,
                "--phases", "examples,coverage,fuzzing",
                "--max-time", str(BUDGET_S), "--workers", "1", "--seed", "2019",
                "--request-timeout", "30", "--generation-database", "none",
                "--report", "json", "--report-json-path", str(report), "--no-color",
            ],
            capture_output=True, text=True, cwd=tmp_path, timeout=BUDGET_S * 4,
        )  # fmt: skip
        log = api.log_path.read_text()
    finally:
        api.stop()
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests_seen = [line for line in lines if line.get("msg") == "request"]
    statuses = [line["status"] for line in requests_seen]
    assert len(statuses) > 200, f"only {len(statuses)} requests reached the API"
    assert not [status for status in statuses if status >= 500]
    assert any(400 <= status < 500 for status in statuses)
    # Every documented operation was exercised (the access log names the route template).
    exercised = {(line["method"], line["route"]) for line in requests_seen}
    missing = {op for op in documented if op not in exercised and op != ("POST", LOGOUT)}
    assert not missing, f"schemathesis never called {sorted(missing)}"
    # The session carried the fuzzer past the role checks.
    staff_answers = {
        line["status"] for line in requests_seen if line["route"] == "/v1/inspector/incidents"
    }
    assert 200 in staff_answers, staff_answers
