"""Faults of the ledger node: kill -9 under load, and a tampered journal (verify and recovery).

Every node is a real `ledger-node start` child process on a throwaway data directory.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from eth_account import Account
from eth_utils import to_checksum_address

from citypass.protocol.seals import sign_seal
from tests.ledger_helpers import (
    TRANSACTION_REJECTED,
    Access,
    Rpc,
    Signer,
    access_with_members,
    anvil_processes_for,
    authority_key,
    batch_payload,
    call_data,
    cli,
    copy_data_dir,
    error_line,
    journal_db,
    log_path,
    member_tx,
    new_node,
    refused_start,
    restart,
)

KILLS = 11
MEMBERS = 4
TXS_PER_MEMBER_PER_BATCH = 5  # 20 transactions a batch; several batches a block
# A short breath between batches keeps the journal at a few thousand transactions (each restart
# replays it; the node would take well over ten thousand in the time the test runs).
PAUSE_BETWEEN_BATCHES = 0.02


# ------------------------------------------------------------------------ crash under load


class Load:
    """A background sender: batches of signed transactions from several members, as fast as the
    node answers, recording every hash the node returned. It follows the node across restarts."""

    def __init__(self, url: str, members: list[Signer], access: Access) -> None:
        self.url = url
        self.members = members
        self.access = access
        self.returned: list[str] = []
        self.batches = 0
        self.failed_posts = 0
        self.errors: Counter[str] = Counter()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="ledger-load", daemon=True)

    def point_at(self, url: str) -> None:
        with self._lock:
            self.url = url

    def _run(self) -> None:
        session = requests.Session()
        synced_for = None
        while not self.stop.is_set():
            with self._lock:
                url = self.url
            try:
                if synced_for != url:
                    rpc = Rpc(url)
                    for member in self.members:
                        member.sync_nonce(rpc)
                    synced_for = url
                signed = [
                    member_tx(member, self.access)
                    for _ in range(TXS_PER_MEMBER_PER_BATCH)
                    for member in self.members
                ]
                answers = session.post(url, json=batch_payload(signed), timeout=10).json()
            except (requests.RequestException, ValueError, AssertionError, KeyError):
                self.failed_posts += 1
                synced_for = None  # the node died under us: what it kept decides the nonces
                time.sleep(0.05)
                continue
            self.batches += 1
            time.sleep(PAUSE_BETWEEN_BATCHES)
            resync = False
            for answer in answers:
                sent = signed[answer["id"]]
                if "result" in answer:
                    assert answer["result"] == sent.hash, answer
                    self.returned.append(answer["result"])
                else:
                    self.errors[answer["error"]["message"].split(":")[0]] += 1
                    resync = True
            if resync:
                synced_for = None


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """A node killed -9 at random points under load, restarted each time; then the final node."""
    base = tmp_path_factory.mktemp("crash")
    node = new_node(base, "node", block_period=0.1, snapshot_every=5)
    rpc = Rpc(node.url)
    access, members = access_with_members(rpc, node.data_dir, MEMBERS)
    load = Load(node.url, members, access)
    load.thread.start()
    rng = random.Random(20240607)
    anvils_after_restart = []
    kills = 0
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 1.2))
            node.kill()
            kills += 1
            node = restart(node)
            load.point_at(node.url)
            anvils_after_restart.append(len(anvil_processes_for(node.data_dir)))
        time.sleep(1.0)
    finally:
        load.stop.set()
        load.thread.join(timeout=30)
    rpc = Rpc(node.url)
    yield {
        "node": node,
        "rpc": rpc,
        "load": load,
        "kills": kills,
        "anvils": anvils_after_restart,
        "access": access,
    }
    node.stop()


def test_crash_load_really_ran_and_was_interrupted(crashed):
    load = crashed["load"]
    print(
        f"{crashed['kills']} kills, {load.batches} batches, {len(load.returned)} hashes returned, "
        f"{load.failed_posts} posts cut off, refusals {dict(load.errors)}"
    )
    assert crashed["kills"] >= 10
    assert load.batches >= 20
    assert len(load.returned) >= 300, (len(load.returned), load.failed_posts, load.errors)
    assert load.failed_posts >= 1  # some batches were cut off by a kill
    # A kill -9 of the node takes its engine with it: after each restart one anvil runs.
    assert crashed["anvils"] == [1] * crashed["kills"]


def test_every_returned_hash_has_a_receipt_after_crashes(crashed):
    rpc = crashed["rpc"]
    returned = crashed["load"].returned
    status = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = rpc.status()
        if status["pending"] == 0:
            break
        time.sleep(0.1)
    assert status["pending"] == 0, status
    missing = []
    for start in range(0, len(returned), 500):
        chunk = returned[start : start + 500]
        answers = rpc.post(
            [
                {"jsonrpc": "2.0", "id": i, "method": "eth_getTransactionReceipt", "params": [h]}
                for i, h in enumerate(chunk)
            ]
        ).json()
        by_id = {a["id"]: a for a in answers}
        missing += [h for i, h in enumerate(chunk) if not by_id[i].get("result")]
    assert not missing, f"{len(missing)} of {len(returned)} returned hashes have no receipt"


def test_no_transaction_appears_twice_after_crashes(crashed):
    rpc = crashed["rpc"]
    head = int(rpc.head()["number"], 16)
    seen: list[str] = []
    for start in range(1, head + 1, 200):
        numbers = range(start, min(head, start + 199) + 1)
        answers = rpc.post(
            [
                {
                    "jsonrpc": "2.0",
                    "id": n,
                    "method": "eth_getBlockByNumber",
                    "params": [hex(n), False],
                }
                for n in numbers
            ]
        ).json()
        for answer in sorted(answers, key=lambda a: a["id"]):
            seen += answer["result"]["transactions"]
    duplicates = [h for h, count in Counter(seen).items() if count > 1]
    assert not duplicates
    assert set(crashed["load"].returned) <= set(seen)
    assert rpc.status()["journalTransactions"] == len(seen)


def test_crashes_left_snapshots_behind(crashed):
    node = crashed["node"]
    status = crashed["rpc"].status()
    assert status["lastSnapshot"] is not None
    assert int(status["lastSnapshot"], 16) % 5 == 0
    assert (
        node.data_dir / "snapshots" / f"state-{int(status['lastSnapshot'], 16):012d}.json"
    ).exists()
    # Each start is one segment of the log (it ends at "ledger node ready"); a restart that had
    # a snapshot and warned about none recovered from it, replaying only the blocks after it.
    segments = log_path(node).read_text().split("ledger node ready")
    restarts = segments[1 : crashed["kills"] + 1]
    assert len(restarts) == crashed["kills"]
    assert "does not match the journal" not in "".join(restarts)
    clean = [r for r in restarts if "failed to load" not in r and "unusable" not in r]
    assert clean, "no restart recovered from a snapshot"


def test_head_after_crashes_equals_reference_replay_of_the_journal(crashed):
    node, rpc = crashed["node"], crashed["rpc"]
    latest = rpc.head()
    assert rpc.status()["pending"] == 0
    result = cli("verify", "--data-dir", node.data_dir, timeout=180)
    assert result.returncode == 0, result.stderr
    head_line = [line for line in result.stdout.splitlines() if line.startswith("head ")]
    assert head_line == [f"head {latest['hash']}"]
    verified = re.search(r"verified (\d+) blocks", result.stdout)
    assert verified and int(verified.group(1)) == int(latest["number"], 16)
    # The node's own head still equals what the journal replays to.
    assert rpc.head()["hash"] == latest["hash"]


def test_seals_after_crashes_are_the_authoritys(crashed):
    rpc = crashed["rpc"]
    head = rpc.head()
    seal = rpc.result("ledger_getSeal", [head["number"]])
    from citypass.protocol.seals import seal_signer

    signer = seal_signer(
        bytes.fromhex(seal["signature"][2:]),
        int(seal["chainId"], 16),
        int(head["number"], 16),
        bytes.fromhex(head["hash"][2:]),
        bytes.fromhex(head["parentHash"][2:]),
    )
    assert signer == seal["authority"] == rpc.status()["authority"]


def test_kill_leaves_no_anvil_behind(tmp_path):
    node = new_node(tmp_path, "lonely")
    assert len(anvil_processes_for(node.data_dir)) == 1
    node.kill()
    # PR_SET_PDEATHSIG: the engine gets SIGKILL when the node dies.
    assert wait_for(lambda: not anvil_processes_for(node.data_dir))


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def test_journal_of_large_multi_member_batches_replays(tmp_path):
    """Blocks of hundreds of transactions from several members, sent in large batches, replay
    to the same hashes (anvil does not keep a JSON-RPC batch's order: replay must not rely on
    it)."""
    node = new_node(tmp_path, "node", block_period=0)
    rpc = Rpc(node.url)
    access, members = access_with_members(rpc, node.data_dir, 4)
    for _ in range(3):
        signed = [member_tx(member, access) for _ in range(50) for member in members]
        answers = rpc.post(batch_payload(signed)).json()
        assert sorted(a["result"] for a in answers) == sorted(s.hash for s in signed)
    head = rpc.head()
    assert node.stop() == 0
    try:
        restarted = restart(node)
    except RuntimeError:
        restarted = None
    if restarted is not None:
        assert Rpc(restarted.url).head()["hash"] == head["hash"]
        restarted.stop()
    result = cli("verify", "--data-dir", node.data_dir)
    assert result.returncode == 0, result.stderr
    assert f"head {head['hash']}" in result.stdout
    assert restarted is not None, log_path(node).read_text()[-400:]


def runtime_deploy_data(code: bytes) -> bytes:
    """Init code that deploys `code` as it is (PUSH2 len DUP1 PUSH1 12 PUSH1 0 CODECOPY
    PUSH1 0 RETURN)."""
    return bytes([0x61]) + len(code).to_bytes(2, "big") + bytes.fromhex("80600c6000396000f3") + code


def test_recovery_loads_a_snapshot_of_a_large_state(tmp_path):
    """A snapshot far over anvil's 2 MiB request-body limit still loads on restart."""
    node = new_node(tmp_path, "node", block_period=0, snapshot_every=40)
    rpc = Rpc(node.url)
    admin = Signer(authority_key(node.data_dir), int(rpc.result("eth_chainId"), 16))
    rng = random.Random(7)
    for _ in range(40):  # 40 contracts of 24 KiB of incompressible code
        code = b"\x00" + rng.randbytes(24_575)
        signed = admin.sign(None, runtime_deploy_data(code), 6_000_000)
        assert rpc.send(signed.raw).get("result") == signed.hash
    assert rpc.status()["lastSnapshot"] == hex(40)
    snapshot = node.data_dir / "snapshots" / f"state-{40:012d}.json"
    assert snapshot.stat().st_size > 2 * 1024 * 1024
    head = rpc.head()
    assert node.stop() == 0
    restarted = restart(node)
    try:
        assert Rpc(restarted.url).head()["hash"] == head["hash"]
        log = log_path(node).read_text()
        assert "failed to load" not in log, log[-600:]
    finally:
        restarted.stop()


