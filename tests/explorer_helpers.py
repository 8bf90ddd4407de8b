"""The world the explorer, KPI and browser tests look at, built once per test session.

A REAL ledger node with the whole system (oracle_helpers.start_chain), the indexer scenario
(slots, leases booked/cancelled/settled with overstay, a claim), plus what the explorer shows on
top: illegal-parking incidents on two KST days (one confirmed by an inspector) and a complete
valet job (request, accept, park, return: a FareAllocated split). The API is the real app
(create_app) served by a real uvicorn on a loopback port, its follower filling the read model:
one world per database (SQLite, and PostgreSQL on the test process's shared server).
`serve_world` is the one place that knows how the API is started, so a demo run's API
(`citypass-demo` serving after the day) can replace it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from eth_account import Account
from web3.logs import DISCARD

from api.app import build_state, create_app
from api.explorer.contracts import ALL_CONTRACTS
from api.i18n.locale import use as use_locale
from api.settings import Settings
from citypass.core.net import free_port
from citypass.protocol.deployment_record import CONTRACTS, Deployment
from citypass.protocol.review_reasons import reason_code
from citypass.protocol.roles import ROLES
from tests.indexer_helpers import DATABASES, Scenario, build_scenario, session_world
from tests.oracle_helpers import start_chain, wait_until
from tests.siwe_helpers import session_token

VALET_LOT = 7
CID = b"\x01\x55\x12\x20" + b"\x07" * 32
# The cached explorer cookie's sign-in time (not a cookie: stripped before use), and how long a
# cached staff session is reused (sessions from siwe_helpers expire after 10 minutes).
SIGNED_AT = "_signed_at"
SESSION_REUSE_S = 300


@dataclass
class ExplorerWorld:
    scenario: Scenario
    url: str
    server: Any = None
    thread: threading.Thread | None = None
    incidents: dict[str, list[int]] = field(default_factory=dict)  # KST date → incident ids
    valet: dict[str, Any] = field(default_factory=dict)
    txs: dict[str, str] = field(default_factory=dict)  # what → tx hash
    staff_cookies: dict[str, dict[str, str]] = field(default_factory=dict)  # role → cookies

    @property
    def chain(self) -> Any:
        return self.scenario.chain

    def get(self, path: str, *, language: str | None = "en", **kwargs: Any) -> requests.Response:
        """GET on the API. Pages are asked for in English (Accept-Language: en), the language
        the explorer tests read; `language=None` sends no Accept-Language (Korean, the default)."""
        kwargs.setdefault("timeout", 60)
        if language is not None:
            kwargs["headers"] = {"Accept-Language": language, **kwargs.get("headers", {})}
        return requests.get(self.url + path, **kwargs)

    def signed_in(self, role: str = "AUDITOR") -> dict[str, str]:
        """The explorer's cookie of a staff session of `role` (a fresh key granted the role,
        signed in with SIWE, its token exchanged at POST /explorer/session); one per role,
        signed in again once it is half-way to its 10-minute expiry (the world is shared by the
        worker's files, which may run long after the first sign-in)."""
        signed_at = self.staff_cookies.get(role, {}).get(SIGNED_AT)
        if signed_at is None or time.time() - float(signed_at) > SESSION_REUSE_S:
            account = Account.create()
            admin = {"from": self.chain.people.admin}
            self.chain.system.access.grantRole(ROLES[role], account.address, admin)
            token = session_token(self.url, self.chain.chain_id, account)
            reply = requests.post(self.url + "/explorer/session", json={"token": token}, timeout=30)
            assert reply.status_code == 204, reply.text
            self.staff_cookies[role] = {**dict(reply.cookies), SIGNED_AT: str(time.time())}
        return {k: v for k, v in self.staff_cookies[role].items() if k != SIGNED_AT}

    def wait_indexed(self) -> None:
        head = self.chain.w3.eth.block_number

        def caught_up() -> bool:
            health = self.get("/health").json()
            return health.get("indexedBlock", -1) >= head

        wait_until(caught_up, timeout=60, interval=0.1)

    def stop(self) -> None:
        try:
            if self.server is not None:
                self.server.should_exit = True
            if self.thread is not None:
                self.thread.join(timeout=30)
        finally:
            # The node and its engine are processes: they outlive the test run if not stopped
            # (one was found still running after a full run).
            self.chain.node.stop()


def _incident(n: int, slot: int, observed_at: int) -> tuple:
    return (0, slot, 37_503_000, 126_787_000, observed_at, 9_100, n.to_bytes(32, "big"),
            b"\x02" * 32, CID)  # fmt: skip


def add_activity(world: ExplorerWorld) -> None:
    s, chain = world.scenario, world.chain
    system, people = chain.system, chain.people
    # Incidents: two on Sunday (the day before), three on Monday; one confirmed.
    inspector = chain.new_member()
    system.access.grantRole(ROLES["INSPECTOR"], inspector.address, {"from": people.admin})
    sunday = [s.at(-1, 9), s.at(-1, 17)]
    monday = [s.at(0, 7), s.at(0, 8.5), s.at(0, 9)]
    for n, at in enumerate(sunday + monday, start=1):
        system.incidents.reportIncident(_incident(n, s.slots["A"], at), {"from": people.oracle})
    system.incidents.confirm(1, reason_code("VERIFIED_ON_SITE"), b"", {"from": inspector})
    world.incidents = {"sunday": [1, 2], "monday": [3, 4, 5]}
    # A valet job on slot D, 13:00-14:00 Monday.
    worker = chain.new_member()
    system.access.grantRole(ROLES["VALET"], worker.address, {"from": people.admin})
    system.valet.setLotSlots(VALET_LOT, [s.slots["D"]], {"from": people.operator})
    rider = s.lessee
    system.credit.approve(system.valet.address, 2**256 - 1, {"from": rider})
    chain.set_clock(s.at(0, 13))
    receipt = system.valet.requestValet(VALET_LOT, s.at(0, 13), s.at(0, 14), 10**9, {"from": rider})
    world.txs["valet_request"] = "0x" + bytes(receipt["transactionHash"]).hex()
    valet = chain.contract("valet")
    request_id = int(
        valet.events.ValetRequested().process_receipt(receipt, errors=DISCARD)[0]["args"][
            "requestId"
        ]
    )
    system.valet.accept(request_id, {"from": worker})
    system.valet.park(request_id, {"from": worker})
    system.valet.requestReturn(request_id, {"from": rider})
    chain.set_clock(s.at(0, 13.5))
    receipt = system.valet.returnCar(request_id, {"from": worker})
    world.txs["valet_return"] = "0x" + bytes(receipt["transactionHash"]).hex()
    world.valet = {"worker": worker.address, "request": request_id, "rider": rider.address}


def write_deployment(chain: Any, path: Path) -> Path:
    """The deployment record with every contract, the mobility ones included."""
    system = chain.system
    Deployment(chain.chain_id, {k: getattr(system, k).address for k in CONTRACTS}).write(path)
    record = json.loads(path.read_text())
    record["contracts"] = {key: getattr(system, key).address for key in ALL_CONTRACTS}
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def serve_world(
    base: Path, world: ExplorerWorld, deployment: Path, db_url: str | None = None
) -> None:
    port = free_port()
    settings = Settings(
        rpc_url=world.chain.node.url, db=db_url or f"sqlite:///{base / 'readmodel.db'}",
        deployment=deployment, data_dir=base / "api", host="127.0.0.1", port=port,
        poll_interval=0.1,
    )  # fmt: skip
    app = create_app(settings, build_state(settings, with_relayer=False))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="explorer-api", daemon=True)
    thread.start()
    world.server, world.thread, world.url = server, thread, f"http://127.0.0.1:{port}"
    wait_until(lambda: server.started, timeout=30, interval=0.05)


