"""The pre-signed workload of bench/ledger.py: setup transactions, LeaseMarket.book transactions,
and the timed sender / block watcher.

Everything is signed here with coincurve (legacy EIP-155 transactions, gasPrice 0), so signing
20,000 transactions takes seconds and is never part of a timed phase. The admin is the node's
authority key on both targets and both targets start from the node's genesis, so the contract
addresses, the slot ids and therefore every signed byte are the same on raw anvil and on the
node: one workload, signed once, sent twice.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import rlp
import ujson
from coincurve import PrivateKey
from eth_abi import encode
from eth_hash.auto import keccak

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "contracts"

MAX_UINT = 2**256 - 1
UNIT_SECONDS = 1800
MAX_ADVANCE_SECONDS = 30 * 86400
MAX_LEASE_UNITS = 7 * 48
EVERY_DAY_ALL_DAY = (0b1111111, 0, 48)
PERSONAL = 3
DEFAULT_PRICE_PER_UNIT = 600  # ParkingSlots.DEFAULT_PRICE_PER_UNIT
BOOK_GAS = 200_000
CALL_GAS = 1_000_000
DEPLOY_GAS = 8_000_000
ROLE_NAMES = ("TREASURY", "OPERATOR")


def progress(message: str) -> None:
    print(f"[ledger-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ signing


def selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def contract_address(sender: bytes, nonce: int) -> bytes:
    return keccak(rlp.encode([sender, nonce]))[12:]


class Signer:
    """One key: address, next nonce, and fast legacy EIP-155 signing."""

    def __init__(self, key: bytes, chain_id: int) -> None:
        self.key = PrivateKey(key)
        self.address = keccak(self.key.public_key.format(compressed=False)[1:])[12:]
        self.chain_id = chain_id
        self.nonce = 0

    def sign(self, to: bytes | None, data: bytes, gas: int, value: int = 0) -> tuple[str, str]:
        """(raw 0x-hex, tx hash 0x-hex) of the next transaction of this key; bumps the nonce."""
        fields = [self.nonce, 0, gas, to or b"", value, data]
        digest = keccak(rlp.encode([*fields, self.chain_id, 0, 0]))
        signature = self.key.sign_recoverable(digest, hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        v = self.chain_id * 2 + 35 + signature[64]
        raw = rlp.encode([*fields, v, r, s])
        self.nonce += 1
        return "0x" + raw.hex(), "0x" + keccak(raw).hex()


def _artifact(name: str) -> dict[str, Any]:
    return json.loads((BUILD / f"{name}.json").read_text())


def _deploy_data(name: str, types: list[str], args: list[Any]) -> bytes:
    bytecode = _artifact(name)["bytecode"]
    if not bytecode:
        raise SystemExit(
            f"build/contracts/{name}.json has no bytecode: compile the contracts first"
        )
    return bytes.fromhex(bytecode.removeprefix("0x")) + encode(types, args)


def _call(signature: str, types: list[str], args: list[Any]) -> bytes:
    return selector(signature) + encode(types, args)


@dataclass
class SignedTx:
    raw: str
    hash: str
    sender: bytes


@dataclass
class Workload:
    """Everything the benchmark sends, signed once for both targets."""

    chain_id: int
    admin: bytes
    addresses: dict[str, bytes]
    setup_admin: list[SignedTx]
    setup_members: list[SignedTx]
    # per connection: the book transactions in sending order (each member on one connection, its
    # nonces in order, members interleaved so a batch carries several senders)
    lanes: list[list[SignedTx]]
    members: int
    per_member: int
    first_start: int
    last_end: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def book_count(self) -> int:
        return sum(len(lane) for lane in self.lanes)


def build_workload(
    admin_key: bytes,
    chain_id: int,
    *,
    members: int,
    txs: int,
    connections: int,
    now: int,
    lead_seconds: int = 86400,
) -> Workload:
    if txs % members:
        raise SystemExit(f"--txs ({txs}) must be a multiple of --members ({members})")
    per_member = txs // members
    lead_units = -(-lead_seconds // UNIT_SECONDS)
    first_unit = -(-now // UNIT_SECONDS) + lead_units
    # Every lease must start within 30 days of the block time when it is mined.
    if (first_unit + per_member) * UNIT_SECONDS > now + MAX_ADVANCE_SECONDS - 86400:
        raise SystemExit(
            f"{per_member} bookings per member do not fit in 30 days of half-hours: use more --members"
        )
    admin = Signer(admin_key, chain_id)
    a = admin.address
    setup: list[SignedTx] = []

    def admin_tx(to: bytes | None, data: bytes, gas: int = CALL_GAS) -> None:
        raw, tx_hash = admin.sign(to, data, gas)
        setup.append(SignedTx(raw, tx_hash, a))

    # Payees of the revenue split: fixed throwaway addresses (they only receive).
    village, city, platform = (keccak(f"ledger-bench {n}".encode())[12:] for n in "vcp")
    addresses: dict[str, bytes] = {}
    addresses["access"] = contract_address(a, admin.nonce)
    admin_tx(None, _deploy_data("CityAccess", ["address"], [a]), DEPLOY_GAS)
    addresses["forwarder"] = contract_address(a, admin.nonce)
    admin_tx(None, _deploy_data("CityForwarder", [], []), DEPLOY_GAS)
    # The credit token and the split fix each other's address (as deploy_system does).
    addresses["credit"] = contract_address(a, admin.nonce)
    addresses["split"] = contract_address(a, admin.nonce + 1)
    admin_tx(
        None,
        _deploy_data(
            "CityCredit", ["address", "address"], [addresses["access"], addresses["split"]]
        ),
        DEPLOY_GAS,
    )
    admin_tx(
        None,
        _deploy_data(
            "RevenueSplit",
            ["address"] * 6,
            [
                addresses["access"],
                addresses["credit"],
                addresses["forwarder"],
                village,
                city,
                platform,
            ],
        ),
        DEPLOY_GAS,
    )
    addresses["slots"] = contract_address(a, admin.nonce)
    admin_tx(
        None,
        _deploy_data(
            "ParkingSlots", ["address", "address"], [addresses["access"], addresses["forwarder"]]
        ),
        DEPLOY_GAS,
    )
    addresses["market"] = contract_address(a, admin.nonce)
    admin_tx(
        None,
        _deploy_data(
            "LeaseMarket",
            ["address"] * 5 + ["uint256", "uint256"],
            [
                addresses["access"],
                addresses["credit"],
                addresses["slots"],
                addresses["split"],
                addresses["forwarder"],
                MAX_ADVANCE_SECONDS,
                MAX_LEASE_UNITS,
            ],
        ),
        DEPLOY_GAS,
    )
    admin_tx(
        addresses["slots"], _call("setLeaseMarket(address)", ["address"], [addresses["market"]])
    )
    admin_tx(
        addresses["split"],
        _call("setSource(address,bool)", ["address", "bool"], [addresses["market"], True]),
    )
    admin_tx(
        addresses["credit"],
        _call(
            "setPlatformContract(address,bool)", ["address", "bool"], [addresses["market"], True]
        ),
    )
    for role in ROLE_NAMES:
        admin_tx(
            addresses["access"],
            _call("grantRole(bytes32,address)", ["bytes32", "address"], [keccak(role.encode()), a]),
        )

    member_signers = [
        Signer(keccak(f"ledger-bench member {i}".encode()), chain_id) for i in range(members)
    ]
    credits = DEFAULT_PRICE_PER_UNIT * per_member * 2
    for m in member_signers:
        admin_tx(addresses["access"], _call("onboard(address)", ["address"], [m.address]))
    for m in member_signers:
        admin_tx(
            addresses["credit"],
            _call(
                "mint(address,uint256,bytes32)",
                ["address", "uint256", "bytes32"],
                [m.address, credits, b"\x00" * 32],
            ),
        )
    # One slot per member, owned by the admin (so the admin sets the windows); ids 1..members.
    for i in range(members):
        admin_tx(
            addresses["slots"],
            _call(
                "registerSlot(address,uint8,uint32,int32,int32)",
                ["address", "uint8", "uint32", "int32", "int32"],
                [a, PERSONAL, 1 + i // 50, 37_500_000, 126_780_000],
            ),
        )
    for slot_id in range(1, members + 1):
        admin_tx(
            addresses["slots"],
            _call(
                "setWindows(uint256,(uint8,uint8,uint8)[])",
                ["uint256", "(uint8,uint8,uint8)[]"],
                [slot_id, [EVERY_DAY_ALL_DAY]],
            ),
        )

    setup_members: list[SignedTx] = []
    approve = _call(
        "approve(address,uint256)", ["address", "uint256"], [addresses["market"], MAX_UINT]
    )
    for m in member_signers:
        raw, tx_hash = m.sign(addresses["credit"], approve, CALL_GAS)
        setup_members.append(SignedTx(raw, tx_hash, m.address))

    # The bookings: member i books units first_unit + k (k = 0 … per_member-1) of slot i + 1,
    # one 30-minute lease each, nonces 1 … per_member.
    book_selector = selector("book(uint256,uint64,uint64,uint256)")
    per_member_txs: list[list[SignedTx]] = []
    for i, m in enumerate(member_signers):
        own: list[SignedTx] = []
        for k in range(per_member):
            start = (first_unit + k) * UNIT_SECONDS
            data = book_selector + encode(
                ["uint256", "uint64", "uint64", "uint256"],
                [i + 1, start, start + UNIT_SECONDS, DEFAULT_PRICE_PER_UNIT],
            )
            raw, tx_hash = m.sign(addresses["market"], data, BOOK_GAS)
            own.append(SignedTx(raw, tx_hash, m.address))
        per_member_txs.append(own)
    lanes: list[list[SignedTx]] = []
    for c in range(connections):
        mine = [per_member_txs[i] for i in range(c, members, connections)]
        lanes.append([txs_of[k] for k in range(per_member) for txs_of in mine])
    return Workload(
        chain_id=chain_id,
        admin=a,
        addresses=addresses,
        setup_admin=setup,
        setup_members=setup_members,
        lanes=lanes,
        members=members,
        per_member=per_member,
        first_start=first_unit * UNIT_SECONDS,
        last_end=(first_unit + per_member) * UNIT_SECONDS,
    )


# -------------------------------------------------------------------------------------- JSON-RPC


class Rpc:
    """A small aiohttp JSON-RPC client: one session, `limit` connections."""

    def __init__(self, url: str, limit: int = 1) -> None:
        self.url = url
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, force_close=False),
            timeout=aiohttp.ClientTimeout(total=300),
        )
        self._id = 0

    async def close(self) -> None:
        await self.session.close()

    async def post(self, body: bytes) -> Any:
        async with self.session.post(
            self.url, data=body, headers={"Content-Type": "application/json"}
        ) as reply:
            return ujson.loads(await reply.read())

    async def call(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        answer = await self.post(
            ujson.dumps(
                {"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
            ).encode()
        )
        if "error" in answer:
            raise RuntimeError(f"{method} failed: {answer['error']}")
        return answer["result"]

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
        if not calls:
            return []
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        answers = await self.post(ujson.dumps(payload).encode())
        if isinstance(answers, dict):  # a whole-batch error
            raise RuntimeError(f"batch refused: {answers.get('error')}")
        by_id = {a.get("id"): a for a in answers}
        return [by_id.get(i, {"error": {"message": "no answer"}}) for i in range(len(calls))]


def send_body(txs: list[SignedTx], first_id: int = 0) -> bytes:
    return ujson.dumps(
        [
            {
                "jsonrpc": "2.0",
                "id": first_id + i,
                "method": "eth_sendRawTransaction",
                "params": [tx.raw],
            }
            for i, tx in enumerate(txs)
        ]
    ).encode()


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
            answers = await rpc.post(send_body(chunk))
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
            chunk = hashes[start : start + 500]
            replies = await rpc.batch([("eth_getTransactionReceipt", [h]) for h in chunk])
            for tx_hash, reply in zip(chunk, replies, strict=True):
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
            bodies.append((send_body(chunk), [tx.hash for tx in chunk]))
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
            chunk = blocks_used[start : start + 4]
            replies = await watcher.batch([("eth_getBlockReceipts", [hex(n)]) for n in chunk])
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
