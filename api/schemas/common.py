"""Shared field types: checksummed addresses, 0x-hex byte strings and times (Unix seconds or
ISO 8601 with an offset), validated at the edge."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from citypass.core.timeunits import kst
from citypass.protocol.abi import checksum

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX = re.compile(r"^0x([0-9a-fA-F]{2})*$")


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError("must be a 0x-prefixed address of 40 hex digits")
    return checksummed(value.lower())


def checksummed(lower: str) -> str:
    """EIP-55 of a 0x address (citypass.protocol.abi.checksum: fast and cached, since every
    relayed request carries three addresses, mostly the same few contracts and residents)."""
    return checksum(lower)


def _hex(value: str) -> str:
    if not _HEX.match(value):
        raise ValueError("must be 0x-prefixed hex with an even number of digits")
    return value.lower()


def _checksummed_address(value: str) -> str:
    """An address as people copy it: all lower case, all upper case, or EIP-55 mixed case (a
    mixed-case address that is not its checksum has a typo somewhere: refused, not guessed)."""
    address = _address(value)
    digits = value[2:]
    if digits != digits.lower() and digits != digits.upper() and value != address:
        raise ValueError(
            f"{value} mixes cases but is not its EIP-55 checksum (a typo?): check it, or write "
            "it in lower case"
        )
    return address


Address = Annotated[str, AfterValidator(_address)]
# Where an address is written by hand for a record kept (the address book), not signed for.
ChecksumAddress = Annotated[str, AfterValidator(_checksummed_address)]
HexData = Annotated[str, AfterValidator(_hex)]


def hex_bytes(value: str) -> bytes:
    return bytes.fromhex(value[2:])


# ---------------------------------------------------------------------------------- times
# Every time the API takes is Unix seconds or ISO 8601 with an offset; a time without an offset
# is refused rather than guessed (a phone's local zone is not the village's).
_TIME_HINT = (
    "must be Unix seconds (e.g. 1796724000) or ISO 8601 with an offset "
    "(e.g. 2026-12-08T19:00:00+09:00)"
)
MAX_TIME = 2**63 - 1


def _time(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError(_TIME_HINT)
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and re.fullmatch(r"\d{1,19}", value.strip()):
        seconds = int(value.strip())
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{_TIME_HINT}; got {value[:40]!r}") from None
        if moment.tzinfo is None:
            raise ValueError(f"{value[:40]!r} has no offset: add one, e.g. +09:00 for KST")
        if moment.microsecond:
            raise ValueError(f"{value[:40]!r}: times are whole seconds")
        seconds = int(moment.timestamp())
    else:
        raise ValueError(_TIME_HINT)
    if not 0 <= seconds <= MAX_TIME:
        raise ValueError(f"{seconds} is out of range: a time is at or after 1970-01-01")
    return seconds


Timestamp = Annotated[
    int,
    BeforeValidator(_time),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "description": "Unix seconds"},
                {"type": "string", "format": "date-time", "description": "ISO 8601, with offset"},
            ],
            "examples": ["2026-12-08T19:00:00+09:00", 1796724000],
        }
    ),
]


def kst_iso(timestamp: int) -> str:
    """A Unix time as answers show it beside the seconds: ISO 8601 in KST (+09:00)."""
    return kst(timestamp).isoformat()


def kst_iso_or_none(timestamp: int | None) -> str | None:
    return None if timestamp is None else kst_iso(timestamp)
