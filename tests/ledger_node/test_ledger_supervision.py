"""The engine is a supervised child: kill -9 of the anvil child (not of the node) is noticed
within a second, reported on /health, and repaired from snapshot and journal while members
keep submitting; nothing acknowledged is lost or mined twice, and the chain goes on.

One node (block period 0.5 s, a snapshot every 3 blocks) serves the module; the engine that
cannot come back has a node of its own.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from websockets.sync.client import connect

from ledger_node.engine import anvil_binary
from ledger_node.launcher import NodeProcess, init_data_dir
from tests.ledger_helpers import (
    PASSWORD,
    BatchSender,
    Rpc,
    access_with_members,
    anvil_processes_for,
    member_tx,
    new_node,
    wait_until,
)

MEMBERS = 3
TXS_PER_MEMBER = 4
LIMIT_EXCEEDED = -32005
RESTARTING = "the engine is restarting; retry in a moment"
INTERNAL = -32603
IN_FLIGHT = "is journaled and will execute when the engine is back"


@pytest.fixture(autouse=True)
def isolation():
    """These tests use no brownie chain: no snapshot and revert of it around each test."""


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    node = new_node(
        tmp_path_factory.mktemp("supervision"), "node", block_period=0.5, snapshot_every=3
    )
    rpc = Rpc(node.url)
    access, members = access_with_members(rpc, node.data_dir, MEMBERS)
    yield {"node": node, "rpc": rpc, "access": access, "members": members, "acked": []}
    assert node.stop() == 0


def kill_engine(node: NodeProcess) -> float:
    """SIGKILL the engine and return once it is gone: a /health read before the signal landed
    would see the old engine still running."""
    (pid,) = anvil_processes_for(node.data_dir)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_until(lambda: pid not in anvil_processes_for(node.data_dir), timeout=5, interval=0.001)
    return killed


def health(url: str, session: requests.Session | None = None) -> tuple[int, dict]:
    reply = (session or requests).get(url + "/health", timeout=5)
    return reply.status_code, reply.json()


class HealthWatch(threading.Thread):
    """/health every 10 ms: (time, HTTP status, ok, engine state)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[tuple[float, int, bool, str]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        while not self.halt.is_set():
            status, body = health(self.url, session)
            self.samples.append((time.monotonic(), status, body["ok"], body["engine"]["state"]))
            time.sleep(0.01)

    def after(self, moment: float) -> list[tuple[float, int, bool, str]]:
        return [s for s in self.samples if s[0] > moment]

    def back_ok_after(self, moment: float) -> bool:
        seen = self.after(moment)
        return any(not ok for _, _, ok, _ in seen) and seen[-1][2]


def test_engine_kill_is_noticed_and_repaired_while_members_submit(chain):
    node, rpc = chain["node"], chain["rpc"]
    watch = HealthWatch(node.base_url)
    load = BatchSender(node.url, chain["members"], chain["access"], TXS_PER_MEMBER, timeout=10)
    with connect(node.ws_url) as ws:
        ws.send(
            json.dumps(
                {"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]}
            )
        )
        assert "result" in json.loads(ws.recv(timeout=10))
        watch.start()
        load.start()
        time.sleep(1.0)
        kills = []
        try:
            for _ in range(2):
                kills.append(kill_engine(node))
                wait_until(lambda: watch.back_ok_after(kills[-1]), timeout=15, interval=0.02)
                time.sleep(1.0)  # members go on submitting on the restored engine
        finally:
            load.halt.set()
            load.join(timeout=30)
            watch.halt.set()
            watch.join(timeout=10)
        for kill, next_kill in zip(kills, [*kills[1:], float("inf")], strict=True):
            window = [s for s in watch.after(kill) if s[0] < next_kill]
            down = [s for s in window if not s[2]]
            back = [s for s in window if s[0] > down[-1][0]]
            print(
                f"engine killed: /health not ok after {down[0][0] - kill:.3f} s, "
                f"ok again after {back[0][0] - kill:.3f} s"
            )
            # Noticed within a second, as 503 with the engine restarting; then ok again.
            assert down[0][0] - kill < 1.0, down[0][0] - kill
            assert {(status, state) for _, status, _, state in down} == {(503, "restarting")}
            assert back[0][1:] == (200, True, "running")
        assert all(ok for t, _, ok, _ in watch.samples if t < kills[0])
        # Every answer the members got was JSON-RPC over HTTP 200; the only refusals said the
        # engine is restarting, or (right after, on a stale nonce) named the nonce.
        assert load.not_json == 0 and set(load.statuses) == {200}, load.statuses
        codes = {code for code, _ in load.errors}
        assert codes <= {LIMIT_EXCEEDED, -32003, INTERNAL}, load.errors
        # A submission in flight at the moment of the kill was journaled before the engine
        # died under it: the node says so (it will execute; poll, do not re-sign).
        assert all(IN_FLIGHT in m for c, m in load.errors if c == INTERNAL), load.errors
        assert all(m == RESTARTING for c, m in load.errors if c == LIMIT_EXCEEDED)
        assert len(load.acked) >= 100, (len(load.acked), load.errors)
        chain["acked"] += load.acked
        wait_until(lambda: rpc.status()["pending"] == 0, timeout=15)
        final_head = int(rpc.status()["head"], 16)
        heads = []
        while True:
            try:
                heads.append(
                    int(json.loads(ws.recv(timeout=1.5))["params"]["result"]["number"], 16)
                )
            except TimeoutError:
                break
    # New blocks were sealed after each restart and announced once each.
    assert heads == sorted(set(heads)) and heads[-1] == final_head, heads
    assert any(n > final_head - 2 for n in heads)
    status, body = health(node.base_url)
    assert status == 200 and body["engine"]["restarts"] == 2 and body["engine"]["exits"] == 2
    assert body["engine"]["lastExit"] == "was killed by SIGKILL"
    metrics = requests.get(node.base_url + "/metrics", timeout=5).text
    assert "ledger_engine_restarts_total 2" in metrics and "ledger_engine_up 1" in metrics
    assert len(anvil_processes_for(node.data_dir)) == 1


def test_requests_get_a_json_rpc_error_while_the_engine_restarts(chain):
    node, rpc = chain["node"], chain["rpc"]
    member = chain["members"][0]
    member.sync_nonce(rpc)
    session = requests.Session()
    calls = {
        "read": {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
        "status": {"jsonrpc": "2.0", "id": 2, "method": "ledger_status", "params": []},
    }
    seen: Counter[str] = Counter()
    killed = kill_engine(node)
    while time.monotonic() - killed < 10:
        tx = member_tx(member, chain["access"])
        sent = {"jsonrpc": "2.0", "id": 3, "method": "eth_sendRawTransaction", "params": [tx.raw]}
        for name, payload in [*calls.items(), ("send", sent)]:
            reply = session.post(node.url, json=payload, timeout=10)
            assert reply.status_code == 200 and reply.headers["Content-Type"].startswith(
                "application/json"
            )
            answer = reply.json()
            if "error" in answer:
                assert answer["error"] == {"code": LIMIT_EXCEEDED, "message": RESTARTING}, answer
                seen[f"{name} refused"] += 1
                if name == "send":
                    member.nonce -= 1
            else:
                seen[f"{name} answered"] += 1
                if name == "send":
                    chain["acked"].append(answer["result"])
        if seen["read refused"] and health(node.base_url)[1]["ok"]:
            break
    # Reads and writes were refused with the JSON-RPC error, while the node's own status
    # (no engine needed) answered throughout.
    assert seen["read refused"] >= 1 and seen["send refused"] >= 1, seen
    assert seen["status refused"] == 0 and seen["status answered"] >= 1, seen
    wait_until(lambda: "result" in rpc.request("eth_blockNumber", []), timeout=15)


def test_journaled_unsealed_transactions_are_mined_after_an_engine_kill(chain):
    node, rpc = chain["node"], chain["rpc"]
    for _attempt in range(5):
        for member in chain["members"]:
            member.sync_nonce(rpc)
        # Right after a block is sealed: the next one is a block period away.
        trigger = member_tx(chain["members"][0], chain["access"])
        assert rpc.send(trigger.raw).get("result") == trigger.hash
        chain["acked"].append(trigger.hash)
        wait_until(lambda: rpc.status()["pending"] == 0, timeout=10, interval=0.01)
        head = rpc.status()["head"]
        signed = [member_tx(m, chain["access"]) for m in chain["members"] for _ in range(3)]
        answers = rpc.post(
            [
                {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [s.raw]}
                for i, s in enumerate(signed)
            ]
        ).json()
        assert all(a.get("result") == signed[a["id"]].hash for a in answers), answers
        kill_engine(node)
        # ledger_status needs no engine; with the engine dead nothing can be sealed meanwhile.
        pending = rpc.status()["pending"]
        chain["acked"] += [s.hash for s in signed]
        wait_until(lambda: health(node.base_url)[1]["ok"], timeout=15, interval=0.02)
        if pending == len(signed):
            break
    else:
        pytest.fail("never killed the engine between acknowledging and sealing")
    receipts = [rpc.receipt(s.hash) for s in signed]
    assert all(r["status"] == "0x1" for r in receipts)
    assert int(receipts[0]["blockNumber"], 16) > int(head, 16)


def test_every_acknowledged_transaction_is_mined_exactly_once(chain):
    rpc = chain["rpc"]
    wait_until(lambda: rpc.status()["pending"] == 0, timeout=15)
    head = int(rpc.status()["head"], 16)
    answers = rpc.post(
        [
            {"jsonrpc": "2.0", "id": n, "method": "eth_getBlockByNumber", "params": [hex(n), False]}
            for n in range(1, head + 1)
        ]
    ).json()
    mined = [h for answer in answers for h in answer["result"]["transactions"]]
    assert len(mined) == len(set(mined))
    assert set(chain["acked"]) <= set(mined)
    assert rpc.status()["journalTransactions"] == len(mined)
    # The node replays to the same chain: its journal entries still match the engine's blocks.
    entry = rpc.result("ledger_getJournalEntry", [head])
    assert entry["hash"] == rpc.head()["hash"]


def test_engine_that_cannot_restart_is_reported_down_with_the_reason(tmp_path, monkeypatch):
    wrapper = tmp_path / "bin" / "anvil"
    wrapper.parent.mkdir()
    broken = tmp_path / "engine-broken"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'if [ -e "{broken}" ]; then echo "simulated engine failure: cannot start" >&2; exit 3; fi\n'
        f'exec "{anvil_binary()}" "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("LEDGER_NODE_ANVIL", str(wrapper))
    init_data_dir(tmp_path / "node", PASSWORD, block_period=0.5)
    node = NodeProcess(
        tmp_path / "node",
        PASSWORD,
        admin_token="throwaway-admin-token-for-tests",
        extra_args=("--engine-restart-attempts", "2", "--engine-restart-backoff", "0.1"),
    ).start()
    try:
        rpc = Rpc(node.url)
        assert health(node.base_url)[1]["ok"]
        Path(broken).touch()
        killed = kill_engine(node)
        wait_until(lambda: health(node.base_url)[1]["engine"]["state"] == "down", timeout=10)
        assert time.monotonic() - killed < 5  # two attempts 0.1 s apart, not forever
        status, body = health(node.base_url)
        assert status == 503 and body["ok"] is False
        engine = body["engine"]
        assert engine["lastExit"] == "was killed by SIGKILL"
        assert "gave up after 2 failed restart attempts" in engine["reason"]
        assert "simulated engine failure: cannot start" in engine["reason"]
        error = rpc.error("eth_chainId")
        assert error["code"] == -32603 and "the engine is down" in error["message"]
        assert "restart the node" in error["message"]
        assert rpc.status()["head"] == "0x0"  # the node itself still answers
        snapshot = node.admin("admin_snapshot")["error"]
        assert snapshot["code"] == -32603 and "the engine is down" in snapshot["message"]
        assert "ledger_engine_up 0" in requests.get(node.base_url + "/metrics", timeout=5).text
    finally:
        assert node.stop() == 0
