"""A block's seal status from the node's `ledger_getSeal`, verified here, not taken on trust.

The node answers {number, hash, parentHash, chainId, authority, signature} or null (no seal in
its journal); indexer/seals.py verifies it against the block the read model holds. Verified
seals are final (the ledger has no forks) and cached. The indexer stores the same verdict in
blocks.seal_status when it indexes a block.
"""

from __future__ import annotations

import threading

from web3 import Web3
from web3.types import RPCEndpoint

from indexer.seals import SealStatus, verify_seal

CACHE_LIMIT = 4096


class SealChecker:
    def __init__(self, w3: Web3, chain_id: int) -> None:
        self.w3 = w3
        self.chain_id = chain_id
        self._verified: dict[int, SealStatus] = {}
        self._lock = threading.Lock()

    def status(self, number: int, block_hash: str, parent_hash: str) -> SealStatus:
        with self._lock:
            cached = self._verified.get(number)
        if cached is not None:
            return cached
        try:
            reply = self.w3.provider.make_request(RPCEndpoint("ledger_getSeal"), [number])
        except Exception as exc:  # the page still renders; the auditor sees why
            return SealStatus("unavailable", detail=f"node did not answer ({type(exc).__name__})")
        if "error" in reply:
            message = reply["error"].get("message", "")
            return SealStatus("unavailable", detail=f"ledger_getSeal refused: {message}")
        seal = reply.get("result")
        result = verify_seal(self.chain_id, number, block_hash, parent_hash, seal)
        if result.status == "sealed":
            with self._lock:
                if len(self._verified) >= CACHE_LIMIT:
                    self._verified.clear()
                self._verified[number] = result
        return result
