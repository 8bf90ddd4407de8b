"""Our contracts' ABIs (the build/contracts artefacts) and the decoding of their event logs.

Below the API and the indexer: the API's write path decodes the outcome of what it relayed and
the indexer decodes every block with the same Registry, so neither depends on the other for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

from eth_abi import decode as abi_decode
from eth_hash.backends.pysha3 import keccak256
from eth_typing import ABIEvent
from eth_utils import event_abi_to_log_topic, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.events import get_event_data

from citypass.protocol.abi_words import WordReader, read_words, word_readers
from citypass.protocol.contracts import CONTRACT_NAMES

BUILD = Path(__file__).resolve().parents[2] / "build" / "contracts"


class ArtefactError(Exception):
    """A build artefact or the deployment record is missing or malformed; the message says
    what to run or pass."""


@dataclass(frozen=True)
class DecodedEvent:
    contract: str  # contract name, e.g. "LeaseMarket"
    event: str
    args: dict[str, Any]


# Types decoded here with eth_abi directly; an event with any other (tuples, address arrays) goes
# through web3's slower get_event_data, which normalises nested values.
_FAST_TYPE = re.compile(r"^(address|bool|string|bytes\d*|u?int\d*|u?int\d*\[\])$")


_HEX40 = re.compile(r"[0-9a-f]{40}")


@lru_cache(maxsize=65_536)
def checksum(address: str) -> str:
    """EIP-55 form of a 0x address of 40 hex digits in any case, as eth_utils'
    to_checksum_address gives it (tests/api/test_schema_addresses.py) without its per-call
    argument checks and with eth-hash's pysha3 keccak: ~5 µs of CPU an address against eth_utils'
    ~17 µs, which was most of decoding a relayed booking's events. Cached because the same few
    accounts recur in every block. Raises ValueError for anything else."""
    digits = address[2:].lower()
    if not address.startswith(("0x", "0X")) or not _HEX40.fullmatch(digits):
        raise ValueError(f"{address!r} is not a 0x address of 40 hex digits")
    digest = keccak256(digits.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if h in "89abcdef" else c for c, h in zip(digits, digest, strict=False)
    )


@dataclass(frozen=True)
class _EventLayout:
    """How to decode one event of one contract from its topics and data."""

    contract: str
    event: str
    abi: dict[str, Any]
    indexed: tuple[tuple[str, str], ...]  # (name, type), in topic order
    data_names: tuple[str, ...]
    data_types: tuple[str, ...]
    fast: bool
    # One-word readers of the topics' and the data's types (abi_words.py), when all are such
    # types: the common case, decoded without eth_abi.
    topic_readers: tuple[WordReader, ...] | None
    data_readers: tuple[WordReader, ...] | None

    @classmethod
    def of(cls, contract: str, abi: dict[str, Any]) -> _EventLayout:
        inputs = abi["inputs"]
        types = [item["type"] for item in inputs]
        data_types = tuple(item["type"] for item in inputs if not item["indexed"])
        return cls(
            contract, abi["name"], abi,
            tuple((item["name"], item["type"]) for item in inputs if item["indexed"]),
            tuple(item["name"] for item in inputs if not item["indexed"]),
            data_types,
            all(_FAST_TYPE.match(t) for t in types),
            word_readers([item["type"] for item in inputs if item["indexed"]]),
            word_readers(data_types),
        )  # fmt: skip

    def decode(self, topics: list[bytes], data: bytes) -> dict[str, Any]:
        words = self._decode_words(topics, data)
        if words is not None:
            return words
        args: dict[str, Any] = {}
        for (name, kind), topic in zip(self.indexed, topics[1:], strict=True):
            # Only static types occur indexed in our contracts; a dynamic one would be a hash.
            args[name] = _normalise(kind, abi_decode([kind], topic)[0])
        values = abi_decode(self.data_types, data) if self.data_types else ()
        for name, kind, value in zip(self.data_names, self.data_types, values, strict=True):
            args[name] = _normalise(kind, value)
        return args

    def _decode_words(self, topics: list[bytes], data: bytes) -> dict[str, Any] | None:
        """decode() without eth_abi when every field is one word; None: let eth_abi decide."""
        if self.topic_readers is None or self.data_readers is None:
            return None
        if len(topics) != len(self.topic_readers) + 1 or any(len(t) != 32 for t in topics):
            return None
        indexed = read_words(self.topic_readers, b"".join(topics[1:]))
        values = read_words(self.data_readers, data)
        if indexed is None or values is None:
            return None
        args: dict[str, Any] = {}
        for (name, kind), value in zip(self.indexed, indexed, strict=True):
            args[name] = _normalise(kind, value)
        for name, kind, value in zip(self.data_names, self.data_types, values, strict=True):
            args[name] = _normalise(kind, value)
        return args


def _normalise(kind: str, value: Any) -> Any:
    # web3 returns checksummed addresses; the read model stores them that way.
    return checksum(value) if kind == "address" else value


def load_abi(name: str) -> list[dict[str, Any]]:
    path = BUILD / f"{name}.json"
    if not path.exists():
        raise ArtefactError(f"{path} missing: run `brownie compile` so the ABIs exist")
    return json.loads(path.read_text())["abi"]


class Registry:
    """Web3 handles of one deployment's contracts, and the decoding of a raw log of any of them
    into its event name and arguments."""

    def __init__(self, w3: Web3, addresses: Mapping[str, str]) -> None:
        """`addresses`: deployment key (CONTRACT_NAMES) → checksummed address."""
        self.w3 = w3
        self.names: dict[str, str] = {}
        self.contracts: dict[str, Any] = {}
        # (lower-case address, topic0 as 0x-hex) → layout: the key a JSON-RPC log gives as is.
        self._events: dict[tuple[str, str], _EventLayout] = {}
        for key, address in addresses.items():
            name = CONTRACT_NAMES[key]
            abi = load_abi(name)
            self.names[address] = name
            self.contracts[key] = w3.eth.contract(address=to_checksum_address(address), abi=abi)
            for item in abi:
                if item.get("type") == "event" and not item.get("anonymous"):
                    topic0 = "0x" + event_abi_to_log_topic(cast(ABIEvent, item)).hex()
                    self._events[(address.lower(), topic0)] = _EventLayout.of(name, item)

    def decode(self, log: dict[str, Any]) -> DecodedEvent | None:
        """The event a web3 log (HexBytes topics and data) stands for, or None when it is not
        from a known contract."""
        topics = [bytes(t) for t in log["topics"]]
        return self._decode(str(log["address"]).lower(), topics, bytes(log["data"]), log)

    def decode_raw(self, log: dict[str, Any]) -> DecodedEvent | None:
        """The same for a log exactly as JSON-RPC returns it (0x-hex strings): the follower's
        hot path, so nothing is converted before we know the log is ours."""
        topics = log["topics"]
        if not topics:
            return None
        layout = self._events.get((log["address"].lower(), topics[0].lower()))
        if layout is None:
            return None
        as_bytes = [bytes.fromhex(t[2:]) for t in topics]
        return self._decode_with(layout, as_bytes, bytes.fromhex(log["data"][2:]), log)

    def _decode(
        self, address: str, topics: list[bytes], data: bytes, log: dict[str, Any]
    ) -> DecodedEvent | None:
        if not topics:
            return None
        layout = self._events.get((address, "0x" + topics[0].hex()))
        if layout is None:
            return None
        return self._decode_with(layout, topics, data, log)

    def _decode_with(
        self, layout: _EventLayout, topics: list[bytes], data: bytes, log: dict[str, Any]
    ) -> DecodedEvent:
        if layout.fast:
            return DecodedEvent(layout.contract, layout.event, layout.decode(topics, data))
        entry = {
            "address": checksum(str(log["address"])), "topics": [HexBytes(t) for t in topics],
            "data": HexBytes(data), "logIndex": 0, "transactionIndex": 0,
            "transactionHash": HexBytes(b"\0" * 32), "blockHash": HexBytes(b"\0" * 32),
            "blockNumber": 0,
        }  # fmt: skip
        decoded = get_event_data(self.w3.codec, layout.abi, entry)
        return DecodedEvent(layout.contract, layout.event, dict(decoded["args"]))
