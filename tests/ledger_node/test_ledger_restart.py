"""Restarts, journal integrity and backups of the ledger node (issue 11, breaks 1 and 6).

Every node is a real `ledger-node start` child process on a throwaway data directory.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import threading
import time
from pathlib import Path

import pytest
import requests

from ledger_node.launcher import NodeProcess, init_data_dir
from tests.ledger_helpers import (
    PASSWORD,
    Access,
    Rpc,
    Signer,
    access_with_members,
    anvil_processes_for,
    authority_key,
    copy_data_dir,
    error_line,
    journal_db,
    log_path,
    member_tx,
    new_node,
    refused_start,
    restart,
    run_ledger_node,
    wait_until,
)

DAY = 86_400


# ------------------------------------------------------------------------------- helpers


def small_chain(node: NodeProcess, member_txs: int) -> dict:
    """CityAccess, one member and `member_txs` of its transactions, one block each."""
    rpc = Rpc(node.url)
    access, (member,) = access_with_members(rpc, node.data_dir, 1)
    acked = []
    for _ in range(member_txs):
        signed = member_tx(member, access)
        assert rpc.send(signed.raw)["result"] == signed.hash
        acked.append(signed.hash)
    return {"rpc": rpc, "access": access, "member": member, "acked": acked}


def wait_past(timestamp: int) -> None:
    """Sleep until the wall clock has passed `timestamp`: from then on an engine whose clock
    comes from the wall clock refuses to mine a block at that recorded time."""
    wait_until(lambda: time.time() > timestamp + 1, timeout=30, interval=0.1)


def receipts_missing(rpc: Rpc, hashes: list[str]) -> list[str]:
    return [h for h in hashes if not rpc.result("eth_getTransactionReceipt", [h])]


def stop(node: NodeProcess, how: str) -> None:
    if how == "sigterm":
        assert node.stop() == 0
    else:
        node.kill()
    wait_until(lambda: not anvil_processes_for(node.data_dir))


# ------------------------------------------------------------------------------ restarts


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
@pytest.mark.parametrize("snapshot_every", [2, 1000], ids=["snapshots", "no-snapshots"])
def test_restart_keeps_head_and_every_acknowledged_tx_when_paused_after_a_stop(
    tmp_path, how, snapshot_every
):
    """Break 1: a block sealed after the newest snapshot, a stop, a pause past that block's
    time, then a start: the node must come back at the same head."""
    node = new_node(tmp_path, "node", block_period=0, snapshot_every=snapshot_every)
    chain = small_chain(node, member_txs=1)  # blocks 1 (deploy), 2 (onboard), 3 (member tx)
    rpc = chain["rpc"]
    head = rpc.head()
    assert head["number"] == "0x3"
    if snapshot_every == 2:
        assert rpc.status()["lastSnapshot"] == "0x2"  # block 3 comes after the newest snapshot
    stop(node, how)
    # The pause, spent verifying the stopped data directory.
    result = run_ledger_node("verify", "--data-dir", node.data_dir)
    assert result.returncode == 0, result.stderr
    assert f"head {head['hash']}" in result.stdout.splitlines()
    marked = re.search(r"journal.head: the marker's block (\d+) (0x[0-9a-f]{64})", result.stdout)
    assert marked, result.stdout
    if how == "sigterm":  # a clean exit writes the last block; after kill -9 it may lag
        assert marked.groups() == ("3", head["hash"])
    assert int(marked.group(1)) <= 3
    wait_past(int(head["timestamp"], 16))
    node = restart(node)
    try:
        rpc = Rpc(node.url)
        assert rpc.head()["hash"] == head["hash"]
        assert not receipts_missing(rpc, chain["acked"])
        assert rpc.status()["accessContract"] == chain["access"].address
        # What the start checked, as the explorer's landing page shows it: up to the head,
        # re-executing every block after the snapshot it loaded (none without snapshots).
        check = rpc.status()["journalCheck"]
        assert (check["result"], check["head"]) == ("ok", 3)
        assert check["replayedFrom"] == (2 if snapshot_every == 2 else 0)
        # The chain goes on from the restored engine.
        more = member_tx(chain["member"], chain["access"])
        assert rpc.send(more.raw)["result"] == more.hash
        head = rpc.head()
        assert head["number"] == "0x4"
        if snapshot_every == 2:  # a second stop, at a snapshot this time, comes back too
            assert rpc.status()["lastSnapshot"] == "0x4"
            stop(node, how)
            node = restart(node)
            rpc = Rpc(node.url)
            assert rpc.head()["hash"] == head["hash"]
            assert not receipts_missing(rpc, [*chain["acked"], more.hash])
    finally:
        node.stop()
    log = log_path(node).read_text()
    assert "trying an older one" not in log, log[-600:]  # the snapshot itself was used
    if snapshot_every == 2:
        # Block 4 was sealed by an engine restored from a snapshot: a replay from genesis
        # must reproduce it.
        result = run_ledger_node("verify", "--data-dir", node.data_dir)
        assert result.returncode == 0, result.stderr
        assert f"head {head['hash']}" in result.stdout.splitlines()


def test_restart_with_snapshots_keeps_a_dev_clock_days_ahead(tmp_path):
    """The demo's development clock: block time days ahead of the wall clock, snapshots, a
    restart; the chain comes back and its time goes on from where it was."""
    data_dir = tmp_path / "node"
    init_data_dir(data_dir, PASSWORD, block_period=0, snapshot_every=2)
    token = secrets.token_urlsafe(16)
    node = NodeProcess(data_dir, PASSWORD, admin_token=token, dev_clock=True).start()
    try:
        ahead = int(time.time()) + 3 * DAY
        assert node.admin("admin_setClock", [ahead])["result"] == 1
        rpc = Rpc(node.url)
        admin = Signer(authority_key(data_dir), int(rpc.result("eth_chainId"), 16))
        acked = []
        for _ in range(2):  # blocks 2 (snapshot) and 3
            signed = admin.sign(b"\x5e" * 20, b"", 30_000)
            assert rpc.send(signed.raw)["result"] == signed.hash
            acked.append(signed.hash)
        head = rpc.head()
        assert head["number"] == "0x3" and rpc.status()["lastSnapshot"] == "0x2"
        assert int(head["timestamp"], 16) >= ahead
    finally:
        assert node.stop() == 0
    node = NodeProcess(data_dir, PASSWORD, admin_token=token, dev_clock=True).start()
    try:
        rpc = Rpc(node.url)
        assert rpc.head()["hash"] == head["hash"]
        assert not receipts_missing(rpc, acked)
        signed = admin.sign(b"\x5e" * 20, b"", 30_000)
        assert rpc.send(signed.raw)["result"] == signed.hash
        block_time = int(rpc.head()["timestamp"], 16)
        assert block_time > int(head["timestamp"], 16)
        assert block_time >= int(time.time()) + 3 * DAY - 60  # still days ahead
    finally:
        assert node.stop() == 0
    assert "trying an older one" not in log_path(node).read_text()
    assert run_ledger_node("verify", "--data-dir", data_dir).returncode == 0


# ------------------------------------------------------------------------ journal damage


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    """A stopped node's data directory: CityAccess, a member and five blocks, no snapshot
    (so only the head marker can tell a shortened journal)."""
    node = new_node(tmp_path_factory.mktemp("sealed"), "node", block_period=0)
    chain = small_chain(node, member_txs=3)
    head = chain["rpc"].head()
    assert node.stop() == 0
    marker = json.loads((node.data_dir / "journal.head").read_text())
    assert marker["block"] == 5 and marker["hash"] == head["hash"]
    assert marker["access_contract"] == chain["access"].address
    return {"data_dir": node.data_dir, "head": head, **chain}


def damaged(sealed, tmp_path: Path, change=None) -> Path:
    data_dir = copy_data_dir(sealed["data_dir"], tmp_path / "damaged")
    if change is not None:
        with journal_db(data_dir) as db:
            change(db)
    return data_dir


def refused_by_start_and_verify(data_dir: Path) -> tuple[str, str]:
    verify = error_line(run_ledger_node("verify", "--data-dir", data_dir))
    start = refused_start(data_dir)
    assert start.startswith("error: refusing to start: "), start
    assert "restore the data directory from a backup (ledger-node backup)" in start
    assert "restore the data directory from a backup (ledger-node backup)" in verify
    return start, verify


def test_start_and_verify_refuse_a_journal_whose_last_blocks_were_deleted(sealed, tmp_path):
    data_dir = damaged(
        sealed, tmp_path, lambda db: db.execute("DELETE FROM blocks WHERE number > 3")
    )
    for line in refused_by_start_and_verify(data_dir):
        assert (
            "the journal was shortened: it ends at block 3, but the head marker records block 5"
            in line
        )


def test_start_and_verify_refuse_a_journal_shorter_than_its_snapshots(sealed, tmp_path):
    data_dir = damaged(
        sealed, tmp_path, lambda db: db.execute("DELETE FROM blocks WHERE number > 3")
    )
    (data_dir / "journal.head").unlink()  # even without the marker: the snapshots tell
    (data_dir / "snapshots").mkdir()
    (data_dir / "snapshots" / f"state-{4:012d}.json").write_text("{}")
    with journal_db(data_dir) as db:
        db.execute("DELETE FROM meta WHERE key = 'head_marker'")
    for line in refused_by_start_and_verify(data_dir):
        assert "shortened: it ends at block 3, but a snapshot was taken at block 4" in line


def test_start_and_verify_refuse_a_data_directory_whose_journal_was_deleted(sealed, tmp_path):
    data_dir = damaged(sealed, tmp_path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{data_dir / 'journal.sqlite'}{suffix}").unlink(missing_ok=True)
    for line in refused_by_start_and_verify(data_dir):
        assert "the journal is missing" in line and "records block 5" in line
    assert not (data_dir / "journal.sqlite").exists()  # start did not create an empty one


def test_start_and_verify_refuse_an_altered_access_contract(sealed, tmp_path):
    other = sealed["member"].address
    data_dir = damaged(sealed, tmp_path, lambda db: db.execute(
        "UPDATE meta SET value = ? WHERE key = 'access_contract'", (other,)
    ))  # fmt: skip
    for line in refused_by_start_and_verify(data_dir):
        assert f"access_contract was altered: it names {other}" in line
        assert sealed["access"].address in line


def test_start_and_verify_refuse_an_altered_access_contract_without_a_marker(sealed, tmp_path):
    """A data directory from before markers: the chain itself names the permission contract."""
    other = sealed["member"].address
    data_dir = damaged(sealed, tmp_path, lambda db: db.execute(
        "UPDATE meta SET value = ? WHERE key = 'access_contract'", (other,)
    ))  # fmt: skip
    (data_dir / "journal.head").unlink()
    with journal_db(data_dir) as db:
        db.execute("DELETE FROM meta WHERE key = 'head_marker'")
    for line in refused_by_start_and_verify(data_dir):
        assert f"access_contract was altered: it names {other}" in line
        assert sealed["access"].address in line


def test_start_and_verify_refuse_a_journal_replaced_at_the_marker_height(sealed, tmp_path):
    data_dir = damaged(sealed, tmp_path)
    marker = json.loads((data_dir / "journal.head").read_text())
    recorded = "0x" + "5a" * 32  # what the marker saw at block 5 is not what the journal holds
    (data_dir / "journal.head").write_text(json.dumps({**marker, "hash": recorded}))
    for line in refused_by_start_and_verify(data_dir):
        assert f"the journal was replaced: its block 5 is {sealed['head']['hash']}" in line
        assert f"records {recorded}" in line


def test_start_and_verify_refuse_a_missing_head_marker(sealed, tmp_path):
    data_dir = damaged(sealed, tmp_path)
    (data_dir / "journal.head").unlink()
    for line in refused_by_start_and_verify(data_dir):
        assert "the head marker" in line and "is missing" in line


def test_data_directory_from_before_markers_starts_and_gets_one(sealed, tmp_path):
    data_dir = damaged(sealed, tmp_path)
    (data_dir / "journal.head").unlink()
    with journal_db(data_dir) as db:
        db.execute("DELETE FROM meta WHERE key = 'head_marker'")
    result = run_ledger_node("verify", "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr
    assert "no head marker" in result.stdout
    node = NodeProcess(data_dir, PASSWORD).start()
    try:
        assert Rpc(node.url).head()["hash"] == sealed["head"]["hash"]
    finally:
        assert node.stop() == 0
    marker = json.loads((data_dir / "journal.head").read_text())
    assert (marker["block"], marker["hash"]) == (5, sealed["head"]["hash"])
    assert marker["access_contract"] == sealed["access"].address


def test_start_accepts_a_marker_whose_journal_note_was_not_yet_written(sealed, tmp_path):
    """A crash on the first start between writing journal.head and noting it in the journal."""
    data_dir = damaged(sealed, tmp_path, lambda db: db.execute(
        "DELETE FROM meta WHERE key = 'head_marker'"
    ))  # fmt: skip
    node = NodeProcess(data_dir, PASSWORD).start()
    try:
        assert Rpc(node.url).head()["hash"] == sealed["head"]["hash"]
    finally:
        assert node.stop() == 0
    with journal_db(data_dir) as db:
        note = db.execute("SELECT value FROM meta WHERE key = 'head_marker'").fetchone()
    assert note == ("journal.head",)


def test_head_marker_follows_every_sealed_block(sealed, tmp_path):
    data_dir = damaged(sealed, tmp_path)
    node = NodeProcess(data_dir, PASSWORD).start()
    try:
        rpc = Rpc(node.url)
        signed = member_tx(sealed["member"], sealed["access"])
        sealed["member"].nonce -= 1  # the fixture's member is shared: keep its nonce
        assert rpc.send(signed.raw)["result"] == signed.hash
        head = rpc.head()

        def marker() -> tuple[int, str]:
            written = json.loads((data_dir / "journal.head").read_text())
            return written["block"], written["hash"]

        # Written off the sealing path, at most a fraction of a second behind.
        wait_until(lambda: marker() == (6, head["hash"]), timeout=2)
    finally:
        node.kill()
    assert run_ledger_node("verify", "--data-dir", data_dir).returncode == 0


# -------------------------------------------------------------------------------- backup


class Writer:
    """Member transactions as fast as the node answers, recording every hash it returned."""

    def __init__(self, url: str, member: Signer, access: Access) -> None:
        self.url, self.member, self.access = url, member, access
        self.returned: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            signed = [member_tx(self.member, self.access) for _ in range(10)]
            payload = [
                {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [s.raw]}
                for i, s in enumerate(signed)
            ]
            answers = session.post(self.url, json=payload, timeout=10).json()
            self.returned += [a["result"] for a in answers if "result" in a]
            time.sleep(0.01)


def test_backup_under_write_load_starts_and_verifies(tmp_path):
    node = new_node(tmp_path, "node", block_period=0.1, snapshot_every=5)
    try:
        chain = small_chain(node, member_txs=0)
        writer = Writer(node.url, chain["member"], chain["access"])
        writer.thread.start()
        wait_until(lambda: len(writer.returned) >= 200 and chain["rpc"].status()["lastSnapshot"])
        acked_before = list(writer.returned)
        target = tmp_path / "backups" / "one"
        result = run_ledger_node("backup", "--data-dir", node.data_dir, "--to", target)
        sealed_during = int(chain["rpc"].head()["number"], 16)
        writer.stop.set()
        writer.thread.join(timeout=30)
        assert result.returncode == 0, result.stderr
        assert "Copying the journal" in result.stderr
        assert len(writer.returned) > len(acked_before)  # the node kept taking writes
        original = Rpc(node.url)
        wait_until(lambda: original.status()["pending"] == 0)
    finally:
        node.stop()
    assert sorted(p.name for p in target.iterdir()) == [
        "config.json", "genesis.json", "journal.head", "journal.sqlite", "keystore", "snapshots",
    ]  # fmt: skip
    assert list((target / "snapshots").iterdir())
    assert not list(target.parent.glob(".one.partial-*"))
    marker = json.loads((target / "journal.head").read_text())
    assert f"head        block {marker['block']} {marker['hash']}" in result.stdout
    assert marker["block"] <= sealed_during
    copy = NodeProcess(target, PASSWORD).start()
    try:
        rpc = Rpc(copy.url)
        wait_until(lambda: rpc.status()["pending"] == 0)
        assert not receipts_missing(rpc, acked_before)
        number = hex(marker["block"])
        assert rpc.result("eth_getBlockByNumber", [number, False])["hash"] == marker["hash"]
    finally:
        assert copy.stop() == 0
    verify = run_ledger_node("verify", "--data-dir", target)
    assert verify.returncode == 0, verify.stderr


def test_backup_of_a_damaged_data_directory_is_refused(sealed, tmp_path):
    data_dir = damaged(
        sealed, tmp_path, lambda db: db.execute("DELETE FROM blocks WHERE number > 4")
    )
    target = tmp_path / "copy"
    line = error_line(run_ledger_node("backup", "--data-dir", data_dir, "--to", target))
    assert "the journal was shortened" in line
    assert not target.exists()


@pytest.mark.parametrize("case", ["non-empty", "a-file", "inside", "no-data-dir", "not-a-node"])
def test_backup_refuses_bad_input_with_one_error_line(sealed, tmp_path, case):
    data_dir = sealed["data_dir"]
    target = tmp_path / "target"
    expected = {
        "non-empty": "is not empty: back up into a new or empty directory",
        "a-file": "exists and is not a directory",
        "inside": "is inside the data directory",
        "no-data-dir": "does not exist: run `ledger-node init",
        "not-a-node": "config.json is missing",
    }[case]
    if case == "non-empty":
        target.mkdir()
        (target / "keep.txt").write_text("mine")
    elif case == "a-file":
        target.write_text("a file")
    elif case == "inside":
        target = data_dir / "backup"
    elif case == "no-data-dir":
        data_dir = tmp_path / "nowhere"
    else:
        data_dir = tmp_path / "plain"
        data_dir.mkdir()
    line = error_line(run_ledger_node("backup", "--data-dir", data_dir, "--to", target))
    assert expected in line, line
    if case == "non-empty":
        assert [p.name for p in target.iterdir()] == ["keep.txt"]
    assert not (sealed["data_dir"] / "backup").exists()


def test_backup_needs_a_target_and_has_help():
    result = run_ledger_node("backup", "--data-dir", "somewhere")
    assert result.returncode == 2 and "Missing option '--to'" in result.stderr
    help_text = run_ledger_node("backup", "--help")
    assert (
        help_text.returncode == 0
        and "--to" in help_text.stdout
        and "--data-dir" in help_text.stdout
    )


def test_backup_into_an_existing_empty_directory(sealed, tmp_path):
    target = tmp_path / "empty"
    target.mkdir()
    result = run_ledger_node("backup", "--data-dir", sealed["data_dir"], "--to", target)
    assert result.returncode == 0, result.stderr
    assert json.loads((target / "journal.head").read_text())["hash"] == sealed["head"]["hash"]
    assert run_ledger_node("verify", "--data-dir", target).returncode == 0
    shutil.rmtree(target)
