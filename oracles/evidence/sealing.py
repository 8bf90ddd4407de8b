"""Encryption at rest: the operator-held key and the sealed-object format.

Sealed object (all that is ever stored, in a directory or on a Kubo node):

    magic "CPEV" | version 0x01 | key id (8) | SHA-256 of the plaintext (32) | nonce (12)
    | AES-256-GCM ciphertext | tag (16)

The 57-byte header is the GCM associated data, so the key id and the content hash cannot be
swapped without the tag failing. The content hash is the one anchored on chain anyway (the
`evidenceHash` the device signed), so storing it reveals nothing new; it lets `get` check the
plaintext and lets the index be rebuilt from the objects alone. The key id is the first 8 bytes
of SHA-256("citypass-evidence-key-id" ‖ key): it tells "sealed under another key" apart from
"tampered with" without revealing anything about the key.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from Crypto.Cipher import AES

from citypass.core.files import create_exclusively
from oracles.evidence.errors import EvidenceConfigError, EvidenceIntegrityError

MAGIC = b"CPEV"
FORMAT_VERSION = 1
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_ID_SIZE = 8
HEADER_SIZE = len(MAGIC) + 1 + KEY_ID_SIZE + 32 + NONCE_SIZE
OVERHEAD = HEADER_SIZE + TAG_SIZE
KEY_FILE_ENV = "CITYPASS_EVIDENCE_KEY_FILE"
DEFAULT_KEY_FILE = "evidence.key"


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"citypass-evidence-key-id" + key).digest()[:KEY_ID_SIZE]


def load_or_create_key(path: Path) -> bytes:
    """The 32-byte key at `path`, created (mode 0600, never overwritten) if it does not exist.
    The key is never logged; back the file up, because evidence sealed under it is unreadable
    without it."""
    path = Path(path)
    try:
        create_exclusively(path, os.urandom(KEY_SIZE))
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        raise EvidenceConfigError(
            f"cannot create the evidence key file {path}: {exc.strerror or exc}; check the directory"
        ) from exc
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode & 0o777
        key = path.read_bytes()
    except OSError as exc:
        raise EvidenceConfigError(
            f"cannot read the evidence key file {path}: {exc.strerror}"
        ) from exc
    if mode & 0o077:
        raise EvidenceConfigError(
            f"the evidence key file {path} is readable by others (mode {mode:o}): chmod 600 it"
        )
    if len(key) != KEY_SIZE:
        raise EvidenceConfigError(
            f"the evidence key file {path} must hold exactly {KEY_SIZE} bytes, not {len(key)};"
            " restore it from your backup"
        )
    return key


def seal(key: bytes, plaintext: bytes) -> bytes:
    content_hash = hashlib.sha256(plaintext).digest()
    nonce = os.urandom(NONCE_SIZE)
    header = MAGIC + bytes([FORMAT_VERSION]) + key_id(key) + content_hash + nonce
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_SIZE)
    cipher.update(header)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return header + ciphertext + tag


def sealed_content_hash(sealed: bytes) -> bytes:
    """The plaintext's SHA-256 as the header records it (checked by `open_sealed`)."""
    _check_header(sealed)
    start = len(MAGIC) + 1 + KEY_ID_SIZE
    return sealed[start : start + 32]


def open_sealed(key: bytes, sealed: bytes) -> bytes:
    """The plaintext; EvidenceIntegrityError if the object was sealed under another key, was
    altered, or its plaintext does not hash to the recorded content hash."""
    _check_header(sealed)
    offset = len(MAGIC) + 1
    stored_key_id = sealed[offset : offset + KEY_ID_SIZE]
    if stored_key_id != key_id(key):
        raise EvidenceIntegrityError(
            f"evidence was sealed under another key (key id {stored_key_id.hex()}, ours"
            f" {key_id(key).hex()}): configure the operator key it was stored with",
            reason="wrong_key",
        )
    header = sealed[:HEADER_SIZE]
    content_hash = header[offset + KEY_ID_SIZE : offset + KEY_ID_SIZE + 32]
    nonce = header[-NONCE_SIZE:]
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_SIZE)
    cipher.update(header)
    try:
        plaintext = cipher.decrypt_and_verify(sealed[HEADER_SIZE:-TAG_SIZE], sealed[-TAG_SIZE:])
    except ValueError as exc:
        raise EvidenceIntegrityError(
            "evidence failed its AES-GCM tag check: the stored bytes were altered; restore"
            " the object from a replica",
            reason="tampered",
        ) from exc
    if hashlib.sha256(plaintext).digest() != content_hash:  # only if sealed by a broken writer
        raise EvidenceIntegrityError("decrypted evidence does not match its content hash")
    return plaintext


def _check_header(sealed: bytes) -> None:
    if len(sealed) < OVERHEAD or not sealed.startswith(MAGIC):
        raise EvidenceIntegrityError(
            "stored object is not sealed evidence (bad magic or too short): it was altered"
            " or is not ours",
            reason="tampered",
        )
    if sealed[len(MAGIC)] != FORMAT_VERSION:
        raise EvidenceIntegrityError(
            f"sealed evidence format {sealed[len(MAGIC)]} is not supported (expected"
            f" {FORMAT_VERSION}): upgrade citypass",
            reason="unsupported_format",
        )
