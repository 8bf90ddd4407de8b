"""Independent oracles as the demo runs them (docs/oracle-daemon.md, "Several oracles"): three
organisations each run their own `citypass-oracle run`, with its own key (an encrypted keystore
under a password of its own), data directory and process, peers of each other; an occupancy
report reaches the chain only with 2 of their 3 signatures (OccupancyOracle's quorum).

The village enterprise's daemon keeps the deployment's oracle key (signer 0), files the plates
and incidents (`--incidents`) and holds the evidence the API shows inspectors; the mobility
operator's and the city's report occupancy only (`--no-incidents`). The on-chain set-up and the
daemons' peer flags are shared with the tests (tests/oracle_quorum_helpers.py)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account

from citypass.core.net import free_port
from citypass.protocol.roles import ROLES
from demo.children import ChildDaemon, get_json
from oracles.keystore import create_keystore

QUORUM = 2
# Short turns for the demo: a report whose proposer is slow passes to the next daemon after
# 1.5 s, and a peer waits 1 s for events still on their way from the edge.
PROPOSER_TIMEOUT_S = 1.5
COSIGN_WAIT_S = 1.0
REPORT_INTERVAL_S = 0.5
DEBOUNCE_S = 2


@dataclass(frozen=True)
class Organisation:
    name: str
    directory: str  # its data directory under the sensor rig's root
    files_incidents: bool

    @property
    def process_name(self) -> str:
        """Its daemon's name in the demo's messages (and its log file's, `<name>.log`)."""
        return f"oracle daemon ({self.name})"


ORGANISATIONS = (
    # Its directory is the one the API reads evidence from (demo.sensors.oracle_data_dir).
    Organisation("village enterprise", "oracle", True),
    Organisation("mobility operator", "oracle-mobility-operator", False),
    Organisation("city", "oracle-city", False),
)


@dataclass
class OracleDaemon(ChildDaemon):
    address: str  # its key's
    organisation: Organisation

    def drained(self, settled: bool) -> bool:
        """Everything it was sent is in a report on chain (`settled`: also no slot's new state
        still being debounced). Plates and incidents only on the daemon that files them: the
        others record them and never settle them."""
        health = get_json(self.url + "/health")
        if not health:
            return False
        return (
            health.get("ready") is True
            and health.get("inboxDepth") == 0
            and health.get("pendingReports") == 0
            and (not settled or health.get("settlingSlots") == 0)
            and (
                not health.get("filesIncidents")
                or (
                    health.get("incidentBacklog") == 0
                    and not health.get("plateReads", {}).get("pending")
                )
            )
        )


def register_oracles(system: Any, admin: Any, addresses: Sequence[str], quorum: int) -> None:
    """Make `addresses` exactly OccupancyOracle's report signers, each a CityAccess ORACLE (it
    submits), at `quorum`, from the city's admin: the calls docs/oracle-daemon.md lists."""
    sender = {"from": admin}
    occupancy = system.occupancy
    for address in addresses:
        if not system.access.hasRole(ROLES["ORACLE"], address):
            system.access.grantRole(ROLES["ORACLE"], address, sender)
        if address not in occupancy.signers():
            occupancy.setSigner(address, True, sender)
    # The quorum before retiring old signers: the count never drops below it.
    occupancy.setQuorum(quorum, sender)
    for address in occupancy.signers():
        if address not in addresses:
            occupancy.setSigner(address, False, sender)


def peer_args(
    peers: Sequence[str],
    *,
    incidents: bool,
    proposer_timeout: float = PROPOSER_TIMEOUT_S,
    cosign_wait: float = COSIGN_WAIT_S,
) -> tuple[str, ...]:
    """`citypass-oracle run`'s flags for a daemon among independent peers."""
    flags: list[str] = []
    for url in peers:
        flags += ["--peer", url]
    flags += [
        "--cosign-wait-seconds", str(cosign_wait),
        "--proposer-timeout-seconds", str(proposer_timeout),
    ]  # fmt: skip
    return (*flags, "--incidents" if incidents else "--no-incidents")


def start_oracles(
    system: Any,
    admin: Any,
    first_key: bytes,
    rpc_url: str,
    deployment: Path,
    root: Path,
    env: dict[str, str],
    api_url: str | None = None,
) -> list[OracleDaemon]:
    """One daemon per organisation (ORGANISATIONS), the first with `first_key` (the
    deployment's oracle), the others with keys made for this run; registered on chain at
    QUORUM and started together. `api_url`: the first matches plate tags with the API."""
    keys = [first_key] + [bytes(Account.create().key) for _ in ORGANISATIONS[1:]]
    ports = [free_port() for _ in ORGANISATIONS]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    addresses = [Account.from_key(key).address for key in keys]
    register_oracles(system, admin, addresses, QUORUM)
    daemons = []
    for organisation, key, port, url, address in zip(
        ORGANISATIONS, keys, ports, urls, addresses, strict=True
    ):
        data_dir = root / organisation.directory
        # Each organisation's own password, only in memory and its daemon's environment.
        password = secrets.token_urlsafe(24)
        keystore = data_dir / "keystore" / "submitter.json"
        create_keystore(keystore, password, key)
        plates = ("--api-url", api_url) if api_url and organisation.files_incidents else ()
        args = [
            "oracles.cli", "run", "--data-dir", str(data_dir), "--deployment", str(deployment),
            "--keystore", str(keystore), "--port", str(port),
            "--report-interval", str(REPORT_INTERVAL_S), "--debounce-seconds", str(DEBOUNCE_S),
            "--clock", "chain", *plates,
            *peer_args([u for u in urls if u != url], incidents=organisation.files_incidents),
        ]  # fmt: skip
        daemon = OracleDaemon(
            name=organisation.process_name, url=url, data_dir=data_dir, args=args,
            # The node URL carries the oracles' token: the environment, not `ps`'s view.
            env={**env, "CITYPASS_ORACLE_PASSWORD": password, "CITYPASS_ORACLE_RPC_URL": rpc_url},
            log=root / f"{organisation.process_name}.log", address=address,
            organisation=organisation,
        )  # fmt: skip
        daemons.append(daemon.start())
    for daemon in daemons:
        daemon.wait_healthy()
    return daemons


def describe(daemons: Sequence[OracleDaemon]) -> list[str]:
    """The lines the demo prints for its oracles: each organisation, its /health, its key."""
    lines = [f"Oracle daemons ({QUORUM} of {len(daemons)} sign each occupancy report):"]
    for daemon in daemons:
        role = "reports, files incidents" if daemon.organisation.files_incidents else "reports"
        lines.append(
            f"  {daemon.organisation.name:20} {daemon.url}/health  signer {daemon.address}"
            f"  ({role}; pid {daemon.process.pid})"
        )
    return lines
