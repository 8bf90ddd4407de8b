"""Start and stop `ledger-node` as a real child process (for tests, benchmarks and the demo)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from citypass.core.net import free_port
from citypass.core.process import kill_process, stop_process
from citypass.core.rpc_url import with_token
from ledger_node.rpc_tokens import audience_for, issue
from ledger_node.token_keys import issuer_key_path, load_issuer_key

CLI = [sys.executable, "-m", "ledger_node.cli"]
# The launcher's own token (tests, benchmarks, the demo's operator) outlives any run of theirs.
LAUNCHER_TOKEN_SECONDS = 30 * 86400


def init_data_dir(
    data_dir: Path,
    password: str,
    *,
    block_period: float = 1.0,
    max_block_txs: int = 2000,
    snapshot_every: int = 1000,
    chain_id: int | None = None,
) -> subprocess.CompletedProcess:
    args = [
        *CLI, "init", "--data-dir", str(data_dir), "--block-period", str(block_period),
        "--max-block-txs", str(max_block_txs), "--snapshot-every", str(snapshot_every),
    ]  # fmt: skip
    if chain_id is not None:
        args += ["--chain-id", str(chain_id)]
    env = {**os.environ, "LEDGER_NODE_PASSWORD": password}
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"ledger-node init failed: {result.stderr.strip()}")
    return result


# A port free_port() chose may be taken before the node binds it: so many starts on new ports.
BIND_ATTEMPTS = 3


class PortTaken(RuntimeError):
    """The node could not listen on its port: another process holds it."""


@dataclass
class NodeProcess:
    data_dir: Path
    password: str
    port: int = 0
    log_path: Path | None = None
    admin_port: int = 0
    admin_token: str = ""
    dev_clock: bool = False
    extra_args: tuple[str, ...] = ()  # more `ledger-node start` options
    # The JSON-RPC token `url` and `ws_url` carry in their path; start() mints one with every
    # permission ("*:*") from the data directory's issuer key when none is given.
    token: str = ""
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        """The node's address without a token: /health, /metrics, and what wallets get."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.url_with(self.token)

    @property
    def ws_url(self) -> str:
        return self.url_with(self.token).replace("http://", "ws://", 1)

    def url_with(self, token: str) -> str:
        """The JSON-RPC URL carrying `token` in its path (none: the keyless URL)."""
        return with_token(self.base_url, token)

    def mint(
        self, subject: str, permissions: list[str], lifetime: int = LAUNCHER_TOKEN_SECONDS
    ) -> str:
        """A token signed with the data directory's issuer key (what `ledger-node token` does)."""
        chain_id = json.loads((self.data_dir / "config.json").read_text())["chain_id"]
        return issue(
            load_issuer_key(issuer_key_path(self.data_dir), self.password),
            subject=subject,
            audience=audience_for(chain_id),
            permissions=permissions,
            lifetime_seconds=lifetime,
        )

    def start(self, timeout: float = 120.0) -> NodeProcess:
        """Start the node and wait until it answers. Ports we chose ourselves (free_port) can
        be taken by another process before the node binds them: then it starts again on new
        ones. And an answer counts only from this data directory's node (its authority), not
        from whatever else listens on the port."""
        chosen = not self.port, not self.admin_port
        for attempt in range(BIND_ATTEMPTS):
            try:
                return self._start_once(timeout)
            except PortTaken:
                if not any(chosen) or attempt == BIND_ATTEMPTS - 1:
                    raise
                self.port = 0 if chosen[0] else self.port
                self.admin_port = 0 if chosen[1] else self.admin_port
        raise AssertionError("unreachable")

    def _start_once(self, timeout: float) -> NodeProcess:
        if not self.port:
            self.port = free_port()
        if not self.token and issuer_key_path(self.data_dir).exists():
            self.token = self.mint("launcher", ["*:*"])
        log_path = self.log_path or self.data_dir.parent / f"{self.data_dir.name}.log"
        log_start = log_path.stat().st_size if log_path.exists() else 0
        authority = json.loads((self.data_dir / "config.json").read_text())["authority"]
        env = {**os.environ, "LEDGER_NODE_PASSWORD": self.password}
        command = [*CLI, "start", "--data-dir", str(self.data_dir), "--rpc-port", str(self.port)]
        if self.admin_token:
            self.admin_port = self.admin_port or free_port()
            env["LEDGER_NODE_ADMIN_TOKEN"] = self.admin_token
            command += ["--admin-port", str(self.admin_port)]
            if self.dev_clock:
                command.append("--dev-clock")
        command += self.extra_args
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                with open(log_path, "rb") as log:
                    log.seek(log_start)
                    said = log.read().decode("utf-8", "replace")
                if "cannot listen on" in said:
                    raise PortTaken(said.strip())
                raise RuntimeError(
                    f"ledger-node exited with {self.process.returncode}; see {log_path}"
                )
            if self._answers_as(authority):
                return self
            time.sleep(0.1)
        # Stopped, not left running: the caller gets no handle on a node that never answered
        # (a benchmark's restart once left one replaying in the background after it gave up).
        self.stop()
        raise RuntimeError(
            f"ledger-node did not answer within {timeout:g} s and was stopped; see {log_path}"
        )

    def _answers_as(self, authority: str) -> bool:
        try:
            reply = requests.post(
                self.base_url,  # ledger_status is keyless: the answer does not hang on a token
                json={"jsonrpc": "2.0", "id": 1, "method": "ledger_status", "params": []},
                timeout=2,
            )
            status = reply.json().get("result") if reply.ok else None
        except (requests.RequestException, ValueError):
            return False
        return isinstance(status, dict) and str(status.get("authority", "")).lower() == (
            authority.lower()
        )

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait: a clean stop (kill -9 after `timeout`)."""
        return stop_process(self.process, timeout)

    def kill(self) -> None:
        """kill -9 of the node; its engine dies with it (PR_SET_PDEATHSIG)."""
        kill_process(self.process)

    def admin(self, method: str, params: list | None = None) -> dict:
        reply = requests.post(
            f"http://127.0.0.1:{self.admin_port}",
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []},
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )
        return reply.json()

    def rpc(self, method: str, params: list | None = None, timeout: float = 30.0) -> dict:
        reply = requests.post(
            self.url,
            json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []},
            timeout=timeout,
        )
        return reply.json()
