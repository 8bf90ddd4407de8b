"""Which JSON-RPC methods the public endpoint serves, and how.

Reads are passed to the engine; `eth_sendRawTransaction`, `ledger_*`, the fee suggestions and
the "pending" transaction count are the node's own; everything else (anvil_*, evm_*, hardhat_*,
debug_* writes, eth_sendTransaction, personal_*, eth_sign…, unknown methods) is refused by name.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import Any

from ledger_node.errors import TRANSACTION_REJECTED, RpcError


class Route(Enum):
    ENGINE = "engine"
    NODE = "node"
    SUBSCRIPTION = "subscription"
    REFUSED = "refused"


ENGINE_READS = frozenset(
    {
        "eth_chainId", "eth_blockNumber", "eth_getBalance", "eth_getCode", "eth_getStorageAt",
        "eth_getTransactionCount", "eth_call", "eth_estimateGas", "eth_createAccessList",
        "eth_feeHistory", "eth_blobBaseFee",
        "eth_getBlockByNumber", "eth_getBlockByHash", "eth_getBlockReceipts",
        "eth_getBlockTransactionCountByNumber", "eth_getBlockTransactionCountByHash",
        "eth_getUncleCountByBlockNumber", "eth_getUncleCountByBlockHash",
        "eth_getUncleByBlockNumberAndIndex", "eth_getUncleByBlockHashAndIndex",
        "eth_getTransactionByHash", "eth_getTransactionByBlockNumberAndIndex",
        "eth_getTransactionByBlockHashAndIndex", "eth_getTransactionReceipt", "eth_getLogs",
        "eth_getProof", "eth_syncing", "eth_mining", "eth_hashrate", "eth_coinbase", "eth_accounts",
        "eth_protocolVersion", "eth_newFilter", "eth_newBlockFilter", "eth_newPendingTransactionFilter",
        "eth_getFilterChanges", "eth_getFilterLogs", "eth_uninstallFilter",
        "net_version", "net_listening", "net_peerCount", "web3_clientVersion", "web3_sha3",
        "debug_traceTransaction", "debug_traceCall", "trace_transaction", "trace_block",
    }
)  # fmt: skip

# Gas is free on this ledger (zero base fee): the node itself answers the fee suggestions with
# zero, so wallets and brownie send transactions that members without ether can pay.
FREE_GAS_METHODS = frozenset({"eth_gasPrice", "eth_maxPriorityFeePerGas"})
# Witnesses' methods (ledger_node/witness_desk.py): co-signatures of checkpoints.
WITNESS_METHODS = frozenset(
    {"ledger_submitCosignature", "ledger_getCheckpoint", "ledger_getWitnessStatus"}
)
NODE_METHODS = (
    frozenset(
        {"eth_sendRawTransaction", "ledger_status", "ledger_getSeal", "ledger_getJournalEntry"}
    )
    | FREE_GAS_METHODS
    | WITNESS_METHODS
)
SUBSCRIPTION_METHODS = frozenset({"eth_subscribe", "eth_unsubscribe"})
# Otterscan's namespace: every ots_ method anvil implements is a read.
ENGINE_READ_PREFIXES = ("ots_",)


def route(method: str) -> Route:
    if method in NODE_METHODS:
        return Route.NODE
    if method in SUBSCRIPTION_METHODS:
        return Route.SUBSCRIPTION
    if method in ENGINE_READS or method.startswith(ENGINE_READ_PREFIXES):
        return Route.ENGINE
    return Route.REFUSED


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def pending_count_account(method: str, params: list[Any]) -> bytes | None:
    """The account of an `eth_getTransactionCount(address, "pending")` request, which the node
    answers from its own nonce tracking (the one that accepts transactions), so a wallet is told
    exactly the nonce the node takes next and never one counting a transaction not yet journaled.
    Other tags, and malformed requests, go to the engine as before."""
    if method != "eth_getTransactionCount" or len(params) != 2 or params[1] != "pending":
        return None
    address = params[0]
    if not isinstance(address, str) or not _ADDRESS.fullmatch(address):
        return None
    return bytes.fromhex(address[2:])


def engine_refusal(gas_price: int, engine_message: str) -> RpcError:
    """The error for a transaction the engine refused. Wallets that add a tip by default (MetaMask
    suggests at least 1 gwei, cast 1 wei) are refused for "insufficient funds" by members who hold
    no ether; the hint says what to change. The engine's words stay first, so ethers still files
    it under INSUFFICIENT_FUNDS."""
    message = f"transaction rejected: {engine_message}"
    if gas_price > 0 and "insufficient funds" in engine_message.lower():
        message += (
            f" (this transaction offers {gas_price} wei per gas, but gas is free on this ledger:"
            " sign it with maxFeePerGas and maxPriorityFeePerGas 0, or gasPrice 0)"
        )
    return RpcError(TRANSACTION_REJECTED, message)
