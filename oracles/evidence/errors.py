"""Errors of the evidence store. Every message says what is wrong and what to do about it."""

from __future__ import annotations


class EvidenceError(Exception):
    """Root of the evidence store's errors. `reason` is a short label for metrics and logs."""

    reason = "evidence_error"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


class CidError(EvidenceError):
    """A CID (text or binary) that cannot be parsed or is not one the store accepts."""

    reason = "bad_cid"


class EvidenceConfigError(EvidenceError):
    """The key file, data directory or Kubo address is missing, malformed or unusable."""

    reason = "config"


class EvidenceNotFound(EvidenceError):
    """No object with this CID is in the store."""

    reason = "not_found"


class EvidenceIntegrityError(EvidenceError):
    """Stored bytes that do not check out: tampered, truncated, or sealed under another key."""

    reason = "integrity"


class EvidenceBackendError(EvidenceError):
    """The backend (a directory or a Kubo node) failed or disagreed with our CID."""

    reason = "backend"
