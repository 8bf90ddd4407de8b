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
    checkpoint,
    checkpoint_tag,
    cosignature,
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
_ADDRESS = _p("address", address)
_BLOCK_NUMBER = _p("block", block_number)
_BLOCK_HASH = _p("blockHash", hash32)
_INDEX = _p("index", uint64)
_TX_HASH = _p("transactionHash", hash32)
_CALL = _p("call", call)
_FILTER = _p("filter", filter_object)
_FILTER_ID = _p("filterId", filter_id)
_LEDGER_BLOCK = _p("block", plain_block_number)
_OTS_BLOCK = _p("block", otterscan_number)
_OTS_PAGE_SIZE = _p("pageSize", otterscan_number)
_TRACE_CONFIG = _opt("config", trace_config)

SCHEMAS: dict[str, tuple[Param, ...]] = {
    **dict.fromkeys(
        (
            "eth_chainId", "eth_blockNumber", "eth_syncing", "eth_mining", "eth_hashrate",
            "eth_coinbase", "eth_accounts", "eth_protocolVersion", "eth_newBlockFilter",
            "eth_newPendingTransactionFilter", "eth_blobBaseFee", "eth_gasPrice",
            "eth_maxPriorityFeePerGas", "net_version", "net_listening", "net_peerCount",
            "web3_clientVersion", "ledger_status", "ots_getApiLevel", "ledger_getWitnessStatus",
        ),
        NONE,
    ),
    # Account state at a block.
    **dict.fromkeys(("eth_getBalance", "eth_getCode", "eth_getTransactionCount"), (_ADDRESS, _AT_BLOCK)),
    "eth_getStorageAt": (_ADDRESS, _p("slot", storage_key), _AT_BLOCK),
    "eth_getProof": (_ADDRESS, _p("storageKeys", list_of(hash32, at_most=1000)), _AT_BLOCK),
    # Calls.
    "eth_call": (
        _CALL, _BLOCK, _opt("stateOverrides", state_overrides),
        _opt("blockOverrides", block_overrides),
    ),
    "eth_estimateGas": (_CALL, _BLOCK, _opt("stateOverrides", state_overrides)),
    "eth_createAccessList": (_CALL, _BLOCK),
    "eth_feeHistory": (
        _p("blockCount", fee_history_count), _p("newestBlock", block_number),
        _opt("rewardPercentiles", percentiles),
    ),
    # Blocks and transactions.
    "eth_getBlockByNumber": (_BLOCK_NUMBER, _p("fullTransactions", boolean)),
    "eth_getBlockByHash": (_BLOCK_HASH, _p("fullTransactions", boolean)),
    "eth_getBlockReceipts": (_p("block", block_or_hash),),
    **dict.fromkeys(
        ("eth_getBlockTransactionCountByNumber", "eth_getUncleCountByBlockNumber", "trace_block"),
        (_BLOCK_NUMBER,),
    ),
    **dict.fromkeys(
        ("eth_getBlockTransactionCountByHash", "eth_getUncleCountByBlockHash"), (_BLOCK_HASH,)
    ),
    **dict.fromkeys(
        ("eth_getUncleByBlockNumberAndIndex", "eth_getTransactionByBlockNumberAndIndex"),
        (_BLOCK_NUMBER, _INDEX),
    ),
    **dict.fromkeys(
        ("eth_getUncleByBlockHashAndIndex", "eth_getTransactionByBlockHashAndIndex"),
        (_BLOCK_HASH, _INDEX),
    ),
    **dict.fromkeys(
        (
            "eth_getTransactionByHash", "eth_getTransactionReceipt", "trace_transaction",
            "ots_getInternalOperations", "ots_getTransactionError", "ots_traceTransaction",
        ),
        (_TX_HASH,),
    ),
    "eth_sendRawTransaction": (_p("transaction", data),),
    "web3_sha3": (_p("data", data),),
    # Logs, filters and subscriptions.
    **dict.fromkeys(("eth_getLogs", "eth_newFilter"), (_FILTER,)),
    **dict.fromkeys(
        ("eth_getFilterChanges", "eth_getFilterLogs", "eth_uninstallFilter"), (_FILTER_ID,)
    ),
    "eth_subscribe": (_p("kind", subscription_kind), _opt("filter", filter_object)),
    "eth_unsubscribe": (_p("subscriptionId", text),),
    # Traces.
    "debug_traceTransaction": (_TX_HASH, _TRACE_CONFIG),
    "debug_traceCall": (_CALL, _BLOCK, _TRACE_CONFIG),
    # The ledger's own.
    **dict.fromkeys(("ledger_getSeal", "ledger_getJournalEntry"), (_LEDGER_BLOCK,)),
    "ledger_submitCosignature": (_p("checkpoint", checkpoint), _p("cosignature", cosignature)),
    "ledger_getCheckpoint": (_opt("block", checkpoint_tag),),
    # Otterscan's API, as anvil serves it.
    "ots_hasCode": (_ADDRESS, _OTS_BLOCK),
    "ots_getBlockDetails": (_OTS_BLOCK,),
    "ots_getBlockDetailsByHash": (_BLOCK_HASH,),
    "ots_getBlockTransactions": (_OTS_BLOCK, _p("page", otterscan_number), _OTS_PAGE_SIZE),
    **dict.fromkeys(
        ("ots_searchTransactionsBefore", "ots_searchTransactionsAfter"),
        (_ADDRESS, _OTS_BLOCK, _OTS_PAGE_SIZE),
    ),
    "ots_getTransactionBySenderAndNonce": (_ADDRESS, _p("nonce", otterscan_number)),
    "ots_getContractCreator": (_ADDRESS,),
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
