"""A block's seal status from the node's `ledger_getSeal`, verified here, not taken on trust.

The node answers {number, hash, parentHash, chainId, authority, signature} or null (no seal in
its journal). The explorer recovers the signer from the seal digest of the block it has (hash
and parent hash from the read model) and compares it with the authority the node names, so a
seal over another block, or by another key, shows as invalid. Verified seals are final (the
ledger has no forks) and cached.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from web3 import Web3

from ledger_node.seal import seal_signer

CACHE_LIMIT = 4096


@dataclass(frozen=True)
class SealStatus:
    status: str  # sealed / invalid / unsealed / unavailable
    authority: str | None = None
    signer: str | None = None
    detail: str = ""


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
            reply = self.w3.provider.make_request("ledger_getSeal", [number])
        except Exception as exc:  # the page still renders; the auditor sees why
            return SealStatus("unavailable", detail=f"node did not answer ({type(exc).__name__})")
        if "error" in reply:
            message = reply["error"].get("message", "")
            return SealStatus("unavailable", detail=f"ledger_getSeal refused: {message}")
        seal = reply.get("result")
        if seal is None:
            return SealStatus("unsealed", detail="the node's journal holds no seal for this block")
        result = self._verify(number, block_hash, parent_hash, seal)
        if result.status == "sealed":
            with self._lock:
                if len(self._verified) >= CACHE_LIMIT:
                    self._verified.clear()
                self._verified[number] = result
        return result

    def _verify(self, number: int, block_hash: str, parent_hash: str, seal: dict) -> SealStatus:
        authority = seal.get("authority")
        if seal.get("hash", "").lower() != block_hash.lower():
            return SealStatus(
                "invalid", authority, detail=f"the seal is over block hash {seal.get('hash')}"
            )
        signer = seal_signer(
            bytes.fromhex(seal["signature"].removeprefix("0x")),
            self.chain_id,
            number,
            bytes.fromhex(block_hash.removeprefix("0x")),
            bytes.fromhex(parent_hash.removeprefix("0x")),
        )
        if signer is None or authority is None or signer.lower() != authority.lower():
            return SealStatus(
                "invalid", authority, signer, detail="the signature is not the authority's"
            )
        return SealStatus("sealed", authority, signer, detail="signature verified")
