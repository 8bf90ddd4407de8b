"""The ledger node end to end: brownie deploys through the gateway, permissioning, the method
policy, batches, WebSocket subscriptions, and malformed JSON-RPC.

One node (block period 0: a block is sealed before a transaction's hash is returned) serves the
whole module; the contracts are deployed on it by the real operator script
(`brownie run scripts/deploy.py main --network citypass-local`) in a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest
import rlp
from brownie.test import given
from eth_hash.auto import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from web3 import Web3
from websockets.sync.client import connect

from citypass.protocol.roles import ROLES
from citypass.protocol.seals import seal_signer
from tests.ledger_helpers import (
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    PASSWORD,
    ROOT,
    SECP256K1_N,
    TRANSACTION_REJECTED,
    Access,
    Rpc,
    Signer,
    artifact,
    authority_key,
    brownie_home,
    call_data,
    config_of,
    member_tx,
    new_node,
    preserved_deployment_records,
)

# A chain id of this run alone: brownie keeps live-network artifacts per chain id
# (build/deployments/<chain id>/), and stale ones of another chain with the same id make
# `brownie run` fail with ContractNotFound before the script starts.
CHAIN_ID = 3_000_000_000 + os.getpid()
PAYEES = ("treasury", "village-enterprise", "city-fund", "platform", "operator", "oracle")
ACTIVE, SUSPENDED = 1, 2


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    process = new_node(tmp_path_factory.mktemp("ledger"), "node", block_period=0, chain_id=CHAIN_ID)
    yield process
    assert process.stop() == 0


@pytest.fixture(scope="module")
def w3(node):
    return Web3(Web3.HTTPProvider(node.url))


@pytest.fixture(scope="module")
def admin(node):
    return Signer(authority_key(node.data_dir), CHAIN_ID)


@pytest.fixture(scope="module")
def deployed(node, admin, tmp_path_factory):
    """The operator's deploy script, run by the real `brownie run` against the node."""
    payees = {name: Signer(None, CHAIN_ID) for name in PAYEES}
    home = brownie_home(tmp_path_factory.mktemp("home"), node.url, CHAIN_ID)
    env = dict(
        os.environ,
        HOME=str(home),
        CITYPASS_KEYSTORE_PASSWORD=PASSWORD,
        PATH=f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONWARNINGS="ignore::FutureWarning",
    )
    command = [
        str(os.path.join(os.path.dirname(sys.executable), "brownie")),
        "run",
        "scripts/deploy.py",
        "main",
        f"as={node.data_dir / 'keystore' / 'authority.json'}",
        *(f"{name}={payee.address}" for name, payee in payees.items()),
        "force=yes",  # a record of another chain may exist; it is restored afterwards
        "--network",
        "citypass-local",
    ]
    record_path = ROOT / "deployments" / "citypass-local.json"
    before = record_path.read_bytes() if record_path.exists() else None
    with preserved_deployment_records(CHAIN_ID) as record:
        result = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        written = json.loads(record.read_text()) if record.exists() else None
    if written is not None and written.get("chainId") != CHAIN_ID:
        written = None  # an older record of another chain: brownie wrote nothing
    after = record_path.read_bytes() if record_path.exists() else None
    return {
        "result": result,
        "record": written,
        "payees": payees,
        "restored": before == after,
    }


@pytest.fixture(scope="module")
def access(rpc, admin, deployed):
    record = deployed["record"]
    if record is None:  # brownie failed (its own test says why): deploy CityAccess directly
        return Access.deploy(rpc, admin)
    admin.sync_nonce(rpc)
    return Access(rpc, admin, bytes.fromhex(record["contracts"]["access"][2:]))


@pytest.fixture(scope="module")
def member(rpc, access):
    account = Signer(None, CHAIN_ID)
    receipt = rpc.receipt(access.onboard(account.address).hash)
    assert receipt["status"] == "0x1"
    return account


@pytest.fixture(scope="module")
def stranger():
    return Signer(None, CHAIN_ID)


def send_ok(rpc: Rpc, signed) -> dict:
    reply = rpc.send(signed.raw)
    assert reply.get("result") == signed.hash, reply
    return rpc.receipt(signed.hash)


def refused(rpc: Rpc, signer: Signer, signed, code: int = TRANSACTION_REJECTED) -> str:
    """Send a transaction that must be refused; gives its nonce back; returns the message."""
    reply = rpc.send(signed.raw)
    assert "error" in reply, reply
    assert reply["error"]["code"] == code, reply
    if signed.nonce == signer.nonce - 1:
        signer.nonce -= 1
    assert rpc.result("eth_getTransactionByHash", [signed.hash]) is None
    return reply["error"]["message"]


# -------------------------------------------------------------------- brownie deployment


def test_brownie_deploy_script_deploys_through_the_gateway(deployed, w3, admin):
    result = deployed["result"]
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "deploy.py" in result.stdout and "wrote " in result.stdout
    assert f"as {admin.address}" in result.stdout
    record = deployed["record"]
    assert record["network"] == "citypass-local"
    assert record["chainId"] == CHAIN_ID == w3.eth.chain_id
    assert set(record["contracts"]) == {
        *("access", "forwarder", "credit", "slots", "split", "market"),
        *("devices", "occupancy", "incidents"),
        *("operators", "trips", "journeys", "valet"),
    }
    for address in record["contracts"].values():
        assert len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0
    city_access = w3.eth.contract(
        address=record["contracts"]["access"], abi=artifact("CityAccess")["abi"]
    )
    assert city_access.functions.hasRole(ROLES["CITY_ADMIN"], admin.address).call()
    payees = deployed["payees"]
    assert city_access.functions.hasRole(ROLES["OPERATOR"], payees["operator"].address).call()
    assert city_access.functions.hasRole(ROLES["TREASURY"], payees["treasury"].address).call()
    assert city_access.functions.isActiveMember(payees["city-fund"].address).call()


def test_node_discovers_the_city_access_that_brownie_deployed(deployed, rpc):
    assert deployed["record"] is not None
    assert rpc.status()["accessContract"] == deployed["record"]["contracts"]["access"]


def test_brownie_deployment_leaves_the_repository_records_as_they_were(deployed):
    assert deployed["restored"]
    assert not (ROOT / "build" / "deployments" / str(CHAIN_ID)).exists()


# --------------------------------------------------------------------------- permission


def test_member_transaction_is_accepted_and_sealed(rpc, access, member, admin):
    signed = member_tx(member, access)
    receipt = send_ok(rpc, signed)
    assert receipt["status"] == "0x1"
    assert receipt["from"].lower() == member.address.lower()
    block = rpc.result("eth_getBlockByNumber", [receipt["blockNumber"], False])
    seal = rpc.result("ledger_getSeal", [receipt["blockNumber"]])
    assert seal["hash"] == block["hash"] and seal["parentHash"] == block["parentHash"]
    signer = seal_signer(
        bytes.fromhex(seal["signature"][2:]),
        CHAIN_ID,
        int(block["number"], 16),
        bytes.fromhex(block["hash"][2:]),
        bytes.fromhex(block["parentHash"][2:]),
    )
    assert signer == admin.address == seal["authority"]


def test_typed_transactions_of_a_member_are_accepted(rpc, access, member):
    base = {"chainId": CHAIN_ID, "gas": 100_000, "to": access.address, "value": 0, "data": b""}
    eip1559 = member.sign_dict(
        {**base, "type": 2, "nonce": member.nonce, "maxFeePerGas": 0, "maxPriorityFeePerGas": 0}
    )
    member.nonce += 1
    assert send_ok(rpc, eip1559)["type"] == "0x2"
    eip2930 = member.sign_dict(
        {**base, "type": 1, "nonce": member.nonce, "gasPrice": 0, "accessList": []}
    )
    member.nonce += 1
    assert send_ok(rpc, eip2930)["type"] == "0x1"


def test_non_member_is_refused_with_an_error_naming_the_address(rpc, access, stranger):
    message = refused(rpc, stranger, member_tx(stranger, access))
    assert stranger.address in message
    assert "not permitted" in message


def test_suspended_member_is_refused_naming_the_address_until_reinstated(rpc, access):
    account = Signer(None, CHAIN_ID)
    send_ok(rpc, access.onboard(account.address))
    send_ok(rpc, member_tx(account, access))
    receipt = send_ok(rpc, access.suspend(account.address))
    assert receipt["status"] == "0x1"
    message = refused(rpc, account, member_tx(account, access))
    assert account.address in message
    send_ok(rpc, access.reinstate(account.address))
    assert send_ok(rpc, member_tx(account, access))["status"] == "0x1"


def test_role_holder_may_send_and_onboard(rpc, access, deployed):
    operator = deployed["payees"]["operator"]
    operator.sync_nonce(rpc)
    newcomer = Signer(None, CHAIN_ID)
    refused(rpc, newcomer, member_tx(newcomer, access))
    receipt = send_ok(
        rpc, operator.sign(access.address_bytes, call_data("onboard(address)", newcomer.address))
    )
    assert receipt["status"] == "0x1"
    assert access.member_status(newcomer.address) == ACTIVE
    send_ok(rpc, member_tx(newcomer, access))


OPS = st.lists(
    st.tuples(
        st.sampled_from(["onboard", "suspend", "reinstate", "send", "send"]), st.integers(0, 2)
    ),
    min_size=1,
    max_size=10,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_permission_cache_never_says_yes_after_a_suspension_is_sealed(rpc, access, ops):
    """Random onboard/suspend/reinstate by the admin and sends by members: once the block with
    a suspension is sealed, the member's next transaction is refused; once the reinstatement is
    sealed, it is accepted again; the gateway's answer always equals CityAccess's."""
    members = [Signer(None, CHAIN_ID) for _ in range(3)]
    status = [0, 0, 0]  # NONE, ACTIVE, SUSPENDED
    access.admin.sync_nonce(rpc)

    def send(index: int) -> None:
        account = members[index]
        signed = member_tx(account, access)
        reply = rpc.send(signed.raw)
        if status[index] == ACTIVE:
            assert reply.get("result") == signed.hash, (ops, reply)
            assert rpc.receipt(signed.hash)["status"] == "0x1"
        else:
            assert reply.get("error", {}).get("code") == TRANSACTION_REJECTED, (ops, reply)
            assert account.address in reply["error"]["message"]
            account.nonce -= 1

    for op, index in ops:
        if op == "send":
            send(index)
            continue
        valid = {"onboard": status[index] == 0, "suspend": status[index] == ACTIVE}.get(
            op, status[index] == SUSPENDED
        )
        signed = getattr(access, op)(members[index].address)
        receipt = rpc.receipt(signed.hash)
        assert receipt["status"] == ("0x1" if valid else "0x0"), (ops, op, index)
        # The block that carries it is sealed (journaled and signed) ...
        assert (
            rpc.result("ledger_getSeal", [receipt["blockNumber"]])["hash"] == receipt["blockHash"]
        )
        if valid:
            status[index] = {"onboard": ACTIVE, "suspend": SUSPENDED, "reinstate": ACTIVE}[op]
        assert access.is_allowed(members[index].address) == (status[index] == ACTIVE)
        # ... so the member's very next transaction gets the new answer.
        send(index)


def test_no_transaction_of_a_suspended_member_lands_after_the_suspension_block(tmp_path):
    """A member sends as fast as it can while the admin suspends it (block period 0.2 s): no
    transaction of the member may be admitted after the suspension's block was mined, i.e. none
    may land in a later block (everything admitted before a block is mined goes into it)."""
    node = new_node(tmp_path, "racy", block_period=0.2)
    try:
        rpc = Rpc(node.url)
        chain_id = int(rpc.result("eth_chainId"), 16)
        access = Access.deploy(rpc, Signer(authority_key(node.data_dir), chain_id))
        late = []
        for _ in range(5):
            account = Signer(None, chain_id)
            rpc.receipt(access.onboard(account.address).hash)
            admitted: list[str] = []
            stop = threading.Event()

            def hammer(account=account, admitted=admitted, stop=stop) -> None:
                own = Rpc(node.url)
                while not stop.is_set():
                    signed = member_tx(account, access)
                    if "result" in own.send(signed.raw):
                        admitted.append(signed.hash)
                    else:
                        account.nonce -= 1

            thread = threading.Thread(target=hammer)
            thread.start()
            time.sleep(0.05)
            suspension = rpc.receipt(access.suspend(account.address).hash)
            time.sleep(0.5)
            stop.set()
            thread.join()
            assert admitted
            number = int(suspension["blockNumber"], 16)
            late += [h for h in admitted if int(rpc.receipt(h)["blockNumber"], 16) > number]
        assert not late, (
            f"{len(late)} transactions of suspended members landed after the suspension"
        )
    finally:
        node.stop()


# ------------------------------------------------------------------------ method policy

REFUSED_METHODS = [
    ("anvil_mine", []),
    ("anvil_setBalance", ["0x" + "11" * 20, "0xffff"]),
    ("anvil_impersonateAccount", ["0x" + "11" * 20]),
    ("anvil_dumpState", []),
    ("anvil_loadState", ["0x00"]),
    ("anvil_reset", []),
    ("evm_mine", []),
    ("evm_snapshot", []),
    ("evm_revert", ["0x1"]),
    ("evm_increaseTime", [100]),
    ("evm_setNextBlockTimestamp", [2_000_000_000]),
    ("hardhat_setBalance", ["0x" + "11" * 20, "0xffff"]),
    ("hardhat_impersonateAccount", ["0x" + "11" * 20]),
    ("debug_setHead", ["0x1"]),
    ("debug_setBlockHead", ["0x1"]),
    ("debug_dbAncient", []),
    ("eth_sendTransaction", [{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20}]),
    ("eth_signTransaction", [{"from": "0x" + "11" * 20}]),
    ("eth_sign", ["0x" + "11" * 20, "0xdeadbeef"]),
    ("eth_signTypedData_v4", ["0x" + "11" * 20, "{}"]),
    ("personal_sign", ["0xdeadbeef", "0x" + "11" * 20]),
    ("personal_unlockAccount", ["0x" + "11" * 20, "pw", 60]),
    ("personal_sendTransaction", [{"from": "0x" + "11" * 20}, "pw"]),
    ("personal_newAccount", ["pw"]),
    ("admin_addPeer", ["enode://x"]),
    ("miner_start", []),
    ("txpool_content", []),
    ("no_such_method", []),
    ("ETH_CHAINID", []),
]


@pytest.mark.parametrize("method, params", REFUSED_METHODS, ids=[m for m, _ in REFUSED_METHODS])
def test_refused_method_gets_an_error_naming_it(rpc, method, params):
    reply = rpc.request(method, params)
    assert reply["id"] is not None and "result" not in reply
    assert reply["error"]["code"] == METHOD_NOT_FOUND
    assert repr(method) in reply["error"]["message"]


def test_refused_write_methods_change_nothing(rpc, admin):
    head = rpc.head()
    balance = rpc.result("eth_getBalance", ["0x" + "11" * 20, "latest"])
    for method, params in REFUSED_METHODS:
        rpc.request(method, params)
    assert rpc.head()["hash"] == head["hash"]
    assert rpc.result("eth_getBalance", ["0x" + "11" * 20, "latest"]) == balance == "0x0"


def test_allowed_reads_work(rpc, w3, access, member, admin):
    assert int(rpc.result("eth_chainId"), 16) == CHAIN_ID
    assert w3.eth.chain_id == CHAIN_ID
    assert int(rpc.result("eth_getBalance", [admin.address, "latest"]), 16) > 0
    data = "0x" + call_data("isActiveMember(address)", member.address).hex()
    assert int(rpc.result("eth_call", [{"to": access.address, "data": data}, "latest"]), 16) == 1
    topic = "0x" + keccak(b"MemberOnboarded(address,address)").hex()
    logs = rpc.result(
        "eth_getLogs", [{"fromBlock": "0x0", "address": access.address, "topics": [topic]}]
    )
    onboarded = {"0x" + entry["topics"][1][-40:] for entry in logs}
    assert member.address.lower() in onboarded
    assert rpc.result("net_version") == str(CHAIN_ID)
    assert isinstance(rpc.result("web3_clientVersion"), str)
    assert rpc.result("ots_getApiLevel") >= 1
    assert rpc.result("eth_gasPrice") == "0x0"
    assert rpc.result("eth_blockNumber") == rpc.status()["head"]


def test_ledger_status_reports_the_node(rpc, access, admin):
    status = rpc.status()
    assert int(status["chainId"], 16) == CHAIN_ID
    assert status["authority"] == admin.address
    assert status["accessContract"] == access.address
    assert status["pending"] == 0
    assert status["peers"] == []
    assert status["journalTransactions"] >= int(status["head"], 16)
    assert status["journalBytes"] > 0


def test_ledger_seal_and_journal_entry_match_the_block(rpc, access, member):
    receipt = send_ok(rpc, member_tx(member, access))
    number = receipt["blockNumber"]
    block = rpc.result("eth_getBlockByNumber", [number, False])
    entry = rpc.result("ledger_getJournalEntry", [number])
    assert entry["hash"] == block["hash"] and entry["parentHash"] == block["parentHash"]
    assert entry["timestamp"] == block["timestamp"]
    assert entry["transactions"] == block["transactions"] == [receipt["transactionHash"]]
    assert ["0x" + keccak(bytes.fromhex(r[2:])).hex() for r in entry["rawTransactions"]] == entry[
        "transactions"
    ]
    assert entry["seal"] == rpc.result("ledger_getSeal", [number])["signature"]
    # Decimal numbers are read too.
    assert rpc.result("ledger_getSeal", [int(number, 16)])["hash"] == block["hash"]


def test_ledger_methods_answer_null_past_the_head(rpc):
    head = int(rpc.status()["head"], 16)
    assert rpc.result("ledger_getSeal", [hex(head + 1000)]) is None
    assert rpc.result("ledger_getJournalEntry", [hex(head + 1000)]) is None


BAD_NUMBERS = [["zz"], ["0xzz"], [-1], ["-0x1"], [True], [None], [{}], [[1]], [], ["0x1", "0x2"]]


@pytest.mark.parametrize("method", ["ledger_getSeal", "ledger_getJournalEntry"])
@pytest.mark.parametrize("params", BAD_NUMBERS, ids=[json.dumps(p) for p in BAD_NUMBERS])
def test_ledger_methods_refuse_bad_block_numbers(rpc, method, params):
    assert rpc.error(method, params)["code"] == INVALID_PARAMS


@pytest.mark.parametrize("method", ["ledger_getSeal", "ledger_getJournalEntry"])
def test_ledger_methods_refuse_a_block_number_beyond_64_bits(node, rpc, method):
    for number in ("0x" + "f" * 40, 2**63, "0x8000000000000000"):
        reply = rpc.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": [number]})
        assert reply.status_code == 200
        assert reply.json()["error"]["code"] == INVALID_PARAMS
    assert rpc.result(method, [hex(2**63 - 1)]) is None  # the largest number still answers
    with connect(node.ws_url) as ws:  # and over WebSocket the connection stays open
        assert ws_call(ws, 1, method, ["0x" + "f" * 40])["error"]["code"] == INVALID_PARAMS
        assert ws_call(ws, 2, "eth_chainId", [])["result"] == hex(CHAIN_ID)


# ------------------------------------------------------------------------------ batches


def test_batch_of_reads_and_raw_transactions_is_answered_by_id(rpc, access, member, admin):
    others = [Signer(None, CHAIN_ID) for _ in range(2)]
    for other in others:
        send_ok(rpc, access.onboard(other.address))
    raws = [member_tx(member, access), member_tx(member, access)]
    raws += [member_tx(other, access) for other in others]
    stranger = Signer(None, CHAIN_ID)
    bad = member_tx(stranger, access)
    batch = [
        {"jsonrpc": "2.0", "id": "chain", "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 7, "method": "eth_sendRawTransaction", "params": [raws[0].raw]},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "eth_getBalance",
            "params": [admin.address, "latest"],
        },
        {"jsonrpc": "2.0", "id": 9, "method": "eth_sendRawTransaction", "params": [raws[1].raw]},
        {"jsonrpc": "2.0", "id": "x", "method": "evm_mine", "params": []},
        {"jsonrpc": "2.0", "id": 11, "method": "eth_sendRawTransaction", "params": [raws[2].raw]},
        {"jsonrpc": "2.0", "id": 0, "method": "ledger_status", "params": []},
        {"jsonrpc": "2.0", "id": 12, "method": "eth_sendRawTransaction", "params": [raws[3].raw]},
        {"jsonrpc": "2.0", "id": 13, "method": "eth_sendRawTransaction", "params": [bad.raw]},
        {"jsonrpc": "2.0", "id": None, "method": "net_version", "params": []},
    ]
    answers = rpc.post(batch).json()
    assert isinstance(answers, list) and len(answers) == len(batch)
    by_id = {json.dumps(a["id"]): a for a in answers}
    assert len(by_id) == len(batch)
    assert by_id['"chain"']["result"] == hex(CHAIN_ID)
    assert int(by_id["3"]["result"], 16) > 0
    assert by_id['"x"']["error"]["code"] == METHOD_NOT_FOUND
    assert by_id["0"]["result"]["authority"] == admin.address
    assert by_id["null"]["result"] == str(CHAIN_ID)
    for request_id, signed in zip((7, 9, 11, 12), raws, strict=True):
        assert by_id[str(request_id)]["result"] == signed.hash
        assert rpc.receipt(signed.hash)["status"] == "0x1"
    assert by_id["13"]["error"]["code"] == TRANSACTION_REJECTED
    assert stranger.address in by_id["13"]["error"]["message"]


def test_batch_of_1000_is_served_and_1001_refused(rpc):
    batch = [
        {"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []} for i in range(1000)
    ]
    answers = rpc.post(batch).json()
    assert sorted(a["id"] for a in answers) == list(range(1000))
    assert {a["result"] for a in answers} == {hex(CHAIN_ID)}
    batch.append({"jsonrpc": "2.0", "id": 1000, "method": "eth_chainId", "params": []})
    reply = rpc.post(batch).json()
    assert isinstance(reply, dict)
    assert reply["error"]["code"] == INVALID_REQUEST and "1000" in reply["error"]["message"]
    assert reply["id"] is None


def test_empty_batch_is_refused(rpc):
    reply = rpc.post([]).json()
    assert reply["error"]["code"] == INVALID_REQUEST
    assert reply["id"] is None


def test_notifications_get_no_answer_but_are_processed(rpc, access, member):
    single = rpc.post({"jsonrpc": "2.0", "method": "eth_chainId", "params": []})
    assert single.status_code in (200, 204) and single.content == b""
    signed = member_tx(member, access)
    batch = [
        {"jsonrpc": "2.0", "method": "eth_sendRawTransaction", "params": [signed.raw]},
        {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
        {"jsonrpc": "2.0", "method": "evm_mine", "params": []},
    ]
    answers = rpc.post(batch).json()
    assert [a["id"] for a in answers] == [1]
    assert rpc.receipt(signed.hash)["status"] == "0x1"  # the notification was still sent
    only = rpc.post([{"jsonrpc": "2.0", "method": "eth_chainId"}] * 3)
    assert only.content == b""


# ---------------------------------------------------------------------------- WebSocket


def ws_call(ws, request_id, method, params):
    ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
    while True:
        message = json.loads(ws.recv(timeout=10))
        if message.get("id") == request_id:
            return message


def next_notification(ws, timeout=10.0):
    message = json.loads(ws.recv(timeout=timeout))
    assert message["method"] == "eth_subscription", message
    return message["params"]


def test_ws_new_heads_are_delivered_when_blocks_are_sealed(node, rpc, access, member):
    with connect(node.ws_url) as ws:
        sub = ws_call(ws, 1, "eth_subscribe", ["newHeads"])["result"]
        receipt = send_ok(rpc, member_tx(member, access))
        params = next_notification(ws)
        assert params["subscription"] == sub
        assert params["result"]["number"] == receipt["blockNumber"]
        assert params["result"]["hash"] == receipt["blockHash"]
        assert ws_call(ws, 2, "eth_blockNumber", [])["result"] == receipt["blockNumber"]


def test_ws_logs_subscription_filters_by_address(node, rpc, access):
    with connect(node.ws_url) as ws:
        mine = ws_call(ws, 1, "eth_subscribe", ["logs", {"address": access.address}])["result"]
        elsewhere = ws_call(ws, 2, "eth_subscribe", ["logs", {"address": "0x" + "42" * 20}])[
            "result"
        ]
        newcomer = Signer(None, CHAIN_ID)
        receipt = send_ok(rpc, access.onboard(newcomer.address))
        params = next_notification(ws)
        assert params["subscription"] == mine != elsewhere
        entry = params["result"]
        assert entry["address"].lower() == access.address.lower()
        assert entry["topics"][0] == "0x" + keccak(b"MemberOnboarded(address,address)").hex()
        assert entry["topics"][1][-40:] == newcomer.address[2:].lower()
        assert entry["transactionHash"] == receipt["transactionHash"]
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)  # nothing for the other address


def test_ws_unsubscribe_stops_notifications(node, rpc, access, member):
    with connect(node.ws_url) as ws:
        sub = ws_call(ws, 1, "eth_subscribe", ["newHeads"])["result"]
        assert ws_call(ws, 2, "eth_unsubscribe", [sub])["result"] is True
        assert ws_call(ws, 3, "eth_unsubscribe", [sub])["result"] is False
        send_ok(rpc, member_tx(member, access))
        with pytest.raises(TimeoutError):
            ws.recv(timeout=0.5)
        assert (
            ws_call(ws, 4, "eth_subscribe", ["pendingTransactions"])["error"]["code"]
            == INVALID_PARAMS
        )
        assert ws_call(ws, 5, "eth_unsubscribe", [])["error"]["code"] == INVALID_PARAMS


def test_ws_malformed_messages_get_errors_and_the_socket_stays_open(node):
    with connect(node.ws_url) as ws:
        ws.send("{not json")
        assert json.loads(ws.recv(timeout=10))["error"]["code"] == PARSE_ERROR
        ws.send(json.dumps({"id": 1, "method": "eth_chainId"}))
        assert json.loads(ws.recv(timeout=10))["error"]["code"] == INVALID_REQUEST
        ws.send(b"\x00\x01binary")  # ignored
        assert ws_call(ws, 2, "anvil_mine", [])["error"]["code"] == METHOD_NOT_FOUND
        assert ws_call(ws, 3, "eth_chainId", [])["result"] == hex(CHAIN_ID)


def test_subscriptions_are_refused_over_http(rpc):
    error = rpc.error("eth_subscribe", ["newHeads"])
    assert error["code"] == METHOD_NOT_FOUND and "WebSocket" in error["message"]


@pytest.mark.parametrize(
    "log_filter",
    [{"address": 5}, {"address": [5]}, {"address": {"a": 1}}, {"topics": 5}, {"topics": [5]}],
    ids=str,
)
def test_ws_malformed_logs_filter_gets_invalid_params(node, log_filter):
    with connect(node.ws_url) as ws:
        assert (
            ws_call(ws, 1, "eth_subscribe", ["logs", log_filter])["error"]["code"] == INVALID_PARAMS
        )
        assert ws_call(ws, 2, "eth_chainId", [])["result"] == hex(CHAIN_ID)


# --------------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"",
        b"\xff\xfe{",
        b"{'jsonrpc': '2.0'}",
        b"[" * 100_000,
        b'{"jsonrpc": "2.0", "id": 1,}',
    ],
    ids=["open-brace", "empty", "bad-utf8", "single-quotes", "deep-nesting", "trailing-comma"],
)
def test_not_json_gets_parse_error(rpc, body):
    reply = rpc.post(body)
    assert reply.status_code == 200
    assert reply.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": PARSE_ERROR, "message": "the body is not valid JSON"},
    }


