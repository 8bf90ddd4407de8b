"""Throughput of the permissioned node `ledger-node` against raw anvil, as one JSON object.

The same pre-signed workload (LeaseMarket.book transactions from many members, JSON-RPC batches
over several connections) runs against

  (a) raw anvil, started with the flags the node's engine uses (genesis, FIFO order, zero gas
      price and base fee), but mining by itself (interval mining at the node's block period by
      default, or automine), and
  (b) `ledger-node` (permission gateway, journal with fsync, sequencer), started from a fresh
      data directory,

then the node is stopped, its snapshots are deleted and it is restarted, so recovery replays the
whole journal (replay_tps). Both chains start from the node's genesis with the authority as the
admin, so contract addresses and every signed byte are identical on both targets.

    python bench/ledger.py            # 20,000 bookings from 100 members
    python bench/ledger.py --quick    # 2,000 bookings: a smoke run

Only the JSON goes to stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil  # noqa: E402
from _ledger_workload import (  # noqa: E402
    BOOK_GAS,
    Rpc,
    RunResult,
    Workload,
    build_workload,
    progress,
    run_workload,
    selector,
    send_and_confirm,
)

from ledger_node.config import GENESIS_FILE, JOURNAL_FILE, SNAPSHOT_DIR, load_config  # noqa: E402
from ledger_node.engine import _die_with_parent, anvil_binary, free_port  # noqa: E402
from ledger_node.keystore import load_authority  # noqa: E402
from ledger_node.launcher import CLI, NodeProcess  # noqa: E402

GOALS = {"node_tps": 3000, "ratio": 0.5, "p99_block_periods": 2, "replay_tps": 5000}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/ledger.py",
        description=(
            "Throughput of ledger-node against raw anvil: the same pre-signed LeaseMarket.book "
            "workload on both, plus the node's journal replay speed. Prints one JSON object."
        ),
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 2,000 bookings (unless --txs)"
    )
    parser.add_argument(
        "--txs", type=int, default=None, help="book transactions (default 20000, --quick 2000)"
    )
    parser.add_argument("--members", type=int, default=100, help="sending members (default 100)")
    parser.add_argument(
        "--batch", type=int, default=100, help="transactions per JSON-RPC batch (default 100)"
    )
    parser.add_argument(
        "--connections", type=int, default=4, help="parallel connections (default 4)"
    )
    parser.add_argument(
        "--block-period", type=float, default=1.0, help="node block period, s (default 1.0)"
    )
    parser.add_argument(
        "--max-block-txs",
        type=int,
        default=2000,
        help="node seals early at this many pending txs (default 2000)",
    )
    parser.add_argument(
        "--gas-limit",
        type=int,
        default=1_000_000_000,
        help=(
            "block gas limit of both chains (default 1e9). A booking uses ~89k gas, so 30M (the "
            "node's default) holds only ~338 bookings per block, far below --max-block-txs"
        ),
    )
    parser.add_argument(
        "--snapshot-every",
        type=int,
        default=1000,
        help="node snapshot interval in blocks (default 1000)",
    )
    parser.add_argument(
        "--raw-mode",
        choices=("interval", "automine"),
        default="interval",
        help="how raw anvil mines: interval (--block-time = block period, default) or automine",
    )
    parser.add_argument(
        "--poll-interval", type=float, default=0.02, help="block watcher poll interval, s"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip timing `ledger-node verify`")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (data dir, logs)"
    )
    args = parser.parse_args(argv)
    if args.txs is None:
        args.txs = 2000 if args.quick else 20000
    if args.members < 1 or args.txs < args.members or args.batch < 1 or args.connections < 1:
        parser.error("--txs ≥ --members ≥ 1, --batch ≥ 1 and --connections ≥ 1")
    return args


# ------------------------------------------------------------------------------------ helpers


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
        self.process: subprocess.Popen | None = None

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
                preexec_fn=_die_with_parent,
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
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
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
        from eth_abi import encode

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


def summarise(result: RunResult) -> dict[str, Any]:
    out = asdict(result)
    for key, value in out.items():
        if isinstance(value, float):
            out[key] = round(value, 1 if key.endswith("_ms") or key == "tps" else 3)
    return out


async def node_status(url: str) -> dict[str, Any]:
    rpc = Rpc(url)
    try:
        return await rpc.call("ledger_status", [])
    finally:
        await rpc.close()


def serving_time_from_log(log: Path) -> float | None:
    """The ts of the node's "serving JSON-RPC" log line (after recovery finished)."""
    found = None
    for line in log.read_text(errors="replace").splitlines():
        if "serving JSON-RPC" not in line:
            continue
        try:
            found = float(json.loads(line[line.index("{") :])["ts"])
        except (ValueError, KeyError):
            continue
    return found


