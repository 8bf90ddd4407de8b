"""The checkers of JSON-RPC parameters (rpc_params.py says which method takes which): each
gets a value and its label and returns the value to forward, or raises -32602 naming the label.

The rules are geth's (EIP-1474): quantities are hex with a 0x prefix and no leading zeros, block
numbers are quantities up to 2**63-1 or a tag, addresses 20 bytes, hashes 32 bytes, data an even
number of hex digits. Like geth, unknown members of call and filter objects are ignored (they are
dropped here, so the engine sees only checked values). The ledger's own methods (ledger_*) and
Otterscan's (ots_*) also take block numbers as plain JSON integers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, NoReturn

from citypass.protocol.checkpoints import Checkpoint, CheckpointError, Cosignature
from ledger_node.errors import INVALID_PARAMS, RpcError

# A checker gets the value and its label (for messages) and returns the value to forward.
Check = Callable[[Any, str], Any]

BLOCK_TAGS = frozenset({"latest", "earliest", "pending", "safe", "finalized"})
MAX_BLOCK_NUMBER = 2**63 - 1
MAX_ADDRESSES = 1000  # in one filter; a longer list is a scan, not a filter
MAX_TOPIC_ALTERNATIVES = 1000
MAX_LIST = 10_000  # storage keys, access-list entries, percentiles
MAX_FREE_DEPTH = 16  # tracer configs and other free-form objects
_HEX = re.compile(r"0x[0-9a-fA-F]*\Z")
TAGS_TEXT = "latest, earliest, pending, safe or finalized"


def _fail(label: str, value: Any, expected: str) -> NoReturn:
    raise RpcError(INVALID_PARAMS, f"invalid {label}: got {describe(value)}; expected {expected}")


def describe(value: Any) -> str:
    """A short description of a JSON value for an error message (never the whole value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "a number too large to represent (or NaN)"
        return (
            f"the fractional number {value!r}" if value != int(value) else f"the number {value!r}"
        )
    if isinstance(value, int):
        if abs(value) >= 2**64:
            return f"a {value.bit_length()}-bit number"
        return f"the number {value}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 48 else f"{value[:44]!r}… ({len(value)} characters)"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ----------------------------------------------------------------------------- scalar checks


def _hex_digits(value: Any, label: str, expected: str) -> str:
    if not isinstance(value, str) or not _HEX.match(value):
        _fail(label, value, expected)
    return value[2:]


def quantity(bits: int = 256) -> Check:
    """A hex quantity as geth decodes it: 0x0, or 0x followed by digits without a leading zero."""
    expected = f"a hex quantity like 0x1a (no leading zeros, at most {bits} bits)"

    def check(value: Any, label: str) -> str:
        digits = _hex_digits(value, label, expected)
        if not digits or (len(digits) > 1 and digits[0] == "0") or len(digits) > bits // 4:
            _fail(label, value, expected)
        if int(digits, 16).bit_length() > bits:
            _fail(label, value, expected)
        return value

    return check


uint64 = quantity(64)
uint256 = quantity(256)


def block_number(value: Any, label: str) -> str:
    if isinstance(value, str) and value in BLOCK_TAGS:
        return value
    expected = f"a block number as a hex quantity like 0x1a (at most 2**63-1) or {TAGS_TEXT}"
    digits = _hex_digits(value, label, expected)
    if not digits or (len(digits) > 1 and digits[0] == "0") or int(digits, 16) > MAX_BLOCK_NUMBER:
        _fail(label, value, expected)
    return value


def plain_block_number(value: Any, label: str) -> int:
    """The ledger's own methods: a JSON integer, a hex quantity or a decimal string, 0 … 2**63-1."""
    expected = "a block number from 0 to 2**63-1 (an integer, or hex like 0x1a)"
    if isinstance(value, bool):
        _fail(label, value, expected)
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _HEX.match(value) and len(value) > 2:
        number = int(value[2:], 16) if len(value) <= 2 + 16 else MAX_BLOCK_NUMBER + 1
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        _fail(label, value, expected)
    if not 0 <= number <= MAX_BLOCK_NUMBER:
        _fail(label, value, expected)
    return number


def otterscan_number(value: Any, label: str) -> Any:
    """Otterscan sends block numbers and page sizes as JSON integers."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_BLOCK_NUMBER:
            _fail(label, value, "an integer from 0 to 2**63-1")
        return value
    return block_number(value, label)


def fixed_hex(size: int, what: str) -> Check:
    expected = f"{what}: 0x followed by {size * 2} hex digits"

    def check(value: Any, label: str) -> str:
        if len(_hex_digits(value, label, expected)) != size * 2:
            _fail(label, value, expected)
        return value

    return check


address = fixed_hex(20, "a 20-byte address")
hash32 = fixed_hex(32, "a 32-byte hash")


def data(value: Any, label: str) -> str:
    expected = "hex data: 0x followed by an even number of hex digits"
    if len(_hex_digits(value, label, expected)) % 2:
        _fail(label, value, expected)
    return value


def storage_key(value: Any, label: str) -> str:
    """A storage slot: up to 32 bytes of hex (geth takes leading zeros and odd lengths here)."""
    expected = "a storage slot: 0x followed by 1 to 64 hex digits"
    if not 1 <= len(_hex_digits(value, label, expected)) <= 64:
        _fail(label, value, expected)
    return value


def filter_id(value: Any, label: str) -> str:
    expected = "a filter id as returned by eth_newFilter (0x followed by 1 to 64 hex digits)"
    if not 1 <= len(_hex_digits(value, label, expected)) <= 64:
        _fail(label, value, expected)
    return value


def boolean(value: Any, label: str) -> bool:
    if not isinstance(value, bool):
        _fail(label, value, "true or false")
    return value


def text(value: Any, label: str) -> str:
    if not isinstance(value, str) or len(value) > 256:
        _fail(label, value, "a string (at most 256 characters)")
    return value


def nullable(check: Check) -> Check:
    def inner(value: Any, label: str) -> Any:
        return None if value is None else check(value, label)

    return inner


def list_of(check: Check, *, at_most: int = MAX_LIST, what: str = "an array") -> Check:
    def inner(value: Any, label: str) -> list[Any]:
        if not isinstance(value, list):
            _fail(label, value, what)
        if len(value) > at_most:
            _fail(label, value, f"{what} of at most {at_most}")
        return [check(item, f"{label}[{i}]") for i, item in enumerate(value)]

    return inner


def free_json(value: Any, label: str) -> Any:
    """Any JSON of bounded depth with finite numbers (tracer configs): the engine parses it."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_FREE_DEPTH:
            _fail(label, value, f"JSON nested at most {MAX_FREE_DEPTH} deep")
        if isinstance(item, float) and not math.isfinite(item):
            _fail(label, item, "finite numbers only")
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) >= 2**256:
            _fail(label, item, "numbers below 2**256")
        if isinstance(item, dict):
            stack.extend((inner, depth + 1) for inner in item.values())
        elif isinstance(item, list):
            stack.extend((inner, depth + 1) for inner in item)
    return value


