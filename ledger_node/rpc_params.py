"""Parameters of every JSON-RPC method the public endpoint serves, checked before anything reaches
the engine: a wrong parameter gets -32602 naming it (`params[1] (block)`), never an engine error,
a crash or an HTTP 500. The schemas are here, the checkers they use in param_checks.py.
"""

from __future__ import annotations

from typing import Any

from ledger_node.errors import INVALID_PARAMS, RpcError
from ledger_node.param_checks import (
    Check,
    address,
    block_id,
    block_number,
    block_or_hash,
    block_overrides,
    boolean,
    call,
    data,
    fee_history_count,
    filter_id,
    filter_object,
    free_json,
    hash32,
    list_of,
    otterscan_number,
    percentiles,
    plain_block_number,
    state_overrides,
    storage_key,
    subscription_kind,
    text,
    trace_config,
    uint64,
)

# --------------------------------------------------------------------------------- schemas


class Param:
    __slots__ = ("name", "check", "required")

    def __init__(self, name: str, check: Check, required: bool = True) -> None:
        self.name, self.check, self.required = name, check, required


def _p(name: str, check: Check) -> Param:
    return Param(name, check)


def _opt(name: str, check: Check) -> Param:
    return Param(name, check, required=False)


NONE: tuple[Param, ...] = ()
_BLOCK = _opt("block", block_id)
_AT_BLOCK = _p("block", block_id)  # required for state reads, as by geth and anvil

SCHEMAS: dict[str, tuple[Param, ...]] = {
    **dict.fromkeys(
        (
            "eth_chainId", "eth_blockNumber", "eth_syncing", "eth_mining", "eth_hashrate",
            "eth_coinbase", "eth_accounts", "eth_protocolVersion", "eth_newBlockFilter",
            "eth_newPendingTransactionFilter", "eth_blobBaseFee", "eth_gasPrice",
            "eth_maxPriorityFeePerGas", "net_version", "net_listening", "net_peerCount",
            "web3_clientVersion", "ledger_status", "ots_getApiLevel",
        ),
        NONE,
    ),
    "eth_getBalance": (_p("address", address), _AT_BLOCK),
    "eth_getCode": (_p("address", address), _AT_BLOCK),
    "eth_getTransactionCount": (_p("address", address), _AT_BLOCK),
    "eth_getStorageAt": (_p("address", address), _p("slot", storage_key), _AT_BLOCK),
    "ethcall": (
        _p("call", call), _BLOCK,
        _opt("stateOverrides", state_overrides), _opt("blockOverrides", block_overrides),
    ),
    "eth_estimateGas": (_p("call", call), _BLOCK, _opt("stateOverrides", state_overrides)),
    "eth_createAccessList": (_p("call", call), _BLOCK),
    "eth_feeHistory": (
        _p("blockCount", fee_history_count), _p("newestBlock", block_number),
        _opt("rewardPercentiles", percentiles),
    ),
    "eth_getBlockByNumber": (_p("block", block_number), _p("fullTransactions", boolean)),
    "eth_getBlockByHash": (_p("blockHash", hash32), _p("fullTransactions", boolean)),
    "eth_getBlockReceipts": (_p("block", block_or_hash),),
    "eth_getBlockTransactionCountByNumber": (_p("block", block_number),),
    "eth_getBlockTransactionCountByHash": (_p("blockHash", hash32),),
    "eth_getUncleCountByBlockNumber": (_p("block", block_number),),
    "eth_getUncleCountByBlockHash": (_p("blockHash", hash32),),
    "eth_getUncleByBlockNumberAndIndex": (_p("block", block_number), _p("index", uint64)),
    "eth_getUncleByBlockHashAndIndex": (_p("blockHash", hash32), _p("index", uint64)),
    "eth_getTransactionByHash": (_p("transactionHash", hash32),),
    "eth_getTransactionByBlockNumberAndIndex": (_p("block", block_number), _p("index", uint64)),
    "eth_getTransactionByBlockHashAndIndex": (_p("blockHash", hash32), _p("index", uint64)),
    "eth_getTransactionReceipt": (_p("transactionHash", hash32),),
    "eth_getLogs": (_p("filter", filter_object),),
    "eth_newFilter": (_p("filter", filter_object),),
    "eth_getFilterChanges": (_p("filterId", filter_id),),
    "eth_getFilterLogs": (_p("filterId", filter_id),),
    "eth_uninstallFilter": (_p("filterId", filter_id),),
    "eth_getProof": (
        _p("address", address), _p("storageKeys", list_of(hash32, at_most=1000)), _AT_BLOCK,
    ),
    "web3_sha3": (_p("data", data),),
    "debug_traceTransaction": (_p("transactionHash", hash32), _opt("config", trace_config)),
    "debug_traceCall": (_p("call", call), _BLOCK, _opt("config", trace_config)),
    "trace_transaction": (_p("transactionHash", hash32),),
    "trace_block": (_p("block", block_number),),
    "eth_sendRawTransaction": (_p("transaction", data),),
    "ledger_getSeal": (_p("block", plain_block_number),),
    "ledger_getJournalEntry": (_p("block", plain_block_number),),
    "eth_subscribe": (_p("kind", subscription_kind), _opt("filter", filter_object)),
    "eth_unsubscribe": (_p("subscriptionId", text),),
    # Otterscan's API, as anvil serves it.
    "ots_getInternalOperations": (_p("transactionHash", hash32),),
    "ots_hasCode": (_p("address", address), _p("block", otterscan_number)),
    "ots_getTransactionError": (_p("transactionHash", hash32),),
    "ots_traceTransaction": (_p("transactionHash", hash32),),
    "ots_getBlockDetails": (_p("block", otterscan_number),),
    "ots_getBlockDetailsByHash": (_p("blockHash", hash32),),
    "ots_getBlockTransactions": (
        _p("block", otterscan_number), _p("page", otterscan_number),
        _p("pageSize", otterscan_number),
    ),
    "ots_searchTransactionsBefore": (
        _p("address", address), _p("block", otterscan_number), _p("pageSize", otterscan_number),
    ),
    "ots_searchTransactionsAfter": (
        _p("address", address), _p("block", otterscan_number), _p("pageSize", otterscan_number),
    ),
    "ots_getTransactionBySenderAndNonce": (_p("address", address), _p("nonce", otterscan_number)),
    "ots_getContractCreator": (_p("address", address),),
}  # fmt: skip


def _count_text(schema: tuple[Param, ...]) -> str:
    if not schema:
        return "no parameters"
    names = ", ".join(p.name if p.required else f"{p.name}?" for p in schema)
    return f"({names})"


def validate(method: str, params: list[Any]) -> list[Any]:
    """The checked parameters to forward, or RpcError(-32602) naming the first bad one.

    A method without a schema (an ots_ method anvil may add) gets the generic checks: bounded
    depth and finite numbers."""
    schema = SCHEMAS.get(method)
    if schema is None:
        return [free_json(value, f"params[{i}]") for i, value in enumerate(params)]
    if len(params) > len(schema):
        raise RpcError(
            INVALID_PARAMS,
            f"too many parameters: {method} takes {_count_text(schema)}, got {len(params)}",
        )
    checked: list[Any] = []
    for index, param in enumerate(schema):
        label = f"params[{index}] ({param.name})"
        if index >= len(params):
            if param.required:
                raise RpcError(
                    INVALID_PARAMS,
                    f"missing {label}: {method} takes {_count_text(schema)}, got {len(params)}",
                )
            break
        value = params[index]
        if value is None and not param.required:
            checked.append(None)
            continue
        checked.append(param.check(value, label))
    return checked