INVALID_REQUESTS = [
    42,
    "eth_chainId",
    None,
    True,
    {"id": 1, "method": "eth_chainId", "params": []},
    {"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"},
    {"jsonrpc": 2.0, "id": 1, "method": "eth_chainId"},
    {"jsonrpc": "2.0", "id": 1, "params": []},
    {"jsonrpc": "2.0", "id": 1, "method": 5},
    {"jsonrpc": "2.0", "id": 1, "method": ""},
    {"jsonrpc": "2.0", "id": 1, "method": ["eth_chainId"]},
    {"jsonrpc": "2.0", "id": {"a": 1}, "method": "eth_chainId"},
    {"jsonrpc": "2.0", "id": [1], "method": "eth_chainId"},
    {"jsonrpc": "2.0", "id": True, "method": "eth_chainId"},
]


@pytest.mark.parametrize("payload", INVALID_REQUESTS, ids=[json.dumps(p) for p in INVALID_REQUESTS])
def test_invalid_request_gets_minus_32600(rpc, payload):
    reply = rpc.post(json.dumps(payload)).json()
    assert reply["error"]["code"] == INVALID_REQUEST
    if not isinstance(payload, dict) or "id" not in payload:
        assert reply["id"] is None
    # In a batch, each bad member gets its own answer next to the good ones.
    answers = rpc.post([payload, {"jsonrpc": "2.0", "id": "ok", "method": "eth_chainId"}]).json()
    assert [a for a in answers if a["id"] == "ok"][0]["result"] == hex(CHAIN_ID)
    assert [a for a in answers if a["id"] != "ok"][0]["error"]["code"] == INVALID_REQUEST


