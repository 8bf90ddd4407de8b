"""Where sealed evidence objects live: a local directory (the embedded default) or a Kubo node.

A backend stores opaque bytes under their CID (our rule, `cid.cid_for_bytes`) and checks that
rule both ways: the local directory recomputes the CID of every object it reads, and Kubo's
answer to `add` must equal the CID we computed, or the put fails loudly.
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from citypass.core.files import fsync_path, write_atomically
from oracles.evidence.cid import KUBO_CHUNKER, Cid, cid_for_bytes, parse_cid
from oracles.evidence.errors import (
    CidError,
    EvidenceBackendError,
    EvidenceConfigError,
    EvidenceIntegrityError,
    EvidenceNotFound,
)

log = logging.getLogger("oracles.evidence")

# Kubo RPC releases whose /api/v0 add, cat, pin/add, pin/ls and version calls take the
# parameters used here. 0.5 made the RPC POST-only, which is what ipfshttpclient 0.7 sends.
KUBO_MIN_VERSION = (0, 5, 0)


class Backend(Protocol):
    name: str

    def put(self, data: bytes) -> Cid: ...

    def get(self, cid: Cid) -> bytes: ...

    def has(self, cid: Cid) -> bool: ...

    def delete(self, cid: Cid) -> None:
        """Remove the object (absent is fine): a shredded object's leftover ciphertext."""
        ...


class LocalDirectoryStore:
    """Objects as files root/<digest byte 0>/<digest byte 1>/<cid text>, written atomically
    (temporary file, fsync, rename, fsync of the directory), so a crash leaves either the
    whole object or none; the CID is recomputed on every read."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise EvidenceConfigError(
                f"cannot create the evidence directory {self.root}: {exc.strerror}"
            ) from exc

    def path_of(self, cid: Cid) -> Path:
        return self.root / cid.digest[:1].hex() / cid.digest[1:2].hex() / cid.text

    def put(self, data: bytes) -> Cid:
        cid = cid_for_bytes(data)
        path = self.path_of(cid)
        if path.exists():
            return cid
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            write_atomically(path, data)
        except OSError as exc:
            raise EvidenceBackendError(
                f"cannot write evidence to {path}: {exc.strerror}; check free space and permissions"
            ) from exc
        return cid

    def get(self, cid: Cid) -> bytes:
        path = self.path_of(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise EvidenceNotFound(f"no evidence {cid.text} in {self.root}") from exc
        except OSError as exc:
            raise EvidenceBackendError(f"cannot read {path}: {exc.strerror}") from exc
        if cid_for_bytes(data) != cid.v1():
            raise EvidenceIntegrityError(
                f"the file {path} does not hash to {cid.text}: it was altered; restore it from"
                " a replica",
                reason="tampered",
            )
        return data

    def has(self, cid: Cid) -> bool:
        return self.path_of(cid).is_file()

    def delete(self, cid: Cid) -> None:
        path = self.path_of(cid)
        try:
            path.unlink(missing_ok=True)
            fsync_path(path.parent)
        except OSError as exc:
            raise EvidenceBackendError(f"cannot delete {path}: {exc.strerror}") from exc


class KuboStore:
    """A Kubo (go-ipfs) node through its RPC API, via ipfshttpclient 0.7.

    ipfshttpclient.connect() refuses daemons from 0.8.0 on (VersionMismatch), which is every
    Kubo release since 2021, although the calls used here have not changed. So the client is
    built directly and the version is checked here instead (≥ 0.5.0)."""

    name = "kubo"

    def __init__(self, api: str, timeout: float = 30.0) -> None:
        import ipfshttpclient  # imported late: its import is slow and most runs use the local store

        self.api = api
        self._errors = ipfshttpclient.exceptions
        try:
            self.client = ipfshttpclient.Client(api, timeout=timeout)
        except (ValueError, self._errors.AddressError) as exc:
            raise EvidenceConfigError(
                f"CITYPASS_IPFS_API={api!r} is not a Kubo API multiaddr: use e.g."
                " /ip4/127.0.0.1/tcp/5001/http"
            ) from exc
        self.version = self._check_version()

    def _check_version(self) -> str:
        try:
            version = str(self.client.version()["Version"])
        except self._errors.Error as exc:
            raise EvidenceBackendError(
                f"cannot reach Kubo at {self.api} ({exc}): start the node or unset"
                " CITYPASS_IPFS_API to use the local store"
            ) from exc
        try:
            parts = tuple(int(p) for p in version.split("-", 1)[0].split("."))
        except ValueError as exc:
            raise EvidenceBackendError(f"Kubo at {self.api} reports version {version!r}") from exc
        if parts < KUBO_MIN_VERSION:
            raise EvidenceBackendError(
                f"Kubo {version} at {self.api} is too old: run Kubo 0.5.0 or later"
            )
        return version

    @contextlib.contextmanager
    def _failing(self, what: str) -> Iterator[None]:
        """A Kubo client error in the body becomes an EvidenceBackendError naming the call."""
        try:
            yield
        except self._errors.Error as exc:
            raise EvidenceBackendError(f"Kubo at {self.api} failed to {what}: {exc}") from exc

    def put(self, data: bytes) -> Cid:
        ours = cid_for_bytes(data)
        try:
            reply = self.client.add(
                io.BytesIO(data), cid_version=1, raw_leaves=True, chunker=KUBO_CHUNKER, pin=True
            )
            theirs = parse_cid(str(reply["Hash"]))
        except (self._errors.Error, KeyError, TypeError, CidError) as exc:
            raise EvidenceBackendError(f"Kubo at {self.api} failed to add evidence: {exc}") from exc
        if theirs.v1() != ours:
            raise EvidenceBackendError(
                f"Kubo at {self.api} computed {theirs.text} for evidence whose CID is"
                f" {ours.text}: its add options differ from ours (need --cid-version=1"
                f" --raw-leaves --chunker={KUBO_CHUNKER}, balanced layout, 174 links)",
                reason="cid_mismatch",
            )
        # add pins already; pinning again by our CID makes sure the object we name is kept.
        with self._failing(f"pin {ours.text}"):
            self.client.pin.add(ours.text)
        return ours

    def get(self, cid: Cid) -> bytes:
        if not self.has(cid):
            raise EvidenceNotFound(f"evidence {cid.text} is not pinned on Kubo at {self.api}")
        with self._failing(f"cat {cid.text}"):
            data = bytes(self.client.cat(cid.text))
        if cid_for_bytes(data) != cid.v1():
            raise EvidenceIntegrityError(
                f"Kubo at {self.api} returned bytes that do not hash to {cid.text}",
                reason="tampered",
            )
        return data

    def has(self, cid: Cid) -> bool:
        try:
            self.client.pin.ls(cid.text, type="recursive")
        except self._errors.ErrorResponse:
            return False  # Kubo answers "not pinned" with an error
        except self._errors.Error as exc:
            raise EvidenceBackendError(f"Kubo at {self.api} failed pin/ls: {exc}") from exc
        return True

    def delete(self, cid: Cid) -> None:
        """Unpin; Kubo frees the blocks at its next `ipfs repo gc` (docs/evidence-store.md)."""
        if not self.has(cid):
            return
        with self._failing(f"unpin {cid.text}"):
            self.client.pin.rm(cid.text)