# ----------------------------------------------------------------------- engine limits

SINK = b"\x5e" * 20  # an address nobody holds: big transactions send nothing to it


def big_tx(signer: Signer):
    """A valid transaction of about 100 KB (zero call data: cheap in gas, under 128 KiB)."""
    return signer.sign(SINK, b"\x00" * 100_000, 1_500_000)


def test_batch_of_large_valid_transactions_is_accepted(tmp_path):
    """A batch of valid transactions bigger than anvil's 2 MiB request-body limit in all."""
    node = new_node(tmp_path, "node", block_period=0)
    try:
        rpc = Rpc(node.url)
        admin = Signer(authority_key(node.data_dir), int(rpc.result("eth_chainId"), 16))
        signed = [big_tx(admin) for _ in range(15)]
        reply = rpc.post(
            [
                {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [s.raw]}
                for i, s in enumerate(signed)
            ]
        )
        assert reply.status_code == 200, reply.text[:200]
        assert sorted(a["result"] for a in reply.json()) == sorted(s.hash for s in signed)
        for one in signed:
            assert rpc.receipt(one.hash)["status"] == "0x1"
    finally:
        node.stop()


def test_restart_after_a_block_and_pending_transactions_of_large_transactions(tmp_path):
    """A sealed block and pending transactions of more than 2 MiB each (as JSON) recover."""
    node = new_node(tmp_path, "node", block_period=60, max_block_txs=12)
    rpc = Rpc(node.url)
    admin = Signer(authority_key(node.data_dir), int(rpc.result("eth_chainId"), 16))
    sealed = [big_tx(admin) for _ in range(12)]
    for signed in sealed:
        assert rpc.send(signed.raw).get("result") == signed.hash
    assert rpc.receipt(sealed[-1].hash)["blockNumber"] == "0x1"  # sealed early: 12 waited
    for _ in range(11):
        signed = big_tx(admin)
        assert rpc.send(signed.raw).get("result") == signed.hash
    head = rpc.head()
    assert rpc.status()["pending"] == 11
    assert node.stop() == 0
    try:
        restarted = restart(node)
    except RuntimeError:
        pytest.fail(log_path(node).read_text()[-300:])
    try:
        assert Rpc(restarted.url).head()["hash"] == head["hash"]
        assert Rpc(restarted.url).status()["pending"] == 11
    finally:
        restarted.stop()
    result = cli("verify", "--data-dir", node.data_dir)
    assert result.returncode == 0, result.stderr[-300:]


