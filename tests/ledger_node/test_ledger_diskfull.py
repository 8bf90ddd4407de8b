"""A full disk under the ledger node: the NOSPACE alarm refuses writes, nothing executes that is
not journaled, no block goes unrecorded, and the node resumes and restarts exactly.

Each node's data directory sits on a 20 MB tmpfs (mounted here; the tests run as root) that a
filler file fills up. Every node is a real `ledger-node start` child process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from ledger_node.launcher import NodeProcess, init_data_dir
from tests.ledger_helpers import (
    PASSWORD,
    TRANSACTION_REJECTED,
    BatchSender,
    Rpc,
    Signer,
    access_with_members,
    authority_key,
    cli,
    journal_db,
    member_tx,
    wait_until,
)

LIMIT_EXCEEDED = -32005
DISK_SIZE_MB = 20
ADMIN_TOKEN = "diskfull-test-admin-token"
MB = 1024 * 1024
# Long enough to fill the disk between journaling a transaction and sealing it.
SEAL_PERIOD = 1.5


# ---------------------------------------------------------------------------- small disk


@dataclass
class SmallDisk:
    """A 20 MB tmpfs for a node's data directory, and a filler file that takes all its space."""

    root: Path
    logs: Path
    filler: Path = field(init=False)

    def __post_init__(self) -> None:
        self.filler = self.root / "filler"

    def free(self) -> int:
        stats = os.statvfs(self.root)
        return stats.f_bavail * stats.f_frsize

    def fill(self) -> None:
        """Write until ENOSPC, down to the last 4 KiB page."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for chunk in (MB, 64 * 1024, 4096):
                block = b"\xa5" * chunk
                with contextlib.suppress(OSError):
                    while os.write(fd, block) == chunk:
                        pass
        finally:
            os.close(fd)
        assert self.free() < 8192, f"the disk still has {self.free()} bytes free"

    def empty(self) -> None:
        self.filler.unlink(missing_ok=True)

    def start(self, name: str, *args: str, block_period: float = 0.2) -> NodeProcess:
        data_dir = self.root / name
        if not data_dir.exists():
            init_data_dir(data_dir, PASSWORD, block_period=block_period)
        # The log lives off the small disk: a full disk must not silence the node's account of it.
        node = NodeProcess(
            data_dir,
            PASSWORD,
            log_path=self.logs / f"{name}.log",
            admin_token=ADMIN_TOKEN,
            extra_args=args,
        )
        return node.start()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    root = tmp_path / "disk"
    root.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE_MB}m", "tmpfs", str(root)]
    result = subprocess.run(mount, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root): {result.stderr.strip()}")
    try:
        yield SmallDisk(root, tmp_path)
    finally:
        if subprocess.run(["umount", str(root)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(root)], capture_output=True)


@contextlib.contextmanager
def running(node: NodeProcess) -> Iterator[NodeProcess]:
    try:
        yield node
    finally:
        node.kill()


def health(node: NodeProcess) -> tuple[int, dict]:
    reply = requests.get(f"{node.base_url}/health", timeout=10)
    return reply.status_code, reply.json()


def metric(node: NodeProcess, name: str) -> float:
    text = requests.get(f"{node.base_url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not among the metrics")


def journal_hashes(rpc: Rpc) -> Counter[str]:
    """How often each transaction hash appears in the journal's blocks."""
    head = int(rpc.status()["head"], 16)
    seen: Counter[str] = Counter()
    for number in range(1, head + 1):
        entry = rpc.result("ledger_getJournalEntry", [hex(number)])
        assert entry is not None, f"block {number} is missing from the journal"
        seen.update(entry["transactions"])
    return seen


def assert_disk_refusal(reply: dict) -> None:
    assert "error" in reply, reply
    assert reply["error"]["code"] == LIMIT_EXCEEDED, reply
    assert "disk is full" in reply["error"]["message"], reply
    assert reply["error"]["data"]["alarm"] == "NOSPACE", reply


# ----------------------------------------------------------------------------------- tests


