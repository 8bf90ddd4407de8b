"""Limits of the ledger node: a WebSocket client that stops reading never stops the chain and
is dropped; subscriptions per connection and connections are bounded; keyless reads have a
gas cap, a time limit, bounded concurrency and a per-client rate limit; a read flood does not
delay members' transactions.

One node serves the module, with small limits set through the LEDGER_NODE_* variables of
`ledger-node start`. Clients that must count as other machines send from other loopback
addresses (127.0.0.2 …): the rate limit spares the node's own host (127.0.0.1) by default.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import struct
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from websockets.sync.client import connect

from tests.ledger_helpers import (
    Access,
    Rpc,
    Signer,
    authority_key,
    cli,
    member_tx,
    new_node,
    wait_until,
)

CHAIN_ID = 3_100_000_000 + os.getpid() % 100_000_000
BLOCK_PERIOD = 0.25
LIMIT_EXCEEDED = -32005
INFINITE_LOOP = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP, run as init code
BLOCK_GAS_LIMIT = 250_000_000
RATE, BURST = 20, 40
EVM_TIMEOUT = 1.0
LIMITS = {
    "LEDGER_NODE_WS_MAX_QUEUED": "200",
    "LEDGER_NODE_WS_MAX_CONNECTIONS": "6",
    "LEDGER_NODE_RPC_RATE_LIMIT": str(RATE),
    "LEDGER_NODE_RPC_RATE_BURST": str(BURST),
    "LEDGER_NODE_RPC_EVM_TIMEOUT": str(EVM_TIMEOUT),
    # An opcode trace of this much looping takes anvil several seconds, past the time limit even
    # on a fast, quiet machine (3M gas finished within 1.5 s there).
    "LEDGER_NODE_RPC_TRACE_GAS_CAP": "10000000",
}
# Generous: a member's transaction waits at most one period for the seal, plus the time the
# machine (shared by other test runs) takes to answer.
MEMBER_BOUND = 2 * BLOCK_PERIOD + 1.5


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:  # the node reads its limits when it starts
        for key, value in LIMITS.items():
            patch.setenv(key, value)
        process = new_node(
            tmp_path_factory.mktemp("limits"), "node", block_period=BLOCK_PERIOD, chain_id=CHAIN_ID
        )
    yield process
    assert process.stop() == 0


@pytest.fixture(scope="module")
def access(node, rpc):
    return Access.deploy(rpc, Signer(authority_key(node.data_dir), CHAIN_ID))


@pytest.fixture(scope="module")
def member(rpc, access):
    account = Signer(None, CHAIN_ID)
    assert rpc.receipt(access.onboard(account.address).hash)["status"] == "0x1"
    return account


def submit_and_wait(rpc: Rpc, member: Signer, access: Access) -> float:
    """Seconds from sending a member's transaction to its receipt."""
    signed = member_tx(member, access)
    started = time.monotonic()
    reply = rpc.send(signed.raw)
    assert reply.get("result") == signed.hash, reply
    receipt = rpc.receipt(signed.hash, timeout=30)
    assert receipt["status"] == "0x1"
    return time.monotonic() - started


def metric(node, name: str) -> float:
    text = Rpc(node.url).session.get(node.base_url + "/metrics", timeout=10).text
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} is not on /metrics"
    return float(found.group(1))


def token_path(node) -> str:
    """The path of the node's URL: /t/<the launcher's token> (these tests are about limits, and
    most of their reads need a token)."""
    return urlsplit(node.url).path or "/"


