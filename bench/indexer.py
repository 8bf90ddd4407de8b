"""Indexer benchmark: backfill throughput and follow lag of the read model, as ONE JSON object on
stdout (progress on stderr).

A real ledger node with the whole system deployed (tests/oracle_helpers.start_chain). Set-up
(slots, residents) runs with instant sealing; the node is then restarted with a 1 s block
period and `citypass-api serve` starts over it (tests/api_helpers.start_api_server) with its
follower in the chosen --follow-mode.
- indexer_lag_ms (p99) / indexer_lag_p50_ms: LeaseMarket.book transactions, pre-signed, are sent
  as raw transactions at RATE per second (in batches every SEND_TICK_S); for every block sealed
  meanwhile, the time from a 10 ms poller first seeing it as the node's head to /health first
  reporting it indexed (goal ≤ 500 ms, the same measure and goal as bench/api.py), while
  --api-load clients keep the API busy with slot searches;
- backfill_*: afterwards a fresh in-process Indexer backfills the whole chain into a new SQLite
  file (blocks/s, logs/s, events/s), so the blocks full of bookings are indexed in bulk.

    python -m bench.indexer [--quick] [--follow-mode thread|process] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from eth_abi import encode
from eth_utils import to_bytes

from bench.api import BlockWatch, percentile, seed_slots, switch_to_block_period
from bench.goals import print_with_goals
from bench.signing import Sender, selector
from bench.threads import BackgroundThreads
from indexer import Deployment, Indexer
from tests.api_helpers import start_api_server
from tests.indexer_helpers import CENTER
from tests.oracle_helpers import Chain, start_chain, wait_until

BLOCK_PERIOD_S = 1.0
# Issue 17: the same ceiling as bench/api.py's indexer lag.
GOALS = {"indexer_lag_ms": 500}
SEND_TICK_S = 0.1
BOOK_GAS = 400_000
HALF_HOUR = 1800
DAY = 86_400
BOOK = selector("book(uint256,uint64,uint64,uint256)")


def progress(message: str) -> None:
    print(f"[bench/indexer {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def signed_bookings(
    chain: Chain, slots: list[int], residents: list[Any], count: int, day: int
) -> list[str]:
    """`count` raw book transactions, each on its own (slot, half-hour), residents taking turns
    so that every sender's nonces go out in order."""
    market = to_bytes(hexstr=chain.system.market.address)
    signers = []
    for resident in residents:
        signer = Sender(bytes(resident.key), chain.chain_id)
        signer.nonce = chain.w3.eth.get_transaction_count(resident.address, "pending")
        signers.append(signer)
    raws = []
    for index in range(count):
        slot = slots[index % len(slots)]
        start = day + (index // len(slots)) * HALF_HOUR
        data = BOOK + encode(
            ["uint256", "uint64", "uint64", "uint256"], [slot, start, start + HALF_HOUR, 10**9]
        )
        raws.append(signers[index % len(signers)].sign(market, data, BOOK_GAS).raw)
    return raws


def send_at_rate(rpc_url: str, raws: list[str], rate: float) -> dict[str, Any]:
    """Send `raws` in one batch per SEND_TICK_S so that `rate` transactions go out per second."""
    session = requests.Session()
    per_tick = max(1, round(rate * SEND_TICK_S))
    errors: list[Any] = []
    began = time.perf_counter()
    for tick, offset in enumerate(range(0, len(raws), per_tick)):
        delay = began + tick * SEND_TICK_S - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        chunk = raws[offset : offset + per_tick]
        body = [
            {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
            for i, raw in enumerate(chunk)
        ]
        answers = session.post(rpc_url, json=body, timeout=60).json()
        errors.extend(a["error"] for a in answers if "error" in a)
    seconds = time.perf_counter() - began
    return {
        "sent": len(raws),
        "send_seconds": round(seconds, 2),
        "send_rate": round(len(raws) / seconds, 1),
        "send_errors": len(errors),
        "send_error_examples": errors[:2],
    }


class SearchLoad(BackgroundThreads):
    """`clients` threads querying /v1/slots/search back to back: the API busy serving, as it
    is while relaying bookings, so a follower thread has to share the interpreter with it."""

    def __init__(self, api_url: str, clients: int, day: int) -> None:
        super().__init__(*(functools.partial(self._run, seed) for seed in range(clients)))
        self.api_url, self.day = api_url, day
        self.requests = 0

    def _run(self, seed: int) -> None:
        rng = random.Random(seed)
        session = requests.Session()
        while not self.stopping.is_set():
            start = self.day + rng.randrange(0, 44) * HALF_HOUR
            params = {
                "lat": CENTER[0] + rng.uniform(-0.005, 0.005),
                "lon": CENTER[1] + rng.uniform(-0.005, 0.005),
                "radius_m": 1000, "start": start, "end": start + 4 * HALF_HOUR,
            }  # fmt: skip
            try:
                session.get(self.api_url + "/v1/slots/search", params=params, timeout=30)
                self.requests += 1
            except requests.RequestException:
                pass


def measure_follow(
    chain: Chain, base: Path, raws: list[str], rate: float, follow_mode: str, load: int, day: int
) -> tuple[dict[str, Any], Path]:
    _deployment, api = start_api_server(
        chain, base, CITYPASS_API_FOLLOW_MODE=follow_mode,
        CITYPASS_API_POLL_INTERVAL=str(BLOCK_PERIOD_S / 4),
        CITYPASS_API_IP_RATE="100000", CITYPASS_API_IP_BURST="100000",
    )  # fmt: skip
    try:
        first_block = chain.w3.eth.block_number
        with BlockWatch(chain, api) as watch, SearchLoad(api.url, load, day) as searches:
            sent = send_at_rate(chain.node.url, raws, rate)
            # The last bookings are sealed in the next block or two.
            time.sleep(2 * BLOCK_PERIOD_S)
            last_block = chain.w3.eth.block_number
            wait_until(lambda: watch.indexed_seen.get(last_block) is not None, timeout=120)
        lags = watch.lags(first_block)
        health = requests.get(api.url + "/health", timeout=5).json()
    finally:
        api.stop()
    result = {
        **sent,
        "follow_mode": follow_mode,
        "follow_blocks": last_block - first_block,
        "indexer_lag_ms": round(percentile(lags, 0.99) * 1000, 1) if lags else None,
        "indexer_lag_p50_ms": round(statistics.median(lags) * 1000, 1) if lags else None,
        "indexer_lag_max_ms": round(max(lags) * 1000, 1) if lags else None,
        "indexer_lag_blocks_measured": len(lags),
        "follower": health.get("follower"),
        "api_search_clients": load,
        "api_searches_during_follow": searches.requests,
    }
    return result, _deployment


def measure_backfill(chain: Chain, base: Path, deployment: Path, profile: bool) -> dict[str, Any]:
    indexer = Indexer(
        f"sqlite:///{base / 'backfill.db'}", chain.node.url, Deployment.load(deployment)
    )
    profiler = cProfile.Profile() if profile else None
    try:
        if profiler:
            profiler.enable()
        stats = indexer.backfill()
        if profiler:
            profiler.disable()
    finally:
        indexer.close()
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
        print(text.getvalue(), file=sys.stderr)
    seconds = stats.seconds or 1e-9
    return {
        "backfill_blocks": stats.blocks,
        "backfill_logs": stats.logs,
        "backfill_events": stats.events,
        "backfill_seconds": round(stats.seconds, 2),
        "backfill_blocks_per_s": round(stats.blocks / seconds, 1),
        "backfill_logs_per_s": round(stats.logs / seconds, 1),
        "backfill_events_per_s": round(stats.events / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, faster smoke run")
    parser.add_argument("--follow-mode", choices=("thread", "process"), default="process")
    parser.add_argument("--rate", type=float, default=300.0, help="bookings sent per second")
    parser.add_argument(
        "--api-load", type=int, default=4, help="search clients keeping the API busy meanwhile"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the backfill (stderr)")
    args = parser.parse_args()
    slot_count, resident_count, seconds = (20, 10, 8) if args.quick else (60, 30, 30)
    bookings = int(args.rate * seconds)
    with tempfile.TemporaryDirectory(prefix="citypass-bench-indexer-") as tmp:
        base = Path(tmp)
        progress("starting a ledger node and deploying the system (instant sealing)")
        chain = start_chain(base / "chain")
        try:
            progress(f"seeding {slot_count} slots and {resident_count} residents")
            slots = seed_slots(chain, slot_count)
            residents = [chain.resident(credit=10**9) for _ in range(resident_count)]
            day = (chain.head_time() // DAY + 2) * DAY
            progress(f"signing {bookings} bookings")
            raws = signed_bookings(chain, slots, residents, bookings, day)
            progress(f"restarting the node with a {BLOCK_PERIOD_S:g} s block period")
            switch_to_block_period(chain, BLOCK_PERIOD_S)
            progress(f"follow: {bookings} bookings at {args.rate:g}/s, mode {args.follow_mode}")
            result, deployment = measure_follow(
                chain, base, raws, args.rate, args.follow_mode, args.api_load, day
            )
            progress("backfill: the whole chain into a fresh SQLite read model")
            result.update(measure_backfill(chain, base, deployment, args.profile))
        finally:
            chain.node.stop()
    result.update(
        quick=args.quick,
        rate=args.rate,
        block_period_s=BLOCK_PERIOD_S,
    )
    print_with_goals(result, ceilings=GOALS)


if __name__ == "__main__":
    main()
