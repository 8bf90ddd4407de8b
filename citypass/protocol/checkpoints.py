"""Ledger checkpoints and witnesses' co-signatures (docs/witnesses.md).

A checkpoint states what the ledger was at one block: the chain id, the block's number and hash,
its state root, and the journal's hash chain up to it. A witness (another organisation, with its
own key and engine) re-executes the journal and co-signs the checkpoint it reproduced.

Co-signatures are EIP-712 typed-data signatures, not C2SP signed notes: a witness is an
Ethereum account named in CityAccess (the WITNESS role), so its signature is checked by
recovering an address, with the same libraries (eth-account, ethers' `verifyTypedData`) and the
same keystores as every other key here, and a contract could check it too. C2SP cosignatures
are Ed25519 over a text note, which would add a second kind of key and key registry.

The journal's hash chain links every sealed block and its authority seal, which the block hash
alone does not cover:

    journalHash(0) = hash of the genesis block
    journalHash(n) = keccak256(journalHash(n-1) ‖ uint64(n) ‖ blockHash(n) ‖ seal(n))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_hash.auto import keccak
from eth_utils import to_checksum_address

from citypass.protocol.signing import typed_struct

CHECKPOINT_TYPES = typed_struct(
    "Checkpoint(uint256 chainId,uint64 number,bytes32 blockHash,bytes32 stateRoot,"
    "bytes32 journalHash)"
)
# Not bound to a contract: a checkpoint is about the whole chain. The chain id is in the domain
# (and in the message, so a reader of the JSON sees it).
CHECKPOINT_DOMAIN_NAME = "CityPass Ledger checkpoint"
CHECKPOINT_DOMAIN_VERSION = "1"
_DOMAIN_TYPE = typed_struct("EIP712Domain(string name,string version,uint256 chainId)")
MAX_BLOCK_NUMBER = 2**64 - 1
SEAL_LENGTH = 65

_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
_QUANTITY = re.compile(r"0x(0|[1-9a-fA-F][0-9a-fA-F]*)")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
CHECKPOINT_FIELDS = ("chainId", "number", "blockHash", "stateRoot", "journalHash")


class CheckpointError(ValueError):
    """A checkpoint or co-signature that is malformed; the message names the field."""


def journal_link(previous: bytes, number: int, block_hash: bytes, seal: bytes) -> bytes:
    """The journal's hash chain after block `number` (see the module's docstring)."""
    if len(previous) != 32 or len(block_hash) != 32:
        raise CheckpointError("journal links and block hashes are 32 bytes")
    return keccak(previous + number.to_bytes(8, "big") + block_hash + seal)


def genesis_link(genesis_hash: bytes) -> bytes:
    """journalHash(0): the chain starts from its genesis block."""
    if len(genesis_hash) != 32:
        raise CheckpointError("the genesis hash is 32 bytes")
    return genesis_hash


@dataclass(frozen=True)
class Checkpoint:
    chain_id: int
    number: int
    block_hash: bytes
    state_root: bytes
    journal_hash: bytes

    def typed_data(self) -> dict[str, Any]:
        return {
            "types": {"EIP712Domain": _DOMAIN_TYPE["EIP712Domain"], **CHECKPOINT_TYPES},
            "primaryType": "Checkpoint",
            "domain": {
                "name": CHECKPOINT_DOMAIN_NAME,
                "version": CHECKPOINT_DOMAIN_VERSION,
                "chainId": self.chain_id,
            },
            "message": {
                "chainId": self.chain_id,
                "number": self.number,
                "blockHash": self.block_hash,
                "stateRoot": self.state_root,
                "journalHash": self.journal_hash,
            },
        }

    def sign(self, account: Any) -> bytes:
        """`account`: an eth-account LocalAccount (a witness's key, decrypted from its keystore)."""
        signed = account.sign_message(encode_typed_data(full_message=self.typed_data()))
        return bytes(signed.signature)

    def signer(self, signature: bytes) -> str | None:
        """The address whose key made `signature` over this checkpoint, or None if it is not a
        valid signature."""
        if len(signature) != SEAL_LENGTH:
            return None
        try:
            return str(
                Account.recover_message(
                    encode_typed_data(full_message=self.typed_data()), signature=signature
                )
            )
        except Exception:  # eth-keys raises several types for malformed signatures
            return None

    def to_json(self) -> dict[str, str]:
        return {
            "chainId": hex(self.chain_id),
            "number": hex(self.number),
            "blockHash": "0x" + self.block_hash.hex(),
            "stateRoot": "0x" + self.state_root.hex(),
            "journalHash": "0x" + self.journal_hash.hex(),
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """Parse the JSON form strictly; CheckpointError names the first field that is wrong."""
        if not isinstance(data, dict):
            raise CheckpointError(
                "a checkpoint is a JSON object with " + ", ".join(CHECKPOINT_FIELDS)
            )
        unknown = sorted(set(data) - set(CHECKPOINT_FIELDS))
        if unknown:
            raise CheckpointError(f"checkpoint: unknown field {unknown[0]!r}")
        for name in CHECKPOINT_FIELDS:
            if name not in data:
                raise CheckpointError(f"checkpoint.{name} is missing")
        chain_id = _quantity(data, "chainId", 2**256 - 1)
        number = _quantity(data, "number", MAX_BLOCK_NUMBER)
        return cls(
            chain_id=chain_id,
            number=number,
            block_hash=_hash(data, "blockHash"),
            state_root=_hash(data, "stateRoot"),
            journal_hash=_hash(data, "journalHash"),
        )


@dataclass(frozen=True)
class Cosignature:
    witness: str  # checksummed address
    signature: bytes

    def to_json(self) -> dict[str, str]:
        return {"witness": self.witness, "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, data: Any, where: str = "cosignature") -> Cosignature:
        if not isinstance(data, dict) or set(data) != {"witness", "signature"}:
            raise CheckpointError(f"{where} is an object with exactly witness and signature")
        witness, signature = data["witness"], data["signature"]
        if not isinstance(witness, str) or not _ADDRESS.fullmatch(witness):
            raise CheckpointError(f"{where}.witness is not an address (0x and 40 hex digits)")
        if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
            raise CheckpointError(f"{where}.signature is not a 65-byte signature (0x and 130 hex)")
        return cls(to_checksum_address(witness), bytes.fromhex(signature[2:]))

    def verify(self, checkpoint: Checkpoint, where: str = "cosignature") -> None:
        """Raise CheckpointError unless this co-signature is the named witness's over `checkpoint`."""
        signer = checkpoint.signer(self.signature)
        if signer != self.witness:
            raise CheckpointError(
                f"{where}: the signature is not {self.witness}'s over this checkpoint"
                + (f" (it recovers to {signer})" if signer else " (it is not a valid signature)")
            )


def _quantity(data: dict[str, Any], name: str, maximum: int) -> int:
    value = data[name]
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        raise CheckpointError(f"checkpoint.{name} is not a hex quantity (0x…, no leading zeros)")
    number = int(value, 16)
    if number > maximum:
        raise CheckpointError(f"checkpoint.{name} is too large")
    return number


def _hash(data: dict[str, Any], name: str) -> bytes:
    value = data[name]
    if not isinstance(value, str) or not _HASH.fullmatch(value):
        raise CheckpointError(f"checkpoint.{name} is not a 32-byte hash (0x and 64 hex digits)")
    return bytes.fromhex(value[2:])
