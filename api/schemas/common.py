"""Shared field types: checksummed addresses and 0x-hex byte strings, validated at the edge."""

from __future__ import annotations

import re
from typing import Annotated

from eth_utils import to_checksum_address
from pydantic import AfterValidator

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX = re.compile(r"^0x([0-9a-fA-F]{2})*$")


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError("must be a 0x-prefixed address of 40 hex digits")
    return to_checksum_address(value)


def _hex(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError("must be 0x-prefixed hex with an even number of digits")
    return value.lower()


Address = Annotated[str, AfterValidator(_address)]
HexData = Annotated[str, AfterValidator(_hex)]


def hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])
