"""Small generated PNG stills for simulated camera incidents: a coloured rectangle (the "object")
on a noisy grey background. Never a real person or plate. Written with zlib and struct only."""

from __future__ import annotations

import random
import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INCIDENT_COLOURS = {
    "illegal_parking": (200, 40, 40),
    "illegal_dumping": (120, 90, 40),
    "jaywalking": (40, 90, 200),
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def generated_still(rng: random.Random, incident: str, width: int = 64, height: int = 48) -> bytes:
    """An 8-bit RGB PNG: grey noise with one rectangle in the incident's colour."""
    colour = INCIDENT_COLOURS.get(incident, (90, 160, 90))
    x0, y0 = rng.randrange(0, width // 2), rng.randrange(0, height // 2)
    x1, y1 = x0 + rng.randrange(8, width // 2), y0 + rng.randrange(6, height // 2)
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            if x0 <= x < x1 and y0 <= y < y1:
                rows.extend(colour)
            else:
                grey = 100 + rng.randrange(40)
                rows.extend((grey, grey, grey))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + _chunk(b"IEND", b"")
    )


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, raw RGB rows with filter bytes): enough to check our own stills, and to
    fail on a broken file (bad signature, CRC or length)."""
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG: bad signature")
    pos, width, height, idat = len(PNG_SIGNATURE), 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError(f"PNG chunk {kind!r} has a bad CRC")
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            raw = zlib.decompress(idat)
            if len(raw) != height * (1 + 3 * width):
                raise ValueError("PNG image data has the wrong size")
            return width, height, raw
        pos += 12 + length
    raise ValueError("PNG has no IEND chunk")
