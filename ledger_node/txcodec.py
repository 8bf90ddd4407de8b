"""Decoding signed raw transactions and recovering their sender, fast enough for the gateway.

Legacy (EIP-155), EIP-2930 (type 1) and EIP-1559 (type 2) transactions are accepted; other types
(blobs, set-code) and unprotected legacy transactions are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from coincurve import PublicKey
from eth_hash.auto import keccak

from ledger_node.errors import INVALID_PARAMS, TRANSACTION_REJECTED, RpcError

MAX_TX_BYTES = 128 * 1024  # geth's txpool limit: anything larger is refused before decoding
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class DecodedTx:
    hash: bytes
    raw: bytes
    sender: bytes
    chain_id: int
    nonce: int
    to: bytes | None
    value: int
    gas_price: int
    gas: int
    data: bytes
    access_list_gas: int = 0


def intrinsic_gas(tx: DecodedTx) -> int:
    """The gas a transaction needs before it runs: call data (EIP-2028), creation and init code
    (EIP-3860), the access list (EIP-2930), and Prague's call-data floor (EIP-7623). anvil admits
    a transaction below it into its pool but never mines it, so the gateway refuses it."""
    zeros = tx.data.count(0)
    tokens = zeros + 4 * (len(tx.data) - zeros)
    gas = 21_000 + 4 * tokens + tx.access_list_gas
    if tx.to is None:
        gas += 32_000 + 2 * ((len(tx.data) + 31) // 32)
    return max(gas, 21_000 + 10 * tokens)


def _int(value: bytes) -> int:
    return int.from_bytes(value, "big") if value else 0


def decode_raw_tx(raw_hex: object) -> DecodedTx:
    if not isinstance(raw_hex, str) or not raw_hex.startswith("0x"):
        raise RpcError(INVALID_PARAMS, "the raw transaction must be a 0x-prefixed hex string")
    try:
        raw = bytes.fromhex(raw_hex[2:])
    except ValueError as exc:
        raise RpcError(INVALID_PARAMS, "the raw transaction is not valid hex") from exc
    if not raw:
        raise RpcError(INVALID_PARAMS, "the raw transaction is empty")
    if len(raw) > MAX_TX_BYTES:
        raise RpcError(
            TRANSACTION_REJECTED,
            f"transaction of {len(raw)} bytes is oversized: the limit is {MAX_TX_BYTES} bytes",
        )
    try:
        if raw[0] >= 0xC0:
            return _legacy(raw)
        if raw[0] == 1:
            return _typed(raw, eip1559=False)
        if raw[0] == 2:
            return _typed(raw, eip1559=True)
    except (rlp.DecodingError, ValueError, TypeError, IndexError) as exc:
        raise RpcError(INVALID_PARAMS, f"the raw transaction is not valid RLP: {exc}") from exc
    raise RpcError(
        TRANSACTION_REJECTED, f"transaction type {raw[0]} is not accepted on this ledger"
    )


def _legacy(raw: bytes) -> DecodedTx:
    fields = rlp.decode(raw)
    if not isinstance(fields, list) or len(fields) != 9:
        raise RpcError(INVALID_PARAMS, "a legacy transaction has 9 RLP fields")
    nonce, gas_price, gas, to, value, data, v, r, s = fields
    v_int = _int(v)
    if v_int in (27, 28):
        raise RpcError(
            TRANSACTION_REJECTED, "transactions without EIP-155 replay protection are refused"
        )
    chain_id = (v_int - 35) // 2
    if chain_id < 1:
        raise RpcError(INVALID_PARAMS, f"invalid signature v value {v_int}")
    recovery = (v_int - 35) % 2
    signing = keccak(
        rlp.encode([nonce, gas_price, gas, to, value, data, _strip(chain_id), b"", b""])
    )
    sender = _recover(signing, recovery, r, s)
    return _decoded(raw, sender, chain_id, nonce, to, value, gas_price, gas, data)


def _typed(raw: bytes, *, eip1559: bool) -> DecodedTx:
    fields = rlp.decode(raw[1:])
    expected = 12 if eip1559 else 11
    if not isinstance(fields, list) or len(fields) != expected:
        raise RpcError(INVALID_PARAMS, f"a type-{raw[0]} transaction has {expected} RLP fields")
    if eip1559:
        chain_id, nonce, _tip, max_fee, gas, to, value, data, access, y, r, s = fields
        gas_price = max_fee
    else:
        chain_id, nonce, gas_price, gas, to, value, data, access, y, r, s = fields
    signing = keccak(raw[:1] + rlp.encode(fields[:-3]))
    sender = _recover(signing, _int(y), r, s)
    return _decoded(
        raw, sender, _int(chain_id), nonce, to, value, gas_price, gas, data,
        _access_list_gas(access),
    )  # fmt: skip


def _decoded(
    raw: bytes,
    sender: bytes,
    chain_id: int,
    nonce: bytes,
    to: bytes,
    value: bytes,
    gas_price: bytes,
    gas: bytes,
    data: bytes,
    access_list_gas: int = 0,
) -> DecodedTx:
    """The RLP fields of any accepted type as a DecodedTx: big-endian integers, and an empty
    `to` for a contract creation."""
    return DecodedTx(
        keccak(raw), raw, sender, chain_id, _int(nonce), to or None, _int(value),
        _int(gas_price), _int(gas), data, access_list_gas,
    )  # fmt: skip


def _access_list_gas(access: object) -> int:
    """EIP-2930: 2,400 per address and 1,900 per storage key."""
    if not isinstance(access, list):
        raise RpcError(INVALID_PARAMS, "the access list must be an RLP list")
    gas = 0
    for entry in access:
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[1], list):
            raise RpcError(INVALID_PARAMS, "each access-list entry is [address, [storage keys]]")
        gas += 2_400 + 1_900 * len(entry[1])
    return gas


def _strip(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""


def _recover(message_hash: bytes, recovery: int, r: bytes, s: bytes) -> bytes:
    r_int, s_int = _int(r), _int(s)
    if recovery not in (0, 1) or not 0 < r_int < SECP256K1_N or not 0 < s_int <= SECP256K1_N // 2:
        raise RpcError(
            INVALID_PARAMS, "invalid transaction signature (r, s or recovery id out of range)"
        )
    signature = r_int.to_bytes(32, "big") + s_int.to_bytes(32, "big") + bytes([recovery])
    try:
        public = PublicKey.from_signature_and_message(signature, message_hash, hasher=None)
    except Exception as exc:  # coincurve raises plain Exception for unrecoverable signatures
        raise RpcError(
            INVALID_PARAMS, "invalid transaction signature: no public key recovers from it"
        ) from exc
    return keccak(public.format(compressed=False)[1:])[12:]
