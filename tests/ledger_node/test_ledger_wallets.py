"""Wallets against the ledger node: ethers v6 (tests/js/ethers_wallet.js, run with node), web3.py
and foundry's cast send back to back (send, wait for the receipt, send again) with instant
sealing (block period 0) and with 1 s blocks. Every send must be a new type-2 transaction with
zero fees, mined once, with nonces in order; a non-member's refusal must reach each wallet with
the node's own words.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.middleware import SignAndSendRawMiddlewareBuilder

from ledger_node.launcher import NodeProcess
from tests.ledger_helpers import (
    ROOT,
    TRANSACTION_REJECTED,
    Access,
    Rpc,
    Signer,
    authority_key,
    call_data,
    new_node,
)

ETHERS_SCRIPT = ROOT / "tests" / "js" / "ethers_wallet.js"
CAST = ROOT / "node_modules" / "@foundry-rs" / "cast-linux-amd64" / "bin" / "cast"
INSTANT_CYCLES = 50
PERIODIC_CYCLES = 10
NOT_PERMITTED = "is not permitted to transact on this ledger"


@dataclass
class Ledger:
    node: NodeProcess
    rpc: Rpc
    access: Access
    chain_id: int

    def member(self) -> Signer:
        account = Signer(None, self.chain_id)
        receipt = self.rpc.receipt(self.access.onboard(account.address).hash, timeout=30)
        assert receipt["status"] == "0x1"
        return account

    def member_call(self, account: Signer) -> str:
        """The same harmless call each time: a stale nonce would re-send identical bytes."""
        return "0x" + call_data("isAllowed(address)", account.address).hex()

    def count(self, account: Signer, tag: str) -> int:
        return int(self.rpc.result("eth_getTransactionCount", [account.address, tag]), 16)


def ledger(base: Path, block_period: float) -> Ledger:
    node = new_node(base, "node", block_period=block_period)
    try:
        rpc = Rpc(node.url)
        chain_id = int(rpc.result("eth_chainId"), 16)
        access = Access.deploy(rpc, Signer(authority_key(node.data_dir), chain_id))
    except BaseException:
        node.stop()
        raise
    return Ledger(node, rpc, access, chain_id)


@pytest.fixture(scope="module")
def instant(tmp_path_factory):
    world = ledger(tmp_path_factory.mktemp("instant"), 0)
    yield world
    assert world.node.stop() == 0


@pytest.fixture(scope="module")
def periodic(tmp_path_factory):
    world = ledger(tmp_path_factory.mktemp("periodic"), 1)
    yield world
    assert world.node.stop() == 0


# ------------------------------------------------------------------------------ wallets


def ethers_command(command: str, url: str, account: Signer, to: str, data: str, *extra: Any):
    return [
        "node",
        str(ETHERS_SCRIPT),
        command,
        url,
        "0x" + account.key_bytes.hex(),
        to,
        data,
        *(str(e) for e in extra),
    ]


def ethers_result(stdout: str, stderr: str, returncode: int) -> dict:
    assert returncode == 0, f"the ethers script failed: {stderr[-2000:]}"
    return json.loads(stdout)


def run_ethers(command: str, url: str, account: Signer, to: str, data: str, *extra: Any) -> dict:
    done = subprocess.run(
        ethers_command(command, url, account, to, data, *extra),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    return ethers_result(done.stdout, done.stderr, done.returncode)


def web3_wallet(url: str, account: Signer) -> Web3:
    """web3.py as a dapp uses it: a local key signs, web3 fills nonce, gas and fees itself."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 30}))
    w3.middleware_onion.inject(
        SignAndSendRawMiddlewareBuilder.build(Account.from_key(account.key_bytes)), layer=0
    )
    return w3


def web3_journey(world: Ledger, account: Signer, cycles: int) -> list[dict[str, Any]]:
    w3 = web3_wallet(world.node.url, account)
    data = world.member_call(account)
    sent = []
    for _ in range(cycles):
        tx_hash = w3.eth.send_transaction(
            {"from": account.address, "to": world.access.address, "data": data}
        )
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
        # Asked the moment the receipt is served: both counts must include the transaction.
        latest = w3.eth.get_transaction_count(account.address, "latest")
        pending = w3.eth.get_transaction_count(account.address, "pending")
        tx = w3.eth.get_transaction(tx_hash)
        sent.append(
            {
                "hash": "0x" + bytes(tx_hash).hex(),
                "nonce": tx["nonce"],
                "type": tx["type"],
                "maxFeePerGas": tx["maxFeePerGas"],
                "maxPriorityFeePerGas": tx["maxPriorityFeePerGas"],
                "blockNumber": receipt["blockNumber"],
                "status": receipt["status"],
                "counts": (latest, pending),
            }
        )
    return sent


