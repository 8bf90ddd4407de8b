"""Witness benchmark: how far a witness (`ledger-node witness run`) trails its node under load,
as ONE JSON object on stdout (progress on stderr).

A real node at its normal block period (1 s) and a witness following it (its own engine,
re-executing every block, co-signing each batch); raw LeaseMarket.book transactions (the
pre-signed workload of bench/ledger.py, bench/_ledger_workload.py) are sent at --rate per second
(bench/indexer.py's sender) for --seconds. A 50 ms poller notes when each block first shows as
the node's head and when the witness's /health first reports it re-executed:
- witness_lag_periods (p50, p99, max): that delay per block, in block periods (goal: p99 ≤ 2);
- witness_lag_blocks (p50, p99, max): node head − witness head at each poll.

    python -m bench.witness [--quick] [--rate 300] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench._ledger_sender import progress, send_and_confirm
from bench._ledger_workload import build_workload
from bench.goals import misses
from bench.indexer import send_at_rate
from bench.rpc import Rpc
from bench.runner import Cleanup, load_average, machine, run_bench
from ledger_node.config import load_config
from ledger_node.keystore import load_authority
from ledger_node.launcher import NodeProcess, init_data_dir
from tests.witness_helpers import WitnessProcess

BLOCK_PERIOD_S = 1.0
POLL_S = 0.05
GOALS = {"witness_lag_periods_p99": 2.0}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.witness",
        description="A witness's lag behind its node under a booking load. Prints one JSON object.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 15 s of load")
    parser.add_argument("--rate", type=float, default=300.0, help="bookings per second (300)")
    parser.add_argument(
        "--seconds", type=float, default=None, help="seconds of load (60; --quick 15)"
    )
    parser.add_argument("--members", type=int, default=100, help="booking members (100)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    args.seconds = args.seconds or (15.0 if args.quick else 60.0)
    return args


class LagWatch(threading.Thread):
    """Polls the node's head and the witness's /health every POLL_S seconds."""

    def __init__(self, node_url: str, witness_url: str) -> None:
        super().__init__(daemon=True)
        self.node_url, self.witness_url = node_url, witness_url
        self.node_seen: dict[int, float] = {}
        self.witness_seen: dict[int, float] = {}
        self.lag_blocks: list[int] = []
        self.halt = threading.Event()
        self.errors = 0

    def run(self) -> None:
        session = requests.Session()
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}
        node_head = witness_head = -1
        while not self.halt.is_set():
            try:
                node_now = int(
                    session.post(self.node_url, json=body, timeout=5).json()["result"], 16
                )
                witness_now = int(
                    session.get(f"{self.witness_url}/health", timeout=5).json()["head"]
                )
            except (requests.RequestException, ValueError, KeyError):
                self.errors += 1
                time.sleep(POLL_S)
                continue
            now = time.monotonic()
            for number in range(node_head + 1, node_now + 1):
                self.node_seen.setdefault(number, now)
            for number in range(witness_head + 1, witness_now + 1):
                self.witness_seen.setdefault(number, now)
            node_head, witness_head = max(node_head, node_now), max(witness_head, witness_now)
            self.lag_blocks.append(max(0, node_now - witness_now))
            time.sleep(POLL_S)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench(args: argparse.Namespace, tmp: Path, cleanup: Cleanup) -> dict[str, Any]:
    load_at_start = load_average()
    password = secrets.token_urlsafe(18)
    data_dir = tmp / "node"
    init_data_dir(data_dir, password, block_period=BLOCK_PERIOD_S, snapshot_every=1000)
    config = load_config(data_dir)
    authority = load_authority(data_dir, password)
    txs = int(args.rate * args.seconds) // args.members * args.members
    progress(f"signing {txs} bookings of {args.members} members (not timed)")
    workload = build_workload(
        bytes(authority.key), config.chain_id, members=args.members, txs=txs, connections=1,
        now=int(time.time()),
    )  # fmt: skip
    node = NodeProcess(data_dir, password, log_path=tmp / "node.log")
    cleanup.append(node.stop)
    node.start()
    rpc = Rpc(node.url)
    try:
        progress("setting up the contracts and members")
        await send_and_confirm(rpc, workload.setup_admin, batch=100, label="admin setup")
        await send_and_confirm(rpc, workload.setup_members, batch=100, label="member setup")
    finally:
        await rpc.close()
    witness = WitnessProcess.init(tmp / "witness", node)
    cleanup.append(witness.kill)
    witness.start()
    head = int(node.rpc("eth_blockNumber")["result"], 16)
    await _until(lambda: witness.state()["head"] >= head, 120, "the witness catching up the setup")
    watch = LagWatch(node.url, witness.url)
    watch.start()
    raws = [tx.raw for tx in workload.lanes[0]]
    progress(f"sending {len(raws)} bookings at {args.rate:g}/s")
    sent = await asyncio.to_thread(send_at_rate, node.url, raws, args.rate)
    final = int(node.rpc("eth_blockNumber")["result"], 16)
    await _until(lambda: witness.state()["head"] >= final, 120, "the witness catching up")
    watch.halt.set()
    watch.join(timeout=10)
    health = witness.state()
    checkpoint = node.rpc("ledger_getCheckpoint", [hex(health["cosigned"])]).get("result") or {}
    delays = [
        (watch.witness_seen[n] - seen) / BLOCK_PERIOD_S
        for n, seen in watch.node_seen.items()
        if n > head and n in watch.witness_seen
    ]
    blocks = final - head
    result: dict[str, Any] = {
        "benchmark": "witness",
        "block_period_s": BLOCK_PERIOD_S,
        "rate_target": args.rate,
        "load_seconds": args.seconds,
        **sent,
        "blocks": blocks,
        "txs_per_block": round(len(raws) / blocks, 1) if blocks else None,
        "witness_lag_periods_p50": _round(percentile(delays, 0.50)),
        "witness_lag_periods_p99": _round(percentile(delays, 0.99)),
        "witness_lag_periods_max": _round(max(delays) if delays else None),
        "witness_lag_blocks_p50": percentile([float(x) for x in watch.lag_blocks], 0.50),
        "witness_lag_blocks_p99": percentile([float(x) for x in watch.lag_blocks], 0.99),
        "witness_lag_blocks_max": max(watch.lag_blocks) if watch.lag_blocks else None,
        "blocks_timed": len(delays),
        "poll_errors": watch.errors,
        "witness_cosigned": health["cosigned"],
        "witness_alarm": health["alarm"],
        "checkpoint_at_node": checkpoint.get("checkpoint"),
        "goals": {name: f"≤ {goal:g}" for name, goal in GOALS.items()},
        "machine": machine(load_at_start),
    }
    result["misses"] = misses(result, ceilings=GOALS)
    result["errors"] = (
        []
        if not health["alarm"] and sent["send_errors"] == 0
        else [
            f"alarm: {health['reason']}"
            if health["alarm"]
            else f"{sent['send_errors']} send errors"
        ]
    )
    return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    return run_bench(parse_args(argv), bench, prefix="witness-bench-", progress=progress)


if __name__ == "__main__":
    raise SystemExit(main())
