"""Witnesses' names on chain (CityAccess.setWitness): a short ASCII label in a bytes32, such as
"audit-office". Names of organisations, never of people; the explorer shows them in Korean and
English (api/explorer/terms.py)."""

from __future__ import annotations

import re

_LABEL = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def encode_witness_name(label: str) -> bytes:
    """The bytes32 for `label`; ValueError says what a label may hold."""
    if not _LABEL.fullmatch(label):
        raise ValueError(
            f"witness name {label!r}: use 1 to 32 lower-case letters, digits and hyphens, "
            "starting with a letter or digit (e.g. audit-office)"
        )
    return label.encode("ascii").ljust(32, b"\x00")


def decode_witness_name(raw: bytes) -> str:
    """The label stored on chain; a name set by hand with other bytes is shown hex-escaped."""
    text = bytes(raw).rstrip(b"\x00")
    try:
        decoded = text.decode("ascii")
    except UnicodeDecodeError:
        return "0x" + text.hex()
    return decoded if decoded.isprintable() else "0x" + text.hex()
