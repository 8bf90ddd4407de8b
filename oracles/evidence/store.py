"""The evidence store: seal (encrypt) camera stills and clips, keep them content-addressed, and
answer with what goes on chain: the CID of the stored (sealed) bytes and the SHA-256 of the
plaintext (the `evidenceHash` the device signed).

Each object is sealed under its own random data key (format 2), kept wrapped under the operator
key in the key table <data_dir>/evidence/keys.sqlite; deleting that row shreds the object
(oracles/evidence/retention.py, docs/privacy.md). Objects of format 1 (the operator key alone)
stay readable. Sealing uses a fresh random nonce, so the same image sealed twice gives two
different objects.
A small SQLite index (content hash → CID) makes `put` idempotent: the same plaintext is stored
once and always answers with the same CID. The index is a cache of the objects' own headers;
if it is lost, a re-put stores one more copy, nothing is lost.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from citypass.core.shredding import KeyTable
from citypass.core.sqlite_stores import connect_durable
from citypass.protocol.sensor_events import MAX_EVIDENCE_BYTES
from oracles.evidence.backends import Backend, KuboStore, LocalDirectoryStore
from oracles.evidence.cid import Cid, parse_cid
from oracles.evidence.errors import (
    EvidenceConfigError,
    EvidenceError,
    EvidenceIntegrityError,
    EvidenceShredded,
)
from oracles.evidence.sealing import (
    DEFAULT_KEY_FILE,
    FORMAT_VERSION,
    KEY_FILE_ENV,
    data_key_id,
    format_of,
    load_or_create_key,
    open_per_object,
    open_sealed,
    seal_per_object,
    unwrap_data_key,
    wrap_data_key,
)

log = logging.getLogger("oracles.evidence")

IPFS_API_ENV = "CITYPASS_IPFS_API"
EVIDENCE_DIR = "evidence"
KEY_TABLE = "keys.sqlite"
KIND = "evidence"  # the kind of evidence objects in the key table and the deletion records


@dataclass(frozen=True)
class StoredEvidence:
    """What to anchor: `cid.binary` (IncidentRegistry's evidenceCid) and `content_hash`
    (its contentHash, = the event's evidenceHash). `size` is the plaintext's length,
    `stored_size` the sealed object's."""

    cid: Cid
    content_hash: bytes
    size: int
    stored_size: int


@dataclass(frozen=True)
class IndexEntry:
    """One stored object, as the index knows it (what the retention sweep walks)."""

    cid: Cid
    content_hash: bytes
    stored_at: float  # Unix seconds


@dataclass(frozen=True)
class EvidenceConfig:
    data_dir: Path
    key_file: Path | None = None  # default <data_dir>/evidence.key
    ipfs_api: str | None = None  # a Kubo RPC multiaddr; None → local directory
    kubo_timeout: float = 30.0
    max_bytes: int = MAX_EVIDENCE_BYTES

    @classmethod
    def from_env(cls, data_dir: Path, **overrides: object) -> EvidenceConfig:
        """CITYPASS_EVIDENCE_KEY_FILE and CITYPASS_IPFS_API, unless given as overrides."""
        key_file = os.environ.get(KEY_FILE_ENV) or None
        values: dict[str, object] = {
            "key_file": Path(key_file) if key_file else None,
            "ipfs_api": os.environ.get(IPFS_API_ENV) or None,
        }
        values.update(overrides)
        return cls(Path(data_dir), **values)  # type: ignore[arg-type]

    @property
    def key_path(self) -> Path:
        return self.key_file or self.data_dir / DEFAULT_KEY_FILE


def open_store(config: EvidenceConfig) -> EvidenceStore:
    """Kubo when `config.ipfs_api` is set, else the local directory <data_dir>/evidence/objects.
    The index lives in <data_dir>/evidence/index.sqlite either way."""
    key = load_or_create_key(config.key_path)
    base = Path(config.data_dir) / EVIDENCE_DIR
    backend: Backend
    if config.ipfs_api:
        backend = KuboStore(config.ipfs_api, timeout=config.kubo_timeout)
    else:
        backend = LocalDirectoryStore(base / "objects")
    keys = open_key_table(config.data_dir)
    return EvidenceStore(backend, key, base / "index.sqlite", max_bytes=config.max_bytes, keys=keys)


def key_table_path(data_dir: Path) -> Path:
    return Path(data_dir) / EVIDENCE_DIR / KEY_TABLE


def open_key_table(data_dir: Path, *, create: bool = True, process: str = "citypass-oracle"
                   ) -> KeyTable:  # fmt: skip
    """The evidence key table (data keys, deletion records, holds) of a data directory."""
    path = key_table_path(data_dir)
    try:
        return KeyTable.open(path, process, create=create)
    except FileNotFoundError as exc:
        raise EvidenceConfigError(
            f"there is no evidence key table at {path}: point to the oracle daemon's data"
            " directory (it creates the table when it first stores evidence)"
        ) from exc


class EvidenceStore:
    """Thread-safe; each call is synchronous (disk or HTTP), so call it from an executor in
    async code."""

    def __init__(
        self,
        backend: Backend,
        key: bytes,
        index_path: Path,
        max_bytes: int = MAX_EVIDENCE_BYTES,
        keys: KeyTable | None = None,
    ) -> None:
        self.backend = backend
        self._key = key
        self.keys = (
            keys
            if keys is not None
            else KeyTable.open(Path(index_path).parent / KEY_TABLE, "citypass-oracle")
        )
        self.max_bytes = max_bytes
        # Outcomes by label ("stored", "deduplicated", "read", or an error's reason): the
        # daemon exports these as metrics.
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        index_path = Path(index_path)
        try:
            index_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._db = connect_durable(
                index_path,
                "CREATE TABLE IF NOT EXISTS evidence ("
                " content_hash BLOB PRIMARY KEY, cid TEXT NOT NULL, size INTEGER NOT NULL,"
                " stored_size INTEGER NOT NULL, stored_at_ms INTEGER NOT NULL);"
                " CREATE INDEX IF NOT EXISTS evidence_cid ON evidence (cid);",
            )
        except sqlite3.Error as exc:
            raise EvidenceConfigError(
                f"cannot open the evidence index {index_path}: {exc}; check the data directory"
            ) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()
            self.keys.close()

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put(self, plaintext: bytes) -> StoredEvidence:
        """Seal and store; the same plaintext again returns the first result unchanged."""
        if not isinstance(plaintext, bytes | bytearray | memoryview):
            raise EvidenceError("evidence must be bytes (the image or clip file's contents)")
        plaintext = bytes(plaintext)
        if len(plaintext) > self.max_bytes:
            self.counts["oversized"] += 1
            raise EvidenceError(
                f"evidence of {len(plaintext)} bytes is larger than the {self.max_bytes}-byte"
                " limit: send a smaller still or a shorter clip",
                reason="oversized",
            )
        content_hash = hashlib.sha256(plaintext).digest()
        with self._lock:
            known = self._find(content_hash)
            if (
                known is not None
                and self._has(known.cid)
                and self.keys.deleted(KIND, known.cid.text) is None
            ):
                self.counts["deduplicated"] += 1
                return known
            # The key row is committed first: a crash before the object is stored leaves an
            # unbound key, which the sweep removes as an orphan.
            operator_key = self._key
            data_key = self.keys.create(
                KIND, wrap=lambda kid, k: wrap_data_key(operator_key, bytes.fromhex(kid), k)
            )
            sealed = seal_per_object(data_key.key, bytes.fromhex(data_key.key_id), plaintext)
            try:
                cid = self.backend.put(sealed)
            except EvidenceError as exc:
                self.counts[exc.reason] += 1
                raise
            self.keys.bind(KIND, data_key.key_id, cid.text)
            self._db.execute(
                "INSERT OR REPLACE INTO evidence VALUES (?, ?, ?, ?, ?)",
                (content_hash, cid.text, len(plaintext), len(sealed), int(time.time() * 1000)),
            )
            self.counts["stored"] += 1
        log.info(
            "evidence stored cid=%s size=%d backend=%s", cid.text, len(plaintext), self.backend.name
        )
        return StoredEvidence(cid, content_hash, len(plaintext), len(sealed))

    def get(self, cid: Cid | str | bytes, expected_hash: bytes | None = None) -> bytes:
        """The plaintext. Checks the object's CID, its AES-GCM tag, that its SHA-256 is the one
        recorded at put time, and `expected_hash` (e.g. the contentHash on chain) if given."""
        cid = cid if isinstance(cid, Cid) else parse_cid(cid)
        try:
            plaintext = self._open(cid)
            digest = hashlib.sha256(plaintext).digest()
            with self._lock:
                row = self._db.execute(
                    "SELECT content_hash FROM evidence WHERE cid = ?", (cid.v1().text,)
                ).fetchone()
            if row is not None and bytes(row[0]) != digest:
                raise EvidenceIntegrityError(
                    f"evidence {cid.text} decrypts to content other than what was stored",
                    reason="tampered",
                )
            if expected_hash is not None and expected_hash != digest:
                raise EvidenceIntegrityError(
                    f"evidence {cid.text} has SHA-256 {digest.hex()}, not the expected"
                    f" {expected_hash.hex()}: it is not the evidence anchored for this incident",
                    reason="hash_mismatch",
                )
        except EvidenceError as exc:
            self.counts[exc.reason] += 1
            log.warning("evidence read failed cid=%s reason=%s", cid.text, exc.reason)
            raise
        self.counts["read"] += 1
        return plaintext

    def _open(self, cid: Cid) -> bytes:
        deletion = self.keys.deleted(KIND, cid.v1().text)
        if deletion is not None:
            raise EvidenceShredded(
                f"evidence {cid.text} was deleted (deletion record {deletion.seq}, rule"
                f" {deletion.rule}): its key was destroyed and it cannot be read"
            )
        sealed = self.backend.get(cid)
        if format_of(sealed) == FORMAT_VERSION:
            return open_sealed(self._key, sealed)
        kid = data_key_id(sealed)
        assert kid is not None  # format 2
        wrapped = self.keys.key(KIND, kid.hex())
        if wrapped is None:
            raise EvidenceShredded(
                f"evidence {cid.text} has no data key: it was shredded and cannot be read"
            )
        return open_per_object(unwrap_data_key(self._key, kid, wrapped), sealed)

    def has(self, cid: Cid | str | bytes) -> bool:
        cid = cid if isinstance(cid, Cid) else parse_cid(cid)
        return self._has(cid)

    def entries(self) -> list[IndexEntry]:
        """Every object the index knows, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT cid, content_hash, stored_at_ms FROM evidence ORDER BY stored_at_ms"
            ).fetchall()
        return [IndexEntry(parse_cid(r[0]), bytes(r[1]), r[2] / 1000) for r in rows]

    def erase(self, cid: Cid) -> None:
        """Remove a shredded object's ciphertext and its index row (the sweep's last step)."""
        self.backend.delete(cid)
        with self._lock:
            self._db.execute("DELETE FROM evidence WHERE cid = ?", (cid.v1().text,))

    def find(self, content_hash: bytes) -> StoredEvidence | None:
        """The stored evidence whose plaintext has this SHA-256, if any."""
        with self._lock:
            return self._find(content_hash)

    def _has(self, cid: Cid) -> bool:
        return self.backend.has(cid)

    def _find(self, content_hash: bytes) -> StoredEvidence | None:
        row = self._db.execute(
            "SELECT cid, size, stored_size FROM evidence WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        if row is None:
            return None
        return StoredEvidence(parse_cid(row[0]), content_hash, row[1], row[2])
