"""A minimal, strict RLP reader for the gateway's transaction decoder (txcodec.py): it finds the
items of a list as spans of the raw bytes instead of building Python objects, so a signing
payload can be sliced out of a transaction rather than re-encoded.

Only canonical RLP is accepted, as Ethereum clients require (anvil refuses the rest): a single
byte below 0x80 is never wrapped, lengths carry no leading zero and use the long form only from
56 bytes, and an integer has no leading zero byte.
"""

from __future__ import annotations

from typing import NamedTuple


class RlpError(ValueError):
    """The bytes are not canonical RLP of the expected shape."""


class Span(NamedTuple):
    offset: int  # where the item starts (its prefix)
    start: int  # where its payload starts
    end: int  # where it ends (payload and item)
    is_list: bool


def item(buf: bytes, pos: int, limit: int) -> Span:
    """The RLP item at `pos`, which must end by `limit`."""
    if pos >= limit:
        raise RlpError("truncated")
    first = buf[pos]
    if first < 0x80:
        return Span(pos, pos, pos + 1, False)
    is_list = first >= 0xC0
    short = first - (0xC0 if is_list else 0x80)
    if short < 56:
        start, length = pos + 1, short
        if length == 1 and not is_list and start < limit and buf[start] < 0x80:
            raise RlpError("a single byte below 0x80 is its own encoding")
    else:
        size = short - 55
        start = pos + 1 + size
        if start > limit:
            raise RlpError("truncated length")
        if buf[pos + 1] == 0:
            raise RlpError("a length with a leading zero byte")
        length = int.from_bytes(buf[pos + 1 : start], "big")
        if length < 56:
            raise RlpError("the long length form for a short item")
    end = start + length
    if end > limit:
        raise RlpError("truncated")
    return Span(pos, start, end, is_list)


def items(buf: bytes, pos: int, limit: int | None = None) -> list[Span]:
    """The items of the list at `pos`: the list must be exactly buf[pos:limit] (default: to the
    end of `buf`), with nothing after it."""
    limit = len(buf) if limit is None else limit
    outer = item(buf, pos, limit)
    if not outer.is_list:
        raise RlpError("expected a list")
    if outer.end != limit:
        raise RlpError(f"{limit - outer.end} bytes after the end")
    found = []
    cursor = outer.start
    while cursor < outer.end:
        child = item(buf, cursor, outer.end)
        found.append(child)
        cursor = child.end
    return found


def scalar(buf: bytes, span: Span) -> bytes:
    """The bytes of a string item."""
    if span.is_list:
        raise RlpError("expected a string, found a list")
    return buf[span.start : span.end]


def integer(buf: bytes, span: Span) -> int:
    """A string item read as a big-endian integer (the empty string is 0)."""
    data = scalar(buf, span)
    if data[:1] == b"\x00":
        raise RlpError("an integer with a leading zero byte")
    return int.from_bytes(data, "big")


def list_prefix(length: int) -> bytes:
    """The RLP prefix of a list whose items take `length` bytes."""
    if length < 56:
        return bytes([0xC0 + length])
    size = (length.bit_length() + 7) // 8
    return bytes([0xF7 + size]) + length.to_bytes(size, "big")
