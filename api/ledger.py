"""What the API reads from the ledger node: contracts, the forwarder's EIP-712 domain, the
ledger's clock and custom-error decoding (every error of every ABI in build/contracts)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3 import Web3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3RPCError

from api.errors import LedgerUnavailable
from citypass.protocol.abi import BUILD, Registry
from citypass.protocol.deployment_record import Deployment

CLOCK_CACHE_SECONDS = 1.0


def _error_table() -> dict[bytes, tuple[str, list[str]]]:
    """4-byte selector → (error name, argument types) over every compiled ABI."""
    table: dict[bytes, tuple[str, list[str]]] = {}
    for path in sorted(BUILD.glob("*.json")):
        for item in json.loads(path.read_text()).get("abi", []):
            if item.get("type") == "error":
                types = [_abi_type(arg) for arg in item.get("inputs", [])]
                selector = Web3.keccak(text=f"{item['name']}({','.join(types)})")[:4]
                table[bytes(selector)] = (item["name"], types)
    return table


def _abi_type(arg: dict[str, Any]) -> str:
    if arg["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in arg["components"])
        return f"({inner}){arg['type'][5:]}"
    return arg["type"]


ERRORS = _error_table()


def decode_revert(data: bytes | str | None) -> tuple[str, list[Any]]:
    """(name, args) of revert data: a custom error, Error(string), Panic(uint256), or unknown."""
    if isinstance(data, str):
        data = bytes.fromhex(data.removeprefix("0x")) if data.startswith("0x") else b""
    if not data or len(data) < 4:
        return "Reverted", []
    selector, body = bytes(data[:4]), bytes(data[4:])
    codec = Web3().codec
    if selector == bytes.fromhex("08c379a0"):
        return "Error", list(codec.decode(["string"], body))
    if selector == bytes.fromhex("4e487b71"):
        return "Panic", list(codec.decode(["uint256"], body))
    if selector in ERRORS:
        name, types = ERRORS[selector]
        try:
            return name, [_jsonable(v) for v in codec.decode(types, body)]
        except Exception:  # malformed arguments: the name is still the useful part
            return name, []
    return f"unknown error 0x{selector.hex()}", []


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def revert_data(exc: Exception) -> bytes | None:
    """The raw revert data web3 attached to a failed eth_call/estimate, if any."""
    data = getattr(exc, "data", None)
    if isinstance(exc, ContractCustomError | ContractLogicError) and isinstance(data, str):
        return bytes.fromhex(data.removeprefix("0x")) if data.startswith("0x") else None
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    return None


class Ledger:
    """One deployment on one ledger node; thread-safe for the API's worker threads."""

    def __init__(self, rpc_url: str, deployment: Deployment) -> None:
        self.rpc_url = rpc_url
        self.deployment = deployment
        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
        self.registry = Registry(self.w3, deployment.addresses)
        self.contracts = self.registry.contracts
        self._clock = (0.0, 0)
        self._lock = threading.Lock()
        self._domains: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls, rpc_url: str, deployment_path: Path) -> Ledger:
        return cls(rpc_url, Deployment.load(deployment_path))

    @property
    def chain_id(self) -> int:
        return self.deployment.chain_id

    def address(self, key: str) -> str:
        return self.deployment.addresses[key]

    def head(self) -> int:
        try:
            return int(self.w3.eth.block_number)
        except Exception as exc:
            raise LedgerUnavailable(
                f"the ledger node at {self.rpc_url} did not answer ({type(exc).__name__}); "
                "retry later"
            ) from exc

    def now(self) -> int:
        """The ledger's clock: the head block's timestamp (what LeaseMarket compares with),
        cached for a second so validation does not cost a round trip per request."""
        with self._lock:
            fetched, value = self._clock
            if time.monotonic() - fetched < CLOCK_CACHE_SECONDS:
                return value
        try:
            value = int(self.w3.eth.get_block("latest")["timestamp"])
        except Exception as exc:
            raise LedgerUnavailable(
                f"the ledger node at {self.rpc_url} did not answer; retry later"
            ) from exc
        with self._lock:
            self._clock = (time.monotonic(), value)
        return value

    def eip712_domain(self, key: str) -> dict[str, Any]:
        """The ERC-5267 domain a contract reports (immutable, so read once)."""
        if key not in self._domains:
            fields = self.contracts[key].functions.eip712Domain().call()
            _flags, name, version, chain_id, verifying, _salt, _ext = fields
            self._domains[key] = {
                "name": name,
                "version": version,
                "chainId": int(chain_id),
                "verifyingContract": to_checksum_address(verifying),
            }
        return dict(self._domains[key])


def selector_of(abi_item: dict[str, Any]) -> bytes:
    return bytes(function_abi_to_4byte_selector(abi_item))


__all__ = ["Ledger", "Web3RPCError", "decode_revert", "revert_data", "selector_of"]
