"""citypass-api benchmark: slot search latency and rate, end-to-end bookings through the relay,
and the read model's lag behind the chain, as ONE JSON object on stdout (progress on stderr).

A real ledger node with the whole system deployed and `citypass-api serve` as a real child
process on loopback (tests/api_helpers.start_api_server). Set-up runs with instant sealing; the
node is then restarted with a 1 s block period (the ledger's default), which is what the
bookings and the indexer lag are measured under.
- search_p99_ms / search_rps: GET /v1/slots/search from CLIENTS keep-alive clients at once, each
  query a random point around the village and a random 2 h window (goals ≤ 50 ms, ≥ 500/s);
- booking_tps: EIP-712 ForwardRequests (LeaseMarket.book) signed by each resident's wallet for
  its next nonces (8 per resident), POSTed to /v1/relay/forward by one keep-alive client per
  resident (up to BOOKING_CLIENTS at once), each resident's next booking after the previous
  answer; an answer comes after the receipt, so a booking counts once it is on chain
  (goal ≥ 300/s);
- indexer_lag_ms: for every block sealed during the bookings, the time from the node's newHeads
  notification to the read model's cursor first holding it (read every 10 ms; goal ≤ 1 block
  period).

    python -m bench.api [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import requests
from eth_account import Account
from eth_account.messages import encode_typed_data
from sqlalchemy import select
from websockets.sync.client import connect as ws_connect

from bench.goals import misses
from bench.http_load import run_load
from bench.threads import BackgroundThreads
from indexer.db import make_engine
from indexer.heads import ws_url_for
from indexer.models import Cursor
from ledger_node.config import load_config, save_config
from tests.api_helpers import ApiServer, start_api_server
from tests.indexer_helpers import CENTER
from tests.oracle_helpers import Chain, restart_node, start_chain, wait_until

BLOCK_PERIOD_S = 1.0
# The follower polls four times per block period, so a block is indexed within a quarter period
# of being sealed plus the time to index it.
POLL_INTERVAL_S = BLOCK_PERIOD_S / 4
CEILINGS = {"search_p99_ms": 50, "indexer_lag_ms": 1000}
FLOORS = {"search_rps": 500, "booking_tps": 300}
CLIENTS = 8
# Bookings answer once on chain (~1 block period): at most ~BOOKING_CLIENTS/s can be in flight,
# so there are as many clients as residents (600 people booking at the same moment).
BOOKING_CLIENTS = 600
HALF_HOUR = 1800
DAY = 86_400
EVERY_DAY = 0x7F


def progress(message: str) -> None:
    print(f"[bench/api] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ----------------------------------------------------------------------------------- set-up


def seed_slots(chain: Chain, count: int) -> list[int]:
    """`count` shared spaces scattered within ~1 km of the village centre, open all day."""
    rng = random.Random(7)
    owner = chain.resident()
    slots = chain.contract("slots")
    first = slots.functions.slotCount().call() + 1
    for _ in range(count):
        lat = round((CENTER[0] + rng.uniform(-0.008, 0.008)) * 1e6)
        lon = round((CENTER[1] + rng.uniform(-0.01, 0.01)) * 1e6)
        chain.system.slots.registerSlot(
            owner.address, 0, 7, lat, lon, {"from": chain.people.operator}
        )
    ids = list(range(first, first + count))
    for slot_id in ids:
        chain.system.slots.setWindows(slot_id, [(EVERY_DAY, 0, 48)], {"from": owner})
    return ids


def switch_to_block_period(chain: Chain, period: float) -> None:
    chain.node.stop()
    config = load_config(chain.node.data_dir)
    save_config(chain.node.data_dir, dataclasses.replace(config, block_period=period))
    restart_node(chain)


# ----------------------------------------------------------------------------------- search


def measure_search(api: ApiServer, count: int, day: int) -> dict[str, float]:
    """Closed loop from CLIENTS keep-alive connections of bench/http_load.py (its own
    process, so the client's Python runs on the other core): the rate and the latencies are
    measured at the same load."""
    rng = random.Random(11)
    queries = []
    for _ in range(count):
        start = day + rng.randrange(0, 44) * HALF_HOUR
        query = {
            "lat": CENTER[0] + rng.uniform(-0.005, 0.005),
            "lon": CENTER[1] + rng.uniform(-0.005, 0.005),
            "radius_m": rng.choice([300, 500, 1000]),
            "start": start,
            "end": start + 4 * HALF_HOUR,
        }
        queries.append(("GET", "/v1/slots/search?" + urlencode(query), None))
    # The warm-up opens the connections and builds the search index before the clock starts.
    result = run_load(api.url, queries, CLIENTS, warmup=queries[: CLIENTS * 5])
    failed = [o for o in result.outcomes if o.status != 200]
    if failed:
        raise RuntimeError(f"{len(failed)} searches failed, e.g. {failed[0]}")
    latencies = result.latencies()
    found = [len(json.loads(o.body)["slots"]) for o in result.outcomes]
    return {
        "search_p50_ms": round(statistics.median(latencies) * 1000, 2),
        "search_p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "search_rps": round(result.rate, 1),
        "search_requests": len(queries),
        "search_mean_results": round(statistics.mean(found), 1),
    }


# ---------------------------------------------------------------------------------- booking


def signed_bookings(
    chain: Chain,
    api: ApiServer,
    slots: list[int],
    residents: list[Any],
    day: int,
    per_resident: int,
) -> list[list[dict[str, Any]]]:
    """`per_resident` bookings for each resident (forwarder nonces 0, 1, …), each on its own
    (slot, half-hour), signed as a wallet would: the typed data is served by the API once per
    resident, then the wallet signs each booking with its next nonce."""
    market = chain.system.market.address
    encoder = chain.contract("market")
    session = requests.Session()
    everyone = []
    index = 0
    for resident in residents:
        typed = None
        mine = []
        for nonce in range(per_resident):
            slot = slots[index % len(slots)]
            start = day + (index // len(slots)) * HALF_HOUR
            index += 1
            data = encoder.encode_abi("book", args=[slot, start, start + HALF_HOUR, 10**9])
            if typed is None:
                typed = session.get(
                    api.url + "/v1/typed-data/forward-request",
                    params={"from": resident.address, "to": market, "data": data},
                    timeout=30,
                ).json()
            message = {**typed["message"], "data": data, "nonce": nonce}
            signed = Account.sign_message(
                encode_typed_data(full_message={**typed, "message": message}), resident.key
            )
            mine.append(
                {
                    "from": message["from"],
                    "to": message["to"],
                    "value": message["value"],
                    "gas": message["gas"],
                    "deadline": message["deadline"],
                    "data": data,
                    "signature": "0x" + signed.signature.hex().removeprefix("0x"),
                    "chainId": typed["domain"]["chainId"],
                    "verifyingContract": typed["domain"]["verifyingContract"],
                }  # fmt: skip
            )
        everyone.append(mine)
    return everyone


class BlockWatch(BackgroundThreads):
    """When each block was sealed (the node's newHeads notification over its WebSocket) and when
    the read model first had it (its cursor, read straight from the database every 10 ms — not
    through the API, so measuring puts no load on the process under test)."""

    def __init__(self, chain: Chain, api: ApiServer) -> None:
        super().__init__(self._heads, self._cursor)
        self.head_seen: dict[int, float] = {}
        self.indexed_seen: dict[int, float] = {}
        self.ws_url = ws_url_for(chain.node.url)
        self._engine = make_engine(api.db_url)

    def _heads(self) -> None:
        with ws_connect(self.ws_url, proxy=None, compression=None, max_size=None) as socket:
            socket.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe",
                                    "params": ["newHeads"]}))  # fmt: skip
            socket.recv(timeout=10)
            while not self.stopping.is_set():
                try:
                    message = json.loads(socket.recv(timeout=0.1))
                except TimeoutError:
                    continue
                now = time.perf_counter()
                number = int(message["params"]["result"]["number"], 16)
                self.head_seen.setdefault(number, now)

    def _cursor(self) -> None:
        last = None
        with self._engine.connect() as connection:
            while not self.stopping.is_set():
                number = connection.execute(select(Cursor.block_number)).scalar()
                connection.rollback()  # a fresh snapshot for the next read
                now = time.perf_counter()
                if number is not None and number >= 0:
                    start = number if last is None else last + 1
                    for block in range(start, number + 1):
                        self.indexed_seen.setdefault(block, now)
                    last = number if last is None else max(last, number)
                self.stopping.wait(0.01)

    def stopped(self) -> None:
        self._engine.dispose()

    def lags(self, first_block: int) -> list[float]:
        return [
            self.indexed_seen[block] - seen
            for block, seen in self.head_seen.items()
            if block > first_block and block in self.indexed_seen
        ]


def measure_bookings(chain: Chain, api: ApiServer, residents: list[list[dict[str, Any]]]) -> dict:
    """BOOKING_CLIENTS keep-alive clients; each takes the next resident and sends its bookings
    one after another (a wallet's next nonce is only valid once the previous one is on chain)."""
    latencies: list[float] = []
    failures: list[str] = []

    async def drive() -> float:
        todo = list(reversed(residents))
        connector = aiohttp.TCPConnector(limit=BOOKING_CLIENTS)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def client() -> None:
                while todo:
                    for body in todo.pop():
                        began = time.perf_counter()
                        async with session.post(api.url + "/v1/relay/forward", json=body) as reply:
                            text = await reply.text()
                        latencies.append(time.perf_counter() - began)
                        if reply.status != 200 or '"success":true' not in text:
                            failures.append(f"{reply.status} {text[:300]}")
                            break  # this resident's later nonces cannot pass now

            began = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(BOOKING_CLIENTS)))
            return time.perf_counter() - began

    first_block = chain.w3.eth.block_number
    with BlockWatch(chain, api) as watch:
        wall = asyncio.run(drive())
        last_block = chain.w3.eth.block_number
        wait_until(lambda: watch.indexed_seen.get(last_block) is not None, timeout=60)
    if failures:
        raise RuntimeError(f"{len(failures)} bookings failed, e.g. {failures[:3]}")
    lags = watch.lags(first_block)
    blocks = last_block - first_block
    return {
        "booking_tps": round(len(latencies) / wall, 1),
        "bookings": len(latencies),
        "booking_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "booking_p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "booking_blocks": blocks,
        "indexer_lag_ms": round(percentile(lags, 0.99) * 1000, 1) if lags else None,
        "indexer_lag_p50_ms": round(statistics.median(lags) * 1000, 1) if lags else None,
        "indexer_lag_blocks_measured": len(lags),
    }


# ------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, faster smoke run")
    args = parser.parse_args()
    slot_count, residents_count, per_resident, searches = (
        (40, 80, 3, 400) if args.quick else (280, 600, 8, 3000)
    )
    with tempfile.TemporaryDirectory(prefix="citypass-bench-api-") as tmp:
        base = Path(tmp)
        progress("starting a ledger node and deploying the system (instant sealing)")
        chain = start_chain(base / "chain")
        api = None
        try:
            progress(f"seeding {slot_count} slots and {residents_count} residents")
            slots = seed_slots(chain, slot_count)
            residents = [chain.resident() for _ in range(residents_count)]
            # Tomorrow (KST days start at 15:00 UTC; any half-hour is fine for all-day windows).
            day = (chain.head_time() // DAY + 2) * DAY
            progress(f"restarting the node with a {BLOCK_PERIOD_S:g} s block period")
            switch_to_block_period(chain, BLOCK_PERIOD_S)
            _, api = start_api_server(
                chain, base, CITYPASS_API_POLL_INTERVAL=str(POLL_INTERVAL_S),
                CITYPASS_API_IP_RATE="100000", CITYPASS_API_IP_BURST="100000",
                CITYPASS_API_SIGNER_RATE="10", CITYPASS_API_SIGNER_BURST="10",
            )  # fmt: skip
            progress(f"search: {searches} queries from {CLIENTS} clients")
            result: dict[str, Any] = measure_search(api, searches, day)
            progress(f"signing {residents_count} × {per_resident} bookings from served typed data")
            bodies = signed_bookings(chain, api, slots, residents, day, per_resident)
            progress(
                f"booking: {residents_count * per_resident} relayed bookings from "
                f"{BOOKING_CLIENTS} clients"
            )
            result.update(measure_bookings(chain, api, bodies))
        finally:
            if api is not None:
                api.stop()
            chain.node.stop()
    result.update(
        quick=args.quick,
        block_period_s=BLOCK_PERIOD_S,
        indexer_poll_interval_s=POLL_INTERVAL_S,
        search_clients=CLIENTS,
        booking_clients=BOOKING_CLIENTS,
        goals={**CEILINGS, **FLOORS},
        misses=misses(result, ceilings=CEILINGS, floors=FLOORS),
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
