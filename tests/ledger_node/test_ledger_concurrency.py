"""Concurrent batches on the accept path, and replay's ordered sends (issue 17).

Batches are accepted concurrently (their engine hand-offs overlap under the shared side of the
seal lock), and replay pipelines a block's transactions on one connection. These tests hold the
node's guarantees under that: every acknowledged transaction is mined once, each sender's
transactions keep their nonce order, and a restart (SIGTERM or kill -9) re-executes the journal
to exactly the same block hashes, which `ledger-node verify` reproduces too.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import defaultdict

import pytest
import rlp

from ledger_node.config import GENESIS_FILE, load_config
from ledger_node.engine import Engine
from ledger_node.seal_lock import SealLock
from tests.ledger_helpers import (
    INVALID_PARAMS,
    Rpc,
    Signer,
    access_with_members,
    anvil_processes_for,
    batch_payload,
    member_tx,
    new_node,
    restart,
    run_ledger_node,
    wait_until,
)

THREADS = 4
MEMBERS_PER_THREAD = 2
PER_MEMBER_PER_BATCH = 5
BATCHES = 6


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    # A short block period, so batches from all threads land in the same blocks.
    node = new_node(tmp_path_factory.mktemp("concurrency"), "node", block_period=0.3)
    rpc = Rpc(node.url)
    access, members = access_with_members(rpc, node.data_dir, THREADS * MEMBERS_PER_THREAD)
    state = {"node": node, "rpc": rpc, "access": access, "members": members}
    yield state
    state["node"].stop()


def send_concurrently(url: str, access, members: list[Signer]) -> tuple[list[str], list]:
    """THREADS threads, each with its own members, sending batches of consecutive nonces as fast
    as the node answers; returns the acknowledged hashes in the order sent, and any errors."""
    acked: list[list[str]] = [[] for _ in range(THREADS)]
    errors: list = []
    start = threading.Barrier(THREADS)

    def run(index: int) -> None:
        rpc = Rpc(url)
        own = members[index * MEMBERS_PER_THREAD : (index + 1) * MEMBERS_PER_THREAD]
        start.wait()
        for _ in range(BATCHES):
            signed = [member_tx(m, access) for m in own for _ in range(PER_MEMBER_PER_BATCH)]
            answers = rpc.post(batch_payload(signed)).json()
            for answer in sorted(answers, key=lambda a: a["id"]):
                if "result" in answer and answer["result"] == signed[answer["id"]].hash:
                    acked[index].append(answer["result"])
                else:
                    errors.append(answer)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return [h for hashes in acked for h in hashes], errors


def chain_blocks(rpc: Rpc, upto: int) -> list[dict]:
    return [rpc.result("eth_getBlockByNumber", [hex(n), True]) for n in range(1, upto + 1)]


def interleaved(senders: list[str]) -> bool:
    """Whether a sender's transactions are split by another's (a block only FIFO order keeps)."""
    seen_last: dict[str, int] = {}
    for position, sender in enumerate(senders):
        if sender in seen_last and seen_last[sender] != position - 1:
            return True
        seen_last[sender] = position
    return False


def test_concurrent_batches_keep_each_senders_nonce_order_and_mine_every_tx_once(world):
    rpc, members = world["rpc"], world["members"]
    acked, errors = send_concurrently(world["node"].url, world["access"], members)
    assert errors == []
    expected = THREADS * MEMBERS_PER_THREAD * PER_MEMBER_PER_BATCH * BATCHES
    assert len(acked) == len(set(acked)) == expected
    receipts = {h: rpc.receipt(h) for h in acked}
    assert all(r["status"] == "0x1" for r in receipts.values())
    head = int(rpc.head()["number"], 16)
    blocks = chain_blocks(rpc, head)
    nonces: dict[str, list[int]] = defaultdict(list)
    mined = []
    for block in blocks:
        for tx in block["transactions"]:
            nonces[tx["from"].lower()].append(int(tx["nonce"], 16))
            mined.append(tx["hash"])
    for member in members:
        sent = BATCHES * PER_MEMBER_PER_BATCH
        # Nonce order along the chain: 0, 1, 2, … with no gap and no repeat.
        assert nonces[member.address.lower()] == list(range(sent)), member.address
        count = rpc.result("eth_getTransactionCount", [member.address, "pending"])
        assert int(count, 16) == sent
    assert all(mined.count(h) == 1 for h in acked)
    # The load did mix senders within blocks, so the restart below checks FIFO order for real.
    assert any(interleaved([tx["from"] for tx in b["transactions"]]) for b in blocks)
    world["blocks"] = {int(b["number"], 16): b["hash"] for b in blocks}


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_restart_after_concurrent_load_reproduces_every_block_hash(world, how):
    """Recovery re-executes the whole journal (no snapshot: blocks < --snapshot-every) with
    pipelined ordered sends; each block must come out with the hash recorded before the stop.
    After kill -9 the transactions acknowledged but not yet sealed are mined after the restart."""
    node, rpc = world["node"], world["rpc"]
    if "blocks" not in world:
        pytest.skip("needs the concurrent load of the test before")
    for member in world["members"]:
        member.sync_nonce(rpc)
    acked, errors = send_concurrently(node.url, world["access"], world["members"])
    assert errors == []
    if how == "sigterm":
        for tx_hash in acked:
            rpc.receipt(tx_hash)
    head = int(rpc.head()["number"], 16)
    before = {n: b["hash"] for n, b in enumerate(chain_blocks(rpc, head), start=1)}
    assert before.items() >= world["blocks"].items()
    if how == "sigterm":
        assert node.stop() == 0
    else:
        node.kill()  # at once: some acknowledged transactions may not be sealed yet
    wait_until(lambda: not anvil_processes_for(node.data_dir))
    node = world["node"] = restart(node)
    rpc = world["rpc"] = Rpc(node.url)
    assert node.rpc("ledger_status")["result"]["journalCheck"]["replayedFrom"] == 0
    for tx_hash in acked:
        assert rpc.receipt(tx_hash)["status"] == "0x1"
    head = int(rpc.head()["number"], 16)
    after = {n: b["hash"] for n, b in enumerate(chain_blocks(rpc, head), start=1)}
    assert {n: after[n] for n in before} == before
    world["blocks"] = after
    node.stop()
    verified = run_ledger_node("verify", "--data-dir", node.data_dir)
    assert verified.returncode == 0, verified.stderr
    assert f"head {after[head]}" in verified.stdout.splitlines()
    node = world["node"] = restart(node)
    world["rpc"] = Rpc(node.url)


def test_seal_lock_lets_shared_holders_overlap_and_a_waiting_sealer_go_first():
    """The accept path's lock: shared holders run together; an exclusive one waits for them,
    and shared requests arriving while it waits queue behind it."""

    async def scenario() -> list[str]:
        lock = SealLock()
        events: list[str] = []
        first_in = asyncio.Event()
        release = asyncio.Event()

        async def shared(name: str, hold: asyncio.Event | None = None) -> None:
            async with lock.shared():
                events.append(f"{name} in")
                first_in.set()
                if hold is not None:
                    await hold.wait()
                events.append(f"{name} out")

        async def exclusive() -> None:
            async with lock.exclusive():
                events.append("seal")

        holders = [asyncio.create_task(shared("a", release)), asyncio.create_task(shared("b"))]
        await first_in.wait()
        await asyncio.sleep(0)
        sealer = asyncio.create_task(exclusive())
        await asyncio.sleep(0.01)
        late = asyncio.create_task(shared("late"))
        await asyncio.sleep(0.01)
        assert "seal" not in events  # "a" still holds the shared side
        release.set()
        await asyncio.gather(*holders, sealer, late)
        return events

    events = asyncio.run(scenario())
    assert events.index("b in") < events.index("a out")  # both shared holders overlapped
    assert events.index("a out") < events.index("seal") < events.index("late in")


def test_ordered_sends_keep_their_order_and_survive_a_dropped_connection(world):
    """Replay's pipelined sends on a scratch engine (anvil, FIFO): transactions of two senders,
    interleaved, are mined in the order sent; after the kept connection dies while idle, the
    next run goes out on a new one."""
    data_dir = world["node"].data_dir
    config = load_config(data_dir)
    chain_id = config.chain_id
    first, second = Signer(None, chain_id), Signer(None, chain_id)

    async def scenario() -> tuple[list[str], list[str]]:
        engine = Engine(data_dir / GENESIS_FILE, gas_limit=config.gas_limit, chain_id=chain_id)
        await engine.start()
        try:
            order = [first, second, second, first, second, first]
            signed = [s.sign(s.address_bytes) for s in order]
            raws = [bytes.fromhex(t.raw[2:]) for t in signed]
            assert all("result" in a for a in await engine.send_raw_ordered(raws[:3]))
            pipe = engine._pipe
            assert pipe is not None and pipe._sock is not None
            pipe._sock.shutdown(socket.SHUT_RDWR)  # the connection is gone while idle
            assert all("result" in a for a in await engine.send_raw_ordered(raws[3:]))
            await engine.mine(config.genesis_timestamp + 10)
            block = await engine.block(1)
            return [t.hash for t in signed], block["transactions"]
        finally:
            await engine.stop()

    sent, mined = asyncio.run(scenario())
    assert mined == sent


def test_non_canonical_rlp_gets_minus_32602_naming_rlp(world):
    """The gateway's RLP reader (ledger_node/rlp_spans.py) accepts only canonical RLP."""
    rpc, access, member = world["rpc"], world["access"], world["members"][0]
    member.sync_nonce(rpc)
    signed = member_tx(member, access)
    fields = rlp.decode(bytes.fromhex(signed.raw[2:]))
    body = rlp.encode(fields)[2:]  # the list's items, after its 2-byte prefix (0xf8 + length)
    cases = {
        "nonce with a leading zero byte": [b"\x00" + fields[0], *fields[1:]],
        "gas with a leading zero byte": [*fields[:2], b"\x00" + fields[2], *fields[3:]],
    }
    raws = {name: "0x" + rlp.encode(changed).hex() for name, changed in cases.items()}
    raws["a trailing byte"] = signed.raw + "00"
    raws["a length with a leading zero byte"] = "0xf900" + f"{len(body):02x}" + body.hex()
    for name, raw in raws.items():
        error = rpc.error("eth_sendRawTransaction", [raw])
        assert error["code"] == INVALID_PARAMS, (name, error)
        assert "not valid RLP" in error["message"], (name, error)
    assert rpc.result("eth_getTransactionByHash", [signed.hash]) is None
    assert rpc.send(signed.raw)["result"] == signed.hash  # the member's nonce is still free
    rpc.receipt(signed.hash)
