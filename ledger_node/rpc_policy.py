"""Which JSON-RPC methods the public endpoint serves, and how.

Reads are passed to the engine; `eth_sendRawTransaction` and `ledger_*` are the node's own;
everything else (anvil_*, evm_*, hardhat_*, debug_* writes, eth_sendTransaction, personal_*,
eth_sign…, unknown methods) is refused by name.
"""

from __future__ import annotations

from enum import Enum


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
NODE_METHODS = (
    frozenset(
        {"eth_sendRawTransaction", "ledger_status", "ledger_getSeal", "ledger_getJournalEntry"}
    )
    | FREE_GAS_METHODS
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
