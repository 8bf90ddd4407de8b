"""Members' transaction latency on `ledger-node` while keyless clients flood it with reads, as one
JSON object.

A fresh node (default limits of `ledger-node start`, or the LEDGER_NODE_* variables you set)
gets CityAccess and a few onboarded members. Then:

  1. baseline: the members send transactions one after another, each waiting for its receipt
     (submit → receipt, polled every 20 ms);
  2. flood: N connections, each from its own loopback address (a distinct client IP for the
     node), send batches of eth_call running an infinite loop at the block gas limit, as fast
     as they are answered; one more client sends a single 1,000-call batch of them. Meanwhile
     the members go on as in 1.

The goal: members' p99 submit → receipt under the flood within two block periods.

    python -m bench.ledger_flood            # 6 flood connections, 30 s of flood
    python -m bench.ledger_flood --quick    # 6 flood connections, 8 s: a smoke run

Only the JSON goes to stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import ujson
from eth_abi import encode
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from ledger_node.config import load_config
from ledger_node.keystore import load_authority
from ledger_node.launcher import NodeProcess, init_data_dir

ROOT = Path(__file__).resolve().parent.parent
INFINITE_LOOP = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP, run as init code: never returns
LIMIT_EXCEEDED = -32005
MEMBER_GAS = 300_000
DEPLOY_GAS = 8_000_000
RECEIPT_POLL = 0.02
FLOOD_SOURCE_BASE = 10  # flood connection i sends from 127.0.0.(10 + i)
BIG_BATCH_SOURCE = "127.0.0.9"


def progress(message: str) -> None:
    print(f"[flood-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ledger_flood",
        description="Members' submit→receipt latency on ledger-node under a keyless eth_call "
        "flood (infinite loops at the block gas limit). Prints one JSON object.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 s of flood, 2 members")
    parser.add_argument("--flood-connections", type=int, default=6, help="default 6")
    parser.add_argument("--batch", type=int, default=20, help="eth_calls per flood batch (20)")
    parser.add_argument(
        "--big-batch", type=int, default=1000, help="calls in the one large batch (0: none)"
    )
    parser.add_argument("--members", type=int, default=None, help="default 4, --quick 2")
    parser.add_argument("--duration", type=float, default=None, help="flood seconds (30 / 8)")
    parser.add_argument("--baseline", type=float, default=None, help="baseline seconds (10 / 4)")
    parser.add_argument("--block-period", type=float, default=1.0, help="seconds (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and log")
    args = parser.parse_args(argv)
    args.members = args.members or (2 if args.quick else 4)
    args.duration = args.duration or (8.0 if args.quick else 30.0)
    args.baseline = args.baseline or (4.0 if args.quick else 10.0)
    if not 1 <= args.flood_connections <= 200 or not 1 <= args.batch <= 1000:
        parser.error("--flood-connections 1 … 200 and --batch 1 … 1000")
    if not 0 <= args.big_batch <= 1000 or args.members < 1 or args.block_period <= 0:
        parser.error("--big-batch 0 … 1000, --members ≥ 1, --block-period > 0")
    return args


# ------------------------------------------------------------------------------------ chain


class Chain:
    """JSON-RPC to the node from 127.0.0.1 (the node's own host), and signed transactions."""

    def __init__(self, url: str, chain_id: int, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.chain_id = chain_id
        self.session = session

    async def call(self, method: str, params: list[Any]) -> Any:
        payload = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        async with self.session.post(self.url, data=ujson.dumps(payload)) as reply:
            answer = ujson.loads(await reply.read())
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        return answer["result"]

    def sign(self, key: bytes, nonce: int, to: str | None, data: bytes, gas: int) -> str:
        tx = {
            "nonce": nonce, "gasPrice": 0, "gas": gas, "to": to, "value": 0,
            "data": data, "chainId": self.chain_id,
        }  # fmt: skip
        if to is None:
            del tx["to"]
        return "0x" + bytes(Account.sign_transaction(tx, key).raw_transaction).hex()

    async def send_and_wait(self, raw: str, timeout: float = 120) -> tuple[float, dict]:
        """Seconds from submit to receipt, and the receipt."""
        started = time.monotonic()
        tx_hash = await self.call("eth_sendRawTransaction", [raw])
        while True:
            receipt = await self.call("eth_getTransactionReceipt", [tx_hash])
            if receipt:
                return time.monotonic() - started, receipt
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"no receipt for {tx_hash} within {timeout:.0f} s")
            await asyncio.sleep(RECEIPT_POLL)


def call_data(signature: str, types: list[str], args: list[Any]) -> bytes:
    return keccak(signature.encode())[:4] + encode(types, args)


async def setup_members(chain: Chain, admin_key: bytes, count: int) -> tuple[str, list[bytes]]:
    """Deploy CityAccess as the authority and onboard `count` fresh members."""
    admin = Account.from_key(admin_key).address
    artifact = json.loads((ROOT / "build" / "contracts" / "CityAccess.json").read_text())
    code = bytes.fromhex(artifact["bytecode"].removeprefix("0x")) + encode(["address"], [admin])
    nonce = int(await chain.call("eth_getTransactionCount", [admin, "pending"]), 16)
    _, receipt = await chain.send_and_wait(chain.sign(admin_key, nonce, None, code, DEPLOY_GAS))
    access = to_checksum_address(receipt["contractAddress"])
    members = [secrets.token_bytes(32) for _ in range(count)]
    for offset, key in enumerate(members, start=1):
        data = call_data("onboard(address)", ["address"], [Account.from_key(key).address])
        _, receipt = await chain.send_and_wait(
            chain.sign(admin_key, nonce + offset, access, data, MEMBER_GAS)
        )
        assert receipt["status"] == "0x1", receipt
    return access, members


async def run_members(
    chain: Chain, access: str, keys: list[bytes], nonces: list[int], seconds: float
) -> list[float]:
    """Each member sends a transaction, waits for its receipt, pauses a little, again."""
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def member(index: int) -> None:
        key = keys[index]
        address = Account.from_key(key).address
        data = call_data("isAllowed(address)", ["address"], [address])
        while time.monotonic() < deadline:
            raw = chain.sign(key, nonces[index], access, data, MEMBER_GAS)
            seconds_taken, receipt = await chain.send_and_wait(raw)
            assert receipt["status"] == "0x1", receipt
            nonces[index] += 1
            latencies.append(seconds_taken)
            await asyncio.sleep(random.uniform(0, 0.2))

    await asyncio.gather(*(member(i) for i in range(len(keys))))
    return latencies


# ------------------------------------------------------------------------------------ flood


def flood_process(url: str, args: dict[str, Any], stop: Any, results: Any) -> None:
    """In a process of its own, so the flood's client work never delays the members' clock."""
    results.put(asyncio.run(_flood(url, args, stop)))


async def _flood(url: str, args: dict[str, Any], stop: Any) -> dict[str, Any]:
    counts = {"served": 0, "refused": 0, "other": 0, "batches": 0}
    refusals: dict[str, int] = {}
    big: dict[str, Any] = {}
    big_refusals: dict[str, int] = {}
    call = {"data": INFINITE_LOOP, "gas": hex(args["gas_limit"])}

    def tally(answers: Any, into: dict[str, Any], reasons: dict[str, int]) -> None:
        for answer in answers if isinstance(answers, list) else [answers]:
            error = answer.get("error") or {}
            message = str(error.get("message", ""))
            # Ran on the engine until its gas ran out: at the node's read gas cap, or (a node
            # without the cap) at the block gas limit.
            if "result" in answer or "gas cap" in message or "OutOfGas" in message:
                into["served"] += 1
            elif error.get("code") == LIMIT_EXCEEDED:
                into["refused"] += 1
                reason = message.split(":")[0]
                reasons[reason] = reasons.get(reason, 0) + 1
            else:
                into["other"] += 1

    async def connection(source: str, size: int, once: bool) -> None:
        connector = aiohttp.TCPConnector(limit=1, local_addr=(source, 0))
        timeout = aiohttp.ClientTimeout(total=300)
        payload = ujson.dumps(
            [
                {"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [call, "latest"]}
                for i in range(size)
            ]
        )
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    async with session.post(
                        url, data=payload, headers={"Content-Type": "application/json"}
                    ) as reply:
                        answers = ujson.loads(await reply.read())
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    counts["other"] += size
                    await asyncio.sleep(0.1)
                    continue
                if once:
                    big.update(calls=size, answer_seconds=round(time.monotonic() - started, 2))
                    big.update(served=0, refused=0, other=0, refusals=big_refusals)
                    tally(answers, big, big_refusals)
                    return
                counts["batches"] += 1
                tally(answers, counts, refusals)

    tasks = [
        connection(f"127.0.0.{FLOOD_SOURCE_BASE + i}", args["batch"], once=False)
        for i in range(args["connections"])
    ]
    if args["big_batch"]:
        tasks.append(connection(BIG_BATCH_SOURCE, args["big_batch"], once=True))
    await asyncio.gather(*tasks)
    return {**counts, "refusals": refusals, "big_batch": big or None}


# ---------------------------------------------------------------------------------- metrics


def read_metrics(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        found = re.match(r"^([a-z_]+(?:\{[^}]*\})?) (\S+)$", line)
        if found:
            values[found.group(1)] = float(found.group(2))
    return values


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def summary(latencies: list[float]) -> dict[str, Any]:
    if not latencies:
        return {"txs": 0}
    return {
        "txs": len(latencies),
        "member_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "member_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "member_max_ms": round(max(latencies) * 1000, 1),
    }


# ------------------------------------------------------------------------------------- main


async def measure(node: NodeProcess, args: argparse.Namespace, password: str) -> dict[str, Any]:
    config = load_config(node.data_dir)
    admin_key = bytes(load_authority(node.data_dir, password).key)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=64),
        headers={"Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=300),
    ) as session:
        chain = Chain(node.url, config.chain_id, session)
        progress(f"deploying CityAccess and onboarding {args.members} members")
        access, keys = await setup_members(chain, admin_key, args.members)
        nonces = [0] * len(keys)
        progress(f"baseline: members alone for {args.baseline:g} s")
        baseline = await run_members(chain, access, keys, nonces, args.baseline)

        async with session.get(node.base_url + "/metrics") as reply:
            before = read_metrics(await reply.text())
        head_before = int(await chain.call("eth_blockNumber", []), 16)
        context = multiprocessing.get_context("spawn")
        stop, results = context.Event(), context.Queue()
        flood_args = {
            "connections": args.flood_connections, "batch": args.batch,
            "big_batch": args.big_batch, "gas_limit": config.gas_limit,
        }  # fmt: skip
        flooder = context.Process(
            target=flood_process, args=(node.url, flood_args, stop, results), daemon=True
        )
        progress(
            f"flood: {args.flood_connections} connections × {args.batch}-call batches"
            f"{f' + one {args.big_batch}-call batch' if args.big_batch else ''}, "
            f"members alongside for {args.duration:g} s"
        )
        flooder.start()
        await asyncio.sleep(1.0)  # let the flood fill the read slots first
        flooded = await run_members(chain, access, keys, nonces, args.duration)
        stop.set()
        flood = await asyncio.to_thread(results.get, True, 360)
        flooder.join(timeout=30)
        head_after = int(await chain.call("eth_blockNumber", []), 16)
        async with session.get(node.base_url + "/metrics") as reply:
            after = read_metrics(await reply.text())

    def delta(name: str) -> int:
        return int(after.get(name, 0) - before.get(name, 0))

    period_ms = args.block_period * 1000
    flood_summary = summary(flooded)
    goals = {
        "member_p99_ms <= 2 * block_period_ms": {
            "value": flood_summary.get("member_p99_ms"),
            "goal": 2 * period_ms,
            "met": bool(flooded) and flood_summary["member_p99_ms"] <= 2 * period_ms,
        },
        "flood reached the engine (served_reads > 0)": {
            "value": flood["served"],
            "goal": 1,
            "met": flood["served"] > 0,
        },
    }
    node_refused = {
        key.split('"')[1]: delta(key)
        for key in after
        if key.startswith("ledger_rpc_reads_refused_total")
    }
    return {
        "benchmark": "ledger_flood",
        "quick": args.quick,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        },
        "config": {
            "block_period_ms": period_ms,
            "block_gas_limit": config.gas_limit,
            "members": args.members,
            "flood_connections": args.flood_connections,
            "flood_batch": args.batch,
            "big_batch": args.big_batch,
            "flood_seconds": args.duration,
            "limits_from_env": {
                k: v for k, v in os.environ.items() if k.startswith("LEDGER_NODE_")
            },
        },
        "baseline": summary(baseline),
        "flood": {
            **flood_summary,
            "block_period_ms": period_ms,
            "blocks_sealed": head_after - head_before,
            "reads_served": flood["served"],
            "reads_refused": flood["refused"],
            "reads_other_errors": flood["other"],
            "flood_batches_answered": flood["batches"],
            "refusals_by_message": flood["refusals"],
            "node_refused_by_reason": node_refused,
            "node_heavy_reads_served": delta('ledger_rpc_reads_served_total{kind="heavy"}'),
            "node_reads_gas_capped": delta("ledger_rpc_reads_gas_capped_total"),
            "big_batch": flood["big_batch"],
        },
        "goals": goals,
        "misses": [name for name, goal in goals.items() if not goal["met"]],
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="ledger-flood-"))
    password = secrets.token_hex(16)
    node: NodeProcess | None = None
    try:
        progress(f"initialising a node in {workdir} (block period {args.block_period:g} s)")
        init_data_dir(workdir / "node", password, block_period=args.block_period)
        node = NodeProcess(workdir / "node", password).start()
        report = asyncio.run(measure(node, args, password))
    finally:
        if node is not None:
            node.stop()
        if args.keep:
            progress(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0 if not report["misses"] else 1


if __name__ == "__main__":
    sys.exit(main())