@pytest.mark.parametrize("params", [{"a": 1}, "0x1", 5, None, True], ids=str)
def test_params_that_are_not_an_array_get_minus_32602(rpc, params):
    for method in ("eth_chainId", "eth_sendRawTransaction", "ledger_getSeal", "eth_getBalance"):
        reply = rpc.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).json()
        assert reply["error"]["code"] == INVALID_PARAMS, (method, reply)


@pytest.mark.parametrize("params", [[], ["0x00", "0x00"], ["0xf8", {"x": 1}]], ids=str)
def test_raw_transaction_with_the_wrong_parameter_count_gets_minus_32602(rpc, params):
    assert rpc.error("eth_sendRawTransaction", params)["code"] == INVALID_PARAMS


BAD_ENCODINGS = [
    "0xzz",
    "deadbeef",
    "0x",
    "0x0",
    5,
    None,
    ["0x00"],
    "0xc0",
    "0xf8",
    "0xc3010203",
    "0x01c0",
    "0x02c0",
    "0x02f8",
    "0x01" + "ff" * 40,
]


@pytest.mark.parametrize("raw", BAD_ENCODINGS, ids=[str(b)[:20] for b in BAD_ENCODINGS])
def test_raw_transaction_that_is_not_hex_or_rlp_gets_minus_32602(rpc, raw):
    assert rpc.error("eth_sendRawTransaction", [raw])["code"] == INVALID_PARAMS


