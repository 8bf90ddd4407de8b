"""What the API reads from the ledger node: contracts, the forwarder's EIP-712 domain and the
ledger's clock. Reverts are decoded by citypass/protocol/reverts.py."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, cast

from eth_typing import ABIFunction
from eth_utils import function_abi_to_4byte_selector, to_checksum_address
from web3.exceptions import Web3RPCError

from api.errors import LedgerUnavailable
from citypass.core.node_web3 import node_web3
from citypass.core.rpc_url import redacted
from citypass.protocol.abi import Registry
from citypass.protocol.deployment_record import Deployment

CLOCK_CACHE_SECONDS = 1.0


class Ledger:
    """One deployment on one ledger node; thread-safe for the API's worker threads."""

    def __init__(self, rpc_url: str, deployment: Deployment) -> None:
        self.rpc_url = rpc_url
        self.deployment = deployment
        self.w3 = node_web3(rpc_url, timeout=30)
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
                f"the ledger node at {redacted(self.rpc_url)} did not answer "
                f"({type(exc).__name__}); "
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
                f"the ledger node at {redacted(self.rpc_url)} did not answer; retry later"
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
    return bytes(function_abi_to_4byte_selector(cast(ABIFunction, abi_item)))


__all__ = ["Ledger", "Web3RPCError", "selector_of"]
