"""Revert data in words: Error(string), Panic(uint256) and every custom error of the compiled
contracts (the ABIs in build/contracts), for the API, the oracles and the demo alike.

`revert_data` finds the raw bytes wherever web3 or a JSON-RPC error put them; `decode_revert`
names the error and decodes its arguments; `revert_text` writes it as brownie does
('Name: arg, arg'), so scripts that read brownie's messages read these too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_abi import decode
from eth_utils import collapse_if_tuple, function_abi_to_4byte_selector

from citypass.protocol.contracts import ARTIFACTS_DIR

ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string): require(..., "text") and revert("text")
PANIC = bytes.fromhex("4e487b71")  # Panic(uint256): the compiler's own checks
# Solidity's panic codes (docs.soliditylang.org, "Panic via assert and Error via require").
PANIC_REASONS = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "conversion to an invalid enum value",
    0x22: "incorrectly encoded storage byte array",
    0x31: "pop() on an empty array",
    0x32: "array index out of bounds",
    0x41: "too much memory allocated",
    0x51: "call to a zero-initialised internal function",
}
NO_REASON = "Reverted"


@lru_cache(maxsize=4)
def custom_errors(artifacts: Path = ARTIFACTS_DIR) -> dict[bytes, tuple[str, tuple[str, ...]]]:
    """4-byte selector → (error name, argument types) over every compiled ABI (read once)."""
    table: dict[bytes, tuple[str, tuple[str, ...]]] = {}
    for path in sorted(artifacts.glob("*.json")):
        for item in json.loads(path.read_text()).get("abi", []):
            if item.get("type") == "error":
                types = tuple(collapse_if_tuple(arg) for arg in item.get("inputs", []))
                table[bytes(function_abi_to_4byte_selector(item))] = (item["name"], types)
    return table


def decode_revert(data: bytes | str | None) -> tuple[str, list[Any]]:
    """(name, args) of revert data: a custom error, 'Error' (args: the message), 'Panic' (args:
    the code), 'Reverted' when there is no data, or 'unknown error 0x…' for a selector no
    compiled contract declares. Bytes arguments come back as 0x-hex, tuples as lists (JSON-ready)."""
    if isinstance(data, str):
        data = _hex(data)
    if not data or len(data) < 4:
        return NO_REASON, []
    selector, body = bytes(data[:4]), bytes(data[4:])
    types: tuple[str, ...]
    if selector == ERROR_STRING:
        name, types = "Error", ("string",)
    elif selector == PANIC:
        name, types = "Panic", ("uint256",)
    elif selector in custom_errors():
        name, types = custom_errors()[selector]
    else:
        return f"unknown error 0x{selector.hex()}", []
    try:
        return name, [_jsonable(value) for value in decode(list(types), body)]
    except Exception:  # malformed arguments: the name is still the useful part
        return name, []


def revert_text(data: bytes | str | None) -> str:
    """'LeaseMarketOutsideWindow: 3, 1772442000, 1772449200'; Error(string) as its message;
    a Panic as what it means."""
    name, args = decode_revert(data)
    if name == "Error" and args:
        return str(args[0])
    if name == "Panic" and args:
        return f"Panic 0x{args[0]:02x}: {PANIC_REASONS.get(args[0], 'unknown panic code')}"
    return f"{name}: {', '.join(str(arg) for arg in args)}" if args else name


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data a failed call carried (web3's ContractCustomError / ContractLogicError
    and the like keep it in `.data`, as hex or a (hex, ...) tuple), or None."""
    return _data_of(getattr(exc, "data", None))


def rpc_error_data(error: Mapping[str, Any]) -> bytes | None:
    """The revert data of a JSON-RPC error object ({"code", "message", "data"}; some nodes nest
    it as {"data": {"data": "0x…"}}), or None."""
    data = error.get("data")
    if isinstance(data, Mapping):
        data = data.get("data")
    return _data_of(data)


def _data_of(data: Any) -> bytes | None:
    if isinstance(data, tuple | list) and data:
        data = data[0]
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    if isinstance(data, str) and data.startswith("0x"):
        return _hex(data)
    return None


def _hex(text: str) -> bytes | None:
    if not text.startswith("0x"):
        return None
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value