def post_from(node, source: str, payload, timeout: float = 60) -> tuple[int, object]:
    """POST JSON-RPC from another loopback address (another client IP for the node)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", node.port, timeout=timeout, source_address=(source, 0)
    )
    try:
        body = json.dumps(payload)
        connection.request("POST", token_path(node), body, {"Content-Type": "application/json"})
        reply = connection.getresponse()
        return reply.status, json.loads(reply.read())
    finally:
        connection.close()


def batch(method: str, params: list, count: int) -> list[dict]:
    return [{"jsonrpc": "2.0", "id": i, "method": method, "params": params} for i in range(count)]


def loop_call_params() -> list:
    return [{"data": INFINITE_LOOP, "gas": hex(BLOCK_GAS_LIMIT)}, "latest"]


# ----------------------------------------------------- a raw WebSocket client that stops reading


class StalledSocket:
    """A WebSocket client on a plain socket with a tiny receive buffer: after subscribing it
    reads nothing, so the node's writes pile up like a client that stopped reading."""

    def __init__(self, port: int, path: str = "/") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(15)
        self.sock.connect(("127.0.0.1", port))
        key = b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self.sock.recv(4096)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send(self, message: dict) -> None:
        payload = json.dumps(message).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def _read(self, count: int) -> bytes:
        while len(self.buffer) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the node closed the connection without a close frame")
            self.buffer += chunk
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def frames(self) -> Iterator[tuple[int, bytes]]:
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            yield first & 0x0F, self._read(length)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


# ---------------------------------------------------------------------------- WebSocket


def test_sealing_goes_on_and_a_subscriber_that_never_reads_is_dropped_with_the_reason(
    node, rpc, access, member
):
    stalled = StalledSocket(node.port, token_path(node))
    try:
        for request_id in range(1, 34):
            stalled.send(
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "method": "eth_subscribe",
                    "params": ["newHeads"],
                }
            )
        answers = {}
        frames = stalled.frames()
        while len(answers) < 33:
            opcode, payload = next(frames)
            assert opcode == 1, (opcode, payload[:200])
            message = json.loads(payload)
            if "id" in message:
                answers[message["id"]] = message
        assert all("result" in answers[i] for i in range(1, 33))
        assert answers[33]["error"]["code"] == LIMIT_EXCEEDED
        assert "32" in answers[33]["error"]["message"]

        # From here on the client reads nothing. Blocks keep coming, each with 32 notifications.
        latencies = []
        deadline = time.monotonic() + 60
        while metric(node, "ledger_ws_subscribers_dropped_total") < 1:
            assert time.monotonic() < deadline, "the stalled subscriber was never dropped"
            latencies.append(submit_and_wait(rpc, member, access))
        assert len(latencies) >= 3  # the sealer went through blocks while the client stalled
        assert max(latencies) <= MEMBER_BOUND, latencies

        close = next((payload for opcode, payload in frames if opcode == 8), None)
        assert close is not None
        code = struct.unpack(">H", close[:2])[0]
        assert code == 1008
        assert close[2:].decode().startswith("too slow:"), close
        assert metric(node, "ledger_ws_queued_messages") == 0
        assert submit_and_wait(rpc, member, access) <= MEMBER_BOUND
    finally:
        stalled.close()


def test_subscription_beyond_the_limit_is_refused_until_one_is_dropped(node):
    with connect(node.ws_url) as ws:

        def call(request_id: int, method: str, params: list) -> dict:
            ws.send(
                json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
            )
            while True:
                message = json.loads(ws.recv(timeout=10))
                if message.get("id") == request_id:
                    return message

        ids = [call(i, "eth_subscribe", ["newHeads"])["result"] for i in range(32)]
        error = call(100, "eth_subscribe", ["logs", {}])["error"]
        assert error["code"] == LIMIT_EXCEEDED
        assert "32" in error["message"] and "--ws-max-subscriptions" in error["message"]
        assert call(101, "eth_unsubscribe", [ids[0]])["result"] is True
        assert call(102, "eth_subscribe", ["newHeads"])["result"].startswith("0x")


