"""Witness daemons for tests: `ledger-node witness init` against a running test node, then
`ledger-node witness run` as a real child process on its own port, engine and data directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from citypass.core.net import free_port
from citypass.core.process import kill_process, stop_process
from citypass.protocol.witness_names import encode_witness_name
from ledger_node.launcher import NodeProcess
from ledger_node.rpc_auth import SERVICE_PERMISSIONS
from tests.ledger_helpers import (
    CLI,
    PASSWORD,
    ROOT,
    Rpc,
    access_with_members,
    call_data,
    config_of,
    member_tx,
    new_node,
)

WITNESS_PASSWORD_ENV = "LEDGER_WITNESS_PASSWORD"


def witness_env() -> dict[str, str]:
    return {**os.environ, WITNESS_PASSWORD_ENV: PASSWORD}


def witness_cli(*args: object, timeout: float = 120) -> subprocess.CompletedProcess:
    """`ledger-node witness ARGS` with the test password."""
    return subprocess.run(
        [*CLI, "witness", *(str(a) for a in args)],
        env=witness_env(), capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip


def witness_token(node: NodeProcess) -> str:
    """A token with the witness service's permissions (ledger_node/rpc_auth.py)."""
    return node.mint("witness", list(SERVICE_PERMISSIONS["witness"]))


@dataclass
class WitnessProcess:
    data_dir: Path
    port: int = 0
    address: str = ""
    poll_interval: float = 0.05
    process: subprocess.Popen | None = field(default=None, repr=False)

    @classmethod
    def init(
        cls, data_dir: Path, node: NodeProcess, *, snapshot_every: int = 1000
    ) -> WitnessProcess:
        port = free_port()
        result = witness_cli(
            "init", "--data-dir", data_dir, "--node-url", node.url_with(witness_token(node)),
            "--genesis", node.data_dir / "genesis.json",
            "--authority", config_of(node.data_dir)["authority"],
            "--http-port", port, "--snapshot-every", snapshot_every,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        address = re.search(r"witness +(0x[0-9a-fA-F]{40})", result.stdout)
        assert address, result.stdout
        return cls(data_dir, port, address.group(1))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def start(self, timeout: float = 60.0) -> WitnessProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*CLI, "witness", "run", "--data-dir", str(self.data_dir),
                 "--poll-interval", str(self.poll_interval)],
                env=witness_env(), stdout=log, stderr=log, start_new_session=True, cwd=ROOT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the witness exited with {self.process.returncode}: "
                    f"{self.log_path.read_text()[-1500:]}"
                )
            try:
                requests.get(f"{self.url}/health", timeout=2)
                return self
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError(f"the witness did not answer within {timeout:.0f} s")

    def stop(self) -> int:
        return stop_process(self.process)

    def kill(self) -> None:
        """kill -9; its engine dies with it (PR_SET_PDEATHSIG)."""
        kill_process(self.process)

    def health(self) -> tuple[int, dict[str, Any]]:
        reply = requests.get(f"{self.url}/health", timeout=10)
        return reply.status_code, reply.json()

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.url}{path}", timeout=10)

    def state(self) -> dict[str, Any]:
        """/health's body, whatever its status."""
        return self.health()[1]

    def cosign(self, body: Any) -> requests.Response:
        if isinstance(body, (bytes, str)):
            return requests.post(f"{self.url}/v1/cosign", data=body, timeout=10)
        return requests.post(f"{self.url}/v1/cosign", json=body, timeout=10)

    def metric(self, name: str, labels: str = "") -> float:
        text = self.get("/metrics").text
        match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
        assert match, f"{name}{labels} is not on /metrics"
        return float(match.group(1))

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log_path.read_text().splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records


def set_witness(rpc: Any, access: Any, address: str, label: str) -> None:
    """Put `address` in CityAccess's witness set (the authority is its CITY_ADMIN here)."""
    signed = access._admin_tx(
        call_data("setWitness(address,bytes32)", address, encode_witness_name(label))
    )
    assert rpc.receipt(signed.hash)["status"] == "0x1"


def member_world(base: Path) -> dict[str, Any]:
    """The world a witness test follows: a node under `base` (a block per transaction), its
    CityAccess and one member."""
    node = new_node(base, "node")
    rpc = Rpc(node.url)
    access, (member,) = access_with_members(rpc, node.data_dir, 1)
    return {"base": base, "node": node, "rpc": rpc, "access": access, "member": member}


def send_member_txs(world: dict[str, Any], count: int) -> str:
    """`count` transactions of the world's member, each accepted; the last one's hash."""
    rpc = world["rpc"]
    world["member"].sync_nonce(rpc)  # the node may have lost blocks since (a restored backup)
    for _ in range(count):
        signed = member_tx(world["member"], world["access"])
        assert rpc.send(signed.raw)["result"] == signed.hash
    return str(signed.hash)
