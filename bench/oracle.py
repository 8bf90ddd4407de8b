"""Oracle daemon benchmark: ingest throughput, end-to-end latency and report gas, as ONE JSON
object on stdout (progress on stderr).

Runs a real ledger node (instant sealing) with the whole system deployed, and the daemon as a
real child process on loopback, like tests/test_oracle_*.py (it reuses tests/oracle_helpers.py):
- ingest_eps: pre-signed events from many devices, batches of 500 over HTTP, verified and
  durably accepted per second (goal ≥ 2,000);
- e2e_p99_ms: at 500 events/s offered for a bounded time, each event's send time to the moment
  a poller first sees, on chain, the report that carries its slot's new state (goal ≤ 2 report
  periods + 500 ms; the period used is in `block_period_s`);
- report_gas / gas_per_slot_change: the receipt of a report that flips all 256 slots of one warm
  word, sent by the daemon (goal ≤ 1,000 gas per slot change).

    python -m bench.oracle [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from bench.goals import misses
from tests.oracle_helpers import OracleProcess, start_chain, wait_until

BLOCK_PERIOD_S = 1.0
FLOORS = {"ingest_eps": 2_000}
CEILINGS = {"gas_per_slot_change": 1_000}
DEVICES = 50
SLOTS_PER_DEVICE = 100  # slots 1..5000: at 500 events/s each slot changes at most every 10 s
GAS_WORD = 20  # slots 5120..5375, a word of their own


def progress(message: str) -> None:
    print(f"[bench/oracle] {message}", file=sys.stderr, flush=True)


def settled(daemon: OracleProcess) -> bool:
    health = daemon.health()
    return health["inboxDepth"] == 0 and health["pendingReports"] == 0


def measure_ingest(daemon: OracleProcess, devices: list, count: int, now_ms: int) -> float:
    """Pre-sign `count` heartbeats round-robin over the devices, then post them in batches of
    500 from two clients, each owning half of the devices (so per-device order holds)."""
    per_device = count // len(devices)
    halves = [devices[0::2], devices[1::2]]
    batches: list[list[list[dict[str, Any]]]] = [[], []]
    for h, group in enumerate(halves):
        wires = []
        for k in range(per_device):
            for device in group:
                slot = device.first_slot + k % SLOTS_PER_DEVICE
                wires.append(
                    device.key.event("scheduled_report", slot, now_ms, occupied=False).to_wire()
                )
        batches[h] = [wires[i : i + 500] for i in range(0, len(wires), 500)]
    total = sum(len(b) for half in batches for b in half)
    progress(f"ingest: {total} pre-signed events")
    session_of = threading.local()

    def post_all(half: list[list[dict[str, Any]]]) -> int:
        session = getattr(session_of, "s", None) or requests.Session()
        session_of.s = session
        accepted = 0
        for batch in half:
            reply = session.post(daemon.url + "/v1/events", json={"events": batch}, timeout=120)
            reply.raise_for_status()
            body = reply.json()
            if body["rejected"]:
                raise RuntimeError(f"ingest rejected events: {body['rejected'][:2]}")
            accepted += len(body["accepted"])
        return accepted

    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        accepted = sum(pool.map(post_all, batches))
    elapsed = time.perf_counter() - started
    assert accepted == total
    return accepted / elapsed


class ReportWatcher(threading.Thread):
    """Polls the chain for OccupancyReported and notes, per report, the wall time it was first
    seen and the slot states its calldata carries."""

    def __init__(self, chain: Any) -> None:
        super().__init__(daemon=True)
        self.chain = chain
        self.oracle = chain.contract("occupancy")
        self.seen: list[tuple[float, dict[int, bool]]] = []
        self.stop = threading.Event()
        self.from_block = chain.w3.eth.block_number + 1

    def run(self) -> None:
        from citypass.protocol.occupancy_report import OccupancyReport

        w3 = self.chain.w3
        while not self.stop.is_set():
            head = w3.eth.block_number
            if head >= self.from_block:
                logs = self.oracle.events.OccupancyReported().get_logs(
                    from_block=self.from_block, to_block=head
                )
                now = time.time()
                for entry in logs:
                    tx = w3.eth.get_transaction(entry["transactionHash"])
                    _, args = self.oracle.decode_function_input(tx["input"])
                    r = args["report"]
                    report = OccupancyReport(
                        r["sequence"], r["observedAt"], tuple(r["wordIndexes"]),
                        tuple(r["masks"]), tuple(r["values"]),
                    )  # fmt: skip
                    self.seen.append((now, report.slot_states()))
                self.from_block = head + 1
            time.sleep(0.02)


def measure_e2e(chain: Any, daemon: OracleProcess, devices: list, seconds: float) -> dict:
    """500 events/s, each flipping a distinct slot; latency = send → first seen on chain."""
    watcher = ReportWatcher(chain)
    watcher.start()
    sent: list[tuple[float, int, bool]] = []
    state: dict[int, bool] = {}
    session = requests.Session()
    slots = [(d, d.first_slot + i) for i in range(SLOTS_PER_DEVICE) for d in devices]
    cursor = 0
    tick = 0.1  # 50 events every 100 ms
    started = time.time()
    next_at = started
    while time.time() - started < seconds:
        batch, meta = [], []
        for _ in range(50):
            device, slot = slots[cursor % len(slots)]
            cursor += 1
            occupied = not state.get(slot, False)
            state[slot] = occupied
            event = device.key.event(
                "park_start" if occupied else "park_end", slot, int(time.time() * 1000)
            )
            batch.append(event.to_wire())
            meta.append((slot, occupied))
        at = time.time()
        reply = session.post(daemon.url + "/v1/events", json={"events": batch}, timeout=30)
        body = reply.json()
        if body["rejected"]:
            raise RuntimeError(f"e2e events rejected: {body['rejected'][:2]}")
        sent.extend((at, slot, occupied) for slot, occupied in meta)
        next_at += tick
        time.sleep(max(0.0, next_at - time.time()))
    offered = len(sent) / (time.time() - started)
    wait_until(lambda: settled(daemon), timeout=120, interval=0.1)
    time.sleep(0.5)
    watcher.stop.set()
    watcher.join()
    latencies = []
    missing = 0
    for at, slot, occupied in sent:
        landed = next(
            (t for t, states in watcher.seen if t >= at and states.get(slot) == occupied), None
        )
        if landed is None:
            missing += 1
        else:
            latencies.append((landed - at) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None
    return {
        "e2e_p99_ms": round(p99, 1) if p99 is not None else None,
        "e2e_p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
        "e2e_events": len(sent),
        "e2e_offered_eps": round(offered, 1),
        "e2e_not_seen": missing,
        "reports_seen": len(watcher.seen),
    }


def measure_gas(chain: Any, daemon: OracleProcess, device: Any) -> dict:
    """Warm the word (all 256 occupied), then flip all 256 free; that report's receipt."""
    slots = [(GAS_WORD << 8) | b for b in range(256)]
    oracle = chain.contract("occupancy")
    for occupied in (True, False):
        now = int(time.time() * 1000)
        events = [
            device.event("park_start" if occupied else "park_end", s, now).to_wire() for s in slots
        ]
        body = requests.post(daemon.url + "/v1/events", json={"events": events}, timeout=60).json()
        if len(body["accepted"]) != 256:
            raise RuntimeError(f"gas events not accepted: {body['rejected'][:2]}")
        wait_until(lambda: settled(daemon), timeout=60, interval=0.1)
    logs = oracle.events.OccupancyReported().get_logs(from_block=0, to_block="latest")
    flips = [e for e in logs if e["args"]["changed"] == 256]
    if not flips:
        raise RuntimeError("no report flipped 256 slots (they were split across reports)")
    receipt = chain.w3.eth.get_transaction_receipt(flips[-1]["transactionHash"])
    gas = int(receipt["gasUsed"])
    return {"report_gas": gas, "gas_per_slot_change": gas // 256}


class BenchDevice:
    def __init__(self, key: Any, first_slot: int) -> None:
        self.key = key
        self.first_slot = first_slot


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about a minute")
    options = parser.parse_args()
    ingest_events = 10_000 if options.quick else 40_000
    e2e_seconds = 10.0 if options.quick else 30.0
    result: dict[str, Any] = {"quick": options.quick, "block_period_s": BLOCK_PERIOD_S}
    errors: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-oracle-") as tmp:
        base = Path(tmp)
        progress("starting a ledger node and deploying")
        chain = start_chain(base)
        daemon = None
        try:
            devices = []
            for d in range(DEVICES):
                first = 1 + d * SLOTS_PER_DEVICE
                key = chain.register_device(
                    "magnetometer", list(range(first, first + SLOTS_PER_DEVICE))
                )
                devices.append(BenchDevice(key, first))
            gas_device = chain.register_device(
                "magnetometer", [(GAS_WORD << 8) | b for b in range(256)]
            )
            daemon = OracleProcess(
                chain,
                base / "oracle",
                env={
                    "CITYPASS_ORACLE_REPORT_INTERVAL": str(BLOCK_PERIOD_S),
                    "CITYPASS_ORACLE_LOG_LEVEL": "WARNING",
                },
            )
            daemon.start()
            wait_until(lambda: daemon.health()["devices"] >= DEVICES + 1, timeout=30)
            progress("measuring ingest")
            try:
                now_ms = int(time.time() * 1000)
                result["ingest_eps"] = round(
                    measure_ingest(daemon, devices, ingest_events, now_ms), 1
                )
            except Exception as exc:  # noqa: BLE001 - reported in the JSON
                errors.append(f"ingest: {exc}")
            wait_until(lambda: settled(daemon), timeout=300, interval=0.2)
            progress(f"measuring end-to-end latency for {e2e_seconds:.0f} s at 500 events/s")
            try:
                result.update(measure_e2e(chain, daemon, devices, e2e_seconds))
            except Exception as exc:  # noqa: BLE001
                errors.append(f"e2e: {exc}")
            progress("measuring report gas")
            try:
                result.update(measure_gas(chain, daemon, gas_device))
            except Exception as exc:  # noqa: BLE001
                errors.append(f"gas: {exc}")
        finally:
            if daemon is not None:
                daemon.stop()
            chain.node.stop()
    e2e_goal = 2 * BLOCK_PERIOD_S * 1000 + 500
    ceilings = {**CEILINGS, "e2e_p99_ms": e2e_goal}
    result["goals"] = {**FLOORS, **ceilings}
    result["misses"] = misses(result, ceilings=ceilings, floors=FLOORS)
    result["errors"] = errors
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
