"""Shared helpers of the oracle daemon tests (tests/test_oracle_*.py) and bench/oracle.py.

A REAL ledger node (ledger_node.launcher, instant sealing, development clock), the whole system
deployed through its public gateway by `citypass.chain.deployment.deploy_system` itself (driven here
through web3.py and the compiled artifacts in build/contracts, so the test process's brownie
stays on its own engine), and the daemon as a real child process (`python -m oracles.cli run`).
Keys here are throwaway test keys generated per run.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from citypass.chain.deployment import Stakeholders, deploy_system
from citypass.core.net import free_port
from citypass.core.node_web3 import node_web3
from citypass.core.process import kill_process, stop_process
from citypass.core.windows import EVERY_DAY, Window
from citypass.protocol.sensor_events import (
    SOURCE_TYPES,
    EventDomain,
    SensorEvent,
    SignedEvent,
    sign_event,
)
from ledger_node.launcher import NodeProcess, init_data_dir
from tests import ledger_helpers

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "contracts"
# Throwaway passwords for test keystores only; they protect nothing.
NODE_PASSWORD = "throwaway-test-password-do-not-use"
ORACLE_PASSWORD = "throwaway-oracle-password-do-not-use"
PERSONAL = 3
MAX_UINT = 2**256 - 1
HALF_HOUR = 1800
KINDS = {"magnetometer": 0, "ultrasonic": 1, "camera": 2}


def wait_until(predicate: Any, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """tests.ledger_helpers.wait_until, with more time by default (daemons start slower)."""
    return ledger_helpers.wait_until(predicate, timeout, interval)


# ------------------------------------------------------------------ brownie-like containers


class _Handle:
    """A deployed contract with brownie's calling convention: views return values, other
    functions take a trailing {"from": account} and return the receipt."""

    def __init__(self, chain: Chain, contract: Any) -> None:
        self._chain = chain
        self._contract = contract
        self.address = contract.address
        self._views = {
            item["name"]
            for item in contract.abi
            if item.get("type") == "function" and item.get("stateMutability") in ("view", "pure")
        }

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any) -> Any:
            tx = args[-1] if args and isinstance(args[-1], dict) else None
            args = tuple(_plain(a) for a in (args[:-1] if tx is not None else args))
            fn = getattr(self._contract.functions, name)(*args)
            if name in self._views and tx is None:
                return fn.call()
            return self._chain.transact(fn, tx["from"])

        return call


def _plain(value: Any) -> Any:
    if hasattr(value, "address"):
        return value.address
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


class _Container:
    def __init__(self, chain: Chain, name: str) -> None:
        self.chain = chain
        self.artifact = json.loads((BUILD / f"{name}.json").read_text())

    def deploy(self, *args: Any) -> _Handle:
        sender = args[-1]["from"]
        factory = self.chain.w3.eth.contract(
            abi=self.artifact["abi"], bytecode=self.artifact["bytecode"]
        )
        receipt = self.chain.transact(factory.constructor(*(_plain(a) for a in args[:-1])), sender)
        return _Handle(
            self.chain,
            self.chain.w3.eth.contract(receipt["contractAddress"], abi=self.artifact["abi"]),
        )


class _Deployer:
    """The node's authority key as deploy_system expects an admin account: like a brownie
    account, it also tells the nonce of its next transaction."""

    def __init__(self, account: LocalAccount, w3: Web3) -> None:
        self._account = account
        self._w3 = w3

    def __getattr__(self, name: str) -> Any:
        return getattr(self._account, name)

    @property
    def nonce(self) -> int:
        return self._w3.eth.get_transaction_count(self._account.address, "pending")


class _Containers:
    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    def __getattr__(self, name: str) -> _Container:
        return _Container(self.chain, name)


# ------------------------------------------------------------------------------ the chain


@dataclass
class Chain:
    node: NodeProcess
    w3: Web3
    people: Stakeholders
    system: Any = None
    _market_mask: dict[int, int] = field(default_factory=dict)

    def transact(self, fn: Any, sender: LocalAccount, gas: int | None = None) -> dict[str, Any]:
        nonce = self.w3.eth.get_transaction_count(sender.address, "pending")
        base = {"from": sender.address, "nonce": nonce, "gasPrice": 0, "chainId": self.chain_id}
        if gas is None:
            gas = int(fn.estimate_gas(base) * 1.3) + 100_000
        tx = fn.build_transaction({**base, "gas": gas})
        signed = sender.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = dict(self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60))
        assert receipt["status"] == 1, f"transaction reverted: {receipt}"
        return receipt

    @property
    def chain_id(self) -> int:
        return int(self.w3.eth.chain_id)

    def head_time(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def set_clock(self, timestamp: int) -> None:
        reply = self.node.admin("admin_setClock", [int(timestamp)])
        assert "error" not in reply, reply

    def contract(self, name: str) -> Any:
        return getattr(self.system, name)._contract

    def domain(self) -> EventDomain:
        return EventDomain(self.chain_id, self.system.devices.address.lower())

    # -- set-up helpers ---------------------------------------------------------------

    def new_member(self) -> LocalAccount:
        account = Account.create()
        self.system.access.onboard(account.address, {"from": self.people.admin})
        return account

    def register_device(self, kind: str, slots: list[int]) -> DeviceKey:
        key = Account.create()
        self.system.devices.registerDevice(
            key.address, KINDS[kind], slots, {"from": self.people.operator}
        )
        return DeviceKey(key, kind, self.domain())

    def shared_slot(self, owner: LocalAccount) -> int:
        """A personal slot shared every day all day, flagged as a market slot."""
        slots = self.contract("slots")
        slot = slots.functions.slotCount().call() + 1
        self.system.slots.registerSlot(
            owner.address, PERSONAL, 1, 37_503_000, 126_787_000, {"from": self.people.operator}
        )
        assert slots.functions.slotCount().call() == slot
        self.system.slots.setWindows(slot, [Window(EVERY_DAY, 0, 48).as_tuple()], {"from": owner})
        word = slot >> 8
        current = self._market_mask.get(word, 0) | (1 << (slot & 255))
        self._market_mask[word] = current
        self.system.occupancy.setMarketSlots(word, current, {"from": self.people.operator})
        return slot

    def resident(self, credit: int = 1_000_000) -> LocalAccount:
        account = self.new_member()
        self.system.credit.mint(
            account.address, credit, b"\x00" * 32, {"from": self.people.treasury}
        )
        self.system.credit.approve(self.system.market.address, MAX_UINT, {"from": account})
        return account

    def book(self, resident: LocalAccount, slot: int, start: int, end: int) -> int:
        receipt = self.system.market.book(slot, start, end, 10**9, {"from": resident})
        market = self.contract("market")
        for entry in market.events.LeaseBooked().process_receipt(receipt):
            return int(entry["args"]["leaseId"])
        raise AssertionError("no LeaseBooked event")


@dataclass
class DeviceKey:
    account: LocalAccount
    kind: str
    domain: EventDomain
    sequence: int = 0

    @property
    def address(self) -> str:
        return self.account.address

    def event(
        self,
        event_type: str,
        slot: int,
        time_ms: int,
        occupied: bool | None = None,
        *,
        confidence_bps: int = 10_000,
        evidence: bytes | None = None,
        vehicle_type: str = "",
        sequence: int | None = None,
        key: bytes | None = None,
        plate_tag: bytes = b"\x00" * 32,
    ) -> SignedEvent:
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        if occupied is None:
            occupied = event_type in ("park_start", "illegal_parking")
        event = SensorEvent(
            device=self.address,
            sequence=sequence,
            event_type=event_type,
            source_type=SOURCE_TYPES[self.kind],
            slot_id=slot,
            event_time_ms=time_ms,
            occupied=occupied,
            confidence_bps=confidence_bps,
            lat_e6=37_503_000,
            lon_e6=126_787_000,
            vehicle_type=vehicle_type,
            plate_tag=plate_tag,
        )
        return sign_event(event, key or bytes(self.account.key), self.domain, evidence)


def start_chain(base: Path) -> Chain:
    """A fresh node (instant sealing, development clock) with the whole system deployed."""
    data_dir = base / "node"
    init_data_dir(data_dir, NODE_PASSWORD, block_period=0, snapshot_every=100_000)
    node = NodeProcess(
        data_dir, NODE_PASSWORD, admin_token=secrets.token_urlsafe(16), dev_clock=True
    ).start()
    keystore = json.loads((data_dir / "keystore" / "authority.json").read_text())
    admin = Account.from_key(Account.decrypt(keystore, NODE_PASSWORD))
    w3 = node_web3(node.url, timeout=60)  # the services' client: the chain id asked once
    people = Stakeholders(_Deployer(admin, w3), *(Account.create() for _ in range(6)))
    chain = Chain(node, w3, people)
    chain.system = deploy_system(_Containers(chain), people)
    return chain


def restart_node(chain: Chain) -> None:
    """Stop the node (SIGTERM) and start a new process on the same data directory and port."""
    old = chain.node
    old.stop()
    chain.node = NodeProcess(
        old.data_dir,
        NODE_PASSWORD,
        port=old.port,
        admin_port=old.admin_port,
        admin_token=old.admin_token,
        dev_clock=True,
    ).start()


# --------------------------------------------------------------------------- the daemon


@dataclass
class OracleProcess:
    chain: Chain
    data_dir: Path
    port: int = 0
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    # The daemon's own key (independent oracles); default: the deployment's ORACLE account.
    key: bytes | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def inbox_path(self) -> Path:
        return self.data_dir / "inbox.sqlite"

    def prepare(self) -> OracleProcess:
        from oracles.keystore import create_keystore

        keystore = self.data_dir / "keystore" / "submitter.json"
        if not keystore.exists():
            key = self.key if self.key is not None else bytes(self.chain.people.oracle.key)
            create_keystore(keystore, ORACLE_PASSWORD, key)
        return self

    def start(self, wait_ready: bool = True) -> OracleProcess:
        self.prepare()
        self.port = self.port or free_port()
        system = self.chain.system
        env = {
            **os.environ,
            "CITYPASS_ORACLE_PASSWORD": ORACLE_PASSWORD,
            "CITYPASS_ORACLE_REPORT_INTERVAL": "0.3",
            "CITYPASS_ORACLE_DEVICE_REFRESH_SECONDS": "0.3",
            "CITYPASS_ORACLE_DEBOUNCE_SECONDS": "0",
            **self.env,
        }
        command = [
            sys.executable, "-m", "oracles.cli", "run",
            "--data-dir", str(self.data_dir), "--port", str(self.port),
            "--rpc-url", self.chain.node.url,
            "--device-registry", system.devices.address,
            "--occupancy-oracle", system.occupancy.address,
            "--incident-registry", system.incidents.address,
            "--clock", "chain", *self.extra_args,
        ]  # fmt: skip
        log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            command, env=env, stdout=log, stderr=log, cwd=ROOT, start_new_session=True
        )
        log.close()
        if wait_ready:
            wait_until(lambda: self._ready(), timeout=60, interval=0.1)
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"oracle daemon exited with {self.process.returncode}")
        try:
            return bool(requests.get(self.url + "/health", timeout=2).json().get("ready"))
        except requests.RequestException:
            return False

    def stop(self) -> int:
        return stop_process(self.process)

    def kill(self) -> None:
        kill_process(self.process)

    # -- talking to it ------------------------------------------------------------------

    def post(self, events: list[SignedEvent | dict], timeout: float = 60) -> requests.Response:
        wires = [e.to_wire() if isinstance(e, SignedEvent) else e for e in events]
        return requests.post(self.url + "/v1/events", json={"events": wires}, timeout=timeout)

    def health(self) -> dict[str, Any]:
        return requests.get(self.url + "/health", timeout=5).json()

    def metric(self, name: str, labels: str = "") -> float:
        """A sample from /metrics (0 if absent), e.g. metric("..._rejected_total", 'reason="x"')."""
        text = requests.get(self.url + "/metrics", timeout=5).text
        wanted = f"{name}{{{labels}}}" if labels else name
        for line in text.splitlines():
            if line.startswith(wanted + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def wait_clock(self, timestamp: int) -> None:
        """Until the daemon's (chain) clock has caught up with a development-clock move."""
        wait_until(lambda: self.health().get("clock", 0) >= timestamp, timeout=20)


def new_slot_with_device(chain: Chain, daemon: OracleProcess, kind: str) -> tuple[int, DeviceKey]:
    """A new member's shared slot with a new `kind` device on it, once `daemon` knows every
    device registered so far (this one included)."""
    slot = chain.shared_slot(chain.new_member())
    device = chain.register_device(kind, [slot])
    registered = chain.contract("devices").functions.deviceCount().call()
    wait_until(lambda: daemon.health()["devices"] >= registered)
    return slot, device


def png_still(size: int) -> bytes:
    """A camera still: PNG's signature and `size` random bytes (no two alike)."""
    return b"\x89PNG\r\n\x1a\n" + os.urandom(size)


def occupancy_reports(chain: Chain) -> list[dict[str, Any]]:
    """Every OccupancyReported event, oldest first."""
    oracle = chain.contract("occupancy")
    return [
        dict(e["args"])
        for e in oracle.events.OccupancyReported().get_logs(from_block=0, to_block="latest")
    ]