def test_full_disk_refuses_transactions_then_resumes_and_restarts_exactly(small_disk):
    node = small_disk.start("node", "--min-free-mb", "0")
    with running(node):
        rpc = Rpc(node.url)
        access, members = access_with_members(rpc, node.data_dir, 3)

        with BatchSender(node.url, members, access, per_member=4, timeout=30) as sender:
            wait_until(lambda: len(sender.acked) >= 40, timeout=15)
            small_disk.fill()
            wait_until(lambda: health(node)[0] == 503, timeout=15)
            refused_before = sender.refused(LIMIT_EXCEEDED)
            wait_until(lambda: sender.refused(LIMIT_EXCEEDED) > refused_before, timeout=10)
        assert sender.statuses.keys() == {200}, sender.statuses
        assert sender.not_json == 0
        assert sender.refused(LIMIT_EXCEEDED) > 0

        status, body = health(node)
        assert status == 503 and body["ok"] is False
        assert "NOSPACE" in body["reason"]
        (alarm,) = body["alarms"]
        assert alarm["alarm"] == "NOSPACE" and alarm["minFreeBytes"] == 0
        assert alarm["freeBytes"] < MB
        assert metric(node, "ledger_disk_alarm") == 1

        # Refused transactions never reach the engine: its head and the sender's nonce stay.
        member = members[0]
        member.sync_nonce(rpc)
        nonce, head = member.nonce, rpc.result("eth_blockNumber")
        # (a different gas limit: the same nonces are used again once space returns)
        refused = [member.sign(access.address_bytes, b"", 100_000 + i) for i in range(3)]
        for signed in refused:
            assert_disk_refusal(rpc.send(signed.raw))
        time.sleep(0.5)  # several block periods
        assert rpc.result("eth_blockNumber") == head
        assert int(rpc.result("eth_getTransactionCount", [member.address, "pending"]), 16) == nonce
        assert rpc.result("eth_getTransactionByHash", [refused[0].hash]) is None
        assert access.is_allowed(member.address)  # reads still work

        small_disk.empty()
        wait_until(lambda: health(node)[0] == 200, timeout=10)
        assert metric(node, "ledger_disk_alarm") == 0
        member.sync_nonce(rpc)
        after = [member_tx(member, access) for _ in range(3)]
        for signed in after:
            assert rpc.send(signed.raw).get("result") == signed.hash
        for signed in after:
            assert rpc.receipt(signed.hash)["status"] == "0x1"

        wait_until(lambda: rpc.status()["pending"] == 0, timeout=10)
        seen = journal_hashes(rpc)
        assert max(seen.values()) == 1, "a transaction was sealed twice"
        acknowledged = sender.acked + [s.hash for s in after]
        assert all(seen[h] == 1 for h in acknowledged), "an acknowledged transaction is missing"
        assert all(seen[h] == 0 for h in (s.hash for s in refused))
        head = rpc.status()["head"]
        assert rpc.result("eth_blockNumber") == head  # the engine holds no unrecorded block
        assert node.stop() == 0

    again = small_disk.start("node", "--min-free-mb", "0")
    with running(again):
        assert Rpc(again.url).status()["head"] == head
        assert again.stop() == 0
    verified = cli("verify", "--data-dir", again.data_dir)
    assert verified.returncode == 0, verified.stderr


def test_snapshot_that_does_not_fit_keeps_the_older_ones_and_raises_the_alarm(small_disk):
    node = small_disk.start("node", "--min-free-mb", "0")
    with running(node):
        rpc = Rpc(node.url)
        access_with_members(rpc, node.data_dir, 1)
        older = node.admin("admin_snapshot")["result"]["file"]
        snapshots = node.data_dir / "snapshots"
        small_disk.fill()
        reply = node.admin("admin_snapshot")
        assert reply["error"]["code"] == LIMIT_EXCEEDED, reply
        assert "older snapshots are kept" in reply["error"]["message"]
        assert not list(snapshots.glob(".*.tmp"))  # the partial file is gone
        assert [p.name for p in snapshots.iterdir()] == [older]
        assert health(node)[0] == 503
        small_disk.empty()
        wait_until(lambda: health(node)[0] == 200, timeout=10)
        newer = node.admin("admin_snapshot")["result"]["file"]
        assert (snapshots / newer).exists() and (snapshots / older).exists()
        assert node.stop() == 0


@pytest.mark.parametrize("then", ["space returns", "killed and restarted"])
def test_block_mined_on_a_full_disk_is_recorded_before_any_other(small_disk, then):
    """The sealer mines a block, the journal cannot record it: that same block is recorded once
    space returns (or, after a crash, its transactions are sealed again), never a gap."""
    node = small_disk.start("node", "--min-free-mb", "0", block_period=SEAL_PERIOD)
    with running(node):
        rpc = Rpc(node.url)
        access, (member,) = access_with_members(rpc, node.data_dir, 1)
        member.sync_nonce(rpc)
        first = member_tx(member, access)
        assert rpc.send(first.raw).get("result") == first.hash
        sealed = int(rpc.receipt(first.hash)["blockNumber"], 16)
        second = member_tx(member, access)  # journaled now, sealed a block period later
        assert rpc.send(second.raw).get("result") == second.hash
        small_disk.fill()

        wait_until(lambda: health(node)[0] == 503, timeout=10)
        assert "recording block" in health(node)[1]["alarms"][0]["detail"]
        assert rpc.status()["head"] == hex(sealed)
        assert rpc.result("ledger_getSeal", [hex(sealed + 1)]) is None
        mined = rpc.result("eth_getBlockByNumber", [hex(sealed + 1), False])
        assert mined["transactions"] == [second.hash]  # the engine holds it, unrecorded
        time.sleep(SEAL_PERIOD + 0.2)  # over a block period: nothing more is mined
        assert rpc.result("eth_blockNumber") == hex(sealed + 1)
        assert_disk_refusal(rpc.send(member_tx(member, access).raw))
        reply = node.admin("admin_snapshot")  # a snapshot would be a block ahead of the journal
        assert reply["error"]["code"] == LIMIT_EXCEEDED and "not recorded yet" in str(reply)

        if then == "space returns":
            small_disk.empty()
            wait_until(lambda: health(node)[0] == 200, timeout=10)
            seal = rpc.result("ledger_getSeal", [hex(sealed + 1)])
            assert seal["hash"] == mined["hash"]  # the very block the engine mined
            assert rpc.status()["head"] == hex(sealed + 1)
            assert node.stop() == 0
        else:
            node.kill()
            small_disk.empty()

    again = small_disk.start("node", "--min-free-mb", "0", block_period=SEAL_PERIOD)
    with running(again):
        rpc = Rpc(again.url)
        receipt = rpc.receipt(second.hash)
        if then == "space returns":
            assert receipt["blockHash"] == mined["hash"]
        seen = journal_hashes(rpc)
        assert seen[first.hash] == 1 and seen[second.hash] == 1
        assert again.stop() == 0
    verified = cli("verify", "--data-dir", again.data_dir)
    assert verified.returncode == 0, verified.stderr