def access_list(count: int) -> list[dict]:
    return [{"address": "0x" + f"{i:040x}", "storageKeys": []} for i in range(1, count + 1)]


SHORT_OF_GAS = [
    # call data: 21000 + 100 * 16 = 22600 needed
    pytest.param(lambda s, c: s.sign(SINK, b"\x01" * 100, 21_000), id="call-data"),
    # contract creation: 53000 + call data needed
    pytest.param(lambda s, c: s.sign(None, b"\x01" * 10, 40_000), id="creation"),
    # EIP-7623 (Prague) call-data floor: 21000 + 10 * 4 * 1000 = 61000 needed, while the
    # EIP-2028 cost is only 21000 + 16 * 1000 = 37000
    pytest.param(
        lambda s, c: s.sign(SINK, b"\x01" * 1000, 50_000),
        id="eip7623-floor",
    ),
    # EIP-2930 access list: 21000 + 10 * 2400 = 45000 needed
    pytest.param(
        lambda s, c: s.sign_dict(
            {
                "type": 1,
                "chainId": c,
                "nonce": s.nonce,
                "gasPrice": 0,
                "gas": 25_000,
                "to": to_checksum_address("0x" + SINK.hex()),
                "value": 0,
                "data": b"",
                "accessList": access_list(10),
            }
        ),  # fmt: skip
        id="access-list",
    ),
]


