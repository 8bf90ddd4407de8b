"""Shared field types: checksummed addresses and 0x-hex byte strings, validated at the edge."""

from __future__ import annotations

import functools
import re
from typing import Annotated

from eth_hash.auto import keccak
from pydantic import AfterValidator

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX = re.compile(r"^0x([0-9a-fA-F]{2})*$")


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError("must be a 0x-prefixed address of 40 hex digits")
    return checksummed(value.lower())


@functools.lru_cache(maxsize=65_536)
def checksummed(lower: str) -> str:
    """EIP-55 of a lower-case 0x address, as eth_utils.to_checksum_address gives it (tested) —
    without its per-call argument checks, and cached: every relayed request carries three
    addresses, mostly the same few contracts and the same residents again."""
    digits = lower[2:]
    digest = keccak(digits.encode("ascii")).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(h, 16) >= 8 else c
        for c, h in zip(digits, digest[:40], strict=True)
    )


def _hex(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError("must be 0x-prefixed hex with an even number of digits")
    return value.lower()


Address = Annotated[str, AfterValidator(_address)]
HexData = Annotated[str, AfterValidator(_hex)]


def hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])