def assert_back_to_back(world: Ledger, account: Signer, sent: list[dict], cycles: int) -> None:
    """Each send a new transaction (no silent re-send of the previous bytes), nonces 0.. in
    order, each mined once in a block, type 2 with zero fees, and the final count = cycles."""
    hashes = [s["hash"] for s in sent]
    assert len(set(hashes)) == cycles, f"{cycles - len(set(hashes))} sends re-sent a transaction"
    assert [s["nonce"] for s in sent] == list(range(cycles))
    assert {s["type"] for s in sent} == {2}
    assert {int(s["maxFeePerGas"]) for s in sent} == {0}
    assert {int(s["maxPriorityFeePerGas"]) for s in sent} == {0}
    assert all(s["status"] == 1 for s in sent)
    blocks = [s["blockNumber"] for s in sent]
    assert blocks == sorted(blocks)
    for tx_hash, block in zip(hashes, blocks, strict=True):
        receipt = world.rpc.result("eth_getTransactionReceipt", [tx_hash])
        assert int(receipt["blockNumber"], 16) == block
        assert receipt["type"] == "0x2"
    assert world.count(account, "latest") == world.count(account, "pending") == cycles


# --------------------------------------------------------------------------------- fees


def test_blocks_carry_a_zero_base_fee_when_wallets_ask_for_fees(instant):
    rpc = instant.rpc
    assert rpc.result("eth_getBlockByNumber", ["0x0", False])["baseFeePerGas"] == "0x0"
    assert rpc.head()["baseFeePerGas"] == "0x0"
    history = rpc.result("eth_feeHistory", ["0x2", "latest", [10, 50, 90]])
    assert history["baseFeePerGas"] == ["0x0"] * 3  # the two blocks and the next one
    assert history["reward"] == [["0x0"] * 3] * 2
    assert rpc.result("eth_gasPrice") == "0x0"
    assert rpc.result("eth_maxPriorityFeePerGas") == "0x0"


