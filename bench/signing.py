"""Transactions signed with eth-account: legacy EIP-155 transactions at gas price 0, the form
the ledger's members and authority send. Signing is never part of a timed phase."""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_abi import encode
from eth_account import Account
from eth_hash.auto import keccak
from eth_utils import to_checksum_address


@dataclass(frozen=True)
class SignedTx:
    raw: str  # 0x-hex, for eth_sendRawTransaction
    hash: str  # 0x-hex
    sender: bytes


class Sender:
    """One key: its address, its next nonce, and its signed transactions."""

    def __init__(self, key: bytes, chain_id: int) -> None:
        self.account = Account.from_key(key)
        self.address = bytes.fromhex(self.account.address[2:])
        self.chain_id = chain_id
        self.nonce = 0

    def sign(self, to: bytes | None, data: bytes, gas: int, value: int = 0) -> SignedTx:
        """The next transaction of this key (`to` None deploys a contract); bumps the nonce."""
        fields: dict[str, object] = {
            "nonce": self.nonce,
            "gasPrice": 0,
            "gas": gas,
            "value": value,
            "data": data,
            "chainId": self.chain_id,
        }
        if to is not None:
            fields["to"] = to_checksum_address(to)
        signed = self.account.sign_transaction(fields)
        self.nonce += 1
        return SignedTx(
            "0x" + bytes(signed.raw_transaction).hex(), "0x" + signed.hash.hex(), self.address
        )


def selector(signature: str) -> bytes:
    return keccak(signature.encode())[:4]


def call_data(signature: str, types: list[str], args: list[object]) -> bytes:
    """ABI-encoded call: 'f(uint256,address)', ['uint256', 'address'], [1, b'...']."""
    return selector(signature) + encode(types, args)


def contract_address(sender: bytes, nonce: int) -> bytes:
    """Where `sender`'s deployment with `nonce` lands (CREATE)."""
    return keccak(rlp.encode([sender, nonce]))[12:]
