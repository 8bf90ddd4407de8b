"""Decoding of static ABI types that fill exactly one 32-byte word (uintN, intN, address, bool,
bytesN), word by word, without eth_abi.

eth_abi's decoder costs ~40 µs a call (stream objects, per-type validators); the indexer decodes
every log of every block (a block of 300 bookings has 600), so that was most of its time. These
readers give the very values eth_abi gives, or None where eth_abi's strict decoding would refuse
the word (value out of range, non-zero padding): the caller then asks eth_abi, which raises its
own error, so a malformed log fails exactly as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

# Reads one 32-byte word; None when eth_abi would refuse it.
WordReader = Callable[[bytes], Any]

_UINT = re.compile(r"^uint(\d*)$")
_INT = re.compile(r"^int(\d*)$")
_BYTES = re.compile(r"^bytes(\d+)$")
_ZERO12 = bytes(12)


def _uint(bits: int) -> WordReader:
    limit = 1 << bits

    def read(word: bytes) -> int | None:
        value = int.from_bytes(word, "big")
        return value if value < limit else None

    return read


def _int(bits: int) -> WordReader:
    low, high = -(1 << (bits - 1)), 1 << (bits - 1)

    def read(word: bytes) -> int | None:
        value = int.from_bytes(word, "big", signed=True)
        return value if low <= value < high else None

    return read


def _address(word: bytes) -> str | None:
    # eth_abi refuses an address word with non-zero padding. Lower case, as eth_abi gives it
    # (the event decoder then writes it in EIP-55).
    return "0x" + word[12:].hex() if word[:12] == _ZERO12 else None


_FALSE, _TRUE = bytes(32), (1).to_bytes(32, "big")


def _bool(word: bytes) -> bool | None:
    return False if word == _FALSE else True if word == _TRUE else None


def _bytes(size: int) -> WordReader:
    padding = bytes(32 - size)

    def read(word: bytes) -> bytes | None:
        return word[:size] if word[size:] == padding else None

    return read


def word_reader(kind: str) -> WordReader | None:
    """The reader of a one-word static type, or None for any other type (dynamic, arrays)."""
    if kind == "address":
        return _address
    if kind == "bool":
        return _bool
    if match := _UINT.match(kind):
        return _uint(int(match.group(1) or 256))
    if match := _INT.match(kind):
        return _int(int(match.group(1) or 256))
    if (match := _BYTES.match(kind)) and 1 <= int(match.group(1)) <= 32:
        return _bytes(int(match.group(1)))
    return None


def word_readers(kinds: Sequence[str]) -> tuple[WordReader, ...] | None:
    """Readers for every type of `kinds`, or None when any is not a one-word static type."""
    readers = [word_reader(kind) for kind in kinds]
    if any(reader is None for reader in readers):
        return None
    return tuple(reader for reader in readers if reader is not None)


def read_words(readers: Sequence[WordReader], data: bytes) -> list[Any] | None:
    """The values of `data` (exactly one word per reader), or None when eth_abi must decide."""
    if len(data) != 32 * len(readers):
        return None
    values = []
    for offset, reader in zip(range(0, len(data), 32), readers, strict=True):
        value = reader(data[offset : offset + 32])
        if value is None:
            return None
        values.append(value)
    return values