def test_websocket_connections_beyond_the_limit_are_refused_with_a_json_error(node):
    opened = []
    try:
        refused = None
        for _ in range(10):
            connection = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
            connection.request(
                "GET",
                "/",
                headers={
                    "Upgrade": "websocket",
                    "Connection": "Upgrade",
                    "Sec-WebSocket-Key": b64encode(os.urandom(16)).decode(),
                    "Sec-WebSocket-Version": "13",
                },
            )
            reply = connection.getresponse()
            opened.append(connection)
            if reply.status != 101:
                refused = (reply.status, reply.read())
                break
        assert refused is not None, "more WebSocket connections than the limit were accepted"
        status, body = refused
        assert status == 503
        error = json.loads(body)["error"]
        assert error["code"] == LIMIT_EXCEEDED and "6" in error["message"]
        assert len(opened) <= 7
    finally:
        for connection in opened:
            connection.close()
    # Closed connections free their places.
    wait_until(lambda: metric(node, "ledger_ws_connections") == 0, timeout=10)
    with connect(node.ws_url) as ws:
        ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}))
        assert json.loads(ws.recv(timeout=10))["result"] == hex(CHAIN_ID)


# -------------------------------------------------------------------------------- reads


@pytest.mark.parametrize("method", ["eth_call", "eth_estimateGas"])
def test_infinite_loop_read_stops_at_the_gas_cap_when_asked_for_the_block_gas_limit(rpc, method):
    started = time.monotonic()
    error = rpc.error(method, loop_call_params())
    elapsed = time.monotonic() - started
    assert error["code"] == LIMIT_EXCEEDED
    assert "50000000" in error["message"], error
    # At the block gas limit this loop runs five times longer; the cap ends it well within the
    # time limit (the time-limit error would say so).
    assert elapsed < EVM_TIMEOUT, elapsed


def test_read_without_gas_runs_with_the_cap(node, rpc):
    before = metric(node, "ledger_rpc_reads_gas_capped_total")
    error = rpc.error("eth_call", [{"data": INFINITE_LOOP}, "latest"])
    assert error["code"] == LIMIT_EXCEEDED and "50000000" in error["message"]
    assert metric(node, "ledger_rpc_reads_gas_capped_total") == before + 1


def test_read_past_the_time_limit_is_answered_at_the_limit_and_keeps_its_slot(node, rpc):
    started = time.monotonic()
    error = rpc.error("debug_traceCall", [{"data": INFINITE_LOOP}, "latest", {}])
    elapsed = time.monotonic() - started
    assert error["code"] == LIMIT_EXCEEDED
    assert "time limit" in error["message"] and "--rpc-evm-timeout" in error["message"]
    assert elapsed < EVM_TIMEOUT + 2, elapsed
    # anvil cannot be interrupted: the abandoned trace still counts against the read slots
    # until anvil finishes it.
    assert metric(node, "ledger_rpc_reads_abandoned") == 1
    assert metric(node, "ledger_rpc_reads_in_flight") >= 1
    wait_until(lambda: metric(node, "ledger_rpc_reads_abandoned") == 0, timeout=60, interval=0.5)
    assert metric(node, "ledger_rpc_reads_in_flight") == 0


