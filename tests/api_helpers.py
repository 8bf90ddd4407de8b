"""Shared helpers of the API tests (tests/test_api*.py).

One world per test session: a REAL ledger node with the whole system and the indexer scenario
(tests/indexer_helpers.build_scenario), a relayer keystore made by `citypass-api init-relayer`
and onboarded as a member, and `citypass-api serve` as a real child process on a free loopback
port (real uvicorn, real HTTP, the read model a real SQLite file its in-process follower fills).
The password below is a throwaway test password; it protects nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from eth_account.messages import encode_typed_data

from citypass.core.net import free_port
from citypass.core.process import stop_process
from tests.indexer_helpers import (
    DATABASES,
    Scenario,
    build_scenario,
    read_model_url,
    session_world,
    write_deployment,
)
from tests.oracle_helpers import ROOT, Chain, start_chain, wait_until

API_PASSWORD = "throwaway-api-password-do-not-use"
ALLOWED_ORIGIN = "https://wallet.citypass.example"
# Small signer buckets so the 429 test needs few requests; a roomy IP bucket for the rest.
SIGNER_BURST = 3
# The read-model databases the API suites run on (the ids of the world fixtures' params).


@dataclass
class ApiServer:
    url: str
    process: subprocess.Popen
    log_path: Path
    data_dir: Path
    relayer: str
    # How the process was started, so restart() can start it again the same way.
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    # Every response body the tests saw, checked for secrets at the end.
    seen: list[str] = field(default_factory=list)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 90)
        reply = requests.request(method, self.url + path, **kwargs)
        self.seen.append(reply.text)
        return reply

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]

    def metric(self, name: str, labels: str = "") -> float:
        wanted = f"{name}{{{labels}}}" if labels else name
        for line in self.get("/metrics").text.splitlines():
            if line.startswith(wanted + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self) -> int:
        return stop_process(self.process)

    def restart(self) -> None:
        """Stop the process (SIGTERM) and start it again with the same command, port, read model
        and data directory; returns once /health says the read model has caught up."""
        assert self.command, "restart() needs a server started by start_api_server"
        self.stop()
        self.process = _launch(self.command, self.env, self.log_path)
        _wait_ready(self)

    @property
    def db_url(self) -> str:
        return self.command[self.command.index("--db") + 1]


@dataclass
class World:
    scenario: Scenario
    deployment: Path
    api: ApiServer

    @property
    def chain(self) -> Any:
        return self.scenario.chain


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "api", *args], capture_output=True, text=True, timeout=120,
        cwd=ROOT, env={**os.environ, **(env or {})},
    )  # fmt: skip


def init_onboarder(data_dir: Path) -> str:
    """`citypass-api init-onboarder` in `data_dir`: the onboarding key's address (grant it
    OPERATOR so the API can onboard approved applicants)."""
    made = cli(
        "init-onboarder", "--data-dir", str(data_dir), env={"CITYPASS_API_PASSWORD": API_PASSWORD}
    )
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def start_world(base: Path, db_url: str | None = None) -> World:
    chain = start_chain(base / "chain")
    scenario = build_scenario(chain)
    deployment, api = start_api_server(
        chain,
        base,
        db_url=db_url,
        CITYPASS_API_CORS_ORIGINS=ALLOWED_ORIGIN,
        CITYPASS_API_POLL_INTERVAL="0.1",
        CITYPASS_API_SIGNER_BURST=str(SIGNER_BURST),
        CITYPASS_API_SIGNER_RATE="0.01",
        CITYPASS_API_IP_BURST="500",
        CITYPASS_API_IP_RATE="50",
    )
    return World(scenario, deployment, api)


def start_api_server(
    chain: Chain, base: Path, *, db_url: str | None = None, **settings: str
) -> tuple[Path, ApiServer]:
    """`citypass-api serve` over `chain` (serve_api) with its deployment record; the city
    onboards the relayer."""
    system = chain.system
    deployment = write_deployment(chain, base / "deployment.json")

    def onboard(relayer: str) -> None:
        system.access.onboard(relayer, {"from": chain.people.admin})

    return deployment, serve_api(chain.node.url, deployment, base, onboard, db_url, **settings)


def serve_api(
    rpc_url: str, deployment: Path, base: Path, onboard: Callable[[str], Any],
    db_url: str | None = None, **settings: str,
) -> ApiServer:  # fmt: skip
    """`citypass-api serve` as a real child process on a free loopback port: a relayer keystore
    made by `init-relayer` and onboarded as a member by `onboard(address)`, the read model at
    `db_url` (default a fresh SQLite file in `base`); `settings` are CITYPASS_API_* variables.
    Returns once /health says the read model has caught up."""
    data_dir = base / "api"
    env = {"CITYPASS_API_PASSWORD": API_PASSWORD}
    made = cli("init-relayer", "--data-dir", str(data_dir), env=env)
    assert made.returncode == 0, made.stderr
    relayer = made.stdout.strip()
    # The ledger gateway only lets members transact: the relayer is onboarded.
    onboard(relayer)
    port = free_port()
    env.update(settings)
    command = [
        sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port),
        "--rpc-url", rpc_url, "--db", db_url or f"sqlite:///{base / 'readmodel.db'}",
        "--deployment", str(deployment), "--data-dir", str(data_dir),
    ]  # fmt: skip
    log_path = base / "api.log"
    process = _launch(command, env, log_path)
    api = ApiServer(
        f"http://127.0.0.1:{port}", process, log_path, data_dir, relayer, command=command, env=env
    )
    _wait_ready(api)
    return api


def serve_replica(
    primary: ApiServer, base: Path, *, db_url: str | None = None, **settings: str
) -> ApiServer:
    """`citypass-api serve --replica` over the primary's node and read model (or `db_url`), on
    its own port and in a data directory of its own that holds no keystore (and no password in
    its environment): a replica needs neither. `settings` are CITYPASS_API_* variables."""
    base.mkdir(parents=True, exist_ok=True)
    data_dir = base / "replica"
    port = free_port()
    command = [*primary.command, "--replica"]
    command[command.index("--port") + 1] = str(port)
    command[command.index("--data-dir") + 1] = str(data_dir)
    if db_url is not None:
        command[command.index("--db") + 1] = db_url
    env = {k: v for k, v in primary.env.items() if k != "CITYPASS_API_PASSWORD"} | settings
    log_path = base / "replica.log"
    process = _launch(command, env, log_path)
    replica = ApiServer(
        f"http://127.0.0.1:{port}", process, log_path, data_dir, "", command=command, env=env
    )
    _wait_ready(replica)
    return replica


def _launch(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=log, cwd=ROOT, env={**os.environ, **env},
            start_new_session=True,
        )  # fmt: skip


def wait_healthy(api: ApiServer, condition: Callable[[dict], Any]) -> None:
    """Wait until the API's /health answer meets `condition`; fail at once if it exited."""

    def met() -> bool:
        if api.process.poll() is not None:
            raise AssertionError(f"citypass-api exited: {api.log_path.read_text()[-3000:]}")
        try:
            health = requests.get(api.url + "/health", timeout=2).json()
        except requests.RequestException:
            return False
        return bool(condition(health))

    wait_until(met, timeout=60, interval=0.1)