def test_free_space_under_the_floor_refuses_writes_while_reads_work(tmp_path):
    data_dir = tmp_path / "node"
    init_data_dir(data_dir, PASSWORD, block_period=0.2)
    free_mb = shutil.disk_usage(tmp_path).free // MB
    node = NodeProcess(data_dir, PASSWORD, extra_args=("--min-free-mb", str(free_mb + 64)))
    with running(node.start()):
        rpc = Rpc(node.url)
        chain_id = int(rpc.result("eth_chainId"), 16)
        admin = Signer(authority_key(data_dir), chain_id)
        balance = rpc.result("eth_getBalance", [admin.address, "latest"])
        signed = admin.sign(None, b"\x00", 100_000)
        reply = rpc.send(signed.raw)
        assert_disk_refusal(reply)
        assert reply["error"]["data"]["reason"] == "low_space"
        assert reply["error"]["data"]["minFreeBytes"] == (free_mb + 64) * MB

        status, body = health(node)
        assert status == 503 and body["ok"] is False
        assert "under the floor" in body["reason"]
        assert metric(node, "ledger_disk_alarm") == 1
        assert metric(node, "ledger_disk_refused_transactions_total") == 1
        # Reads are served; the refused transaction reached nothing.
        assert rpc.result("eth_blockNumber") == "0x0"
        assert rpc.result("eth_getBalance", [admin.address, "latest"]) == balance
        assert rpc.result("eth_getTransactionCount", [admin.address, "pending"]) == "0x0"
        assert rpc.status()["pending"] == 0
        node.stop()
    with journal_db(data_dir) as db:
        assert db.execute("SELECT COUNT(*) FROM txs").fetchone()[0] == 0


@pytest.mark.parametrize(
    "value, words",
    [("-1", "-1 is not in the range"), ("1000001", "not in the range"), ("lots", "not a valid")],
)
def test_min_free_mb_is_validated_when_out_of_range_or_not_a_number(tmp_path, value, words):
    result = cli("start", "--data-dir", tmp_path / "none", "--min-free-mb", value)
    assert result.returncode == 2
    assert "--min-free-mb" in result.stderr and words in result.stderr, result.stderr


def test_transaction_the_engine_refuses_leaves_no_journal_row_when_journaled_first(tmp_path):
    data_dir = tmp_path / "node"
    init_data_dir(data_dir, PASSWORD, block_period=0)
    node = NodeProcess(data_dir, PASSWORD)
    with running(node.start()):
        rpc = Rpc(node.url)
        access, (member,) = access_with_members(rpc, data_dir, 1)
        member.sync_nonce(rpc)
        journaled = rpc.status()["journalTransactions"]
        # Permitted by CityAccess, but the member holds no ether: the engine refuses it.
        broke = member.sign(access.address_bytes, b"", 100_000, value=1, bump=False)
        error = rpc.send(broke.raw)["error"]
        assert error["code"] == TRANSACTION_REJECTED
        assert "insufficient funds" in error["message"].lower(), error
        status = rpc.status()
        assert status["journalTransactions"] == journaled and status["pending"] == 0
        # The same nonce is free for the next transaction, which is sealed.
        fine = member_tx(member, access)
        assert fine.nonce == broke.nonce
        assert rpc.send(fine.raw).get("result") == fine.hash
        assert rpc.receipt(fine.hash)["status"] == "0x1"
        assert node.stop() == 0
    with journal_db(data_dir) as db:
        hashes = {bytes(h) for (h,) in db.execute("SELECT hash FROM txs")}
    assert bytes.fromhex(broke.hash[2:]) not in hashes
    assert bytes.fromhex(fine.hash[2:]) in hashes