async def _read_http_response(reader: asyncio.StreamReader) -> Any:
    await reader.readline()  # status line
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return json.loads(await reader.readexactly(length))


async def replay_variant(data_dir: Path, variant: str) -> dict[str, Any]:
    """Replay every journal block on a scratch engine (the journal opened read-only) and time it.

    variant "node": ledger_node.replay.replay_block, exactly what recovery and verify run
        (the block's raw transactions as one JSON-RPC batch, then evm_mine at the recorded time);
    variant "sequential": the same, but one eth_sendRawTransaction request per transaction,
        awaited in order (bench-side experiment, not node code);
    variant "pipelined": one request per transaction, all written back-to-back on one HTTP/1.1
        keep-alive connection before reading the answers (bench-side experiment).
    Stops at the first block whose hash differs from the journal."""
    from ledger_node.engine import Engine
    from ledger_node.journal import Journal
    from ledger_node.replay import ReplayMismatch, replay_block

    config = load_config(data_dir)
    journal = Journal(data_dir / JOURNAL_FILE, readonly=True)
    engine = Engine(data_dir / GENESIS_FILE, gas_limit=config.gas_limit, chain_id=config.chain_id)
    await engine.start()
    reader = writer = None
    blocks = txs = 0
    mismatch = None
    try:
        if variant == "pipelined":
            reader, writer = await asyncio.open_connection("127.0.0.1", engine.port)
        started = time.perf_counter()
        for block in journal.blocks_after(0):
            if variant == "node":
                try:
                    await replay_block(engine, journal, block)
                except ReplayMismatch as exc:
                    mismatch = str(exc)
                    break
            else:
                raws = journal.raw_txs(block.tx_hashes)
                if variant == "sequential":
                    for raw in raws:
                        reply = await engine.raw_request(
                            {
                                "jsonrpc": "2.0",
                                "id": 1,
                                "method": "eth_sendRawTransaction",
                                "params": ["0x" + raw.hex()],
                            }
                        )
                        if "error" in reply:
                            raise RuntimeError(f"replay ({variant}): {reply['error']}")
                else:
                    for start in range(0, len(raws), 1000):
                        chunk = raws[start : start + 1000]
                        requests_ = []
                        for raw in chunk:
                            body = json.dumps(
                                {
                                    "jsonrpc": "2.0",
                                    "id": 1,
                                    "method": "eth_sendRawTransaction",
                                    "params": ["0x" + raw.hex()],
                                }
                            ).encode()
                            requests_.append(
                                b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                b"Content-Length: %d\r\n\r\n" % len(body) + body
                            )
                        writer.write(b"".join(requests_))
                        await writer.drain()
                        for _ in chunk:
                            reply = await _read_http_response(reader)
                            if "error" in reply:
                                raise RuntimeError(f"replay ({variant}): {reply['error']}")
                await engine.mine(block.timestamp)
                replayed = await engine.block(block.number)
                if replayed["hash"] != "0x" + block.hash.hex():
                    mismatch = f"block {block.number} differs: journal 0x{block.hash.hex()}, replay {replayed['hash']}"
                    break
            blocks += 1
            txs += len(block.tx_hashes)
        seconds = time.perf_counter() - started
    finally:
        if writer is not None:
            writer.close()
        await engine.stop()
        journal.close()
    return {
        "ok": mismatch is None,
        "blocks_replayed": blocks,
        "txs_replayed": txs,
        "seconds": round(seconds, 2),
        "tps": round(txs / seconds, 1) if seconds > 0 and mismatch is None else None,
        "mismatch": mismatch,
    }


# --------------------------------------------------------------------------------------- main


