"""Decode a raw signed transaction (legacy RLP or typed envelope) into sender, target and data,
so an endpoint can check what it is about to forward before the node sees it."""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth_account import Account
from eth_account._utils.legacy_transactions import Transaction
from eth_account.typed_transactions import TypedTransaction
from eth_utils import to_checksum_address
from hexbytes import HexBytes

from api.errors import ValidationFailed


@dataclass(frozen=True)
class RawTransaction:
    sender: str
    to: str | None
    data: bytes


def decode_raw(raw: bytes) -> RawTransaction:
    try:
        sender = Account.recover_transaction(raw)
        if raw and raw[0] <= 0x7F:  # EIP-2718 typed envelope
            fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
            to, data = fields.get("to"), bytes(fields.get("data") or b"")
        else:
            legacy = rlp.decode(raw, Transaction)
            to, data = legacy.to, bytes(legacy.data)
    except Exception as exc:
        raise ValidationFailed(
            "raw must be the 0x-hex of a signed transaction (RLP or typed envelope)",
            code="bad_raw_transaction",
        ) from exc
    target = to_checksum_address(to) if to else None
    return RawTransaction(sender=sender, to=target, data=data)
