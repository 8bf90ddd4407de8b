"""Shared helpers of the ledger node tests (tests/test_ledger_*.py): real `ledger-node` processes,
fast transaction signing, raw JSON-RPC, CityAccess deployment and administration, journal access.

Every node here runs as a real child process (ledger_node.launcher), with a throwaway password.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import rlp
import yaml
from coincurve import PrivateKey
from eth_abi import encode
from eth_account import Account
from eth_hash.auto import keccak

from ledger_node.launcher import NodeProcess, init_data_dir

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "contracts"
# A throwaway password for test keystores only; it protects nothing.
PASSWORD = "throwaway-test-password-do-not-use"
PASSWORD_ENV = "LEDGER_NODE_PASSWORD"
CLI = [sys.executable, "-m", "ledger_node.cli"]
LEDGER_NODE = Path(sys.executable).parent / "ledger-node"  # the installed executable
CALL_GAS = 300_000
DEPLOY_GAS = 8_000_000
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# Codes of the public endpoint (EIP-1474 / JSON-RPC 2.0).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
TRANSACTION_REJECTED = -32003


# ------------------------------------------------------------------------------------ nodes


def new_node(
    base: Path,
    name: str,
    *,
    block_period: float = 0,
    snapshot_every: int = 1000,
    chain_id: int | None = None,
    max_block_txs: int = 2000,
) -> NodeProcess:
    """`ledger-node init` a fresh data directory under `base` and start a node on it."""
    data_dir = base / name
    init_data_dir(
        data_dir,
        PASSWORD,
        block_period=block_period,
        snapshot_every=snapshot_every,
        chain_id=chain_id,
        max_block_txs=max_block_txs,
    )
    return NodeProcess(data_dir, PASSWORD).start()


def restart(node: NodeProcess) -> NodeProcess:
    """A new process on the same data directory (a new port)."""
    return NodeProcess(node.data_dir, PASSWORD).start()


def log_path(node_or_dir: NodeProcess | Path) -> Path:
    data_dir = node_or_dir.data_dir if isinstance(node_or_dir, NodeProcess) else node_or_dir
    return data_dir.parent / f"{data_dir.name}.log"


def authority_key(data_dir: Path) -> bytes:
    keystore = json.loads((data_dir / "keystore" / "authority.json").read_text())
    return bytes(Account.decrypt(keystore, PASSWORD))


def config_of(data_dir: Path) -> dict[str, Any]:
    return json.loads((data_dir / "config.json").read_text())


def cli(*args: object, env: dict[str, str] | None = None, timeout: float = 120):
    """Run `ledger-node ARGS` (python -m ledger_node.cli) and return the CompletedProcess."""
    return subprocess.run(
        [*CLI, *(str(a) for a in args)],
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def run_ledger_node(
    *args: object, password: str | None = PASSWORD, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess:
    """Run the installed `ledger-node ARGS` with `password` (none if None) in its environment."""
    environment = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    # The executable imports ledger_node from wherever the package was installed from: this
    # checkout's code comes first.
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    if password is not None:
        environment[PASSWORD_ENV] = password
    environment.update(env)
    return subprocess.run(
        [str(LEDGER_NODE), *(str(a) for a in args)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def error_line(result: subprocess.CompletedProcess) -> str:
    """Exactly one `error: …` line on stderr, no traceback, a non-zero exit."""
    assert result.returncode != 0, result
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def refused_start(data_dir: Path) -> str:
    """Start a node that must refuse (exit 1, no engine left behind); returns the one
    `error:` line of its log, which holds no traceback."""
    import pytest

    process = NodeProcess(data_dir, PASSWORD)
    try:
        with pytest.raises(RuntimeError, match="exited with 1"):
            process.start(timeout=60)
    finally:
        process.kill()
    assert not anvil_processes_for(data_dir)
    log = log_path(data_dir).read_text()
    errors = [line for line in log.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in log, log[-800:]
    return errors[0]


def anvil_processes_for(data_dir: Path) -> list[int]:
    """PIDs of live anvil processes whose command line names a file in `data_dir` (its genesis,
    or a snapshot it was started from).

    Reads /proc directly (never pgrep -f, which can match the asking shell itself)."""
    prefix = str(data_dir).rstrip("/").encode() + b"/"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state == "Z" or not argv or not argv[0]:
            continue
        if Path(argv[0].decode(errors="replace")).name == "anvil" and any(
            arg.startswith(prefix) for arg in argv[1:]
        ):
            found.append(int(entry.name))
    return found


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(interval)


# ----------------------------------------------------------------------------- JSON-RPC


class Rpc:
    """Raw JSON-RPC over HTTP to one node, keeping one connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._id = 0

    def post(self, payload: Any, timeout: float = 30.0) -> requests.Response:
        data = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        return self.session.post(
            self.url, data=data, headers={"Content-Type": "application/json"}, timeout=timeout
        )

    def request(self, method: str, params: Any = None, **extra: Any) -> dict[str, Any]:
        self._id += 1
        payload = {"jsonrpc": "2.0", "id": self._id, "method": method}
        if params is not None:
            payload["params"] = params
        payload.update(extra)
        return self.post(payload).json()

    def result(self, method: str, params: Any = None) -> Any:
        reply = self.request(method, params if params is not None else [])
        assert "error" not in reply, f"{method} failed: {reply}"
        return reply["result"]

    def error(self, method: str, params: Any = None) -> dict[str, Any]:
        reply = self.request(method, params if params is not None else [])
        assert "error" in reply, f"{method} should have failed: {reply}"
        return reply["error"]

    def send(self, raw: str) -> dict[str, Any]:
        return self.request("eth_sendRawTransaction", [raw])

    def receipt(self, tx_hash: str, timeout: float = 15.0) -> dict[str, Any]:
        return wait_until(
            lambda: self.result("eth_getTransactionReceipt", [tx_hash]), timeout=timeout
        )

    def head(self) -> dict[str, Any]:
        return self.result("eth_getBlockByNumber", ["latest", False])

    def status(self) -> dict[str, Any]:
        return self.result("ledger_status")