@pytest.mark.parametrize("make", SHORT_OF_GAS)
def test_transaction_below_its_intrinsic_gas_is_refused(short_gas_node, make):
    """A transaction whose gas does not cover its intrinsic cost is never mined by the engine:
    the node must refuse it rather than return a hash that never gets a receipt."""
    rpc, admin, chain_id = short_gas_node
    admin.sync_nonce(rpc)
    short = make(admin, chain_id)
    reply = rpc.send(short.raw)
    receipt = rpc.result("eth_getTransactionReceipt", [short.hash])
    pending = rpc.status()["pending"]
    assert "result" not in reply or receipt is not None, (reply, pending)
    assert reply["error"]["code"] == TRANSACTION_REJECTED
    assert "intrinsic gas" in reply["error"]["message"]
    assert pending == 0


@pytest.fixture(scope="module")
def short_gas_node(tmp_path_factory):
    node = new_node(tmp_path_factory.mktemp("short-gas"), "node", block_period=0)
    rpc = Rpc(node.url)
    chain_id = int(rpc.result("eth_chainId"), 16)
    yield rpc, Signer(authority_key(node.data_dir), chain_id), chain_id
    node.stop()


# --------------------------------------------------------------------------- tampering


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    """A stopped node's data directory with a few sealed blocks, and what went into them.

    snapshot_every is large, so recovery on start replays every block."""
    base = tmp_path_factory.mktemp("sealed")
    node = new_node(base, "node", block_period=0, snapshot_every=1000)
    rpc = Rpc(node.url)
    chain_id = int(rpc.result("eth_chainId"), 16)
    access, (member,) = access_with_members(rpc, node.data_dir, 1)
    sent = []
    for _ in range(4):
        signed = member_tx(member, access)
        assert rpc.send(signed.raw)["result"] == signed.hash
        sent.append(signed)
    blocks = {s.hash: int(rpc.receipt(s.hash)["blockNumber"], 16) for s in sent}
    head = rpc.head()
    assert node.stop() == 0
    return {
        "data_dir": node.data_dir,
        "chain_id": chain_id,
        "member": member,
        "access": access,
        "sent": sent,
        "blocks": blocks,
        "head": head,
    }


