"""The private EVM engine: an anvil child process on a loopback port nobody else is told about.

Mining is the node's: anvil runs with --no-mining and FIFO ordering, and the node mines each
block with an explicit timestamp, so replaying the same transactions reproduces the same hashes.
The child gets SIGKILL when the node dies (PR_SET_PDEATHSIG), so it never outlives the node.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import ujson

from citypass.core.net import free_port
from citypass.core.process import die_with_parent, stop_process
from ledger_node.engine_pipe import OrderedPipe
from ledger_node.errors import EngineError
from ledger_node.rpc_batch import batch_answers, batch_payload

ROOT = Path(__file__).resolve().parent.parent
ANVIL_CANDIDATES = (
    ROOT / ".tools" / "bin" / "anvil",
    ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil",
)
STARTUP_SECONDS = 15.0
# anvil refuses request bodies over 2 MiB; stay well under it.
MAX_BODY_BYTES = 1_500_000


def anvil_binary() -> Path:
    override = os.environ.get("LEDGER_NODE_ANVIL")
    candidates = (Path(override),) if override else ANVIL_CANDIDATES
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise EngineError(
        "the anvil binary is missing: run `make setup` (it comes from the npm package @foundry-rs/anvil)"
    )


# anvil keeps recent per-block states in memory and writes older ones to disk (by default under
# ~/.foundry/anvil/tmp, never cleaned after a kill: a day of the demo left gigabytes there).
# The node needs no deep history (recovery replays its journal from a snapshot), so the states
# go to the node's data directory, bounded in number, and are removed with the engine.
MAX_PERSISTED_STATES = 256
STATES_DIR = "engine-states"


def _remove_dead_state_dirs(root: Path) -> None:
    """State directories are named <pid>-<port>: those of processes gone are left-overs."""
    for entry in root.glob("*-*"):
        pid = entry.name.split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(entry, ignore_errors=True)


class Engine:
    """One anvil process and an HTTP JSON-RPC client for it."""

    def __init__(self, genesis_path: Path, *, gas_limit: int, chain_id: int) -> None:
        self.genesis_path = genesis_path
        self.gas_limit = gas_limit
        self.chain_id = chain_id
        self.port = 0
        # A state dump to start from (the CLI flag, because anvil refuses JSON-RPC bodies over
        # 2 MiB, so anvil_loadState cannot carry a real chain's state).
        self.load_state_path: Path | None = None
        self._process: subprocess.Popen | None = None
        self._states_dir: Path | None = None
        self._session: aiohttp.ClientSession | None = None
        self._pipe: OrderedPipe | None = None  # replay's ordered sends (engine_pipe.py)
        self._ids = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.port = free_port()
        states_root = self.genesis_path.parent / STATES_DIR
        _remove_dead_state_dirs(states_root)
        self._states_dir = states_root / f"{os.getpid()}-{self.port}"
        self._states_dir.mkdir(parents=True, exist_ok=True)
        command = [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            *(("--load-state", str(self.load_state_path)) if self.load_state_path else ("--init", str(self.genesis_path))),
            "--no-mining",
            "--order", "fifo",
            "--accounts", "0",
            "--block-base-fee-per-gas", "0",
            "--gas-price", "0",
            "--gas-limit", str(self.gas_limit),
            "--chain-id", str(self.chain_id),
            "--silent",
            "--cache-path", str(self._states_dir),
            "--max-persisted-states", str(MAX_PERSISTED_STATES),
        ]  # fmt: skip
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=die_with_parent,
        )
        connector = aiohttp.TCPConnector(limit=16)
        self._session = aiohttp.ClientSession(connector=connector, json_serialize=ujson.dumps)
        deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
        while True:
            if self._process.poll() is not None:
                error = (
                    self._process.stderr.read().decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                raise EngineError(f"anvil exited while starting: {error.strip()[:400]}")
            try:
                await self.call("eth_chainId", [])
                return
            except (aiohttp.ClientError, OSError):
                if asyncio.get_running_loop().time() > deadline:
                    raise EngineError(
                        f"anvil did not answer on {self.url} within {STARTUP_SECONDS:.0f} s"
                    ) from None
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self._pipe is not None:
            await self._pipe.close()
            self._pipe = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        stop_process(self._process, timeout=5)
        self._process = None
        if self._states_dir is not None:
            shutil.rmtree(self._states_dir, ignore_errors=True)
            self._states_dir = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        """The child's exit status once it has died (negative: the signal that killed it);
        None while it runs, or while no child is started."""
        return self._process.poll() if self._process is not None else None

    def exit_description(self) -> str:
        """How the child died, for the log and /health (its last stderr words, if any)."""
        code = self.exit_code()
        if code is None:
            return "is running"
        if code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        said = ""
        if self._process is not None and self._process.stderr is not None:
            # The child is gone, so reading its stderr to the end cannot block.
            with contextlib.suppress(OSError, ValueError):
                said = self._process.stderr.read().decode(errors="replace").strip()[-300:]
        return f"{how}: {said}" if said else how

    async def call(self, method: str, params: list[Any]) -> Any:
        response = await self.raw_request(
            {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params}
        )
        if "error" in response:
            raise EngineError(f"engine {method} failed: {response['error'].get('message')}")
        return response.get("result")

    async def request(self, method: str, params: list[Any]) -> dict[str, Any]:
        """One call; returns the whole JSON-RPC answer (result or error) without raising."""
        return await self.raw_request(
            {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params}
        )

    async def raw_request(self, payload: Any) -> Any:
        """Send one JSON-RPC request or a batch as-is and return the decoded answer."""
        if self._session is None:
            raise EngineError("the engine is not running")
        async with self._session.post(
            self.url, data=ujson.dumps(payload), headers={"Content-Type": "application/json"}
        ) as reply:
            return ujson.loads(await reply.read())

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        """Several calls, in as few HTTP requests as anvil's 2 MiB body limit allows; answers in
        the order of `calls` (a call anvil did not answer gets an error object)."""
        answers: list[dict[str, Any]] = []
        chunk: list[tuple[str, list[Any]]] = []
        size = 0
        for method, params in calls:
            item_size = len(method) + sum(len(p) if isinstance(p, str) else 64 for p in params) + 64
            if chunk and size + item_size > MAX_BODY_BYTES:
                answers.extend(await self._batch_request(chunk))
                chunk, size = [], 0
            chunk.append((method, params))
            size += item_size
        if chunk:
            answers.extend(await self._batch_request(chunk))
        return answers

    async def _batch_request(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        first = self._ids + 1
        self._ids += len(calls)
        answers = await self.raw_request(batch_payload(first, calls))
        return batch_answers(answers, first, len(calls), "no answer")

    async def send_raw_ordered(self, raws: list[bytes]) -> list[dict[str, Any]]:
        """eth_sendRawTransaction of each of `raws`, entering the pool in this order (what
        replay needs; a batch does not keep it), pipelined on one connection."""
        if self._session is None:
            raise EngineError("the engine is not running")
        if self._pipe is None:
            self._pipe = OrderedPipe(self.port)
        return await self._pipe.send_raw(raws)

    async def mine(self, timestamp: int) -> None:
        await self.call("evm_mine", [{"timestamp": timestamp, "blocks": 1}])

    async def block(self, number: int | str) -> dict[str, Any]:
        tag = hex(number) if isinstance(number, int) else number
        block = await self.call("eth_getBlockByNumber", [tag, False])
        if block is None:
            raise EngineError(f"the engine has no block {number}")
        return block

    async def head_number(self) -> int:
        return int(await self.call("eth_blockNumber", []), 16)

    async def dump_state(self) -> str:
        return str(await self.call("anvil_dumpState", []))

    async def load_state(self, state: str) -> None:
        await self.call("anvil_loadState", [state])

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids
