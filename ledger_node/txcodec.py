"""Decoding signed raw transactions and recovering their sender, fast enough for the gateway.

Legacy (EIP-155), EIP-2930 (type 1) and EIP-1559 (type 2) transactions are accepted; other types
(blobs, set-code) and unprotected legacy transactions are refused.

The gateway decodes every transaction on its accept path, so this is the one place the node
parses RLP by hand (ledger_node/rlp_spans.py) instead of with pyrlp: the signing payload is
sliced out of the raw bytes rather than re-encoded, and keccak is pysha3's C implementation.
Together that is about a quarter of pyrlp + pycryptodome's cost; the sender's recovery
(libsecp256k1 through coincurve) is most of what is left.
"""

from __future__ import annotations

from dataclasses import dataclass

from coincurve import PublicKey
from eth_hash.backends.pysha3 import keccak256 as keccak

from ledger_node.errors import INVALID_PARAMS, TRANSACTION_REJECTED, RpcError
from ledger_node.rlp_spans import RlpError, Span, integer, items, list_prefix, scalar

MAX_TX_BYTES = 128 * 1024  # geth's txpool limit: anything larger is refused before decoding
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True, slots=True)
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


def decode_raw_tx(raw_hex: object) -> DecodedTx:
    if not isinstance(raw_hex, str) or not raw_hex.startswith("0x"):
        raise RpcError(INVALID_PARAMS, "the raw transaction must be a 0x-prefixed hex string")
    try:
        raw = bytes.fromhex(raw_hex[2:])
    except ValueError as exc:
        raise RpcError(INVALID_PARAMS, "the raw transaction is not valid hex") from exc
    return decode_raw_bytes(raw)


def decode_raw_bytes(raw: bytes) -> DecodedTx:
    """decode_raw_tx of bytes already out of hex."""
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
    except RlpError as exc:
        raise RpcError(INVALID_PARAMS, f"the raw transaction is not valid RLP: {exc}") from exc
    raise RpcError(
        TRANSACTION_REJECTED, f"transaction type {raw[0]} is not accepted on this ledger"
    )


def _legacy(raw: bytes) -> DecodedTx:
    fields = items(raw, 0)
    if len(fields) != 9:
        raise RpcError(INVALID_PARAMS, "a legacy transaction has 9 RLP fields")
    v_int = integer(raw, fields[6])
    if v_int in (27, 28):
        raise RpcError(
            TRANSACTION_REJECTED, "transactions without EIP-155 replay protection are refused"
        )
    chain_id = (v_int - 35) // 2
    if chain_id < 1:
        raise RpcError(INVALID_PARAMS, f"invalid signature v value {v_int}")
    # EIP-155: the first six fields as they are, then the chain id and two empty strings.
    body = raw[fields[0].offset : fields[5].end] + _encode_int(chain_id) + b"\x80\x80"
    sender = _recover(keccak(list_prefix(len(body)) + body), (v_int - 35) % 2, raw, fields)
    return _decoded(raw, sender, chain_id, fields[:6], 0)


def _typed(raw: bytes, *, eip1559: bool) -> DecodedTx:
    fields = items(raw, 1)
    expected = 12 if eip1559 else 11
    if len(fields) != expected:
        raise RpcError(INVALID_PARAMS, f"a type-{raw[0]} transaction has {expected} RLP fields")
    # [chainId, nonce, (tip,) price or max fee, gas, to, value, data, access list, y, r, s]
    core = fields[1:3] + fields[4:8] if eip1559 else fields[1:7]
    body = raw[fields[0].offset : fields[-4].end]
    signing = keccak(raw[:1] + list_prefix(len(body)) + body)
    sender = _recover(signing, integer(raw, fields[-3]), raw, fields)
    access_gas = _access_list_gas(raw, fields[-4])
    return _decoded(raw, sender, integer(raw, fields[0]), core, access_gas)


def _decoded(
    raw: bytes, sender: bytes, chain_id: int, core: list[Span], access_list_gas: int
) -> DecodedTx:
    """[nonce, gas price, gas, to, value, data] of any accepted type as a DecodedTx: big-endian
    integers, and an empty `to` for a contract creation."""
    nonce, gas_price, gas, to, value, data = core
    return DecodedTx(
        keccak(raw), raw, sender, chain_id, integer(raw, nonce), scalar(raw, to) or None,
        integer(raw, value), integer(raw, gas_price), integer(raw, gas), scalar(raw, data),
        access_list_gas,
    )  # fmt: skip


def _access_list_gas(raw: bytes, access: Span) -> int:
    """EIP-2930: 2,400 per address and 1,900 per storage key."""
    if not access.is_list:
        raise RpcError(INVALID_PARAMS, "the access list must be an RLP list")
    gas = 0
    for entry in items(raw, access.offset, access.end):
        keys = items(raw, entry.offset, entry.end) if entry.is_list else []
        if len(keys) != 2 or not keys[1].is_list:
            raise RpcError(INVALID_PARAMS, "each access-list entry is [address, [storage keys]]")
        gas += 2_400 + 1_900 * len(items(raw, keys[1].offset, keys[1].end))
    return gas


def _encode_int(value: int) -> bytes:
    """RLP of a positive integer (the chain id of an EIP-155 signing payload)."""
    data = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if len(data) == 1 and data[0] < 0x80:
        return data
    return bytes([0x80 + len(data)]) + data  # a chain id is far below 56 bytes


def _recover(message_hash: bytes, recovery: int, raw: bytes, fields: list[Span]) -> bytes:
    r_int, s_int = integer(raw, fields[-2]), integer(raw, fields[-1])
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
