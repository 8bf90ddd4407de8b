"""dag-pb nodes carrying UnixFS file data, encoded by hand (no protobuf library needed).

Two protobuf messages, as the dag-pb spec (ipld/specs, "DAG-PB") and the UnixFS spec define:

    PBNode { repeated PBLink Links = 2; optional bytes Data = 1; }
    PBLink { optional bytes Hash = 1; optional string Name = 2; optional uint64 Tsize = 3; }
    Data   { Type = 1 (File = 2); optional bytes Data = 2; optional uint64 filesize = 3;
             repeated uint64 blocksizes = 4 (not packed); ... }

dag-pb's canonical form writes a node's Links BEFORE its Data even though Data has the lower
field number, links in the order given, and each link's fields in number order. Only that byte
layout reproduces the CIDs Kubo computes, so the encoder below writes exactly that and the
decoder refuses anything else (a re-encode of what it decoded must give the same bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

from oracles.evidence.errors import CidError

UNIXFS_RAW = 0
UNIXFS_FILE = 2

_WIRE_VARINT = 0
_WIRE_BYTES = 2


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128, the varint of protobuf and of multiformats."""
    if value < 0:
        raise ValueError("a varint is unsigned")
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def decode_varint(data: bytes, offset: int = 0) -> tuple[int, int]:
    """(value, next offset). Rejects truncated, over-long (> 9 bytes, multiformats' limit) and
    non-minimal encodings, so one value has one spelling and CIDs cannot be forged by padding."""
    value = 0
    for i in range(9):
        if offset + i >= len(data):
            raise CidError("truncated varint: the bytes end inside a number")
        byte = data[offset + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise CidError("non-minimal varint (trailing zero byte): re-encode it minimally")
            return value, offset + i + 1
    raise CidError("varint longer than 9 bytes: not a multiformats varint")


def _key(field: int, wire: int) -> bytes:
    return encode_varint(field << 3 | wire)


def _bytes_field(field: int, payload: bytes) -> bytes:
    return _key(field, _WIRE_BYTES) + encode_varint(len(payload)) + payload


def _varint_field(field: int, value: int) -> bytes:
    return _key(field, _WIRE_VARINT) + encode_varint(value)


@dataclass(frozen=True)
class PBLink:
    hash: bytes  # the child's binary CID
    tsize: int  # the child's block plus everything below it, in bytes
    name: str | None = ""  # Kubo writes an empty (present) name for file links


@dataclass(frozen=True)
class UnixFSData:
    type: int = UNIXFS_FILE
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: tuple[int, ...] = ()


def encode_unixfs(message: UnixFSData) -> bytes:
    out = _varint_field(1, message.type)
    if message.data is not None:
        out += _bytes_field(2, message.data)
    if message.filesize is not None:
        out += _varint_field(3, message.filesize)
    for size in message.blocksizes:
        out += _varint_field(4, size)
    return out


def encode_pbnode(links: list[PBLink], data: bytes | None) -> bytes:
    out = bytearray()
    for link in links:
        body = _bytes_field(1, link.hash)
        if link.name is not None:
            body += _bytes_field(2, link.name.encode())
        body += _varint_field(3, link.tsize)
        out += _bytes_field(2, body)
    if data is not None:
        out += _bytes_field(1, data)
    return bytes(out)


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of one protobuf message; only varint and bytes wire types."""
    fields: list[tuple[int, int | bytes]] = []
    offset = 0
    while offset < len(data):
        key, offset = decode_varint(data, offset)
        field, wire = key >> 3, key & 7
        if wire == _WIRE_VARINT:
            value, offset = decode_varint(data, offset)
            fields.append((field, value))
        elif wire == _WIRE_BYTES:
            length, offset = decode_varint(data, offset)
            if offset + length > len(data):
                raise CidError("truncated protobuf field: the block is cut short")
            fields.append((field, data[offset : offset + length]))
            offset += length
        else:
            raise CidError(f"protobuf wire type {wire} is not used by dag-pb or UnixFS")
    return fields


def decode_pbnode(block: bytes) -> tuple[list[PBLink], bytes | None]:
    links: list[PBLink] = []
    data: bytes | None = None
    for field, value in _fields(block):
        if field == 2 and isinstance(value, bytes):
            link_hash, name, tsize = b"", None, 0
            for sub, sub_value in _fields(value):
                if sub == 1 and isinstance(sub_value, bytes):
                    link_hash = sub_value
                elif sub == 2 and isinstance(sub_value, bytes):
                    name = sub_value.decode()
                elif sub == 3 and isinstance(sub_value, int):
                    tsize = sub_value
                else:
                    raise CidError(f"unexpected field {sub} in a dag-pb link")
            links.append(PBLink(link_hash, tsize, name))
        elif field == 1 and isinstance(value, bytes) and data is None:
            data = value
        else:
            raise CidError(f"unexpected field {field} in a dag-pb node")
    if encode_pbnode(links, data) != block:
        raise CidError("dag-pb node is not in canonical form (links must precede data)")
    return links, data


def decode_unixfs(payload: bytes) -> UnixFSData:
    kind, data, filesize, sizes = None, None, None, []
    for field, value in _fields(payload):
        if field == 1 and isinstance(value, int):
            kind = value
        elif field == 2 and isinstance(value, bytes):
            data = value
        elif field == 3 and isinstance(value, int):
            filesize = value
        elif field == 4 and isinstance(value, int):
            sizes.append(value)
        else:
            raise CidError(f"unexpected field {field} in UnixFS data")
    if kind is None:
        raise CidError("UnixFS data has no Type")
    return UnixFSData(kind, data, filesize, tuple(sizes))