def legacy_fields(signed_raw: str) -> list:
    return rlp.decode(bytes.fromhex(signed_raw[2:]))


def reencode(fields: list) -> str:
    return "0x" + rlp.encode(fields).hex()


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""


def test_unrecoverable_signatures_get_minus_32602(rpc, access, member):
    fields = legacy_fields(member_tx(member, access).raw)
    member.nonce -= 1
    cases = {
        "r zero": [*fields[:7], b"", fields[8]],
        "s zero": [*fields[:8], b""],
        "r at n": [*fields[:7], _int_bytes(SECP256K1_N), fields[8]],
        "high s": [*fields[:8], _int_bytes(SECP256K1_N - int.from_bytes(fields[8], "big"))],
        # 5 is not the x coordinate of any secp256k1 point (5**3 + 7 is no square mod p).
        "r off the curve": [*fields[:7], _int_bytes(5), fields[8]],
        "v below 35": [*fields[:6], _int_bytes(30), *fields[7:]],
    }
    for name, changed in cases.items():
        reply = rpc.send(reencode(changed))
        assert reply.get("error", {}).get("code") == INVALID_PARAMS, (name, reply)


def test_flipped_signature_bytes_never_pass_as_the_signer(rpc, access, member):
    """A flipped byte of r or s either recovers no key (-32602) or another account, which is
    then refused by name (-32003): the transaction is never admitted as the member's."""
    signed = member_tx(member, access)
    member.nonce -= 1
    fields = legacy_fields(signed.raw)
    codes = set()
    for index in (7, 8):
        for position in (0, 5, 17, 31):
            # RLP drops leading zero bytes (r or s below 2**248 happens 1 in 128 times), so
            # flip within the full 32-byte word and re-encode canonically.
            value = bytearray(fields[index].rjust(32, b"\x00"))
            value[position] ^= 0x5A
            changed = list(fields)
            changed[index] = _int_bytes(int.from_bytes(value, "big"))
            reply = rpc.send(reencode(changed))
            assert "error" in reply, reply
            codes.add(reply["error"]["code"])
            assert reply["error"]["code"] in (INVALID_PARAMS, TRANSACTION_REJECTED)
            assert member.address not in reply["error"]["message"]
            if reply["error"]["code"] == TRANSACTION_REJECTED:
                assert "not permitted" in reply["error"]["message"]
    assert rpc.result("eth_getTransactionByHash", [signed.hash]) is None
    assert codes  # at least one kind of refusal was seen
    send_ok(rpc, member_tx(member, access))  # the member's real nonce is still free