def _wait_ready(api: ApiServer) -> None:
    wait_healthy(api, lambda health: health.get("ok") and health.get("indexerLag", 99) <= 1)


def stop_world(world: World) -> None:
    world.api.stop()
    world.chain.node.stop()


def _session_world(database: str, request: pytest.FixtureRequest) -> World:
    return session_world("api", database, request, start_world, stop_world)


@pytest.fixture(scope="session", params=DATABASES)
def world(request: pytest.FixtureRequest) -> World:
    """The shared world, on each read-model database in turn."""
    return _session_world(request.param, request)


@pytest.fixture(scope="session")
def sqlite_world(request: pytest.FixtureRequest) -> World:
    """The shared world on SQLite only, for suites too slow to run twice (the fuzzer)."""
    return _session_world("sqlite", request)


def _own_world(database: str, request: pytest.FixtureRequest) -> World:
    base = request.getfixturevalue("tmp_path_factory").mktemp(f"api-world-own-{database}")
    built = start_world(base, read_model_url(database, base, request.config))
    request.addfinalizer(lambda: stop_world(built))
    return built


@pytest.fixture(scope="module", params=DATABASES)
def clock_moving_world(request: pytest.FixtureRequest) -> World:
    """A world of the module's own, for modules that move the ledger clock: the shared world's
    tests book at fixed times of the scenario's week, and pytest-xdist does not keep the order
    of test files, so a clock moved forward there would put their windows in the past."""
    return _own_world(request.param, request)


@pytest.fixture(scope="module")
def sqlite_clock_moving_world(request: pytest.FixtureRequest) -> World:
    """The same on SQLite only, for modules whose subject is not the read model's queries
    (those run on both databases elsewhere): a second world costs half a minute."""
    return _own_world("sqlite", request)


def error_of(reply: requests.Response, status: int, code: str | None = None) -> dict:
    """The API's error body (`{"error": {"code", "message"}}`) of a reply with `status`."""
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def relay_signed(world: World, account: Any, typed: dict) -> dict:
    """Sign the ForwardRequest typed data the API served with `account`'s key and have the API
    relay it; the relayed call must succeed. Returns the API's answer."""
    signed = Account.sign_message(encode_typed_data(full_message=typed), account.key)
    message = {k: v for k, v in typed["message"].items() if k != "nonce"}
    reply = world.api.post(
        "/v1/relay/forward",
        json={**message, "signature": "0x" + signed.signature.hex().removeprefix("0x"),
              "chainId": typed["domain"]["chainId"],
              "verifyingContract": typed["domain"]["verifyingContract"]},
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    assert reply.json()["success"], reply.json()
    return reply.json()


def relayer_private_key(world: World) -> str:
    keystore = json.loads((world.api.data_dir / "keystore" / "relayer.json").read_text())
    return Account.decrypt(keystore, API_PASSWORD).hex()