async def bench(args: argparse.Namespace, tmp: Path, cleanup: list) -> dict[str, Any]:
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    data_dir = tmp / "node"
    password = secrets.token_urlsafe(18)
    progress(f"initialising the node data directory in {data_dir}")
    init_node_dir(data_dir, password, args)
    config = load_config(data_dir)
    authority = load_authority(data_dir, password)
    progress("signing the workload (not timed)")
    signing_started = time.perf_counter()
    workload = build_workload(
        bytes(authority.key),
        config.chain_id,
        members=args.members,
        txs=args.txs,
        connections=args.connections,
        now=int(time.time()),
    )
    signing_seconds = time.perf_counter() - signing_started
    progress(
        f"signed {len(workload.setup_admin) + len(workload.setup_members)} setup and "
        f"{workload.book_count} book transactions in {signing_seconds:.1f} s"
    )

    # (a) raw anvil
    genesis = tmp / "raw-genesis.json"
    shutil.copy(data_dir / GENESIS_FILE, genesis)
    raw = RawAnvil(
        genesis,
        gas_limit=config.gas_limit,
        chain_id=config.chain_id,
        mode=args.raw_mode,
        period=args.block_period,
        log=tmp / "raw-anvil.log",
    )
    cleanup.append(raw.stop)
    progress(f"raw anvil ({args.raw_mode}): {' '.join(raw.command[1:])}")
    await raw.start()
    await setup_target(raw.url, workload, args.batch, "raw anvil")
    progress(f"raw anvil: sending {workload.book_count} bookings")
    raw_result = await run_workload(
        raw.url,
        workload,
        batch=args.batch,
        poll_interval=args.poll_interval,
        meter=CpuMeter(raw.process.pid),
    )
    raw_result.cpu["anvil_cpu_s"] = raw_result.cpu.pop("process_cpu_s")
    raw_result.cpu.pop("children_cpu_s")
    raw_rss = rss_mb(raw.process.pid)
    raw.stop()
    progress(f"raw anvil: {raw_result.tps:.0f} tx/s, p99 {raw_result.p99_ms:.0f} ms")

    # (b) ledger-node
    node = NodeProcess(data_dir, password, log_path=tmp / "node.log")
    cleanup.append(node.stop)
    progress("starting ledger-node")
    node.start()
    node_setup_retries = await setup_target(node.url, workload, args.batch, "ledger-node")
    progress(f"ledger-node: sending {workload.book_count} bookings")
    node_result = await run_workload(
        node.url,
        workload,
        batch=args.batch,
        poll_interval=args.poll_interval,
        meter=CpuMeter(node.process.pid),
    )
    node_result.cpu["node_cpu_s"] = node_result.cpu.pop("process_cpu_s")
    node_result.cpu["engine_cpu_s"] = node_result.cpu.pop("children_cpu_s")
    node_rss = rss_mb(node.process.pid)
    status = await node_status(node.url)
    progress(
        f"ledger-node: {node_result.tps:.0f} tx/s, p99 {node_result.p99_ms:.0f} ms, rss {node_rss} MB"
    )
    node.stop()

    # Recovery: no snapshot, so the restart replays the whole journal.
    snapshots = data_dir / SNAPSHOT_DIR
    removed = 0
    if snapshots.exists():
        for path in snapshots.iterdir():
            path.unlink()
            removed += 1
    journal_txs = int(status["journalTransactions"])
    restart_log = tmp / "node-restart.log"
    restart = NodeProcess(data_dir, password, log_path=restart_log)
    cleanup.append(restart.stop)
    progress(f"restarting ledger-node without snapshots ({removed} deleted): full journal replay")
    wall_started = time.time()
    started = time.perf_counter()
    restart_seconds = served_at = None
    replay_error = None
    try:
        restart.start(timeout=600)
        restart_seconds = time.perf_counter() - started
        served_at = serving_time_from_log(restart_log)
        after = await node_status(restart.url)
        if after["head"] != status["head"]:
            replay_error = f"the restarted node is at {after['head']}, before the stop it was at {status['head']}"
        progress(
            f"restart replayed {journal_txs} transactions in {restart_seconds:.1f} s (process start → ready)"
        )
    except RuntimeError:
        replay_error = _last_error(restart_log)
        progress(f"the restart FAILED: {replay_error}")
    finally:
        restart.stop()

    experiments: dict[str, Any] = {}
    for variant in ("node", "sequential", "pipelined"):
        progress(
            f"timing the replay alone, variant {variant!r} (scratch engine, journal read-only)"
        )
        experiments[variant] = await replay_variant(data_dir, variant)
        progress(f"  {experiments[variant]}")
    verify: dict[str, Any] | None = None
    if not args.no_verify:
        progress("timing `ledger-node verify`")
        started = time.perf_counter()
        verified = subprocess.run(
            [*CLI, "verify", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        seconds = time.perf_counter() - started
        verify = {
            "ok": verified.returncode == 0,
            "seconds": round(seconds, 2),
            "tps": round(journal_txs / seconds, 1) if verified.returncode == 0 else None,
            "error": None
            if verified.returncode == 0
            else verified.stderr.strip().splitlines()[-1][:400],
        }

    period_ms = args.block_period * 1000
    result: dict[str, Any] = {
        "raw_tps": round(raw_result.tps, 1),
        "node_tps": round(node_result.tps, 1),
        "ratio": round(node_result.tps / raw_result.tps, 3) if raw_result.tps else None,
        "p50_ms": round(node_result.p50_ms, 1),
        "p99_ms": round(node_result.p99_ms, 1),
        "replay_tps": round(journal_txs / restart_seconds, 1)
        if restart_seconds and not replay_error
        else None,
        "replay_error": replay_error,
        "replay_restart_seconds": round(restart_seconds, 2) if restart_seconds else None,
        "replay_to_serving_seconds": round(served_at - wall_started, 2) if served_at else None,
        "replay_only_tps": experiments["node"]["tps"],
        "replay_only": experiments["node"],
        "replay_experiments": {
            "note": (
                "bench-side replays of the same journal on a scratch engine, not node code: "
                "'sequential' sends one eth_sendRawTransaction request per transaction in journal "
                "order, 'pipelined' writes them back-to-back on one keep-alive connection"
            ),
            "sequential": experiments["sequential"],
            "pipelined": experiments["pipelined"],
        },
        "verify": verify,
        "journal_txs": journal_txs,
        "node_setup_permission_retries": node_setup_retries,
        "rss_mb": node_rss,
        "raw_rss_mb": raw_rss,
        "raw_mode": (
            f"interval mining (--block-time {args.block_period:g}, the node's block period), "
            "otherwise the node engine's flags: --init genesis --order fifo --gas-price 0 zero base "
            "fee. Same block cadence as the node; automine (--raw-mode automine) mines a block per "
            "arrival and stalled under this load with anvil 1.7.1"
            if args.raw_mode == "interval"
            else "automine (a block as transactions arrive), otherwise the node engine's flags"
        ),
        "raw": summarise(raw_result),
        "node": summarise(node_result),
        "params": {
            "txs": workload.book_count,
            "members": args.members,
            "per_member": workload.per_member,
            "batch": args.batch,
            "connections": args.connections,
            "block_period": args.block_period,
            "max_block_txs": args.max_block_txs,
            "gas_limit": config.gas_limit,
            "book_gas_limit": BOOK_GAS,
            "snapshot_every": args.snapshot_every,
            "journal_fsync": True,
            "setup_txs": len(workload.setup_admin) + len(workload.setup_members),
            "signing_seconds": round(signing_seconds, 1),
            "quick": args.quick,
        },
        "machine": {
            "nproc": os.cpu_count(),
            "cpu": _cpu_model(),
            "mem_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "anvil": _anvil_version(),
            "loadavg_start": load_at_start,
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            "note": "load from other processes on the machine competes with the benchmark",
        },
    }
    goals = {
        "node_tps": f">= {GOALS['node_tps']}",
        "ratio": f">= {GOALS['ratio']}",
        "p99_ms": f"<= {GOALS['p99_block_periods'] * period_ms:g} (2 block periods)",
        "replay_tps": f">= {GOALS['replay_tps']}",
    }
    misses = []
    if result["node_tps"] < GOALS["node_tps"]:
        misses.append("node_tps")
    if result["ratio"] is None or result["ratio"] < GOALS["ratio"]:
        misses.append("ratio")
    if not result["p99_ms"] <= GOALS["p99_block_periods"] * period_ms:
        misses.append("p99_ms")
    if result["replay_tps"] is None or result["replay_tps"] < GOALS["replay_tps"]:
        misses.append("replay_tps")
    correctness = []
    for name, run in (("raw", raw_result), ("node", node_result)):
        if run.send_errors or run.missing or run.failed:
            correctness.append(
                f"{name}: {run.send_errors} refused, {run.missing} never included, {run.failed} reverted"
            )
    result["goals"] = goals
    result["misses"] = misses
    result["errors"] = correctness
    return result


def _last_error(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:") or '"level": "error"' in line]
    return (errors or lines or ["(empty log)"])[-1][:600]


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _anvil_version() -> str | None:
    try:
        out = subprocess.run(
            [str(anvil_binary()), "--version"], capture_output=True, text=True, timeout=10
        )
        return out.stdout.splitlines()[0].strip() if out.stdout else None
    except Exception:
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    cleanup: list = []

    def on_term(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    try:
        result = asyncio.run(bench(args, tmp, cleanup))
    finally:
        for stop in reversed(cleanup):
            try:
                stop()
            except Exception as exc:  # keep cleaning up
                progress(f"cleanup: {exc}")
        if args.keep:
            progress(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