def sign_digest(signer: Signer, digest: bytes) -> tuple[int, int, int]:
    signature = signer.key.sign_recoverable(digest, hasher=None)
    return (
        signature[64],
        int.from_bytes(signature[:32], "big"),
        int.from_bytes(signature[32:64], "big"),
    )


def test_wrong_chain_id_is_refused(rpc, access, member):
    message = refused(rpc, member, member.sign(access.address_bytes, b"", chain_id=1))
    assert "wrong chain id 1" in message and str(CHAIN_ID) in message


def test_nonce_gap_and_replay_are_refused(rpc, access, member):
    member.sync_nonce(rpc)
    signed = member_tx(member, access)
    send_ok(rpc, signed)
    gap = member.sign(access.address_bytes, b"", nonce=member.nonce + 5)
    assert "nonce gap" in refused(rpc, member, gap)
    replay = member.sign(access.address_bytes, b"\x01", nonce=signed.nonce)
    assert "too low" in refused(rpc, member, replay)
    # The very same transaction again is not a replay: it answers its hash (idempotent).
    assert rpc.send(signed.raw)["result"] == signed.hash
    assert rpc.status()["pending"] == 0
    send_ok(rpc, member_tx(member, access))


def test_oversized_transaction_is_refused(rpc, access, member):
    big = member.sign(access.address_bytes, b"\x01" * (128 * 1024), gas=25_000_000)
    assert len(big.raw) // 2 - 1 > 128 * 1024
    message = refused(rpc, member, big)
    assert "oversized" in message and str(128 * 1024) in message


