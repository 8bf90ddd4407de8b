"""Sending bench/ledger.py's workload: the setup (in order, until every receipt is in) and
the timed phase (lanes of batches over parallel connections, a block watcher, receipts)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from bench._ledger_workload import Workload
from bench.rpc import Rpc, send_raw_body
from bench.runner import progress_printer
from bench.signing import SignedTx

progress = progress_printer("ledger-bench")

PERMISSION_RETRIES = 40
PERMISSION_RETRY_SECONDS = 0.25


async def send_and_confirm(
    rpc: Rpc, txs: list[SignedTx], *, batch: int, label: str, timeout: float = 300.0
) -> int:
    """Setup: send in batches (in order), then wait until every tx has a successful receipt.

    A batch refused only with "not permitted" is sent again a little later (the node answers
    already-accepted ones idempotently): ledger-node refuses members for a moment after the
    block that deployed CityAccess or onboarded them is already visible. Returns how many
    times that happened."""
    retries = 0
    for start in range(0, len(txs), batch):
        chunk = txs[start : start + batch]
        for attempt in range(PERMISSION_RETRIES + 1):
            answers = await rpc.post(send_raw_body([tx.raw for tx in chunk]))
            errors = [a["error"] for a in answers if "error" in a]
            if not errors:
                if attempt:
                    progress(
                        f"{label}: a batch refused as 'not permitted' was accepted on try {attempt + 1}"
                    )
                break
            if not all("not permitted" in str(e.get("message", "")) for e in errors):
                raise RuntimeError(
                    f"{label}: {len(errors)} transactions refused, e.g. {errors[:2]}"
                )
            retries += 1
            await asyncio.sleep(PERMISSION_RETRY_SECONDS)
        else:
            raise RuntimeError(f"{label}: {len(errors)} transactions refused, e.g. {errors[:2]}")
    waiting = {tx.hash for tx in txs}
    deadline = time.monotonic() + timeout
    while waiting:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{label}: {len(waiting)} transactions without a receipt after {timeout:.0f} s"
            )
        hashes = list(waiting)
        for start in range(0, len(hashes), 500):
            some = hashes[start : start + 500]
            replies = await rpc.batch([("eth_getTransactionReceipt", [h]) for h in some])
            for tx_hash, reply in zip(some, replies, strict=True):
                receipt = reply.get("result")
                if receipt is None:
                    continue
                if int(receipt["status"], 16) != 1:
                    raise RuntimeError(f"{label}: transaction {tx_hash} reverted")
                waiting.discard(tx_hash)
        if waiting:
            await asyncio.sleep(0.1)
    progress(f"{label}: {len(txs)} transactions confirmed")
    return retries


# ------------------------------------------------------------------------------- timed workload


@dataclass
class RunResult:
    txs: int
    tps: float
    duration_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    send_errors: int
    send_error_examples: list[Any]
    missing: int
    failed: int
    blocks: int
    largest_block: int
    first_block: int
    last_block: int
    send_seconds: float
    submit_rtt_p50_ms: float
    submit_rtt_p99_ms: float
    block_sizes: list[int]
    block_seen_ms: list[float]  # when the watcher saw each block, from the first send
    cpu: dict[str, float] | None = None  # CPU seconds over the timed phase (not the receipt check)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def run_workload(
    url: str,
    workload: Workload,
    *,
    batch: int,
    poll_interval: float = 0.02,
    stall_timeout: float = 120.0,
    meter: Any = None,
) -> RunResult:
    """Send every lane's batches over its own connection (one batch in flight per connection),
    watch new blocks for the transaction hashes, then check every receipt."""
    wanted: dict[str, float] = {}  # tx hash -> batch send time
    lane_bodies: list[list[tuple[bytes, list[str]]]] = []
    for lane in workload.lanes:
        bodies = []
        for start in range(0, len(lane), batch):
            chunk = lane[start : start + batch]
            bodies.append((send_raw_body([tx.raw for tx in chunk]), [tx.hash for tx in chunk]))
        lane_bodies.append(bodies)
    total = workload.book_count
    ours_all = {tx.hash for lane in workload.lanes for tx in lane}
    included: dict[str, float] = {}
    tx_block: dict[str, int] = {}
    send_errors: list[Any] = []
    submit_rtts: list[float] = []
    clients = [Rpc(url, limit=1) for _ in lane_bodies]
    watcher = Rpc(url, limit=1)
    start_block = int(await watcher.call("eth_blockNumber", []), 16)
    done_sending = asyncio.Event()
    block_sizes: dict[int, int] = {}
    block_seen: dict[int, float] = {}

    async def lane_sender(client: Rpc, bodies: list[tuple[bytes, list[str]]]) -> None:
        for body, hashes in bodies:
            sent = time.perf_counter()
            for h in hashes:
                wanted[h] = sent
            answers = await client.post(body)
            submit_rtts.append(time.perf_counter() - sent)
            for answer in answers:
                if "error" in answer:
                    send_errors.append(answer["error"])

    async def watch() -> None:
        last = start_block
        last_progress = time.perf_counter()
        while len(included) < total:
            head = int(await watcher.call("eth_blockNumber", []), 16)
            if head > last:
                blocks = await watcher.batch(
                    [("eth_getBlockByNumber", [hex(n), False]) for n in range(last + 1, head + 1)]
                )
                seen = time.perf_counter()
                for n, reply in zip(range(last + 1, head + 1), blocks, strict=True):
                    block = reply.get("result") or {}
                    hashes = block.get("transactions", [])
                    block_sizes[n] = len(hashes)
                    block_seen[n] = seen
                    for h in hashes:
                        if h in ours_all and h not in included:
                            included[h] = seen
                            tx_block[h] = n
                last = head
                last_progress = seen
            elif done_sending.is_set() and time.perf_counter() - last_progress > stall_timeout:
                progress(
                    f"no new block for {stall_timeout:.0f} s; giving up on the missing transactions"
                )
                return
            await asyncio.sleep(poll_interval)

    if meter is not None:
        meter.start()
    watcher_task = asyncio.create_task(watch())
    first_send = time.perf_counter()
    try:
        await asyncio.gather(
            *(lane_sender(c, b) for c, b in zip(clients, lane_bodies, strict=True))
        )
        send_seconds = time.perf_counter() - first_send
        done_sending.set()
        await watcher_task
        cpu = meter.stop(time.perf_counter() - first_send) if meter is not None else None
    finally:
        if not watcher_task.done():
            watcher_task.cancel()
        for client in clients:
            await client.close()
    ours = [h for h in wanted if h in included]
    latencies = [(included[h] - wanted[h]) * 1000 for h in ours]
    last_receipt = max((included[h] for h in ours), default=first_send)
    duration = last_receipt - first_send
    # Receipts (not timed): every booking must have status 1.
    blocks_used = sorted({tx_block[h] for h in ours})
    failed = 0
    try:
        for start in range(0, len(blocks_used), 4):
            numbers = blocks_used[start : start + 4]
            replies = await watcher.batch([("eth_getBlockReceipts", [hex(n)]) for n in numbers])
            for reply in replies:
                for receipt in reply.get("result") or []:
                    if receipt["transactionHash"] in wanted and int(receipt["status"], 16) != 1:
                        failed += 1
    finally:
        await watcher.close()
    ours_blocks = [block_sizes[n] for n in blocks_used]
    return RunResult(
        txs=len(ours),
        tps=len(ours) / duration if duration > 0 else 0.0,
        duration_s=duration,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        max_ms=max(latencies, default=float("nan")),
        send_errors=len(send_errors),
        send_error_examples=send_errors[:3],
        missing=total - len(ours),
        failed=failed,
        blocks=len(blocks_used),
        largest_block=max(ours_blocks, default=0),
        first_block=blocks_used[0] if blocks_used else 0,
        last_block=blocks_used[-1] if blocks_used else 0,
        send_seconds=send_seconds,
        submit_rtt_p50_ms=_percentile([r * 1000 for r in submit_rtts], 0.50),
        submit_rtt_p99_ms=_percentile([r * 1000 for r in submit_rtts], 0.99),
        block_sizes=ours_blocks,
        block_seen_ms=[round((block_seen[n] - first_send) * 1000) for n in blocks_used],
        cpu=cpu,
    )
