"""Authority seals: the authority's signature over (chainId, number, blockHash, parentHash)."""

from __future__ import annotations

from eth_abi import encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_hash.auto import keccak
from eth_typing import Hash32


def seal_digest(chain_id: int, number: int, block_hash: bytes, parent_hash: bytes) -> bytes:
    return keccak(
        encode(
            ["uint256", "uint256", "bytes32", "bytes32"],
            [chain_id, number, block_hash, parent_hash],
        )
    )


def sign_seal(
    authority: LocalAccount, chain_id: int, number: int, block_hash: bytes, parent_hash: bytes
) -> bytes:
    signed = authority.unsafe_sign_hash(
        Hash32(seal_digest(chain_id, number, block_hash, parent_hash))
    )
    return bytes(signed.signature)


def seal_signer(
    seal: bytes, chain_id: int, number: int, block_hash: bytes, parent_hash: bytes
) -> str | None:
    """The address that signed `seal`, or None if it is not a valid signature."""
    try:
        return Account._recover_hash(
            seal_digest(chain_id, number, block_hash, parent_hash), signature=seal
        )
    except Exception:  # eth-keys raises several types for malformed signatures
        return None