def tampered(sealed, tmp_path: Path, change) -> Path:
    data_dir = copy_data_dir(sealed["data_dir"], tmp_path / "tampered")
    with journal_db(data_dir) as db:
        change(db)
    return data_dir


def swap_raw(sealed):
    """Replace a sealed transaction's raw bytes with another valid signed transaction of the
    same sender and nonce (a different call)."""
    target = sealed["sent"][2]
    member, access = sealed["member"], sealed["access"]
    other = member.sign(
        access.address_bytes,
        call_data("isAllowed(address)", access.admin.address),
        nonce=target.nonce,
    )
    assert other.hash != target.hash

    def change(db):
        db.execute(
            "UPDATE txs SET raw = ? WHERE hash = ?",
            (bytes.fromhex(other.raw[2:]), bytes.fromhex(target.hash[2:])),
        )

    return change, sealed["blocks"][target.hash]


def flip_raw_byte(sealed):
    target = sealed["sent"][1]
    key = bytes.fromhex(target.hash[2:])

    def change(db):
        raw = bytearray(db.execute("SELECT raw FROM txs WHERE hash = ?", (key,)).fetchone()[0])
        raw[-70] ^= 0x01  # inside the call data: still RLP, another signing hash
        db.execute("UPDATE txs SET raw = ? WHERE hash = ?", (bytes(raw), key))

    return change, sealed["blocks"][target.hash]


def shift_timestamp(sealed):
    number = sealed["blocks"][sealed["sent"][0].hash]

    def change(db):
        db.execute("UPDATE blocks SET timestamp = timestamp + 7 WHERE number = ?", (number,))

    return change, number


def forge_seal(sealed):
    number = sealed["blocks"][sealed["sent"][1].hash]
    forger = Account.create()  # a throwaway key: not the authority

    def change(db):
        block_hash, parent = db.execute(
            "SELECT hash, parent_hash FROM blocks WHERE number = ?", (number,)
        ).fetchone()
        seal = sign_seal(forger, sealed["chain_id"], number, bytes(block_hash), bytes(parent))
        db.execute("UPDATE blocks SET seal = ? WHERE number = ?", (seal, number))

    return change, number


def break_parent_link(sealed):
    number = sealed["blocks"][sealed["sent"][2].hash]

    def change(db):
        db.execute("UPDATE blocks SET parent_hash = ? WHERE number = ?", (b"\x5a" * 32, number))

    return change, number


