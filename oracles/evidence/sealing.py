"""Encryption at rest: the operator-held key and the sealed-object formats.

Sealed object (all that is ever stored, in a directory or on a Kubo node), version 2 (written
since issue 15, one random data key per object, kept in the store's key table so that deleting
the key shreds the object):

    magic "CPEV" | version 0x02 | data key id (16) | SHA-256 of the plaintext (32) | nonce (12)
    | AES-256-GCM ciphertext | tag (16)

Version 1 (read only: objects written before, all under the one operator key):

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
from citypass.core.shredding import decrypt, encrypt
from oracles.evidence.errors import EvidenceConfigError, EvidenceIntegrityError

MAGIC = b"CPEV"
FORMAT_VERSION = 1  # the operator key's format (read only)
FORMAT_PER_OBJECT = 2  # one data key per object (written)
FORMATS = (FORMAT_VERSION, FORMAT_PER_OBJECT)
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
KEY_ID_SIZE = 8
DATA_KEY_ID_SIZE = 16
HEADER_SIZE = len(MAGIC) + 1 + KEY_ID_SIZE + 32 + NONCE_SIZE
OVERHEAD = HEADER_SIZE + TAG_SIZE
HEADER_SIZES = {
    FORMAT_VERSION: HEADER_SIZE,
    FORMAT_PER_OBJECT: len(MAGIC) + 1 + DATA_KEY_ID_SIZE + 32 + NONCE_SIZE,
}
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
    """Version 1, under the operator key (kept for the tests of old objects)."""
    return _seal(FORMAT_VERSION, key, key_id(key), plaintext)


def seal_per_object(data_key: bytes, data_key_id: bytes, plaintext: bytes) -> bytes:
    """Version 2, under the object's own data key (named in the header by its id)."""
    if len(data_key_id) != DATA_KEY_ID_SIZE:
        raise ValueError(f"a data key id is {DATA_KEY_ID_SIZE} bytes")
    return _seal(FORMAT_PER_OBJECT, data_key, data_key_id, plaintext)


def _seal(version: int, key: bytes, kid: bytes, plaintext: bytes) -> bytes:
    content_hash = hashlib.sha256(plaintext).digest()
    nonce = os.urandom(NONCE_SIZE)
    header = MAGIC + bytes([version]) + kid + content_hash + nonce
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_SIZE)
    cipher.update(header)
    ciphertext, tag = cipher.encrypt_and_digest(plaintext)
    return header + ciphertext + tag


def format_of(sealed: bytes) -> int:
    """The object's format version (1 or 2); EvidenceIntegrityError if it is neither."""
    _check_header(sealed)
    return sealed[len(MAGIC)]


def _kid_size(version: int) -> int:
    return KEY_ID_SIZE if version == FORMAT_VERSION else DATA_KEY_ID_SIZE


def sealed_content_hash(sealed: bytes) -> bytes:
    """The plaintext's SHA-256 as the header records it (checked on opening)."""
    start = len(MAGIC) + 1 + _kid_size(format_of(sealed))
    return sealed[start : start + 32]


def data_key_id(sealed: bytes) -> bytes | None:
    """The data key id of a version-2 object; None for a version-1 (operator key) object."""
    version = format_of(sealed)
    if version != FORMAT_PER_OBJECT:
        return None
    return sealed[len(MAGIC) + 1 : len(MAGIC) + 1 + DATA_KEY_ID_SIZE]


def open_sealed(key: bytes, sealed: bytes) -> bytes:
    """The plaintext of a version-1 object; EvidenceIntegrityError if it was sealed under
    another key, was altered, or its plaintext does not hash to the recorded content hash."""
    if format_of(sealed) != FORMAT_VERSION:
        raise EvidenceIntegrityError(
            "this object has its own data key (format 2): open it with open_per_object",
            reason="unsupported_format",
        )
    offset = len(MAGIC) + 1
    stored_key_id = sealed[offset : offset + KEY_ID_SIZE]
    if stored_key_id != key_id(key):
        raise EvidenceIntegrityError(
            f"evidence was sealed under another key (key id {stored_key_id.hex()}, ours"
            f" {key_id(key).hex()}): configure the operator key it was stored with",
            reason="wrong_key",
        )
    return _open(key, sealed, FORMAT_VERSION)


def open_per_object(data_key: bytes, sealed: bytes) -> bytes:
    """The plaintext of a version-2 object under its data key (see `open_sealed`)."""
    return _open(data_key, sealed, FORMAT_PER_OBJECT)


def _open(key: bytes, sealed: bytes, version: int) -> bytes:
    size = HEADER_SIZES[version]
    header = sealed[:size]
    start = len(MAGIC) + 1 + _kid_size(version)
    content_hash = header[start : start + 32]
    nonce = header[-NONCE_SIZE:]
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_SIZE)
    cipher.update(header)
    try:
        plaintext = cipher.decrypt_and_verify(sealed[size:-TAG_SIZE], sealed[-TAG_SIZE:])
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
    version = sealed[len(MAGIC)]
    if version in FORMATS and len(sealed) < HEADER_SIZES[version] + TAG_SIZE:
        raise EvidenceIntegrityError(
            "stored object is shorter than its header: it was altered or truncated",
            reason="tampered",
        )
    if sealed[len(MAGIC)] not in FORMATS:
        raise EvidenceIntegrityError(
            f"sealed evidence format {sealed[len(MAGIC)]} is not supported (expected one of"
            f" {', '.join(map(str, FORMATS))}): upgrade citypass",
            reason="unsupported_format",
        )


# ---------------------------------------------------------------- data keys in the key table
# The key table holds each data key wrapped under the operator key: a copy of the table alone
# opens nothing, and a store opened with another operator key says so ("wrong_key"). Deleting
# the row still shreds the object, whoever holds the operator key.


def wrap_data_key(operator_key: bytes, kid: bytes, data_key: bytes) -> bytes:
    """operator key id (8) | AES-256-GCM(operator key, data key), bound to the data key id."""
    return key_id(operator_key) + encrypt(operator_key, data_key, b"citypass-data-key" + kid)


def unwrap_data_key(operator_key: bytes, kid: bytes, wrapped: bytes) -> bytes:
    if wrapped[:KEY_ID_SIZE] != key_id(operator_key):
        raise EvidenceIntegrityError(
            f"evidence was sealed under another key (key id {wrapped[:KEY_ID_SIZE].hex()}, ours"
            f" {key_id(operator_key).hex()}): configure the operator key it was stored with",
            reason="wrong_key",
        )
    try:
        return decrypt(operator_key, wrapped[KEY_ID_SIZE:], b"citypass-data-key" + kid)
    except ValueError as exc:
        raise EvidenceIntegrityError(
            "a data key in the key table failed its tag check: the key table was altered",
            reason="tampered",
        ) from exc
