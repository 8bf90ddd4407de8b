"""Content identifiers exactly as IPFS computes them, with the few multiformats encoders written
out here (the `multiformats` package is not available to us).

The rule (docs/evidence-store.md has the details and the published vectors):

* Content of at most 1 MiB is ONE raw block: CIDv1, codec raw (0x55), sha2-256 of the bytes.
  That is what `ipfs add --cid-version=1 --raw-leaves --chunker=size-1048576` prints. (Kubo's
  default chunk is 256 KiB; up to 256 KiB the default `ipfs add --cid-version=1 --raw-leaves`
  gives the same CID, between 256 KiB and 1 MiB only the 1 MiB chunker does.)
* Larger content is a UnixFS file: 1 MiB raw leaves under dag-pb nodes in Kubo's balanced
  layout (at most 174 links per node, every leaf at the same depth); the CID is the root's,
  CIDv1 dag-pb (0x70). Same command as above, so a Kubo node and this module agree.

`Cid.binary` is what goes on chain (IncidentRegistry accepts binary CIDv1 = 0x01, codec 0x55
or 0x70, multihash 0x12 0x20 + 32 bytes); `Cid.text` is the base32 'b…' form people see.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

import base58

from oracles.evidence.errors import CidError
from oracles.evidence.unixfs import (
    UNIXFS_FILE,
    PBLink,
    UnixFSData,
    decode_varint,
    encode_pbnode,
    encode_unixfs,
    encode_varint,
)

CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
SHA2_256 = 0x12
DIGEST_SIZE = 32
CHUNK_SIZE = 1 << 20  # 1 MiB leaves: `--chunker=size-1048576`
MAX_LINKS = 174  # Kubo's default UnixFSFileMaxLinks for the balanced layout
KUBO_CHUNKER = f"size-{CHUNK_SIZE}"
_CODEC_NAMES = {CODEC_RAW: "raw", CODEC_DAG_PB: "dag-pb"}


@dataclass(frozen=True)
class Cid:
    """A sha2-256 CID. Version 1 unless parsed from a legacy CIDv0 ('Qm…')."""

    codec: int
    digest: bytes
    version: int = 1

    def __post_init__(self) -> None:
        if self.codec not in _CODEC_NAMES:
            raise CidError(f"codec 0x{self.codec:x} is not raw (0x55) or dag-pb (0x70)")
        if len(self.digest) != DIGEST_SIZE:
            raise CidError(f"a sha2-256 digest has 32 bytes, not {len(self.digest)}")
        if self.version not in (0, 1) or (self.version == 0 and self.codec != CODEC_DAG_PB):
            raise CidError("only CIDv1, or CIDv0 of a dag-pb node, is supported")

    @property
    def multihash(self) -> bytes:
        return bytes([SHA2_256, DIGEST_SIZE]) + self.digest

    @property
    def binary(self) -> bytes:
        """Binary CIDv1 (a CIDv0 is upgraded: same block, same multihash)."""
        return encode_varint(1) + encode_varint(self.codec) + self.multihash

    @property
    def text(self) -> str:
        """Multibase base32, lower case, no padding: 'b' + RFC 4648."""
        return "b" + base64.b32encode(self.binary).decode().lower().rstrip("=")

    @property
    def codec_name(self) -> str:
        return _CODEC_NAMES[self.codec]

    def v1(self) -> Cid:
        return Cid(self.codec, self.digest, 1)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Block:
    cid: Cid
    data: bytes


@dataclass(frozen=True)
class DagImport:
    """What `ipfs add` makes of some bytes: the root CID and every block, children before the
    parents that link them (the order a blockstore can verify as it goes)."""

    root: Cid
    blocks: tuple[Block, ...]
    size: int  # content bytes

    @property
    def dag_size(self) -> int:
        return sum(len(b.data) for b in self.blocks)


def sha256_cid(codec: int, block: bytes) -> Cid:
    return Cid(codec, hashlib.sha256(block).digest())


def cid_for_bytes(data: bytes) -> Cid:
    """The CID of content under our rule (raw block ≤ 1 MiB, balanced UnixFS DAG beyond)."""
    if len(data) <= CHUNK_SIZE:
        return sha256_cid(CODEC_RAW, data)
    return import_bytes(data).root


def import_bytes(
    data: bytes,
    chunk_size: int = CHUNK_SIZE,
    max_links: int = MAX_LINKS,
    raw_leaves: bool = True,
    leaf_type: int = UNIXFS_FILE,
) -> DagImport:
    """Chunk `data` into fixed-size leaves and build Kubo's balanced DAG over them.

    `raw_leaves=False` (leaves as dag-pb UnixFS nodes of type `leaf_type`) is not used by the
    store; it exists so the dag-pb encoder can be checked against published vectors made
    without raw leaves.
    """
    if chunk_size < 1 or max_links < 2:
        raise ValueError("chunk_size must be ≥ 1 and max_links ≥ 2")
    chunks = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)] or [b""]
    blocks: list[Block] = []
    leaves: list[tuple[Cid, int, int]] = []  # (cid, tsize, content size)
    for chunk in chunks:
        if raw_leaves:
            block = Block(sha256_cid(CODEC_RAW, chunk), chunk)
        else:
            payload = UnixFSData(leaf_type, chunk or None, len(chunk))
            node = encode_pbnode([], encode_unixfs(payload))
            block = Block(sha256_cid(CODEC_DAG_PB, node), node)
        blocks.append(block)
        leaves.append((block.cid, len(block.data), len(chunk)))
    if len(leaves) == 1:
        return DagImport(leaves[0][0], tuple(blocks), len(data))
    # Kubo grows the tree one level at a time and fills it left to right, so every leaf ends
    # up at the same depth: the smallest depth whose capacity max_links**depth holds them all.
    depth = 1
    while max_links**depth < len(leaves):
        depth += 1
    root, _, _ = _build(leaves, depth, max_links, blocks)
    return DagImport(root, tuple(blocks), len(data))


def _build(
    leaves: list[tuple[Cid, int, int]], depth: int, max_links: int, blocks: list[Block]
) -> tuple[Cid, int, int]:
    if depth == 0:
        return leaves[0]
    span = max_links ** (depth - 1)
    children = [
        _build(leaves[i : i + span], depth - 1, max_links, blocks)
        for i in range(0, len(leaves), span)
    ]
    sizes = tuple(size for _, _, size in children)
    payload = UnixFSData(UNIXFS_FILE, None, sum(sizes), sizes)
    links = [PBLink(cid.binary, tsize) for cid, tsize, _ in children]
    node = encode_pbnode(links, encode_unixfs(payload))
    cid = sha256_cid(CODEC_DAG_PB, node)
    blocks.append(Block(cid, node))
    return cid, len(node) + sum(tsize for _, tsize, _ in children), sum(sizes)


def parse_cid(value: str | bytes) -> Cid:
    """A Cid from its text ('b…' base32, 'B…' upper base32, or legacy base58 'Qm…') or binary
    form. CidError naming the problem for anything else."""
    if isinstance(value, str):
        return _parse_text(value.strip())
    if isinstance(value, bytes | bytearray | memoryview):
        return _parse_binary(bytes(value))
    raise CidError(f"a CID is text or bytes, not {type(value).__name__}")


def _parse_text(text: str) -> Cid:
    if not text:
        raise CidError("empty CID: pass the 'b…' text of a CIDv1")
    if len(text) == 46 and text.startswith("Qm"):
        try:
            return _parse_binary(base58.b58decode(text))
        except ValueError as exc:
            raise CidError(f"CIDv0 {text!r} is not base58btc") from exc
    prefix, body = text[0], text[1:]
    if prefix not in "bB" or (prefix == "b" and body != body.lower()):
        raise CidError(f"CID {text!r} must be multibase base32 ('b' + lower case) or a CIDv0 'Qm…'")
    body = body.upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except binascii.Error as exc:
        raise CidError(f"CID {text!r} is not valid base32 ({exc})") from exc
    if base64.b32encode(raw).decode().rstrip("=") != body:
        raise CidError(f"CID {text!r} has non-zero padding bits: it is not canonical base32")
    return _parse_binary(raw)


def _parse_binary(raw: bytes) -> Cid:
    if len(raw) == 34 and raw[0] == SHA2_256 and raw[1] == DIGEST_SIZE:
        return Cid(CODEC_DAG_PB, raw[2:], version=0)
    version, offset = decode_varint(raw, 0)
    if version != 1:
        raise CidError(f"CID version {version} is not supported: use CIDv1")
    codec, offset = decode_varint(raw, offset)
    if codec not in _CODEC_NAMES:
        raise CidError(f"codec 0x{codec:x} is not raw (0x55) or dag-pb (0x70)")
    hash_code, offset = decode_varint(raw, offset)
    length, offset = decode_varint(raw, offset)
    if hash_code != SHA2_256 or length != DIGEST_SIZE:
        raise CidError("the multihash must be sha2-256 with a 32-byte digest (0x12 0x20)")
    if len(raw) != offset + DIGEST_SIZE:
        raise CidError(f"the CID has {len(raw) - offset} digest bytes, not 32")
    return Cid(codec, raw[offset:])