def obj(fields: dict[str, Check], *, what: str, required: tuple[str, ...] = ()) -> Check:
    """A JSON object with known members: each is checked; unknown ones are dropped (as geth
    ignores them)."""

    def inner(value: Any, label: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            _fail(label, value, what)
        for name in required:
            if name not in value:
                raise RpcError(INVALID_PARAMS, f"invalid {label}: {what} needs the member {name!r}")
        return {
            key: fields[key](item, f"{label}.{key}") for key, item in value.items() if key in fields
        }

    return inner


# ------------------------------------------------------------------------ composite objects

access_list = list_of(
    obj(
        {"address": address, "storageKeys": list_of(hash32)},
        what="an access-list entry {address, storageKeys}",
        required=("address",),
    ),
    what="an access list",
)
authorization_list = list_of(
    obj(
        {
            "chainId": uint256, "address": address, "nonce": uint64,
            "yParity": uint64, "v": uint64, "r": uint256, "s": uint256,
        },
        what="an EIP-7702 authorization",
    ),
    at_most=1000,
    what="an authorization list",
)  # fmt: skip
call_object = obj(
    {
        "from": nullable(address), "to": nullable(address),
        "gas": nullable(uint64), "gasPrice": nullable(uint256),
        "maxFeePerGas": nullable(uint256), "maxPriorityFeePerGas": nullable(uint256),
        "maxFeePerBlobGas": nullable(uint256), "value": nullable(uint256),
        "nonce": nullable(uint64), "chainId": nullable(uint64), "type": nullable(uint64),
        "data": nullable(data), "input": nullable(data),
        "accessList": nullable(access_list), "authorizationList": nullable(authorization_list),
        "blobVersionedHashes": nullable(list_of(hash32, at_most=16)),
    },
    what="a call object {from, to, gas, gasPrice, value, data, …}",
)  # fmt: skip


def call(value: Any, label: str) -> dict[str, Any]:
    """A call object (eth_call, eth_estimateGas, …); data and input may not differ."""
    checked = call_object(value, label)
    given = {k for k in ("data", "input") if checked.get(k) is not None}
    if len(given) == 2 and checked["data"] != checked["input"]:
        raise RpcError(
            INVALID_PARAMS, f"invalid {label}: both data and input are set and differ; send one"
        )
    return checked


block_selector = obj(
    {"blockNumber": block_number, "blockHash": hash32, "requireCanonical": boolean},
    what="a block: a number, a tag, or {blockNumber} / {blockHash}",
)


def block_id(value: Any, label: str) -> Any:
    """EIP-1898: a number or tag, or an object naming the block by number or hash."""
    if isinstance(value, dict):
        checked = block_selector(value, label)
        if ("blockNumber" in checked) == ("blockHash" in checked):
            raise RpcError(
                INVALID_PARAMS, f"invalid {label}: give exactly one of blockNumber and blockHash"
            )
        return checked
    return block_number(value, label)


def block_or_hash(value: Any, label: str) -> Any:
    if isinstance(value, str) and len(value) == 66:
        return hash32(value, label)
    return block_id(value, label)


topic = nullable(hash32)


def topic_position(value: Any, label: str) -> Any:
    if isinstance(value, list):
        return list_of(topic, at_most=MAX_TOPIC_ALTERNATIVES, what="a list of topic hashes")(
            value, label
        )
    return topic(value, label)


def addresses(value: Any, label: str) -> Any:
    if isinstance(value, list):
        return list_of(address, at_most=MAX_ADDRESSES, what="a list of addresses")(value, label)
    return nullable(address)(value, label)


_filter_fields = obj(
    {
        "fromBlock": nullable(block_number), "toBlock": nullable(block_number),
        "blockHash": nullable(hash32), "address": addresses,
        "topics": nullable(list_of(topic_position, at_most=4, what="a list of at most 4 topics")),
    },
    what="a filter object {fromBlock, toBlock, blockHash, address, topics}",
)  # fmt: skip


def filter_object(value: Any, label: str) -> dict[str, Any]:
    checked = _filter_fields(value, label)
    if checked.get("blockHash") is not None and (
        checked.get("fromBlock") is not None or checked.get("toBlock") is not None
    ):
        raise RpcError(
            INVALID_PARAMS,
            f"invalid {label}: blockHash cannot be combined with fromBlock/toBlock; send one",
        )
    return checked


account_override = obj(
    {
        "balance": nullable(uint256), "nonce": nullable(uint64), "code": nullable(data),
        "state": nullable(free_json), "stateDiff": nullable(free_json),
        "movePrecompileToAddress": nullable(address),
    },
    what="an account override {balance, nonce, code, state, stateDiff}",
)  # fmt: skip


def state_overrides(value: Any, label: str) -> dict[str, Any]:
    if not isinstance(value, dict) or len(value) > MAX_ADDRESSES:
        _fail(label, value, "an object of account overrides keyed by address")
    for key in value:
        address(key, f"{label} key")
    return {key: account_override(item, f"{label}.{key}") for key, item in value.items()}


block_overrides = obj(
    {
        "number": uint64, "time": uint64, "gasLimit": uint64, "coinbase": address,
        "random": hash32, "baseFee": uint256, "blobBaseFee": uint256, "difficulty": uint256,
    },
    what="a block override object {number, time, gasLimit, coinbase, random, baseFee}",
)  # fmt: skip
trace_config = obj(
    {
        "tracer": text, "tracerConfig": free_json, "timeout": text,
        "disableStorage": boolean, "disableStack": boolean, "disableMemory": boolean,
        "disableReturnData": boolean, "enableMemory": boolean, "enableReturnData": boolean,
        "debug": boolean, "limit": otterscan_number, "reexec": otterscan_number,
        "txIndex": uint64, "stateOverrides": state_overrides, "blockOverrides": block_overrides,
    },
    what="a tracer config object {tracer, tracerConfig, timeout, …}",
)  # fmt: skip


def fee_history_count(value: Any, label: str) -> Any:
    """geth takes the count as hex or as a decimal integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 2**64:
            _fail(label, value, "a block count from 0 to 2**64-1")
        return value
    return uint64(value, label)


def percentiles(value: Any, label: str) -> Any:
    expected = "an ascending list of at most 100 percentiles from 0 to 100"
    if not isinstance(value, list) or len(value) > 100:
        _fail(label, value, expected)
    previous = -1.0
    for i, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int | float):
            _fail(f"{label}[{i}]", item, expected)
        if not (math.isfinite(item) and 0 <= item <= 100 and item >= previous):
            _fail(f"{label}[{i}]", item, expected)
        previous = item
    return value


def subscription_kind(value: Any, label: str) -> str:
    if value not in ("newHeads", "logs"):
        _fail(label, value, '"newHeads" or "logs"')
    return value


# ------------------------------------------------------------------- witnesses' checkpoints


def checkpoint(value: Any, label: str) -> Checkpoint:
    """A Checkpoint's JSON form (citypass/protocol/checkpoints.py), parsed strictly."""
    try:
        return Checkpoint.from_json(value)
    except CheckpointError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid {label}: {exc}") from exc


def cosignature(value: Any, label: str) -> Cosignature:
    try:
        return Cosignature.from_json(value)
    except CheckpointError as exc:
        raise RpcError(INVALID_PARAMS, f"invalid {label}: {exc}") from exc


def checkpoint_tag(value: Any, label: str) -> int | str:
    """ledger_getCheckpoint's block: "latest" (the newest co-signed) or a block number."""
    return "latest" if value == "latest" else plain_block_number(value, label)
