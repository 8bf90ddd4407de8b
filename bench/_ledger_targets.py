"""The two targets of bench/ledger.py (raw anvil and ledger-node) and what is measured on them:
setup, the timed workload, CPU and memory."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
from eth_abi import encode

from bench._ledger_sender import RunResult, progress, run_workload, send_and_confirm
from bench._ledger_workload import Workload
from bench.rpc import Rpc, call_once
from bench.signing import selector
from citypass.core.process import die_with_parent, stop_process
from ledger_node.engine import anvil_binary, free_port
from ledger_node.launcher import CLI


def init_node_dir(data_dir: Path, password: str, args: argparse.Namespace) -> None:
    """`ledger-node init` (what launcher.init_data_dir runs, plus --gas-limit)."""
    command = [
        *CLI, "init", "--data-dir", str(data_dir),
        "--block-period", str(args.block_period),
        "--max-block-txs", str(args.max_block_txs),
        "--snapshot-every", str(args.snapshot_every),
        "--gas-limit", str(args.gas_limit),
    ]  # fmt: skip
    env = {**os.environ, "LEDGER_NODE_PASSWORD": password}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"ledger-node init failed: {result.stderr.strip()}")


class CpuMeter:
    """CPU seconds used by a process and its children (the node and its anvil) and by the
    benchmark itself between start() and stop()."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.me = psutil.Process()

    def _sample(self) -> tuple[float, float, float]:
        def used(p: psutil.Process) -> float:
            times = p.cpu_times()
            return times.user + times.system

        children = 0.0
        for child in self.process.children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                children += used(child)
        return used(self.process), children, used(self.me)

    def start(self) -> None:
        self.before = self._sample()

    def stop(self, seconds: float) -> dict[str, float]:
        after = self._sample()
        own, children, client = (b - a for a, b in zip(self.before, after, strict=True))
        return {
            "process_cpu_s": round(own, 2),
            "children_cpu_s": round(children, 2),
            "bench_client_cpu_s": round(client, 2),
            "wall_s": round(seconds, 2),
        }


def rss_mb(pid: int) -> float:
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            total += child.memory_info().rss
    return round(total / 2**20, 1)


class RawAnvil:
    """anvil with the node engine's flags, mining by itself."""

    def __init__(
        self, genesis: Path, *, gas_limit: int, chain_id: int, mode: str, period: float, log: Path
    ):
        self.port = free_port()
        self.command = [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--init", str(genesis),
            "--order", "fifo",
            "--accounts", "0",
            "--block-base-fee-per-gas", "0",
            "--gas-price", "0",
            "--gas-limit", str(gas_limit),
            "--chain-id", str(chain_id),
            "--silent",
        ]  # fmt: skip
        if mode == "interval":
            self.command += ["--block-time", f"{period:g}"]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=die_with_parent,
            )
        rpc = Rpc(self.url)
        try:
            deadline = time.monotonic() + 20
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"raw anvil exited with {self.process.returncode}; see {self.log}"
                    )
                try:
                    await rpc.call("eth_chainId", [])
                    return
                except Exception:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"raw anvil did not answer; see {self.log}") from None
                    await asyncio.sleep(0.05)
        finally:
            await rpc.close()

    def stop(self) -> None:
        stop_process(self.process, timeout=10)
        self.process = None


async def setup_target(url: str, workload: Workload, batch: int, label: str) -> int:
    """Deploy, wire, onboard, mint, register slots, set windows, approve; then a sanity quote.
    Returns how many setup batches had to be re-sent after a 'not permitted' refusal."""
    rpc = Rpc(url, limit=1)
    try:
        retries = await send_and_confirm(
            rpc, workload.setup_admin, batch=batch, label=f"{label} setup (admin)"
        )
        retries += await send_and_confirm(
            rpc, workload.setup_members, batch=batch, label=f"{label} setup (members)"
        )
        data = selector("quote(uint256,uint64,uint64)") + encode(
            ["uint256", "uint64", "uint64"], [1, workload.first_start, workload.first_start + 1800]
        )
        quoted = await rpc.call(
            "eth_call",
            [
                {"to": "0x" + workload.addresses["market"].hex(), "data": "0x" + data.hex()},
                "latest",
            ],
        )
        if int(quoted, 16) != 600:
            raise RuntimeError(f"{label}: LeaseMarket.quote answered {quoted}, expected 600")
        return retries
    finally:
        await rpc.close()


async def measure(
    url: str, pid: int, workload: Workload, args: argparse.Namespace, label: str
) -> tuple[int, RunResult, float]:
    """Set the target up, send the bookings (timed); (setup retries, result, RSS in MB)."""
    retries = await setup_target(url, workload, args.batch, label)
    progress(f"{label}: sending {workload.book_count} bookings")
    result = await run_workload(
        url, workload, batch=args.batch, poll_interval=args.poll_interval, meter=CpuMeter(pid)
    )
    return retries, result, rss_mb(pid)


async def node_status(url: str) -> dict[str, Any]:
    status: dict[str, Any] = await call_once(url, "ledger_status")
    return status
