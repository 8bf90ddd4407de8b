"""Verifying a block's authority seal (the node's `ledger_getSeal` answer), not taking it on
trust: the signer is recovered from the seal digest of the block as we have it (hash and parent
hash) and compared with the authority the seal names, so a seal over another block, or by
another key, is invalid. Used by the indexer (blocks.seal_status) and the explorer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from citypass.protocol.seals import seal_signer


@dataclass(frozen=True)
class SealStatus:
    status: str  # sealed / invalid / unsealed / unavailable
    authority: str | None = None
    signer: str | None = None
    detail: str = ""


def verify_seal(
    chain_id: int, number: int, block_hash: str, parent_hash: str, seal: dict[str, Any] | None
) -> SealStatus:
    if seal is None:
        return SealStatus("unsealed", detail="the node's journal holds no seal for this block")
    authority = seal.get("authority")
    if str(seal.get("hash", "")).lower() != block_hash.lower():
        return SealStatus(
            "invalid", authority, detail=f"the seal is over block hash {seal.get('hash')}"
        )
    try:
        signer = seal_signer(
            bytes.fromhex(str(seal["signature"]).removeprefix("0x")),
            chain_id,
            number,
            bytes.fromhex(block_hash.removeprefix("0x")),
            bytes.fromhex(parent_hash.removeprefix("0x")),
        )
    except (KeyError, ValueError):
        signer = None
    if signer is None or authority is None or signer.lower() != str(authority).lower():
        return SealStatus(
            "invalid", authority, signer, detail="the signature is not the authority's"
        )
    return SealStatus("sealed", authority, signer, detail="signature verified")