def test_transaction_without_replay_protection_is_refused(rpc, access, member):
    member.sync_nonce(rpc)
    fields = [member.nonce, 0, 100_000, access.address_bytes, 0, b""]
    recovery, r, s = sign_digest(member, keccak(rlp.encode(fields)))
    raw = "0x" + rlp.encode([*fields, 27 + recovery, r, s]).hex()
    reply = rpc.send(raw)
    assert reply["error"]["code"] == TRANSACTION_REJECTED
    assert "EIP-155" in reply["error"]["message"]


@pytest.mark.parametrize("tx_type", [3, 4, 5, 0x7E])
def test_unsupported_transaction_types_are_refused(rpc, access, member, tx_type):
    member.sync_nonce(rpc)
    body = [CHAIN_ID, member.nonce, 0, 0, 100_000, access.address_bytes, 0, b"", []]
    if tx_type == 3:
        body += [1, [b"\x01" + b"\x00" * 31]]  # max fee per blob gas, one versioned hash
    elif tx_type == 4:
        body += [[[CHAIN_ID, access.address_bytes, 0, 0, 1, 1]]]  # one (bogus) authorization
    recovery, r, s = sign_digest(member, keccak(bytes([tx_type]) + rlp.encode(body)))
    raw = "0x" + (bytes([tx_type]) + rlp.encode([*body, recovery, r, s])).hex()
    reply = rpc.send(raw)
    assert reply["error"]["code"] == TRANSACTION_REJECTED
    assert f"type {tx_type}" in reply["error"]["message"]


def test_gas_above_the_block_gas_limit_is_refused(node, rpc, access, member):
    limit = config_of(node.data_dir)["gas_limit"]
    message = refused(rpc, member, member.sign(access.address_bytes, b"", gas=limit + 1))
    assert "gas limit" in message and str(limit) in message


def test_node_still_serves_after_all_the_malformed_input(node, rpc, access, member):
    assert node.process.poll() is None
    before = int(rpc.result("eth_blockNumber"), 16)
    send_ok(rpc, member_tx(member, access))
    assert int(rpc.result("eth_blockNumber"), 16) == before + 1
    assert rpc.status()["pending"] == 0