def start_explorer_world(base: Path, db_url: str | None = None) -> ExplorerWorld:
    chain = start_chain(base / "chain")
    world = ExplorerWorld(build_scenario(chain), url="")
    add_activity(world)
    deployment = write_deployment(chain, base / "deployment.json")
    serve_world(base, world, deployment, db_url)
    started = time.monotonic()
    world.wait_indexed()
    print(f"explorer world indexed in {time.monotonic() - started:.1f} s")
    return world


def _session_world(database: str, request: pytest.FixtureRequest) -> ExplorerWorld:
    """Shared by the explorer and browser test modules."""
    return session_world("explorer", database, request, start_explorer_world, ExplorerWorld.stop)


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Texts the test itself formats (won, kst_window, sentences) in English, as the pages it
    asks for; import it into a test module to use it there."""
    with use_locale("en"):
        yield


@pytest.fixture(scope="session", params=DATABASES)
def explorer_world(request: pytest.FixtureRequest) -> ExplorerWorld:
    """The explorer world on each read-model database in turn."""
    return _session_world(request.param, request)


@pytest.fixture(scope="session")
def sqlite_explorer_world(request: pytest.FixtureRequest) -> ExplorerWorld:
    """The explorer world on SQLite only, for the browser tests (too slow to run twice; what
    they check is the page in a browser, the queries behind it run on both databases)."""
    return _session_world("sqlite", request)


def landing_links_answer(get) -> list[str]:
    """Every explorer link on the landing page, each followed: those that do not answer 200."""
    page = get("/explorer").text
    links = sorted(set(re.findall(r'href="(/explorer/[^"#]*)', page)))
    assert links
    return [link for link in links if get(unescape(link)).status_code != 200]
