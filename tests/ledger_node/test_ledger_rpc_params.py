"""Bad JSON-RPC parameters get -32602 naming the parameter, alone, in batches and over WebSocket;
nothing a client sends makes the node answer an HTTP 500 or plain text.

One node (block period 0) serves the whole module; every case is one cheap request.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from websockets.sync.client import connect

from tests.ledger_helpers import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    new_node,
)

ADDRESS = "0x" + "11" * 20
HASH = "0x" + "22" * 32
HUGE = "__1e400__"  # stands for the JSON number 1e400 (no Python float spells it)
DEEP = "__deep__"  # stands for an array nested 500 deep (the parser's limit is 1024)


def body(payload: Any) -> str:
    text = json.dumps(payload)
    return text.replace(f'"{HUGE}"', "1e400").replace(f'"{DEEP}"', "[" * 500 + "]" * 500)


@pytest.fixture(autouse=True)
def isolation():
    """These tests use no brownie chain: no snapshot and revert of it around each test."""


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    process = new_node(tmp_path_factory.mktemp("params"), "node", block_period=0)
    yield process
    assert process.stop() == 0


# (method, params, the parameter the message must name)
BAD = [
    ("ledger_getSeal", [HUGE], "params[0] (block)"),
    ("ledger_getJournalEntry", [HUGE], "params[0] (block)"),
    ("ledger_getJournalEntry", [-1], "params[0] (block)"),
    ("ledger_getJournalEntry", [1.5], "params[0] (block)"),
    ("ledger_getJournalEntry", [True], "params[0] (block)"),
    ("ledger_getJournalEntry", [{}], "params[0] (block)"),
    ("ledger_getJournalEntry", [[[1]]], "params[0] (block)"),
    ("ledger_getSeal", [], "missing params[0] (block)"),
    ("eth_getBlockByNumber", [HUGE, False], "params[0] (block)"),
    ("eth_getBlockByNumber", [-1, False], "params[0] (block)"),
    ("eth_getBlockByNumber", [1.5, False], "params[0] (block)"),
    ("eth_getBlockByNumber", [True, False], "params[0] (block)"),
    ("eth_getBlockByNumber", [{}, False], "params[0] (block)"),
    ("eth_getBlockByNumber", [[["0x1"]], False], "params[0] (block)"),
    ("eth_getBlockByNumber", [DEEP, False], "params[0] (block)"),
    ("eth_getBlockByNumber", [5, False], "params[0] (block)"),
    ("eth_getBlockByNumber", ["0x01", False], "params[0] (block)"),
    ("eth_getBlockByNumber", ["0x8000000000000000", False], "params[0] (block)"),
    ("eth_getBlockByNumber", ["newest", False], "params[0] (block)"),
    ("eth_getBlockByNumber", ["latest", "yes"], "params[1] (fullTransactions)"),
    ("eth_getBlockByNumber", ["latest"], "missing params[1] (fullTransactions)"),
    ("eth_getBalance", ["0x1234", "latest"], "params[0] (address)"),
    ("eth_getBalance", [ADDRESS, HUGE], "params[1] (block)"),
    ("eth_getBalance", [ADDRESS, {"blockNumber": "0x0", "blockHash": HASH}], "params[1] (block)"),
    ("eth_getBalance", [ADDRESS, "latest", 1], "too many parameters: eth_getBalance"),
    ("eth_getBalance", [ADDRESS], "missing params[1] (block)"),
    ("eth_chainId", [1], "too many parameters: eth_chainId"),
    ("eth_getStorageAt", [ADDRESS, "0x" + "1" * 65, "latest"], "params[1] (slot)"),
    ("eth_call", ["0x"], "params[0] (call)"),
    ("eth_call", [{"to": ADDRESS, "gas": HUGE}, "latest"], "params[0] (call).gas"),
    ("eth_call", [{"to": ADDRESS, "value": -1}, "latest"], "params[0] (call).value"),
    ("eth_call", [{"to": ADDRESS, "value": "0x1" + "0" * 64}], "params[0] (call).value"),
    ("eth_call", [{"to": "0x12"}, "latest"], "params[0] (call).to"),
    ("eth_call", [{"to": ADDRESS, "data": "0xabc"}, "latest"], "params[0] (call).data"),
    ("eth_call", [{"to": ADDRESS, "data": "0x00", "input": "0x01"}], "params[0] (call)"),
    ("eth_call", [{"to": ADDRESS}, DEEP], "params[1] (block)"),
    ("eth_call", [{"to": ADDRESS}, "latest", {"0x12": {}}], "params[2] (stateOverrides) key"),
    ("eth_estimateGas", [{"from": ADDRESS, "nonce": "0x01"}], "params[0] (call).nonce"),
    ("eth_getLogs", [{"fromBlock": 1.5}], "params[0] (filter).fromBlock"),
    ("eth_getLogs", [{"address": [1]}], "params[0] (filter).address[0]"),
    ("eth_getLogs", [{"topics": [[True]]}], "params[0] (filter).topics[0][0]"),
    ("eth_getLogs", [{"topics": [None] * 5}], "params[0] (filter).topics"),
    ("eth_getLogs", [{"blockHash": HASH, "fromBlock": "0x1"}], "params[0] (filter)"),
    ("eth_getLogs", [], "missing params[0] (filter)"),
    ("eth_getTransactionByHash", ["0x12"], "params[0] (transactionHash)"),
    ("eth_getTransactionReceipt", [HUGE], "params[0] (transactionHash)"),
    ("eth_getTransactionByBlockNumberAndIndex", ["latest", 1.5], "params[1] (index)"),
    ("eth_feeHistory", [HUGE, "latest", []], "params[0] (blockCount)"),
    ("eth_feeHistory", ["0x1", "latest", [50, 10]], "params[2] (rewardPercentiles)[1]"),
    ("eth_feeHistory", ["0x1", "latest", [101]], "params[2] (rewardPercentiles)[0]"),
    ("eth_getFilterChanges", [{}], "params[0] (filterId)"),
    ("eth_sendRawTransaction", [HUGE], "params[0] (transaction)"),
    ("eth_sendRawTransaction", [], "missing params[0] (transaction)"),
    ("web3_sha3", [True], "params[0] (data)"),
    ("debug_traceTransaction", [HASH, {"tracer": 5}], "params[1] (config).tracer"),
    ("eth_getProof", [ADDRESS, "0x1", "latest"], "params[1] (storageKeys)"),
    ("ots_getBlockDetails", [-1], "params[0] (block)"),
]
IDS = [f"{i}-{method}" for i, (method, _, _) in enumerate(BAD)]


@pytest.mark.parametrize("method, params, names", BAD, ids=IDS)
def test_bad_parameter_gets_minus_32602_naming_it_when_sent_alone(rpc, method, params, names):
    reply = rpc.post(body({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}))
    assert reply.status_code == 200
    answer = reply.json()
    assert answer["id"] == 7
    assert answer["error"]["code"] == INVALID_PARAMS, answer
    assert names in answer["error"]["message"], answer


def test_batch_of_bad_parameters_answers_each_and_the_good_ones(rpc):
    good = [
        {"jsonrpc": "2.0", "id": "chain", "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": "seal", "method": "ledger_getSeal", "params": [0]},
        {
            "jsonrpc": "2.0",
            "id": "balance",
            "method": "eth_getBalance",
            "params": [ADDRESS, "latest"],
        },
    ]
    bad = [
        {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
        for i, (method, params, _) in enumerate(BAD)
    ]
    reply = rpc.post(body(bad[: len(bad) // 2] + good + bad[len(bad) // 2 :]))
    assert reply.status_code == 200
    answers = {answer["id"]: answer for answer in reply.json()}
    assert len(answers) == len(BAD) + len(good)
    assert answers["chain"]["result"].startswith("0x")
    assert answers["seal"]["result"] is None  # genesis carries no seal
    assert answers["balance"].get("result") == "0x0", answers["balance"]
    for i, (_, _, names) in enumerate(BAD):
        assert answers[i]["error"]["code"] == INVALID_PARAMS, answers[i]
        assert names in answers[i]["error"]["message"], answers[i]


GOOD = [
    ("eth_getBalance", [ADDRESS, "latest"]),
    ("eth_getBalance", [ADDRESS, {"blockNumber": "0x0"}]),
    ("eth_getStorageAt", [ADDRESS, "0x0", "latest"]),
    ("eth_getStorageAt", [ADDRESS, "0x" + "00" * 32, "latest"]),
    ("eth_call", [{"to": ADDRESS, "data": "0x", "gas": "0x5208", "unknownField": 1}, "latest"]),
    ("eth_estimateGas", [{"from": ADDRESS, "to": ADDRESS, "value": "0x0"}]),
    ("eth_getLogs", [{"fromBlock": "0x0", "address": [ADDRESS], "topics": [None, [HASH, None]]}]),
    ("eth_feeHistory", ["0x1", "latest", [25, 75.5]]),
    ("eth_feeHistory", [1, "latest"]),
    ("eth_getBlockByNumber", ["0x0", True]),
    ("eth_getBlockByNumber", ["finalized", False]),
    ("eth_getBlockReceipts", ["0x0"]),
    ("eth_getProof", [ADDRESS, ["0x" + "00" * 32], "latest"]),
    ("web3_sha3", ["0x68656c6c6f"]),
    ("ots_getBlockDetails", [0]),
    ("ledger_getJournalEntry", ["0x0"]),
]


@pytest.mark.parametrize("method, params", GOOD, ids=[f"{i}-{m}" for i, (m, _) in enumerate(GOOD)])
def test_good_parameters_still_reach_the_engine(rpc, method, params):
    reply = rpc.request(method, params)
    assert "result" in reply, reply


def test_filter_ids_of_the_engine_are_accepted_back(rpc):
    filter_id = rpc.result("eth_newFilter", [{"fromBlock": "latest"}])
    assert rpc.result("eth_getFilterChanges", [filter_id]) == []
    assert rpc.result("eth_uninstallFilter", [filter_id]) is True


@pytest.mark.parametrize("request_id", [HUGE, 1.5, {"a": 1}, [1]], ids=str)
def test_invalid_id_gets_minus_32600_answered_with_a_null_id(rpc, request_id):
    payload = {"jsonrpc": "2.0", "id": request_id, "method": "eth_chainId", "params": []}
    reply = rpc.post(body(payload))
    assert reply.status_code == 200
    assert reply.json()["id"] is None
    assert reply.json()["error"]["code"] == INVALID_REQUEST


def test_json_nested_too_deep_for_the_parser_gets_parse_error(rpc):
    deep = '{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [' + "[" * 100_000
    reply = rpc.post(deep + "]" * 100_000 + "]}")
    assert reply.status_code == 200
    assert reply.json()["error"]["code"] == PARSE_ERROR


def test_http_errors_outside_json_rpc_are_json_too(node):
    missing = requests.get(node.base_url + "/no/such/path", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == INVALID_REQUEST
    assert "/health" in missing.json()["error"]["message"]
    wrong_verb = requests.post(node.base_url + "/health", timeout=10)
    assert wrong_verb.status_code == 405 and wrong_verb.json()["error"]["code"] == INVALID_REQUEST
    get_root = requests.get(node.url, timeout=10)
    assert get_root.status_code == 405 and get_root.json()["error"]["code"] == INVALID_REQUEST


def test_body_over_the_limit_gets_a_json_413(node):
    oversized = b'{"jsonrpc": "2.0", "id": 1, "method": "web3_sha3", "params": ["0x' + (
        b"00" * (17 * 1024 * 1024)
    )
    try:
        reply = requests.post(node.url, data=oversized + b'"]}', timeout=30)
    except requests.ConnectionError:
        pytest.fail("the node cut the connection instead of answering 413")
    assert reply.status_code == 413
    assert reply.json()["error"]["code"] == INVALID_REQUEST
    assert "MiB" in reply.json()["error"]["message"]


def ws_call(ws, payload: Any) -> dict:
    ws.send(body(payload))
    return json.loads(ws.recv(timeout=10))


def test_ws_bad_parameters_get_minus_32602_and_the_socket_stays_open(node):
    with connect(node.ws_url, max_size=None) as ws:
        for i, (method, params, names) in enumerate(BAD[:20]):
            answer = ws_call(ws, {"jsonrpc": "2.0", "id": i, "method": method, "params": params})
            assert answer["id"] == i
            assert answer["error"]["code"] == INVALID_PARAMS and names in answer["error"]["message"]
        subscribe = {"jsonrpc": "2.0", "id": "s", "method": "eth_subscribe"}
        answer = ws_call(ws, {**subscribe, "params": ["logs", {"address": HUGE}]})
        assert answer["error"]["code"] == INVALID_PARAMS
        assert "params[1] (filter).address" in answer["error"]["message"]
        answer = ws_call(ws, {**subscribe, "params": ["newPendingTransactions"]})
        assert answer["error"]["code"] == INVALID_PARAMS and "params[0] (kind)" in str(answer)
        answer = ws_call(ws, {"jsonrpc": "2.0", "id": HUGE, "method": "eth_chainId"})
        assert answer["id"] is None and answer["error"]["code"] == INVALID_REQUEST
        ws.send("[" * 100_000)
        assert json.loads(ws.recv(timeout=10))["error"]["code"] == PARSE_ERROR
        answer = ws_call(ws, {"jsonrpc": "2.0", "id": "ok", "method": "eth_chainId"})
        assert answer["result"].startswith("0x")