def test_tipping_wallet_is_told_gas_is_free_when_it_cannot_pay(instant):
    member = instant.member()
    signed = member.sign_dict(
        {
            "type": 2,
            "chainId": instant.chain_id,
            "nonce": 0,
            "to": instant.access.address,
            "data": instant.member_call(member),
            "gas": 100_000,
            "maxFeePerGas": 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    error = instant.rpc.send(signed.raw)["error"]
    assert error["code"] == TRANSACTION_REJECTED
    # "insufficient funds" first: ethers files it as INSUFFICIENT_FUNDS.
    assert "insufficient funds" in error["message"].lower()
    assert "gas is free on this ledger" in error["message"]
    assert instant.count(member, "pending") == 0


# ------------------------------------------------------------------------ back to back


def test_ethers_sends_back_to_back_as_new_type2_transactions_when_block_period_is_0(instant):
    member = instant.member()
    result = run_ethers(
        "journey",
        instant.node.url,
        member,
        instant.access.address,
        instant.member_call(member),
        INSTANT_CYCLES,
    )
    assert result["failures"] == []
    assert_back_to_back(instant, member, result["sent"], INSTANT_CYCLES)
    assert result["latestCount"] == result["pendingCount"] == INSTANT_CYCLES


def test_web3py_sends_back_to_back_as_new_type2_transactions_when_block_period_is_0(instant):
    member = instant.member()
    sent = web3_journey(instant, member, INSTANT_CYCLES)
    assert [s["counts"] for s in sent] == [(n + 1, n + 1) for n in range(INSTANT_CYCLES)]
    assert_back_to_back(instant, member, sent, INSTANT_CYCLES)


def test_wallets_send_back_to_back_as_new_type2_transactions_when_block_period_is_1s(periodic):
    """ethers and web3.py at once, so their transactions share blocks."""
    ethers_member, web3_member = periodic.member(), periodic.member()
    ethers_run = subprocess.Popen(
        ethers_command(
            "journey",
            periodic.node.url,
            ethers_member,
            periodic.access.address,
            periodic.member_call(ethers_member),
            PERIODIC_CYCLES,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        web3_sent = web3_journey(periodic, web3_member, PERIODIC_CYCLES)
        stdout, stderr = ethers_run.communicate(timeout=120)
    finally:
        if ethers_run.poll() is None:
            ethers_run.kill()
            ethers_run.wait()
    ethers = ethers_result(stdout, stderr, ethers_run.returncode)
    assert ethers["failures"] == []
    assert_back_to_back(periodic, ethers_member, ethers["sent"], PERIODIC_CYCLES)
    assert [s["counts"] for s in web3_sent] == [(n + 1, n + 1) for n in range(PERIODIC_CYCLES)]
    assert_back_to_back(periodic, web3_member, web3_sent, PERIODIC_CYCLES)


def test_pending_count_includes_accepted_transactions_when_the_block_is_not_sealed(periodic):
    member = periodic.member()
    data = call_data("isAllowed(address)", member.address)
    first = member.sign(periodic.access.address, data)
    periodic.rpc.send(first.raw)
    periodic.rpc.receipt(first.hash)
    # Just after a seal, the next block is a whole period away.
    second = member.sign(periodic.access.address, data)
    assert periodic.rpc.send(second.raw)["result"] == second.hash
    assert periodic.count(member, "pending") == 2
    assert periodic.count(member, "latest") == 1
    assert periodic.rpc.result("eth_getTransactionReceipt", [second.hash]) is None
    periodic.rpc.receipt(second.hash)
    assert periodic.count(member, "latest") == periodic.count(member, "pending") == 2
    # In a batch too, for a sender the node has seen and one it has not.
    newcomer = Signer(None, periodic.chain_id)
    answers = periodic.rpc.post(
        [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_getTransactionCount",
                "params": [a, "pending"],
            }
            for i, a in enumerate((member.address, newcomer.address.lower()))
        ]
    ).json()
    assert sorted((a["id"], a["result"]) for a in answers) == [(0, "0x2"), (1, "0x0")]


# -------------------------------------------------------------------------------- cast


def cast(*args: str) -> subprocess.CompletedProcess:
    assert CAST.exists(), f"{CAST} is missing: run `make setup` (npm package @foundry-rs/cast)"
    return subprocess.run([str(CAST), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_cast_sends_back_to_back_and_reads_receipts_when_block_period_is_0(instant):
    member = instant.member()
    key = "0x" + member.key_bytes.hex()
    url = instant.node.url
    hashes = []
    for _ in range(5):
        # cast tips 1 wei by default (alloy's minimum priority fee); gas is free here.
        sent = cast(
            "send", "--rpc-url", url, "--private-key", key, "--json",
            "--gas-price", "0", "--priority-gas-price", "0",
            instant.access.address, "isAllowed(address)", member.address,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        hashes.append(json.loads(sent.stdout)["transactionHash"])
    assert len(set(hashes)) == 5
    for nonce, tx_hash in enumerate(hashes):
        receipt = json.loads(cast("receipt", "--rpc-url", url, tx_hash, "--json").stdout)
        assert receipt["status"] == "0x1" and receipt["type"] == "0x2"
        tx = json.loads(cast("tx", "--rpc-url", url, tx_hash, "--json").stdout)
        assert int(tx["nonce"], 16) == nonce
    assert cast("nonce", "--rpc-url", url, member.address).stdout.strip() == "5"
    stranger = Signer(None, instant.chain_id)
    refused = cast(
        "send", "--rpc-url", url, "--private-key", "0x" + stranger.key_bytes.hex(),
        "--gas-price", "0", "--priority-gas-price", "0",
        instant.access.address, "isAllowed(address)", stranger.address,
    )  # fmt: skip
    assert refused.returncode != 0
    assert NOT_PERMITTED in refused.stderr and stranger.address in refused.stderr


# ------------------------------------------------------------------------------ refusals


def test_non_member_send_fails_with_the_node_message_in_ethers_and_web3py(instant):
    stranger = Signer(None, instant.chain_id)
    data = instant.member_call(stranger)
    # What both libraries read: HTTP 200 and an EIP-1474 error object.
    raw = stranger.sign_dict(
        {
            "type": 2,
            "chainId": instant.chain_id,
            "nonce": 0,
            "to": instant.access.address,
            "data": data,
            "gas": 100_000,
            "maxFeePerGas": 0,
            "maxPriorityFeePerGas": 0,
        }
    ).raw
    reply = requests.post(
        instant.node.url,
        json={"jsonrpc": "2.0", "id": 7, "method": "eth_sendRawTransaction", "params": [raw]},
        timeout=30,
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["id"] == 7 and body["error"]["code"] == TRANSACTION_REJECTED
    node_message = body["error"]["message"]
    assert NOT_PERMITTED in node_message and stranger.address in node_message

    ethers = run_ethers("refused", instant.node.url, stranger, instant.access.address, data)
    assert ethers["refused"]
    assert node_message in ethers["message"]
    assert ethers["rpcError"] == body["error"]

    w3 = web3_wallet(instant.node.url, stranger)
    with pytest.raises(Web3RPCError) as raised:
        w3.eth.send_transaction(
            {"from": stranger.address, "to": instant.access.address, "data": data}
        )
    assert node_message in str(raised.value)
    assert instant.count(stranger, "pending") == 0