def test_rate_limit_refuses_with_32005_per_batch_entry_and_recovers(node):
    status, answers = post_from(node, "127.0.0.2", batch("eth_chainId", [], BURST + 20))
    assert status == 200
    served = [a for a in answers if "result" in a]
    refused = [a for a in answers if "error" in a]
    assert BURST <= len(served) < BURST + 20  # the bucket refills a little meanwhile
    assert refused and all(a["error"]["code"] == LIMIT_EXCEEDED for a in refused)
    message = refused[0]["error"]["message"]
    assert f"rate limit: {RATE} requests/s per client" in message and "retry after" in message
    assert metric(node, 'ledger_rpc_reads_refused_total{reason="rate_limit"}') >= len(refused)
    # Another client is not affected, and the node's own host is spared.
    assert all("result" in a for a in post_from(node, "127.0.0.3", batch("eth_chainId", [], 10))[1])
    assert all(
        "result" in a for a in post_from(node, "127.0.0.1", batch("eth_chainId", [], 100))[1]
    )
    time.sleep(1.0)
    _, later = post_from(node, "127.0.0.2", batch("eth_chainId", [], RATE // 2))
    assert all(a.get("result") == hex(CHAIN_ID) for a in later), later


def test_the_nodes_own_host_batches_hundreds_of_eth_calls_within_the_gas_cap(node):
    """The API's relayer reads a nonce and dry-runs every request of a relay batch in one
    JSON-RPC batch: from the node's own host (rate-exempt) every entry is answered, past the
    per-client queue of keyless strangers, and each call still runs within the gas cap."""
    quick = [{"to": "0x" + "00" * 20, "data": "0x"}, "latest"]
    calls = batch("eth_call", quick, 300)
    calls.append({"jsonrpc": "2.0", "id": 300, "method": "eth_call", "params": loop_call_params()})
    status, answers = post_from(node, "127.0.0.1", calls)
    assert status == 200 and len(answers) == 301
    by_id = {answer["id"]: answer for answer in answers}
    assert all(by_id[i].get("result") == "0x" for i in range(300)), by_id[0]
    assert "ran out of gas at the read gas cap" in by_id[300]["error"]["message"]


def test_the_nodes_own_host_sends_its_heavy_reads_to_the_engine_in_chunks(node):
    """A relay batch's dry-runs from the node's own host reach anvil 64 to a request (each one
    by one cost the node ~215 µs and anvil ~85 µs); a stranger's still go one per request, each
    with its own slot and time limit."""
    quick = [{"to": "0x" + "00" * 20, "data": "0x"}, "latest"]
    requests_metric = "ledger_rpc_engine_heavy_requests_total"
    before = metric(node, requests_metric)
    status, answers = post_from(node, "127.0.0.1", batch("eth_call", quick, 200))
    assert status == 200 and all(a.get("result") == "0x" for a in answers), answers[:2]
    assert metric(node, requests_metric) - before == 4  # ceil(200 / 64)
    before = metric(node, requests_metric)
    status, answers = post_from(node, "127.0.0.4", batch("eth_call", quick, 5))
    assert status == 200 and all(a.get("result") == "0x" for a in answers), answers[:2]
    assert metric(node, requests_metric) - before == 5


def test_member_transactions_are_mined_within_two_block_periods_when_reads_flood(
    node, rpc, access, member
):
    stop = threading.Event()
    outcomes: dict[str, int] = {"served": 0, "refused": 0}
    lock = threading.Lock()

    def flood(source: str) -> None:
        while not stop.is_set():
            try:
                _, answers = post_from(node, source, batch("eth_call", loop_call_params(), 20))
            except OSError:
                continue
            with lock:
                for answer in answers:
                    # Served: ran until the gas cap. Refused: any other limit.
                    error = answer.get("error", {})
                    if error.get("code") != LIMIT_EXCEEDED:
                        kind = "other"
                    else:
                        kind = "served" if "gas cap" in error["message"] else "refused"
                    outcomes[kind] = outcomes.get(kind, 0) + 1

    threads = [
        threading.Thread(target=flood, args=(f"127.0.0.{10 + i}",), daemon=True) for i in range(4)
    ]
    for thread in threads:
        thread.start()
    try:
        wait_until(lambda: metric(node, "ledger_rpc_reads_in_flight") >= 2, timeout=10)
        latencies = [submit_and_wait(rpc, member, access) for _ in range(8)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert max(latencies) <= MEMBER_BOUND, latencies
    assert outcomes["served"] > 0, outcomes  # the flood did reach the engine
    assert "other" not in outcomes, outcomes  # every call either ran to the cap or was refused


# ------------------------------------------------------------------------------ options


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--rpc-read-concurrency", "2", "--rpc-read-per-client", "3"], "--rpc-read-per-client"),
        (["--rpc-gas-cap", "5000000", "--rpc-trace-gas-cap", "6000000"], "--rpc-trace-gas-cap"),
        (["--rpc-rate-exempt", "not-an-address"], "--rpc-rate-exempt"),
    ],
)
def test_start_refuses_a_limit_out_of_range_naming_the_option(tmp_path, args, named):
    result = cli("start", "--data-dir", tmp_path / "absent", *args, timeout=60)
    assert result.returncode != 0
    assert named in result.stderr, result.stderr