def test_verify_passes_on_an_honest_journal(sealed):
    result = cli("verify", "--data-dir", sealed["data_dir"])
    assert result.returncode == 0, result.stderr
    head = sealed["head"]
    blocks = int(head["number"], 16)
    assert f"verified {blocks} blocks and {blocks} transactions" in result.stdout
    assert f"head {head['hash']}" in result.stdout.splitlines()
    assert "error" not in result.stderr


@pytest.mark.parametrize(
    "tamper, words",
    [
        (swap_raw, "differs"),
        (flip_raw_byte, ""),
        (shift_timestamp, "differs"),
        (forge_seal, "seal is not the authority's"),
        (break_parent_link, "parent link broken"),
    ],
    ids=["swapped-tx", "flipped-tx-byte", "timestamp", "forged-seal", "parent-link"],
)
def test_verify_fails_naming_the_block_on_tampering(sealed, tmp_path, tamper, words):
    change, number = tamper(sealed)
    data_dir = tampered(sealed, tmp_path, change)
    result = cli("verify", "--data-dir", data_dir)
    assert result.returncode != 0
    line = error_line(result)
    assert line.startswith(f"error: block {number}"), line
    assert words in line
    assert "verified" not in result.stdout


def test_forged_seal_names_the_forger(sealed, tmp_path):
    change, number = forge_seal(sealed)
    data_dir = tampered(sealed, tmp_path, change)
    with journal_db(data_dir) as db:
        seal = bytes(
            db.execute("SELECT seal FROM blocks WHERE number = ?", (number,)).fetchone()[0]
        )
    result = cli("verify", "--data-dir", data_dir)
    line = error_line(result)
    from citypass.protocol.seals import seal_signer

    with journal_db(data_dir) as db:
        block_hash, parent = db.execute(
            "SELECT hash, parent_hash FROM blocks WHERE number = ?", (number,)
        ).fetchone()
    forger = seal_signer(seal, sealed["chain_id"], number, bytes(block_hash), bytes(parent))
    assert forger and forger in line


def test_verify_fails_on_a_missing_block_and_a_missing_transaction(sealed, tmp_path):
    number = sealed["blocks"][sealed["sent"][1].hash]
    gap = tampered(sealed, tmp_path / "gap", lambda db: db.execute(
        "DELETE FROM blocks WHERE number = ?", (number,)
    ))  # fmt: skip
    line = error_line(result := cli("verify", "--data-dir", gap))
    assert result.returncode != 0
    assert line == f"error: block {number} is missing from the journal (next is {number + 1})"
    key = bytes.fromhex(sealed["sent"][3].hash[2:])
    lost = tampered(sealed, tmp_path / "lost", lambda db: db.execute(
        "DELETE FROM txs WHERE hash = ?", (key,)
    ))  # fmt: skip
    line = error_line(result := cli("verify", "--data-dir", lost))
    assert result.returncode != 0
    block = sealed["blocks"][sealed["sent"][3].hash]
    assert line.startswith(f"error: block {block}: a transaction it lists is missing"), line


@pytest.mark.parametrize(
    "tamper",
    [swap_raw, flip_raw_byte, shift_timestamp],
    ids=["swapped-tx", "flipped-tx-byte", "timestamp"],
)
def test_recovery_refuses_a_journal_whose_block_no_longer_replays(sealed, tmp_path, tamper):
    change, number = tamper(sealed)
    data_dir = tampered(sealed, tmp_path, change)
    line = refused_start(data_dir)
    assert line.startswith(f"error: refusing to start: block {number}"), line


@pytest.mark.parametrize(
    "tamper", [forge_seal, break_parent_link], ids=["forged-seal", "parent-link"]
)
def test_recovery_refuses_a_journal_with_a_forged_seal_or_broken_link(sealed, tmp_path, tamper):
    change, number = tamper(sealed)
    data_dir = tampered(sealed, tmp_path, change)
    line = refused_start(data_dir)
    assert line.startswith(f"error: refusing to start: block {number}'s "), line
