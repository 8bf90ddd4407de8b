"""Every contract of a deployment by address, and the decoding of their raw logs.

The indexer's registry (citypass.protocol.deployment_record.CONTRACTS) may not list every contract yet (the
mobility contracts arrive there on their own schedule), so the explorer reads the deployment
record itself and decodes the logs of every contract it names, keyed by contract name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_utils import event_abi_to_log_topic, to_checksum_address
from web3 import Web3
from web3._utils.events import get_event_data

from citypass.protocol.abi import DecodedEvent, load_abi
from citypass.protocol.deployment_record import CONTRACTS

# Every contract a deployment record names (the indexer registry lists them all).
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
    """Names, web3 handles and event ABIs of one deployment's contracts."""

    def __init__(self, w3: Web3, addresses: dict[str, str]) -> None:
        self.w3 = w3
        self.addresses = {key: to_checksum_address(a) for key, a in addresses.items()}
        self.names = {a: ALL_CONTRACTS[key] for key, a in self.addresses.items()}
        self.handles: dict[str, Any] = {}
        self._events: dict[tuple[str, bytes], dict[str, Any]] = {}
        for key, address in self.addresses.items():
            abi = load_abi(ALL_CONTRACTS[key])
            self.handles[key] = w3.eth.contract(address=address, abi=abi)
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    self._events[(address, event_abi_to_log_topic(item))] = item

    def name_of(self, address: str | None) -> str | None:
        if not address:
            return None
        return self.names.get(to_checksum_address(address))

    def handle(self, key: str) -> Any | None:
        return self.handles.get(key)

    def decode(self, log: dict[str, Any]) -> DecodedEvent | None:
        """The event a raw log (web3 receipt log or read-model row as a dict) stands for."""
        address = to_checksum_address(log["address"])
        topics = [_bytes(t) for t in log["topics"] if t is not None]
        if not topics:
            return None
        abi = self._events.get((address, topics[0]))
        if abi is None:
            return None
        entry = {
            "address": address, "topics": topics, "data": _bytes(log["data"]),
            "logIndex": log.get("logIndex", 0), "transactionIndex": 0,
            "transactionHash": log.get("transactionHash", b"\0" * 32),
            "blockHash": b"\0" * 32, "blockNumber": log.get("blockNumber", 0),
        }  # fmt: skip
        try:
            data = get_event_data(self.w3.codec, abi, entry)
        except Exception:  # a log that does not fit its ABI: shown raw rather than hidden
            return None
        return DecodedEvent(self.names[address], data["event"], dict(data["args"]))


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x"))
    return bytes(value)
