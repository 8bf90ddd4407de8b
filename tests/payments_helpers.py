"""A payments world for the top-up and cash-out tests: a REAL ledger node with the system, the
real `citypass-api serve` with a treasury keystore imported by `citypass-api init-treasury`
from the deployment's TREASURY key, and the demo payment provider
(`python -m api.payments.demo_provider`) as a real child process, the two wired to each other
by URL and by the shared webhook secret. Passwords and the secret are throwaway test values."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account.signers.local import LocalAccount
from sqlalchemy import create_engine

from api.payments.treasury import receipt_hash
from api.siwe.store import SessionStore
from citypass.core.keystore import create_keystore
from citypass.core.net import free_port
from citypass.core.process import stop_process
from tests.api.test_api_roles import _token
from tests.api_helpers import ApiServer, cli, start_api_server
from tests.oracle_helpers import ROOT, Chain, start_chain, wait_until

WEBHOOK_SECRET = "throwaway-webhook-secret-for-tests"
TREASURY_PASSWORD = "throwaway-treasury-password"
TOPUP_MIN, TOPUP_MAX = 1_000, 500_000
PROVIDER = "demo-pay"


@dataclass
class Provider:
    url: str
    process: subprocess.Popen
    log_path: Path

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)

    def stop(self) -> None:
        stop_process(self.process, 30)


@dataclass
class PaymentsWorld:
    chain: Chain
    api: ApiServer
    provider: Provider

    def resident_session(self, account: LocalAccount) -> dict[str, str]:
        """A bearer session of a resident. Sign-in of residents (not staff) is the join part of
        issue 13 (api/siwe); until it lands the session is opened in the API's session store,
        exactly as a sign-in opens it."""
        engine = create_engine(self.api.db_url)
        try:
            token = SessionStore(engine).open(account.address, (), time.time() + 3600)
        finally:
            engine.dispose()
        return {"Authorization": f"Bearer {token}"}

    def balance(self, address: str) -> int:
        return int(self.chain.contract("credit").functions.balanceOf(address).call())

    def events(self, name: str, receipt: bytes) -> list[Any]:
        """CityCredit `name` events carrying `receipt` (TopUp or CashOut)."""
        event = getattr(self.chain.contract("credit").events, name)
        return list(event.get_logs(from_block=0, argument_filters={"receipt": receipt}))

    def topup_events(self, receipt_id: str) -> list[Any]:
        return self.events("TopUp", receipt_hash(f"{PROVIDER}:{receipt_id}"))


def start_provider(base: Path, port: int, webhook_url: str) -> Provider:
    log_path = base / "provider.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "api.payments.demo_provider", "--port", str(port),
             "--webhook-url", webhook_url, "--max-backoff", "1"],
            stdout=log, stderr=log, cwd=ROOT, start_new_session=True,
            env={**os.environ, "CITYPASS_DEMO_PAY_SECRET": WEBHOOK_SECRET},
        )  # fmt: skip
    provider = Provider(f"http://127.0.0.1:{port}", process, log_path)

    def ready() -> bool:
        assert process.poll() is None, log_path.read_text()[-2000:]
        try:
            return provider.get("/health").status_code == 200
        except requests.RequestException:
            return False

    wait_until(ready, timeout=60, interval=0.1)
    return provider


def treasury_and_provider(chain: Any, base: Path) -> tuple[dict[str, str], int]:
    """The deployment's TREASURY key imported into the API's data dir (as an operator holds it:
    an encrypted keystore), and the API settings for a provider on a free port: (settings,
    the provider's port)."""
    exported = base / "treasury-export.json"
    create_keystore(exported, "export-password", error=AssertionError,
                    private_key=bytes(chain.people.treasury.key))  # fmt: skip
    (base / "export-password.txt").write_text("export-password\n")
    env = {"CITYPASS_API_TREASURY_PASSWORD": TREASURY_PASSWORD}
    made = cli(
        "init-treasury", "--data-dir", str(base / "api"), "--import-keystore", str(exported),
        "--import-password-file", str(base / "export-password.txt"), env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == chain.people.treasury.address
    provider_port = free_port()
    settings = {
        "CITYPASS_API_TREASURY_PASSWORD": TREASURY_PASSWORD,
        "CITYPASS_API_PAYMENTS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "CITYPASS_API_PAYMENTS_CHECKOUT_URL": f"http://127.0.0.1:{provider_port}/checkout",
    }
    return settings, provider_port


def start_payments_world(base: Path) -> PaymentsWorld:
    chain = start_chain(base / "chain")
    payments, provider_port = treasury_and_provider(chain, base)
    _deployment, api = start_api_server(
        chain, base, **payments,
        CITYPASS_API_TOPUP_MIN_KRW=str(TOPUP_MIN), CITYPASS_API_TOPUP_MAX_KRW=str(TOPUP_MAX),
        CITYPASS_API_CASHOUT_MIN_KRW=str(TOPUP_MIN), CITYPASS_API_CASHOUT_MAX_KRW=str(TOPUP_MAX),
        CITYPASS_API_FOLLOW_MODE="thread",
    )  # fmt: skip
    provider = start_provider(base, provider_port, api.url + "/v1/payments/webhook")
    return PaymentsWorld(chain, api, provider)


def stop_payments_world(world: PaymentsWorld) -> None:
    world.provider.stop()
    world.api.stop()
    world.chain.node.stop()


@pytest.fixture(scope="module")
def payments_world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    world = start_payments_world(tmp_path_factory.mktemp("payments-world"))
    yield world
    stop_payments_world(world)


def staff_session(world: PaymentsWorld, account: Any) -> dict[str, str]:
    """A real SIWE sign-in of a staff account (EIP-4361, personal_sign)."""
    return _token(world, account)