# ------------------------------------------------------------------------------ signing


def selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def call_data(signature: str, *args: Any) -> bytes:
    types = signature[signature.index("(") + 1 : -1]
    return selector(signature) + encode([t for t in types.split(",") if t], list(args))


def contract_address(sender: bytes, nonce: int) -> bytes:
    return keccak(rlp.encode([sender, nonce]))[12:]


def checksum(address: bytes) -> str:
    from eth_utils import to_checksum_address

    return to_checksum_address(address)


@dataclass
class Signed:
    raw: str
    hash: str
    nonce: int


class Signer:
    """One key with a local nonce; legacy EIP-155 transactions at gas price 0 (gas is free)."""

    def __init__(self, key: bytes | None, chain_id: int) -> None:
        self.key_bytes = key or bytes(Account.create().key)
        self.key = PrivateKey(self.key_bytes)
        self.address_bytes = keccak(self.key.public_key.format(compressed=False)[1:])[12:]
        self.address = checksum(self.address_bytes)
        self.chain_id = chain_id
        self.nonce = 0

    def sign(
        self,
        to: bytes | str | None,
        data: bytes = b"",
        gas: int = CALL_GAS,
        *,
        nonce: int | None = None,
        chain_id: int | None = None,
        value: int = 0,
        bump: bool = True,
    ) -> Signed:
        """Sign the next transaction (or one with the given nonce / chain id)."""
        if isinstance(to, str):
            to = bytes.fromhex(to.removeprefix("0x"))
        used = self.nonce if nonce is None else nonce
        chain = self.chain_id if chain_id is None else chain_id
        fields = [used, 0, gas, to or b"", value, data]
        digest = keccak(rlp.encode([*fields, chain, 0, 0]))
        signature = self.key.sign_recoverable(digest, hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        raw = rlp.encode([*fields, chain * 2 + 35 + signature[64], r, s])
        if nonce is None and bump:
            self.nonce += 1
        return Signed("0x" + raw.hex(), "0x" + keccak(raw).hex(), used)

    def sign_dict(self, tx: dict[str, Any]) -> Signed:
        """Sign any transaction dict with eth-account (typed transactions, for bad-input tests)."""
        signed = Account.sign_transaction(tx, self.key_bytes)
        raw = bytes(signed.raw_transaction)
        return Signed("0x" + raw.hex(), "0x" + keccak(raw).hex(), int(tx.get("nonce", 0)))

    def sync_nonce(self, rpc: Rpc) -> None:
        self.nonce = int(rpc.result("eth_getTransactionCount", [self.address, "pending"]), 16)


def artifact(name: str) -> dict[str, Any]:
    return json.loads((BUILD / f"{name}.json").read_text())


def deploy_data(name: str, types: list[str], args: list[Any]) -> bytes:
    return bytes.fromhex(artifact(name)["bytecode"].removeprefix("0x")) + encode(types, args)


# -------------------------------------------------------------------------- CityAccess


class Access:
    """CityAccess on a node, administered by the authority with raw signed transactions."""

    def __init__(self, rpc: Rpc, admin: Signer, address: bytes) -> None:
        self.rpc = rpc
        self.admin = admin
        self.address_bytes = address
        self.address = checksum(address)

    @classmethod
    def deploy(cls, rpc: Rpc, admin: Signer) -> Access:
        admin.sync_nonce(rpc)
        address = contract_address(admin.address_bytes, admin.nonce)
        signed = admin.sign(
            None, deploy_data("CityAccess", ["address"], [admin.address_bytes]), DEPLOY_GAS
        )
        reply = rpc.send(signed.raw)
        assert reply.get("result") == signed.hash, reply
        receipt = rpc.receipt(signed.hash)
        assert receipt["status"] == "0x1", receipt
        assert receipt["contractAddress"].lower() == "0x" + address.hex()
        return cls(rpc, admin, address)

    def _admin_tx(self, data: bytes) -> Signed:
        signed = self.admin.sign(self.address_bytes, data)
        reply = self.rpc.send(signed.raw)
        assert reply.get("result") == signed.hash, reply
        return signed

    def onboard(self, account: str) -> Signed:
        return self._admin_tx(call_data("onboard(address)", account))

    def suspend(self, account: str, reason: bytes = b"TEST".ljust(32, b"\0")) -> Signed:
        return self._admin_tx(call_data("suspend(address,bytes32)", account, reason))

    def reinstate(self, account: str) -> Signed:
        return self._admin_tx(call_data("reinstate(address)", account))

    def view(self, signature: str, *args: Any) -> bytes:
        data = "0x" + call_data(signature, *args).hex()
        result = self.rpc.result("eth_call", [{"to": self.address, "data": data}, "latest"])
        return bytes.fromhex(result[2:])

    def is_allowed(self, account: str) -> bool:
        return self.view("isAllowed(address)", account)[-1] == 1

    def member_status(self, account: str) -> int:
        return self.view("memberStatus(address)", account)[-1]


def access_with_members(rpc: Rpc, data_dir: Path, count: int) -> tuple[Access, list[Signer]]:
    """CityAccess deployed by the node's authority and `count` new members onboarded, the last
    onboarding sealed."""
    chain_id = int(rpc.result("eth_chainId"), 16)
    access = Access.deploy(rpc, Signer(authority_key(data_dir), chain_id))
    members = [Signer(None, chain_id) for _ in range(count)]
    onboarded = [access.onboard(member.address) for member in members]
    rpc.receipt(onboarded[-1].hash)
    return access, members


def member_tx(member: Signer, access: Access) -> Signed:
    """A harmless transaction of a member: a read-only call to CityAccess, sent as a transaction."""
    return member.sign(access.address_bytes, call_data("isAllowed(address)", member.address))


# ----------------------------------------------------------------------------- journal


def batch_payload(signed: list[Signed]) -> list[dict[str, Any]]:
    """One JSON-RPC batch sending each of `signed`, the answer's id its index."""
    return [
        {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [s.raw]}
        for i, s in enumerate(signed)
    ]


class BatchSender(threading.Thread):
    """Members sending batches (`per_member` transactions each) as fast as the node answers.

    Records the hashes the node acknowledged (each checked against what was sent), every HTTP
    status, the replies that were not JSON, and every error answer as (code, message). The
    members' nonces are read again after a reply with an error or one that was not JSON, until
    a read succeeds (the engine may be restarting)."""

    def __init__(
        self, url: str, members: list[Signer], access: Access, per_member: int, timeout: float
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.members, self.access = url, members, access
        self.per_member, self.timeout = per_member, timeout
        self.acked: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.not_json = 0
        self.errors: Counter[tuple[int, str]] = Counter()
        self.halt = threading.Event()

    def __enter__(self) -> BatchSender:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.join(timeout=30)

    def refused(self, code: int) -> int:
        """How many transactions the node refused with error `code`."""
        return sum(n for (error, _), n in self.errors.items() if error == code)

    def run(self) -> None:
        rpc = Rpc(self.url)
        synced = False
        while not self.halt.is_set():
            if not synced:
                try:
                    for member in self.members:
                        member.sync_nonce(rpc)
                    synced = True
                except AssertionError:  # the engine is restarting: try again
                    time.sleep(0.02)
                    continue
            signed = [
                member_tx(m, self.access) for _ in range(self.per_member) for m in self.members
            ]
            reply = rpc.post(batch_payload(signed), timeout=self.timeout)
            self.statuses[reply.status_code] += 1
            try:
                answers = reply.json()
            except ValueError:
                self.not_json += 1
                synced = False
                continue
            for answer in answers:
                if "result" in answer:
                    assert answer["result"] == signed[answer["id"]].hash, answer
                    self.acked.append(answer["result"])
                else:
                    self.errors[(answer["error"]["code"], answer["error"]["message"])] += 1
                    synced = False
            time.sleep(0.02)


@contextlib.contextmanager
def journal_db(data_dir: Path) -> Iterator[sqlite3.Connection]:
    """The journal of a stopped node, for reading or tampering (committed on exit)."""
    db = sqlite3.connect(data_dir / "journal.sqlite", isolation_level=None)
    try:
        db.execute("BEGIN")
        yield db
        db.execute("COMMIT")
    finally:
        db.close()


def copy_data_dir(source: Path, target: Path) -> Path:
    """A copy of a stopped node's data directory (the journal's WAL files included)."""
    shutil.copytree(source, target)
    return target


# ----------------------------------------------------------------- brownie through the gateway


def brownie_home(base: Path, node_url: str, chain_id: int) -> Path:
    """A HOME whose brownie network registry points citypass-local at `node_url`.

    The chain id is the test node's own, so brownie's live-network artifacts
    (build/deployments/<chain id>/) never mix with those of a real citypass-local chain."""
    (base / ".brownie").mkdir(parents=True)
    registry = yaml.safe_load((Path.home() / ".brownie" / "network-config.yaml").read_text())
    found = False
    for group in registry.get("live", []):
        for network in group.get("networks", []):
            if network.get("id") == "citypass-local":
                network["host"] = node_url
                network["chainid"] = chain_id
                found = True
    assert found, "citypass-local is not registered in ~/.brownie/network-config.yaml"
    (base / ".brownie" / "network-config.yaml").write_text(yaml.safe_dump(registry))
    return base


@contextlib.contextmanager
def preserved_deployment_records(chain_id: int) -> Iterator[Path]:
    """Keep deployments/citypass-local.json as it was, and remove brownie's build artifacts of
    the test chain afterwards (build/deployments/<chain id>/ and its entry in map.json)."""
    record = ROOT / "deployments" / "citypass-local.json"
    before = record.read_bytes() if record.exists() else None
    try:
        yield record
    finally:
        if before is None:
            record.unlink(missing_ok=True)
        else:
            record.write_bytes(before)
        shutil.rmtree(ROOT / "build" / "deployments" / str(chain_id), ignore_errors=True)
        map_path = ROOT / "build" / "deployments" / "map.json"
        with contextlib.suppress(OSError, ValueError):
            mapping = json.loads(map_path.read_text())
            if str(chain_id) in mapping:
                del mapping[str(chain_id)]
                map_path.write_text(json.dumps(mapping, sort_keys=True, indent=2))
