"""The QBFT `extraData` of a Hyperledger Besu genesis block, encoded and decoded.

Layout (Besu `QbftExtraDataCodec`, consensus/qbft/.../QbftExtraDataCodec.java):

    RLP([vanity: 32 bytes, [validator: 20 bytes, ...], vote, round: scalar, [seal, ...]])

- `vote` is an empty list when there is none (always, in a genesis block), else
  `[recipient: 20 bytes, 0xff]` to add or `[recipient, empty string]` to drop.
- `round` is written with `writeIntScalar`: the minimal big-endian bytes, so round 0 is the empty
  string `0x80` (IBFT 2.0 used a 4-byte int, `0x8400000000`; QBFT does not).
- `seals` is the committed seals, an empty list in a genesis block.

This is what `QbftExtraDataCodec.encodeFromAddresses` (behind
`besu rlp encode --type=QBFT_EXTRA_DATA`) writes for a list of validator addresses.
"""

from __future__ import annotations

from typing import NamedTuple

import rlp
from eth_utils import is_address, to_canonical_address, to_checksum_address

VANITY_LENGTH = 32
ADDRESS_LENGTH = 20
# Besu's Vote.ADD_BYTE_VALUE; a drop vote is written as an empty string (RLP null).
VOTE_ADD_BYTE = b"\xff"
MAX_ROUND_BYTES = 4  # Besu reads the round with readIntScalar into a Java int


class Vote(NamedTuple):
    recipient: str
    add: bool


class QbftExtraData(NamedTuple):
    vanity: bytes
    validators: list[str]
    vote: Vote | None
    round: int
    seals: list[bytes]


def encode_extra_data(validators: list[str], vanity: bytes = bytes(VANITY_LENGTH)) -> str:
    """Genesis extraData for `validators`, in the given order: the 32-byte `vanity` (the export
    puts the ledger's last block hash there), no vote, round 0."""
    if len(vanity) != VANITY_LENGTH:
        raise ValueError(f"the vanity is {VANITY_LENGTH} bytes, not {len(vanity)}")
    if not validators:
        raise ValueError("a QBFT genesis needs at least one validator")
    addresses = [_address_bytes(validator) for validator in validators]
    if len(set(addresses)) != len(addresses):
        raise ValueError("the validator list has duplicates")
    # Round 0 as a scalar is the empty string; the vote and the seals are empty lists.
    payload = [bytes(vanity), addresses, [], b"", []]
    return "0x" + rlp.encode(payload).hex()


def decode_extra_data(extra_data: str) -> QbftExtraData:
    """Split a QBFT extraData hex string into its five fields; ValueError if it is not one."""
    raw = _hex_bytes(extra_data)
    try:
        items = rlp.decode(raw, strict=True)
    except rlp.exceptions.DecodingError as exc:
        raise ValueError(f"extraData is not valid RLP: {exc}") from exc
    if not isinstance(items, list) or len(items) != 5:
        raise ValueError("QBFT extraData must be an RLP list of 5 items")
    vanity, validators, vote, round_bytes, seals = items
    if not isinstance(vanity, bytes):
        raise ValueError("the vanity must be a byte string")
    return QbftExtraData(
        vanity=vanity,
        validators=_decode_validators(validators),
        vote=_decode_vote(vote),
        round=_decode_round(round_bytes),
        seals=_decode_seals(seals),
    )


def _address_bytes(address: str) -> bytes:
    if not isinstance(address, str) or not is_address(address):
        raise ValueError(f"{address!r} is not an address")
    return to_canonical_address(address)


def _hex_bytes(value: str) -> bytes:
    text = value[2:] if value.startswith(("0x", "0X")) else value
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise ValueError("extraData is not a hex string") from exc


def _decode_validators(item: object) -> list[str]:
    if not isinstance(item, list):
        raise ValueError("the validators must be an RLP list")
    for entry in item:
        if not isinstance(entry, bytes) or len(entry) != ADDRESS_LENGTH:
            raise ValueError("every validator must be a 20-byte address")
    return [to_checksum_address(entry) for entry in item]


def _decode_vote(item: object) -> Vote | None:
    if item == []:
        return None
    if not isinstance(item, list) or len(item) != 2:
        raise ValueError("the vote must be an empty list or [recipient, type]")
    recipient, kind = item
    if not isinstance(recipient, bytes) or len(recipient) != ADDRESS_LENGTH:
        raise ValueError("the vote recipient must be a 20-byte address")
    if kind not in (VOTE_ADD_BYTE, b""):
        raise ValueError("the vote type must be 0xff (add) or empty (drop)")
    return Vote(to_checksum_address(recipient), kind == VOTE_ADD_BYTE)


def _decode_round(item: object) -> int:
    if not isinstance(item, bytes):
        raise ValueError("the round must be a byte string")
    # A scalar has no leading zeros; a 4-byte round (IBFT 2.0 style) is not QBFT's encoding.
    if len(item) > MAX_ROUND_BYTES or item.startswith(b"\x00"):
        raise ValueError(f"the round 0x{item.hex()} is not a canonical RLP scalar")
    return int.from_bytes(item, "big")


def _decode_seals(item: object) -> list[bytes]:
    if not isinstance(item, list) or not all(isinstance(seal, bytes) for seal in item):
        raise ValueError("the seals must be an RLP list of byte strings")
    return list(item)
