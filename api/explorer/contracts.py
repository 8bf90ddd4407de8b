"""Every contract of a deployment by address, and the decoding of their raw logs.

The explorer reads the deployment record itself and decodes the logs of every contract it names
(with citypass.protocol.abi.Registry, as the indexer and the relayer do), keyed by contract name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address
from web3 import Web3

from api.errors import NotFound
from citypass.protocol.abi import DecodedEvent, Registry
from citypass.protocol.deployment_record import CONTRACTS

# Every contract a deployment record names.
ALL_CONTRACTS = CONTRACTS


def deployment_addresses(path: Path, known: dict[str, str]) -> dict[str, str]:
    """`known` (the registry's) plus every other contract the record at `path` names."""
    addresses = dict(known)
    try:
        record = json.loads(Path(path).read_text()).get("contracts", {})
    except (OSError, ValueError):
        return addresses
    for key in ALL_CONTRACTS:
        if key not in addresses and isinstance(record.get(key), str):
            addresses[key] = to_checksum_address(record[key])
    return addresses


class ContractBook:
    """Names, web3 handles and event decoding of one deployment's contracts (a Registry of
    every contract the record names)."""

    def __init__(self, w3: Web3, addresses: dict[str, str]) -> None:
        self.w3 = w3
        self.addresses = {key: to_checksum_address(a) for key, a in addresses.items()}
        self._registry = Registry(w3, self.addresses)
        self.names = self._registry.names
        self.handles: dict[str, Any] = self._registry.contracts

    def name_of(self, address: str | None) -> str | None:
        if not address:
            return None
        return self.names.get(to_checksum_address(address))

    def handle(self, key: str) -> Any:
        """The web3 contract `key` of the deployment; NotFound if this deployment lacks it."""
        contract = self.handles.get(key)
        if contract is None:
            raise NotFound(f"this deployment has no {key} contract", code="no_contract")
        return contract

    def optional_handle(self, key: str) -> Any | None:
        return self.handles.get(key)

    def decode(self, log: dict[str, Any]) -> DecodedEvent | None:
        """The event a raw log (web3 receipt log or read-model row as a dict) stands for."""
        entry = {
            "address": log["address"],
            "topics": [_bytes(t) for t in log["topics"] if t is not None],
            "data": _bytes(log["data"]),
        }
        try:
            return self._registry.decode(entry)
        except Exception:  # a log that does not fit its ABI: shown raw rather than hidden
            return None


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)
